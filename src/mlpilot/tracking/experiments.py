"""Experiments: named groups of runs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mlpilot.errors import Conflict, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import experiments, runs
from mlpilot.tracking.limits import check_name
from mlpilot.tracking.records import Experiment

__all__ = [
    "create_experiment",
    "get_experiment",
    "get_or_create_experiment",
    "list_experiments",
    "resolve_experiment",
    "run_counts",
]

MAX_EXPERIMENT_NAME = 500


def _record(row: RowMapping) -> Experiment:
    return Experiment(id=row["id"], name=row["name"], created_at=row["created_at"], description=row["description"])


def create_experiment(db: Database, name: str, description: str | None = None) -> Experiment:
    check_name(name, "experiment", MAX_EXPERIMENT_NAME)
    try:
        with db.write() as conn:
            return _insert(conn, name, description)
    except SqlIntegrityError as exc:
        raise Conflict(
            f"experiment {name!r} already exists", hint="Pick another name, or log runs to the existing one."
        ) from exc


def _insert(conn: Connection, name: str, description: str | None) -> Experiment:
    created = now_ms()
    new_id = conn.execute(
        experiments.insert().values(name=name, description=description, created_at=created).returning(experiments.c.id)
    ).scalar_one()
    return Experiment(id=new_id, name=name, created_at=created, description=description)


def get_experiment(db: Database, name_or_id: str | int) -> Experiment:
    with db.read() as conn:
        found = resolve_experiment(conn, name_or_id)
    if found is None:
        raise NotFound(
            f"experiment {name_or_id!r} does not exist", hint="List experiments with `mlpilot experiments list`."
        )
    return found


def resolve_experiment(conn: Connection, name_or_id: str | int) -> Experiment | None:
    """Find an experiment by name, or by id when given an int or a string of digits with no such name."""
    if isinstance(name_or_id, int):
        condition = experiments.c.id == name_or_id
        row = conn.execute(sa.select(experiments).where(condition)).mappings().first()
        return None if row is None else _record(row)
    row = conn.execute(sa.select(experiments).where(experiments.c.name == name_or_id)).mappings().first()
    if row is None and name_or_id.isdecimal() and len(name_or_id) <= 18:  # "³" is a digit but no number
        row = conn.execute(sa.select(experiments).where(experiments.c.id == int(name_or_id))).mappings().first()
    return None if row is None else _record(row)


def get_or_create_experiment(db: Database, name: str) -> Experiment:
    with db.read() as conn:
        found = resolve_experiment(conn, name)
    if found is not None:
        return found
    check_name(name, "experiment", MAX_EXPERIMENT_NAME)
    try:
        with db.write() as conn:
            return _insert(conn, name, None)
    except SqlIntegrityError:
        # Another process created it between our read and our write.
        return get_experiment(db, name)


def list_experiments(db: Database, *, limit: int | None = None, after: int | None = None) -> list[Experiment]:
    """Oldest first (by id); with ``after`` (an id), only those after it; at most ``limit``."""
    query = sa.select(experiments).order_by(experiments.c.id).limit(limit)
    if after is not None:
        query = query.where(experiments.c.id > after)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [_record(row) for row in rows]


def run_counts(db: Database) -> dict[int, tuple[int, int]]:
    """Per experiment id with runs: how many runs it holds and when its newest run started (epoch ms)."""
    query = sa.select(runs.c.experiment_id, sa.func.count(), sa.func.max(runs.c.start_time)).group_by(
        runs.c.experiment_id
    )
    with db.read() as conn:
        return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}
