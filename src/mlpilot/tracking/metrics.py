"""Metric points: appended in batches, the newest per key kept aside for search and listings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mlpilot.errors import InactiveRun, InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.schema import latest_metrics, metrics, runs
from mlpilot.tracking.limits import check_key
from mlpilot.tracking.records import Metric, RunStatus

__all__ = ["Point", "get_metric_history", "make_point", "write_points"]

# (run_id, key, value or None for NaN, step, timestamp ms): tuples, because the hot path builds
# hundreds of thousands of them.
Point = tuple[str, str, float | None, int, int]

_INSERT = {
    "sqlite": "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
    "postgresql": "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (%s, %s, %s, %s, %s)",
}


def make_point(run_id: str, key: str, value: object, step: int, timestamp: int) -> Point:
    """Validate one point; NaN becomes None (stored as NULL), infinities stay."""
    check_key(key, "metric")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metric {key!r} must be a number, got {type(value).__name__}") from exc
    if isinstance(step, bool) or not isinstance(step, int):
        try:
            step = int(step)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"metric {key!r} step must be an integer, got {step!r}") from exc
    return (run_id, key, None if math.isnan(number) else number, step, int(timestamp))


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
        if accepted:
            conn.exec_driver_sql(_INSERT[db.dialect], accepted)  # type: ignore[arg-type]
            _advance_latest(db, conn, _newest_per_key(accepted))
    if refusal is not None:
        raise refusal[1]


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


def _advance_latest(db: Database, conn: Connection, newest: list[Point]) -> None:
    insert_fn = sqlite.insert if db.is_sqlite else postgresql.insert
    rows = [{"run_id": p[0], "key": p[1], "value": p[2], "step": p[3], "timestamp": p[4]} for p in newest]
    statement = insert_fn(latest_metrics)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={"value": excluded.value, "step": excluded.step, "timestamp": excluded.timestamp},
        where=sa.or_(
            excluded.step > latest_metrics.c.step,
            sa.and_(excluded.step == latest_metrics.c.step, excluded.timestamp >= latest_metrics.c.timestamp),
        ),
    )
    conn.execute(statement, rows)


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
