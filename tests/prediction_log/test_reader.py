"""Reading the log back: types, time ranges and date partitions, unions of schemas, id lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.prediction_log import find_prediction_ids, list_deployments, read_predictions
from tests.prediction_log.factories import DAY_MS, T0, float_inputs, id_at, make_batch, mixed_inputs

METADATA = ["prediction_id", "request_id", "time", "model", "version", "role", "latency_ms", "prediction"]


def segments(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def test_mixed_feature_types_round_trip(root: Path, log_batches: Callable[..., None]) -> None:
    inputs = mixed_inputs()
    batch = make_batch(inputs=inputs, predictions=np.array(["no", "yes", None, "yes"], dtype=object))
    log_batches("churn", batch)

    got = read_predictions(root, "churn")

    assert list(got.columns) == [*METADATA, *(f"input:{name}" for name in inputs.columns), "deployment"]
    assert got["prediction_id"].tolist() == sorted(batch.prediction_ids)  # same time, so sorted by id
    got = got.set_index("prediction_id").loc[list(batch.prediction_ids)].reset_index()
    assert (got["deployment"] == "churn").all()
    assert got["model"].tolist() == ["churn"] * 4
    assert got["version"].tolist() == [1] * 4
    assert got["role"].tolist() == ["primary"] * 4
    assert got["latency_ms"].tolist() == [3.5] * 4
    assert got["request_id"].nunique() == 1
    assert (got["time"] == pd.Timestamp(T0, unit="ms", tz="UTC")).all()
    assert got["prediction"].tolist() == ["no", "yes", None, "yes"]
    amount = got["input:amount"].tolist()
    assert amount[0] == 1.5 and np.isnan(amount[1]) and amount[2:] == [3.0, -4.25]
    assert got["input:count"].tolist() == [1, 2, 3, 4]
    assert got["input:flag"].tolist() == [True, False, True, False]
    assert got["input:city"].tolist() == ["Paris", None, "Lyon", None]
    assert got["input:plan"].tolist() == ["basic", "pro", "basic", None]  # categories come back as text
    seen = got["input:seen"]
    assert seen.dt.tz is None
    assert seen[0] == pd.Timestamp("2024-01-01 08:00") and pd.isna(seen[1])
    local = got["input:seen_local"]
    assert str(local.dt.tz) == "UTC"
    assert local[0] == pd.Timestamp("2024-01-01 07:00", tz="UTC") and pd.isna(local[2])
    assert got["input:maybe"].astype("Float64").tolist()[::2] == [7.0, 9.0]
    assert pd.isna(got["input:maybe"][1])


def test_the_file_holds_what_the_docs_say(root: Path, log_batches: Callable[..., None]) -> None:
    log_batches("churn", make_batch(inputs=mixed_inputs(), classes=["no", "yes"]))
    (path,) = segments(root)
    assert path.parent == root / "deployment=churn" / "date=2024-01-01"
    schema = pq.read_schema(path)
    assert "deployment" not in schema.names and "date" not in schema.names
    assert str(schema.field("time").type) == "timestamp[ms, tz=UTC]"
    assert str(schema.field("version").type) == "int64"
    assert str(schema.field("latency_ms").type) == "double"
    assert str(schema.field("prediction").type) == "int64"
    assert str(schema.field("proba:yes").type) == "double"
    assert str(schema.field("input:plan").type) == "string"
    assert str(schema.field("input:seen").type) == "timestamp[us]"
    assert str(schema.field("input:seen_local").type) == "timestamp[us, tz=UTC]"


def test_probabilities_get_one_column_per_class(root: Path, log_batches: Callable[..., None]) -> None:
    batch = make_batch(3, classes=["no", "yes", 3])
    log_batches("churn", batch)

    got = read_predictions(root, "churn").set_index("prediction_id").loc[list(batch.prediction_ids)]

    assert batch.probabilities is not None
    for index, label in enumerate(["no", "yes", "3"]):
        np.testing.assert_allclose(got[f"proba:{label}"].to_numpy(), batch.probabilities[:, index])


@pytest.mark.parametrize(
    ("predictions", "expected"),
    [
        (np.array([0.25, 0.5]), [0.25, 0.5]),
        (np.array([True, False]), [True, False]),
        (pd.Series(pd.Categorical(["a", "b"])), ["a", "b"]),
        (np.array([[1, 2], [3, 4]]), ["[1,2]", "[3,4]"]),
        (pd.DataFrame({"low": [1.0, 2.0], "high": [3.0, 4.0]}), ['{"low":1.0,"high":3.0}', '{"low":2.0,"high":4.0}']),
        (np.array([[1.5], "x"], dtype=object), ["[1.5]", '"x"']),
        ([[1, 2], [3]], ["[1,2]", "[3]"]),
        ([{"a": 1}, None], ['{"a":1}', None]),
    ],
)
def test_predictions_of_every_shape(
    root: Path, log_batches: Callable[..., None], predictions: object, expected: list[object]
) -> None:
    batch = make_batch(2, predictions=predictions, time_ms=[T0, T0 + 1])
    log_batches("d", batch)
    assert read_predictions(root, "d")["prediction"].tolist() == expected


def test_rows_are_split_into_utc_dates_and_filtered_by_time(root: Path, log_batches: Callable[..., None]) -> None:
    midnight = T0 + DAY_MS  # 2024-01-02T00:00:00Z
    times = [midnight - 2, midnight - 1, midnight, midnight + 1]
    log_batches("churn", make_batch(4, time_ms=times))

    folders = sorted(path.parent.name for path in segments(root))
    assert folders == ["date=2024-01-01", "date=2024-01-02"]

    def times_of(**bounds: object) -> list[int]:
        got = read_predictions(root, "churn", **bounds)  # type: ignore[arg-type]
        return [int(stamp.value // 1_000_000) for stamp in got["time"]]

    assert times_of() == times
    assert times_of(since=midnight) == times[2:]
    assert times_of(until=midnight) == times[:2]  # until is exclusive
    assert times_of(since=midnight - 1, until=midnight + 1) == times[1:3]
    # The same bounds in each accepted form: naive datetime (UTC), zoned datetime, ISO text, date.
    assert times_of(since=dt.datetime(2024, 1, 2)) == times[2:]
    assert times_of(since=dt.datetime(2024, 1, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == times[2:]
    assert times_of(since="2024-01-02T00:00:00Z") == times[2:]
    assert times_of(until="2024-01-01T23:59:59.999+00:00") == times[:1]
    assert times_of(since=dt.date(2024, 1, 2)) == times[2:]
    assert times_of(since=midnight, until=midnight) == []


def test_only_date_partitions_in_range_are_read(root: Path, log_batches: Callable[..., None]) -> None:
    log_batches("churn", make_batch(2, time_ms=T0), make_batch(2, time_ms=T0 + 10 * DAY_MS))
    broken = root / "deployment=churn" / "date=2024-01-05"
    broken.mkdir(parents=True)
    (broken / "1-w-000001.parquet").write_bytes(b"not parquet at all")

    assert len(read_predictions(root, "churn", until=T0 + DAY_MS)) == 2
    assert len(read_predictions(root, "churn", since=T0 + 6 * DAY_MS)) == 2
    with pytest.raises(Exception, match="parquet"):
        read_predictions(root, "churn")


def test_segments_with_different_inputs_are_unioned_by_name(root: Path, log_batches: Callable[..., None]) -> None:
    old = make_batch(inputs=pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), version=1, time_ms=[T0, T0 + 1])
    new = make_batch(inputs=pd.DataFrame({"a": [3.0], "c": [True]}), version=2, time_ms=T0 + 2)
    log_batches("churn", old, new)

    got = read_predictions(root, "churn")

    assert len(segments(root)) == 2
    assert got["version"].tolist() == [1, 1, 2]
    assert got["input:a"].tolist() == [1.0, 2.0, 3.0]
    assert got["input:b"].tolist()[:2] == ["x", "y"] and pd.isna(got["input:b"][2])
    assert pd.isna(got["input:c"][0]) and bool(got["input:c"][2]) is True


def test_one_flush_writes_a_segment_per_schema(root: Path, log_batches: Callable[..., None]) -> None:
    same = [make_batch(inputs=float_inputs(4, 3, seed=i)) for i in range(5)]
    other = make_batch(inputs=pd.DataFrame({"z": [1, 2]}))
    log_batches("churn", *same, other, one_segment=True)
    assert len(segments(root)) == 2
    assert len(read_predictions(root, "churn")) == 22


def test_one_flush_of_mixed_batches_keeps_each_rows_metadata(root: Path, log_batches: Callable[..., None]) -> None:
    batches = [
        make_batch(3, model="churn", version=1, role="primary", time_ms=T0),
        make_batch(2, model="churn", version=2, role="canary", time_ms=[T0 + 5, T0 + 6]),
        make_batch(1, model="churn-v2", version=7, role="shadow", time_ms=T0 + 9),
        make_batch(2, model="churn", version=1, role="primary", time_ms=T0 + 10),
    ]
    log_batches("churn", *batches, one_segment=True)
    got = read_predictions(root, "churn").sort_values("prediction_id").reset_index(drop=True)
    expected = [
        (batch.prediction_ids[row], batch.model, batch.version, batch.role, times[row])
        for batch in batches
        for times in [[batch.time_ms] * batch.rows if isinstance(batch.time_ms, int) else list(batch.time_ms)]
        for row in range(batch.rows)
    ]
    expected.sort()
    assert list(got["prediction_id"]) == [row[0] for row in expected]
    assert list(got["model"]) == [row[1] for row in expected]
    assert list(got["version"]) == [row[2] for row in expected]
    assert list(got["role"]) == [row[3] for row in expected]
    assert [int(stamp.timestamp() * 1000) for stamp in got["time"]] == [row[4] for row in expected]
    assert len(list(root.rglob("*.parquet"))) == 1


def test_columns_and_limit(root: Path, log_batches: Callable[..., None]) -> None:
    log_batches("churn", make_batch(5, time_ms=[T0 + i for i in range(5)]))

    got = read_predictions(root, "churn", columns=["input:x", "prediction_id"], limit=3)

    assert list(got.columns) == ["input:x", "prediction_id"]
    assert got["input:x"].tolist() == [0.0, 1.0, 2.0]
    assert read_predictions(root, "churn", limit=0).empty
    with pytest.raises(InvalidInput, match="cannot select"):
        read_predictions(root, "churn", columns=["input:nope"])
    with pytest.raises(InvalidInput, match="limit"):
        read_predictions(root, "churn", limit=-1)


def test_no_segments_gives_an_empty_frame_with_the_metadata_columns(root: Path) -> None:
    for frame in (read_predictions(root, "churn"), read_predictions(root / "missing", "other")):
        assert frame.empty
        assert list(frame.columns) == [*METADATA, "deployment"]
        assert str(frame["time"].dtype) == "datetime64[us, UTC]"
    assert list(read_predictions(root, "churn", columns=["time", "input:x"]).columns) == ["time", "input:x"]
    assert find_prediction_ids(root, "churn", ["a" * 32]) == set()
    assert list_deployments(root) == []


def test_leftover_temporary_files_are_ignored(root: Path, log_batches: Callable[..., None]) -> None:
    log_batches("churn", make_batch(2))
    folder = root / "deployment=churn" / "date=2024-01-01"
    (folder / ".1704067200000-w-000009.parquet.tmp").write_bytes(b"PAR1 half a file")
    (folder / ".hidden.parquet").write_bytes(b"PAR1 half a file")
    (folder / "notes.txt").write_text("x")
    (root / "deployment=churn" / "date=garbage").mkdir()
    (root / "deployment=bad name").mkdir()
    (root / "stray").mkdir()

    assert len(read_predictions(root, "churn")) == 2
    assert list_deployments(root) == ["churn"]


def test_find_prediction_ids_reports_which_ids_are_logged(root: Path, log_batches: Callable[..., None]) -> None:
    first = make_batch(3, time_ms=T0)
    second = make_batch(3, time_ms=T0 + 40 * DAY_MS)
    log_batches("churn", first, second)
    log_batches("other", make_batch(2, time_ms=T0))
    known = [*first.prediction_ids, *second.prediction_ids]
    unknown = [id_at(T0), id_at(T0 + 40 * DAY_MS), id_at(T0 + 400 * DAY_MS), "client-chosen-id"]

    assert find_prediction_ids(root, "churn", [*known, *unknown, known[0]]) == set(known)
    assert find_prediction_ids(root, "churn", known[:1]) == {known[0]}
    assert find_prediction_ids(root, "churn", []) == set()
    assert find_prediction_ids(root, "nobody", known) == set()


def test_find_prediction_ids_reads_only_the_dates_of_the_ids(root: Path, log_batches: Callable[..., None]) -> None:
    batch = make_batch(3, time_ms=T0)
    log_batches("churn", batch)
    broken = root / "deployment=churn" / "date=2024-03-01"
    broken.mkdir(parents=True)
    (broken / "1-w-000001.parquet").write_bytes(b"not parquet at all")

    assert find_prediction_ids(root, "churn", list(batch.prediction_ids)) == set(batch.prediction_ids)
    with pytest.raises(Exception, match="parquet"):  # an id without a time searches every date
        find_prediction_ids(root, "churn", ["client-chosen-id"])


def test_custom_prediction_ids_are_found_too(root: Path, log_batches: Callable[..., None]) -> None:
    log_batches("churn", make_batch(2, prediction_ids=["order-1", "order-2"]))
    assert find_prediction_ids(root, "churn", ["order-2", "order-3"]) == {"order-2"}


def test_deployments_are_listed(root: Path, log_batches: Callable[..., None]) -> None:
    log_batches("b.v2", make_batch(1))
    log_batches("a-1", make_batch(1))
    log_batches("123", make_batch(1))
    assert list_deployments(root) == ["123", "a-1", "b.v2"]
    assert read_predictions(root, "123")["deployment"].tolist() == ["123"]  # a name, not a number


@pytest.mark.parametrize("name", ["", "-lead", ".hidden", "../up", "a/b", "a b", "x" * 101, "é"])
def test_bad_deployment_names_are_rejected(root: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="deployment name"):
        read_predictions(root, name)
    with pytest.raises(InvalidInput, match="deployment name"):
        find_prediction_ids(root, name, ["x"])


@pytest.mark.parametrize("bound", ["yesterday", 1.5, True, object()])
def test_bad_time_bounds_are_rejected(root: Path, bound: object) -> None:
    with pytest.raises(InvalidInput, match="since"):
        read_predictions(root, "churn", since=bound)  # type: ignore[arg-type]
