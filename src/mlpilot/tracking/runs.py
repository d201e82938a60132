"""Runs: creation, status, params (write-once) and tags."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.errors import Conflict, InactiveRun, InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import environments, experiments, params, run_tags, runs
from mlpilot.store.upsert import upsert_insert
from mlpilot.tracking.environment import GitState, environment_hash
from mlpilot.tracking.limits import MAX_PARAM_LENGTH, MAX_TAG_LENGTH, check_key, check_name, check_value
from mlpilot.tracking.loading import load_runs
from mlpilot.tracking.names import random_run_name
from mlpilot.tracking.records import Run, RunStatus

__all__ = [
    "RunOrigin",
    "create_run",
    "end_run",
    "get_environment",
    "get_run",
    "log_params",
    "require_running",
    "set_tags",
]


@dataclass(frozen=True, slots=True)
class RunOrigin:
    """Where a run came from, captured by the caller (the client knows its process)."""

    user: str
    entry_point: str | None
    git: GitState
    environment: dict[str, object] | None


def create_run(
    db: Database,
    experiment_id: int,
    origin: RunOrigin,
    *,
    name: str | None = None,
    tags: Mapping[str, object] | None = None,
    parent_run_id: str | None = None,
) -> Run:
    run_name = check_name(name, "run") if name is not None else random_run_name()
    tags_clean = clean_tags(tags or {})
    run_id = uuid.uuid4().hex
    start_time = now_ms()
    env_hash = environment_hash(origin.environment) if origin.environment is not None else None
    with db.write() as conn:
        if conn.execute(sa.select(experiments.c.id).where(experiments.c.id == experiment_id)).first() is None:
            raise NotFound(
                f"experiment {experiment_id} does not exist", hint="List experiments with `mlpilot experiments list`."
            )
        if parent_run_id is not None:
            _require_exists(conn, parent_run_id)
        if env_hash is not None:
            _upsert_ignore(db, conn, environments, [{"hash": env_hash, "content": origin.environment}], ["hash"])
        conn.execute(
            runs.insert().values(
                id=run_id,
                experiment_id=experiment_id,
                name=run_name,
                status=RunStatus.RUNNING.value,
                start_time=start_time,
                end_time=None,
                parent_run_id=parent_run_id,
                user=origin.user,
                entry_point=origin.entry_point,
                git_commit=origin.git.commit,
                git_dirty=origin.git.dirty,
                git_diff_hash=origin.git.diff_hash,
                git_committed_at=origin.git.committed_at,
                environment_hash=env_hash,
            )
        )
        if tags_clean:
            conn.execute(run_tags.insert(), [{"run_id": run_id, "key": k, "value": v} for k, v in tags_clean.items()])
        experiment_name = conn.execute(
            sa.select(experiments.c.name).where(experiments.c.id == experiment_id)
        ).scalar_one()
    return Run(
        id=run_id,
        experiment_id=experiment_id,
        experiment_name=experiment_name,
        name=run_name,
        status=RunStatus.RUNNING,
        start_time=start_time,
        end_time=None,
        user=origin.user,
        parent_run_id=parent_run_id,
        entry_point=origin.entry_point,
        git_commit=origin.git.commit,
        git_dirty=origin.git.dirty,
        git_diff_hash=origin.git.diff_hash,
        git_committed_at=origin.git.committed_at,
        environment_hash=env_hash,
        tags=tags_clean,
    )


def get_run(db: Database, run_id: str) -> Run:
    with db.read() as conn:
        found = load_runs(conn, [run_id])
    if not found:
        raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")
    return found[0]


def get_environment(db: Database, run_id: str) -> dict[str, object] | None:
    with db.read() as conn:
        row = conn.execute(
            sa.select(environments.c.content)
            .select_from(runs.outerjoin(environments, environments.c.hash == runs.c.environment_hash))
            .where(runs.c.id == run_id)
        ).first()
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")
    content: dict[str, object] | None = row[0]
    return content


def end_run(db: Database, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> None:
    final = _parse_status(status)
    if not final.is_terminal:
        raise InvalidInput("a run can only be ended as FINISHED, FAILED or KILLED")
    with db.write() as conn:
        current = _status(conn, run_id)
        if current.is_terminal:
            raise InactiveRun(f"run {run_id} already ended as {current.value}")
        conn.execute(runs.update().where(runs.c.id == run_id).values(status=final.value, end_time=now_ms()))


def require_running(conn: Connection, run_id: str) -> None:
    status = _status(conn, run_id)
    if status.is_terminal:
        raise InactiveRun(f"run {run_id} has ended ({status.value}); it no longer accepts logging")


def log_params(db: Database, run_id: str, values: Mapping[str, object]) -> None:
    """Params are write-once: logging the same value again is fine, a different one is an error."""
    clean = clean_params(values)
    if not clean:
        return
    with db.write() as conn:
        require_running(conn, run_id)
        write_params(conn, run_id, clean)


def clean_params(values: Mapping[str, object]) -> dict[str, str]:
    return {
        check_key(key, "param"): check_value(key, value, "param", MAX_PARAM_LENGTH) for key, value in values.items()
    }


def write_params(conn: Connection, run_id: str, clean: dict[str, str]) -> None:
    """Insert validated params inside the caller's transaction (the run is known to be running)."""
    existing = dict(
        conn.execute(
            sa.select(params.c.key, params.c.value).where(params.c.run_id == run_id, params.c.key.in_(list(clean)))
        ).all()
    )
    changed = sorted(key for key, value in clean.items() if key in existing and existing[key] != value)
    if changed:
        key = changed[0]
        raise Conflict(
            f"param {key!r} of run {run_id} is already {existing[key]!r}; cannot change it to {clean[key]!r}",
            hint="Params are write-once; log the new value under another key or start a new run.",
        )
    new = [{"run_id": run_id, "key": k, "value": v} for k, v in clean.items() if k not in existing]
    if new:
        conn.execute(params.insert(), new)


def set_tags(db: Database, run_id: str, values: Mapping[str, object]) -> None:
    """Tags, unlike params, may be overwritten."""
    clean = clean_tags(values)
    if not clean:
        return
    with db.write() as conn:
        require_running(conn, run_id)
        write_tags(db, conn, run_id, clean)


def write_tags(db: Database, conn: Connection, run_id: str, clean: dict[str, str]) -> None:
    """Upsert validated tags inside the caller's transaction."""
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in clean.items()]
    insert = upsert_insert(db.dialect, run_tags).values(rows)
    conn.execute(insert.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": insert.excluded.value}))


def clean_tags(values: Mapping[str, object]) -> dict[str, str]:
    return {check_key(key, "tag"): check_value(key, value, "tag", MAX_TAG_LENGTH) for key, value in values.items()}


def _status(conn: Connection, run_id: str) -> RunStatus:
    value = conn.execute(sa.select(runs.c.status).where(runs.c.id == run_id)).scalar()
    if value is None:
        raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")
    return RunStatus(value)


def _require_exists(conn: Connection, run_id: str) -> None:
    _status(conn, run_id)


def _parse_status(status: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(str(status).upper())
    except ValueError as exc:
        raise InvalidInput(
            f"unknown run status {status!r}", hint="Use one of " + ", ".join(s.value for s in RunStatus) + "."
        ) from exc


def _upsert_ignore(
    db: Database, conn: Connection, table: sa.Table, rows: list[dict[str, object]], keys: list[str]
) -> None:
    conn.execute(upsert_insert(db.dialect, table).values(rows).on_conflict_do_nothing(index_elements=keys))
