"""Metric points: appended in batches, the newest per key kept aside for search and listings."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.errors import InactiveRun, InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.schema import latest_metrics, metrics, runs
from mlpilot.store.upsert import upsert_insert
from mlpilot.tracking.limits import MAX_KEY_LENGTH, check_key
from mlpilot.tracking.records import Metric, RunStatus

__all__ = ["MetricInput", "Point", "append_points", "get_metric_history", "make_point", "point_from", "write_points"]

# (run_id, key, value or None for NaN, step, timestamp ms): tuples, because the hot path builds
# hundreds of thousands of them.
Point = tuple[str, str, float | None, int, int]
MetricInput = Metric | tuple[str, float] | tuple[str, float, int] | tuple[str, float, int, int] | Mapping[str, Any]

_INSERT_PG = "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (%s, %s, %s, %s, %s)"
# SQLite pays per executed statement; a hundred rows per INSERT is about 40% faster than one.
_SQLITE_ROWS_PER_INSERT = 100


@functools.cache
def _sqlite_insert(rows: int) -> str:
    return "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES " + ",".join(["(?,?,?,?,?)"] * rows)


def _insert_points(db: Database, conn: Connection, points: list[Point]) -> None:
    if not db.is_sqlite:
        conn.exec_driver_sql(_INSERT_PG, points)
        return
    size = _SQLITE_ROWS_PER_INSERT
    full = len(points) - len(points) % size
    if full:
        groups = [tuple(itertools.chain.from_iterable(points[at : at + size])) for at in range(0, full, size)]
        conn.exec_driver_sql(_sqlite_insert(size), groups)
    if full < len(points):
        tail = points[full:]
        conn.exec_driver_sql(_sqlite_insert(len(tail)), tuple(itertools.chain.from_iterable(tail)))


def make_point(run_id: str, key: str, value: object, step: object, timestamp: object) -> Point:
    """Validate one point; NaN becomes None (stored as NULL), infinities stay.

    The common case (str key, int step and timestamp, a float) takes no function calls beyond
    ``float``: this runs once per logged point.
    """
    if type(key) is not str or not key or len(key) > MAX_KEY_LENGTH:
        check_key(key, "metric")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"metric {key!r} must be a number, got {type(value).__name__}") from None
    if type(step) is not int:
        step = _as_int(key, step, "step")
    if type(timestamp) is not int:
        timestamp = _as_int(key, timestamp, "timestamp")
    # NaN is the one float unequal to itself; cheaper than math.isnan on this hot path.
    return (run_id, key, None if number != number else number, step, timestamp)  # noqa: PLR0124


def point_from(run_id: str, item: MetricInput, when: int) -> Point:
    """A point from any accepted form: Metric, (key, value[, step[, timestamp]]) or a mapping."""
    make = make_point
    if type(item) is tuple:
        # Most batches are plain tuples; test for them first and without ABC checks.
        fields: tuple[Any, ...] = item
        size = len(fields)
        if size == 3:
            return make(run_id, fields[0], fields[1], fields[2], when)
        if size == 2:
            return make(run_id, fields[0], fields[1], 0, when)
        if size == 4:
            return make(run_id, fields[0], fields[1], fields[2], fields[3])
    elif isinstance(item, Metric):
        return make(run_id, item.key, item.value, item.step, item.timestamp or when)
    elif isinstance(item, Mapping):
        try:
            return make(run_id, item["key"], item["value"], item.get("step", 0), item.get("timestamp") or when)
        except KeyError as exc:
            raise InvalidInput(f"a metric mapping needs 'key' and 'value'; missing {exc}") from exc
    raise InvalidInput(
        f"cannot read a metric from {type(item).__name__}",
        hint="Pass Metric(key, value, step, timestamp), (key, value[, step[, timestamp]]) or a mapping.",
    )


def _as_int(key: str, value: object, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"metric {key!r} {what} must be an integer, got a bool")
    try:
        converted: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(f"metric {key!r} {what} must be an integer, got {value!r}") from None
    if converted != value:
        raise InvalidInput(f"metric {key!r} {what} must be an integer, got {value!r}")
    return converted


def write_points(db: Database, points: Sequence[Point]) -> None:
    """Append points to the histories of running runs and move each key's newest value forward.

    Points of runs that are missing or have ended are refused with an error naming the run, after
    the points of the other runs in the same batch are written.
    """
    if not points:
        return
    with db.write() as conn:
        refusal = _refusal(conn, {point[0] for point in points})
        accepted = list(points) if refusal is None else [p for p in points if p[0] not in refusal[0]]
        if refusal is not None and not accepted:
            # Raised inside the transaction, so it is rolled back rather than committed empty:
            # a write that changed nothing leaves no audit entry.
            raise refusal[1]
        append_points(db, conn, accepted)
    if refusal is not None:
        raise refusal[1]


def append_points(db: Database, conn: Connection, points: list[Point]) -> None:
    """Insert points inside the caller's transaction; their runs are known to be running."""
    if points:
        _insert_points(db, conn, points)
        _advance_latest(db, conn, _newest_per_key(points))


def _refusal(conn: Connection, run_ids: set[str]) -> tuple[set[str], Exception] | None:
    found = dict(conn.execute(sa.select(runs.c.id, runs.c.status).where(runs.c.id.in_(run_ids))).all())
    missing = sorted(run_ids - found.keys())
    ended = sorted(run_id for run_id, status in found.items() if status != RunStatus.RUNNING.value)
    if missing:
        error: Exception = NotFound(
            f"run {missing[0]!r} does not exist", hint="Log metrics to a run created by start_run."
        )
    elif ended:
        error = InactiveRun(f"run {ended[0]} has ended ({found[ended[0]]}); it no longer accepts metrics")
    else:
        return None
    return {*missing, *ended}, error


def _newest_per_key(points: Iterable[Point]) -> list[Point]:
    newest: dict[tuple[str, str], Point] = {}
    for point in points:
        slot = (point[0], point[1])
        held = newest.get(slot)
        if held is None or (point[3], point[4]) >= (held[3], held[4]):
            newest[slot] = point
    return list(newest.values())


@functools.cache
def _latest_upsert(dialect: str) -> sa.Insert:
    """Built once per dialect: this statement runs on every metric write."""
    statement = upsert_insert(dialect, latest_metrics)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={"value": excluded.value, "step": excluded.step, "timestamp": excluded.timestamp},
        where=sa.or_(
            excluded.step > latest_metrics.c.step,
            sa.and_(excluded.step == latest_metrics.c.step, excluded.timestamp >= latest_metrics.c.timestamp),
        ),
    )


def _advance_latest(db: Database, conn: Connection, newest: list[Point]) -> None:
    rows = [{"run_id": p[0], "key": p[1], "value": p[2], "step": p[3], "timestamp": p[4]} for p in newest]
    conn.execute(_latest_upsert(db.dialect), rows)


def get_metric_history(db: Database, run_id: str, key: str) -> list[Metric]:
    with db.read() as conn:
        if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
            raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")
        rows = conn.execute(
            sa.select(metrics.c.value, metrics.c.step, metrics.c.timestamp)
            .where(metrics.c.run_id == run_id, metrics.c.key == key)
            .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)
        ).all()
    return [Metric(key, math.nan if value is None else float(value), step, ts) for value, step, ts in rows]
