"""Windows by time and by row count, and drift as a series over them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.monitoring import ReferenceProfile, drift_series
from mlpilot.monitoring.windows import feature_frame, parse_window, windows

HOUR = 3_600_000


def test_window_specs_parse_or_say_what_is_accepted() -> None:
    assert parse_window("1h").duration_ms == HOUR
    assert parse_window("30min").duration_ms == HOUR // 2
    assert parse_window(" rows:500 ").rows == 500
    for bad in ["", "soon", "rows:0", "rows:x", "10ms", 5]:
        with pytest.raises(InvalidInput, match=r"window|row count"):
            parse_window(bad)


def test_time_windows_align_to_the_epoch_and_row_windows_count_rows() -> None:
    frame = pd.DataFrame({"time": [HOUR * 10 + 5, HOUR * 10 + 7, HOUR * 12 + 1, HOUR * 10 + 1], "x": [1, 2, 3, 4]})
    by_hour = list(windows(frame, "1h"))
    assert [(w.start_ms, w.end_ms, w.rows) for w in by_hour] == [(HOUR * 10, HOUR * 11, 3), (HOUR * 12, HOUR * 13, 1)]
    assert by_hour[0].frame["x"].tolist() == [4, 1, 2]  # in time order
    by_rows = list(windows(frame, "rows:3"))
    assert [w.rows for w in by_rows] == [3, 1]
    assert list(windows(frame.iloc[:0], "1h")) == []
    with pytest.raises(InvalidInput, match="'time' column must hold"):
        list(windows(pd.DataFrame({"time": ["noon"], "x": [1]}), "1h"))


def test_drift_series_shows_when_a_feature_starts_to_move() -> None:
    rng = np.random.default_rng(2)
    reference = pd.DataFrame({"x": rng.normal(size=5_000), "y": rng.normal(size=5_000)})
    x = np.concatenate([rng.normal(size=2_000), rng.normal(size=2_000) + 1.0])
    start = 1_000 * HOUR  # a multiple of ten hours, so each window below holds 1,000 rows
    current = pd.DataFrame({"x": x, "y": rng.normal(size=4_000), "time": start + np.arange(4_000) * 36_000})
    series = drift_series(reference, current, "10h")
    assert series["rows"].tolist() == [1_000, 1_000, 1_000, 1_000]
    assert series["x:drifted"].tolist() == [False, False, True, True]
    assert not series["y:drifted"].any()
    profile = ReferenceProfile.fit(reference)
    assert drift_series(profile, current, "rows:2000")["x:drifted"].tolist() == [False, True]
    with pytest.raises(InvalidInput, match="needs a 'time' column"):
        drift_series(reference, current.drop(columns=["time"]), "1h")


def test_the_prediction_log_columns_become_feature_names() -> None:
    log = pd.DataFrame({"time": [1], "input:age": [30], "prediction": [1], "proba:1": [0.7], "request_id": ["r"]})
    assert list(feature_frame(log).columns) == ["age", "prediction", "proba:1"]


def test_drift_series_reads_a_prediction_log_under_its_feature_names() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"age": rng.normal(40, 10, 3_000)})
    log = pd.DataFrame(
        {
            "time": pd.date_range("2026-01-01", periods=2_000, freq="1h", tz="UTC"),
            "input:age": np.concatenate([rng.normal(40, 10, 1_000), rng.normal(55, 10, 1_000)]),
            "prediction": rng.integers(0, 2, 2_000),
            "request_id": ["r"] * 2_000,
        }
    )
    assert drift_series(reference, log, "rows:1000", columns=["age"])["age:drifted"].tolist() == [False, True]
    by_time = drift_series(reference, log, "1000h", columns=["age"])  # aligned to the epoch: three windows
    assert by_time["rows"].sum() == 2_000 and by_time["age:drifted"].iloc[-1]
