"""Windows over a prediction log: by time ("1h", "1d", "15min") or by row count ("1000 rows"),
and drift as a series over those windows.

A window spec is text so it can live in a monitor's stored config and on a command line:
``"1h"``, ``"30min"``, ``"1d"``, ``"7d"`` (any pandas offset alias with a fixed length) or
``"rows:1000"``. Time windows are aligned to the epoch (an hourly window starts on the hour), so
two runs over the same log cut the same windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.drift import drift
from mlpilot.monitoring.profile import ReferenceProfile

__all__ = ["INPUT", "Window", "WindowSpec", "drift_series", "feature_frame", "parse_window", "windows"]

INPUT = "input:"
_WINDOW_HINT = 'Use a duration such as "1h", "30min", "1d", or a row count such as "rows:1000".'


@dataclass(frozen=True, slots=True)
class WindowSpec:
    text: str
    duration_ms: int | None  # a time window
    rows: int | None  # a row-count window

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Window:
    start_ms: int
    end_ms: int  # exclusive
    frame: pd.DataFrame

    @property
    def rows(self) -> int:
        return len(self.frame)


def parse_window(text: object) -> WindowSpec:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"a window must be text, not {text!r}", hint=_WINDOW_HINT)
    value = text.strip().lower()
    if value.startswith("rows:"):
        count = value.removeprefix("rows:").strip()
        if not count.isdigit() or int(count) < 1:
            raise InvalidInput(f"window {text!r} needs a positive row count", hint=_WINDOW_HINT)
        return WindowSpec(f"rows:{int(count)}", None, int(count))
    try:
        delta = pd.to_timedelta(value)
    except ValueError:
        raise InvalidInput(f"window {text!r} is neither a duration nor a row count", hint=_WINDOW_HINT) from None
    milliseconds = int(delta.total_seconds() * 1000)
    if milliseconds < 1000:
        raise InvalidInput(f"window {text!r} is shorter than a second", hint=_WINDOW_HINT)
    return WindowSpec(value, milliseconds, None)


def _time_ms(frame: pd.DataFrame) -> pd.Series[Any]:
    times = frame["time"]
    if pd.api.types.is_datetime64_any_dtype(times):
        # Naive times are read as UTC, like the prediction log's.
        return pd.to_datetime(times, utc=True).dt.as_unit("ms").astype("int64").rename("time_ms")
    try:
        return pd.to_numeric(times).astype("int64").rename("time_ms")
    except (TypeError, ValueError):
        raise InvalidInput(
            "the 'time' column must hold datetimes or epoch milliseconds", hint="Convert it with pd.to_datetime."
        ) from None


def windows(frame: pd.DataFrame, spec: WindowSpec | str) -> Iterator[Window]:
    """The non-empty windows of ``frame`` (which has a ``time`` column), oldest first."""
    chosen = parse_window(spec) if isinstance(spec, str) else spec
    if frame.empty:
        return
    stamps = _time_ms(frame)
    order = stamps.argsort(kind="stable")
    ordered, stamps = frame.iloc[order], stamps.iloc[order]
    if chosen.rows is not None:
        for start in range(0, len(ordered), chosen.rows):
            part = ordered.iloc[start : start + chosen.rows]
            times = stamps.iloc[start : start + chosen.rows]
            yield Window(int(times.iloc[0]), int(times.iloc[-1]) + 1, part)
        return
    size = chosen.duration_ms or 1
    buckets = (stamps // size).to_numpy()
    for bucket in pd.unique(buckets):
        yield Window(int(bucket) * size, (int(bucket) + 1) * size, ordered[buckets == bucket])


def feature_frame(log: pd.DataFrame) -> pd.DataFrame:
    """The prediction log's ``input:<feature>`` columns under their feature names, beside the
    outputs (``prediction``, ``proba:<class>``), as a reference profile names them."""
    renamed = {column: column.removeprefix(INPUT) for column in log.columns if column.startswith(INPUT)}
    keep = [*renamed, *(column for column in log.columns if column == "prediction" or column.startswith("proba:"))]
    return log[keep].rename(columns=renamed)


def drift_series(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    window: WindowSpec | str,
    **options: Any,
) -> pd.DataFrame:
    """Drift per window: one row per window with its bounds, rows, drifted share and each column's
    statistic (``<column>``) and verdict (``<column>:drifted``). ``current`` has a ``time`` column
    (epoch ms or datetimes); a prediction log (``mlpilot.predictions(...)``) is read under its
    feature names. ``options`` go to :func:`mlpilot.drift`."""
    if "time" not in current.columns:
        raise InvalidInput(
            "drift over time needs a 'time' column in the current data", hint="Add the prediction times."
        )
    if any(str(column).startswith(INPUT) for column in current.columns):
        current = feature_frame(current).assign(time=current["time"])
    if isinstance(reference, pd.DataFrame):
        # Fitted once for every window; all values kept, as a single comparison would.
        reference = ReferenceProfile.fit(reference, sample_rows=None, **_fit_options(options))
        options = {key: value for key, value in options.items() if key not in ("categorical", "numerical")}
    rows: list[dict[str, Any]] = []
    for part in windows(current, window):
        report = drift(reference, part.frame.drop(columns=["time"]), **options)
        row: dict[str, Any] = {
            "window_start": pd.Timestamp(part.start_ms, unit="ms", tz="UTC"),
            "window_end": pd.Timestamp(part.end_ms, unit="ms", tz="UTC"),
            "rows": part.rows,
            "share": math.nan if report.share is None else report.share,
            "dataset_drifted": report.dataset_drifted,
        }
        for feature in report.features:
            row[feature.column] = math.nan if feature.statistic is None else feature.statistic
            row[f"{feature.column}:drifted"] = feature.drifted
        rows.append(row)
    return pd.DataFrame(rows)


def _fit_options(options: dict[str, Any]) -> dict[str, Any]:
    chosen = {key: options[key] for key in ("categorical", "numerical") if options.get(key) is not None}
    if options.get("columns") is not None:
        chosen["columns"] = options["columns"]
    return chosen
