"""What MLflow's tracking API needs beyond mlpilot's own run services, on the same tables.

MLflow lets a client rename a run, tag it after it ended and read each metric's newest point with
its step and time; mlpilot's runs support the same data, so these are small reads and writes here
rather than a second store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from mlpilot.errors import NotFound
from mlpilot.store import Database
from mlpilot.store.schema import latest_metrics, run_tags, runs
from mlpilot.tracking.limits import check_name
from mlpilot.tracking.records import Metric
from mlpilot.tracking.runs import clean_tags, write_tags

__all__ = ["delete_tag", "latest_points", "rename_run", "tag_run"]


def latest_points(db: Database, run_ids: Sequence[str]) -> dict[str, list[Metric]]:
    """The newest point of every metric of each run, with its step and timestamp."""
    if not run_ids:
        return {}
    found: dict[str, list[Metric]] = defaultdict(list)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(
                latest_metrics.c.run_id,
                latest_metrics.c.key,
                latest_metrics.c.value,
                latest_metrics.c.step,
                latest_metrics.c.timestamp,
            ).where(latest_metrics.c.run_id.in_(list(run_ids)))
        ).all()
    for run_id, key, value, step, timestamp in rows:
        found[run_id].append(Metric(key, float("nan") if value is None else float(value), step, timestamp))
    return found


def _require_run(conn: sa.Connection, run_id: str) -> None:
    if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")


def tag_run(db: Database, run_id: str, values: Mapping[str, object]) -> None:
    """Set tags whatever the run's status: MLflow clients annotate finished runs too."""
    clean = clean_tags(values)
    if not clean:
        return
    with db.write() as conn:
        _require_run(conn, run_id)
        write_tags(db, conn, run_id, clean)


def delete_tag(db: Database, run_id: str, key: str) -> None:
    with db.write() as conn:
        _require_run(conn, run_id)
        deleted = conn.execute(run_tags.delete().where(run_tags.c.run_id == run_id, run_tags.c.key == key)).rowcount
    if not deleted:
        raise NotFound(f"run {run_id} has no tag {key!r}")


def rename_run(db: Database, run_id: str, name: str) -> None:
    check_name(name, "run")
    with db.write() as conn:
        _require_run(conn, run_id)
        conn.execute(runs.update().where(runs.c.id == run_id).values(name=name))
