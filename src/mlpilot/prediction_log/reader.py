"""Read the prediction log with DuckDB: one deployment's rows in a time range, and which ids exist.

Only the date partitions a query can touch are listed and handed to DuckDB (``read_parquet``
with hive partitioning, segments unioned by column name). Every call opens its own in-memory
connection, so calls from several threads share nothing; each connection runs on half the
process's cores (at least one), so concurrent queries do not oversubscribe the CPU.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from mlpilot.errors import InvalidInput
from mlpilot.prediction_log.layout import MS_PER_DAY, check_deployment, day_of, list_deployments, segment_files
from mlpilot.prediction_log.records import prediction_id_time_ms
from mlpilot.prediction_log.tables import METADATA_COLUMNS

__all__ = ["TimeBound", "find_prediction_ids", "list_deployments", "read_predictions", "to_epoch_ms"]

TimeBound = dt.datetime | dt.date | str | int
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_MS = dt.timedelta(milliseconds=1)
# A row's time is set when its batch is logged, an id's when the request is served: far closer
# than this, which only widens the date partitions searched for an id.
ID_TIME_SLACK_MS = 3_600_000
_SOURCE = (
    "read_parquet($files, hive_partitioning = true, union_by_name = true, "
    "hive_types = {'deployment': VARCHAR, 'date': DATE})"
)
_NULLABLE: dict[pa.DataType, Any] = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
_EMPTY_DTYPES: dict[str, Any] = {
    "prediction_id": object,
    "request_id": object,
    "time": pd.DatetimeTZDtype("us", "UTC"),
    "model": object,
    "version": "int64",
    "role": object,
    "latency_ms": "float64",
    "prediction": object,
    "deployment": object,
}


def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


def _connect() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(config={"threads": _threads()})
    # Zoned times come back in UTC whatever the machine's time zone.
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def to_epoch_ms(value: TimeBound | None, name: str = "time") -> int | None:
    """Epoch ms of a datetime (naive means UTC), a date (midnight UTC), ISO 8601 text or epoch ms."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a datetime, ISO 8601 text or epoch milliseconds, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"{name} is not an ISO 8601 time: {str(value)[:60]!r}", hint="Write e.g. 2024-05-01T12:00:00Z."
            ) from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return (value - _EPOCH) // _ONE_MS
    if isinstance(value, dt.date):
        return (value - _EPOCH.date()).days * MS_PER_DAY
    raise InvalidInput(f"{name} must be a datetime, ISO 8601 text or epoch milliseconds, got {type(value).__name__}")


def _as_datetime(ms: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=ms)


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _empty(columns: Sequence[str] | None) -> pd.DataFrame:
    names = [*METADATA_COLUMNS, "deployment"] if columns is None else list(columns)
    return pd.DataFrame({name: pd.Series(dtype=_EMPTY_DTYPES.get(name, object)) for name in names})


def read_predictions(
    root: str | os.PathLike[str],
    deployment: str,
    *,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The deployment's logged rows with ``since <= time < until``, sorted by time then
    prediction_id, at most ``limit`` of them. ``columns`` picks columns (default: all, plus
    ``deployment``). No segments, or an unknown deployment, give an empty frame."""
    name = check_deployment(deployment)
    start, end = to_epoch_ms(since, "since"), to_epoch_ms(until, "until")
    if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns)):
        raise InvalidInput("columns must be a list of column names")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidInput(f"limit must be a whole number ≥ 0, got {limit!r}")
    if limit == 0 or (start is not None and end is not None and start >= end):
        return _empty(columns)
    first = None if start is None else day_of(start)
    last = None if end is None else day_of(end - 1)
    files = segment_files(
        Path(root), name, lambda day: (first is None or first <= day) and (last is None or day <= last)
    )
    if not files:
        return _empty(columns)
    selected = "* EXCLUDE (date)" if columns is None else ", ".join(_quote(column) for column in columns)
    conditions: list[str] = []
    params: dict[str, Any] = {"files": files}
    if start is not None:
        conditions.append("time >= $since")
        params["since"] = _as_datetime(start)
    if end is not None:
        conditions.append("time < $until")
        params["until"] = _as_datetime(end)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    tail = "" if limit is None else f"LIMIT {int(limit)}"
    sql = f"SELECT {selected} FROM {_SOURCE} {where} ORDER BY time, prediction_id {tail}"
    with _connect() as connection:
        try:
            # Through Arrow: DuckDB's own DataFrame conversion of a sorted result is 3-4 times slower.
            table = connection.sql(sql, params=params).to_arrow_table()
        except duckdb.BinderException as error:
            raise InvalidInput(
                f"cannot select {list(columns or [])!r} from the prediction log of {name!r}: {error}",
                hint="Logged columns are the metadata columns, 'proba:<class>' and 'input:<feature>'.",
            ) from None
    return _to_frame(table)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """pandas columns; whole numbers and booleans with nulls get pandas' nullable dtypes instead
    of turning into floats (losing precision past 2**53) and objects."""
    frame: pd.DataFrame = table.to_pandas()
    for index, column in enumerate(table.columns):
        if column.null_count and (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
            frame.isetitem(index, column.to_pandas(types_mapper=_NULLABLE.get))
    return frame


def find_prediction_ids(root: str | os.PathLike[str], deployment: str, ids: Sequence[str]) -> set[str]:
    """The ids among ``ids`` that the deployment's log holds.

    Ids made by ``new_prediction_id`` carry their time, so only the date partitions around it
    are read; if any id has another form, every partition is."""
    name = check_deployment(deployment)
    if isinstance(ids, str):
        raise InvalidInput("ids must be a list of prediction ids, not one string")
    wanted = list(dict.fromkeys(ids))
    if not all(isinstance(item, str) for item in wanted):
        raise InvalidInput("prediction ids must be text")
    if not wanted:
        return set()
    files = segment_files(Path(root), name, _days_of(wanted))
    if not files:
        return set()
    with _connect() as connection:
        connection.register("wanted", pa.table({"id": pa.array(wanted, type=pa.string())}))
        rows = connection.execute(
            "SELECT DISTINCT prediction_id FROM read_parquet($files, union_by_name = true) "
            "WHERE prediction_id IN (SELECT id FROM wanted)",
            {"files": files},
        ).fetchall()
    return {row[0] for row in rows}


def _days_of(ids: Sequence[str]) -> Callable[[dt.date], bool] | None:
    """Which date partitions can hold ``ids``; None (all) when one has no embedded time."""
    days: set[int] = set()
    for item in ids:
        ms = prediction_id_time_ms(item)
        if ms is None:
            return None
        days.update(range((ms - ID_TIME_SLACK_MS) // MS_PER_DAY, (ms + ID_TIME_SLACK_MS) // MS_PER_DAY + 1))
    wanted = {day_of(day * MS_PER_DAY) for day in days}
    return wanted.__contains__
