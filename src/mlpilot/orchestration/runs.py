"""Pipeline runs and step runs: started, finished, listed; the cache is a lookup of earlier step
runs by cache key.

One pipeline never runs twice at once: a running run holds the pipeline's name in the unique
``running_key`` column until it ends. A run whose process died (same host, pid gone) is marked
failed when the next run asks for the key, so a crash never blocks a pipeline for good.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from mlpilot.errors import Conflict, InvalidInput, NotFound
from mlpilot.orchestration.records import PipelineRun, RunState, StepRun, StepState
from mlpilot.orchestration.stored import pipeline_row
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import pipeline_runs, pipelines, step_runs

__all__ = [
    "attach_tracked_run",
    "cached_step",
    "finish_pipeline_run",
    "finish_step_run",
    "get_pipeline_run",
    "list_pipeline_runs",
    "record_step",
    "start_pipeline_run",
    "start_step_run",
]

_RUN_HINT = "List runs with `mlpilot pipelines runs PIPELINE`."


def _holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(holder: Mapping[str, Any] | None) -> bool:
    """False only when we can tell: the holder ran on this host and its process is gone."""
    if not holder or holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_pipeline_run(
    db: Database,
    pipeline: str,
    *,
    params: Mapping[str, Any],
    trigger: Mapping[str, Any],
    actor: str,
    run_id: str | None = None,
) -> PipelineRun:
    """A RUNNING run of ``pipeline``; Conflict while another run of it is still running."""
    for attempt in (1, 2):
        when = now_ms()
        try:
            with db.write() as conn:
                pipeline_id = pipeline_row(conn, pipeline)["id"]
                new_id = uuid.uuid4().hex
                conn.execute(
                    pipeline_runs.insert().values(
                        id=new_id,
                        pipeline_id=pipeline_id,
                        status=RunState.RUNNING.value,
                        params=dict(params),
                        trigger=dict(trigger),
                        running_key=pipeline,
                        run_id=run_id,
                        actor=actor,
                        started_at=when,
                        summary={"holder": _holder()},
                    )
                )
                return _load(conn, new_id)
        except IntegrityError:
            if attempt == 2 or not _reap_dead_holder(db, pipeline):
                break
    with db.read() as conn:
        holder = conn.execute(
            sa.select(pipeline_runs.c.id, pipeline_runs.c.started_at).where(pipeline_runs.c.running_key == pipeline)
        ).first()
    running = f"run {holder[0]}" if holder else "another run"
    raise Conflict(
        f"pipeline {pipeline!r} is already running ({running}); one pipeline runs once at a time",
        hint="Wait for it to finish (`mlpilot pipelines runs " + pipeline + "` shows it), then run again.",
    )


def _reap_dead_holder(db: Database, pipeline: str) -> bool:
    with db.write() as conn:
        row = conn.execute(sa.select(pipeline_runs).where(pipeline_runs.c.running_key == pipeline)).mappings().first()
        if row is None:
            return True  # it finished meanwhile
        holder = (row["summary"] or {}).get("holder")
        if holder is None or _alive(holder):
            return False
        _finish(conn, row["id"], RunState.FAILED, f"the process running it (pid {holder['pid']}) ended first", None)
        return True


def _finish(conn: Connection, run_id: str, status: RunState, error: str | None, summary: Any) -> None:
    conn.execute(
        pipeline_runs.update()
        .where(pipeline_runs.c.id == run_id)
        .values(status=status.value, running_key=None, ended_at=now_ms(), error=error, summary=summary)
    )
    conn.execute(
        step_runs.update()
        .where(step_runs.c.pipeline_run_id == run_id, step_runs.c.status == StepState.RUNNING.value)
        .values(status=StepState.FAILED.value, ended_at=now_ms(), error=error or "the pipeline run ended")
    )


def finish_pipeline_run(
    db: Database, run_id: str, status: RunState, *, error: str | None = None, summary: Mapping[str, Any] | None = None
) -> PipelineRun:
    if not status.is_terminal:
        raise InvalidInput(f"a pipeline run ends SUCCEEDED or FAILED, not {status.value}")
    with db.write() as conn:
        _finish(conn, run_id, status, error, dict(summary) if summary is not None else None)
        return _load(conn, run_id)


def start_step_run(
    db: Database, pipeline_run_id: str, step: str, *, cache_key: str | None, run_id: str | None, details: Any = None
) -> int:
    with db.write() as conn:
        result = conn.execute(
            step_runs.insert().values(
                pipeline_run_id=pipeline_run_id,
                step=step,
                status=StepState.RUNNING.value,
                cache_key=cache_key,
                run_id=run_id,
                details=details,
                started_at=now_ms(),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_step_run(
    db: Database,
    step_run_id: int,
    status: StepState,
    *,
    outputs: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status.value, "ended_at": now_ms(), "error": error}
    if outputs is not None:
        values["outputs"] = dict(outputs)
    with db.write() as conn:
        conn.execute(step_runs.update().where(step_runs.c.id == step_run_id).values(**values))


def record_step(
    db: Database,
    pipeline_run_id: str,
    step: str,
    status: StepState,
    *,
    cache_key: str | None = None,
    run_id: str | None = None,
    outputs: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    cached_from: int | None = None,
    error: str | None = None,
) -> int:
    """A step run that starts and ends at once: a cache hit, or a step skipped after a failure."""
    when = now_ms()
    with db.write() as conn:
        result = conn.execute(
            step_runs.insert().values(
                pipeline_run_id=pipeline_run_id,
                step=step,
                status=status.value,
                cache_key=cache_key,
                cached_from=cached_from,
                outputs=dict(outputs) if outputs is not None else None,
                details=dict(details) if details is not None else None,
                run_id=run_id,
                started_at=when,
                ended_at=when,
                error=error,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def cached_step(db: Database, cache_key: str) -> StepRun | None:
    """The newest step run that computed ``cache_key``'s outputs itself and succeeded."""
    with db.read() as conn:
        row = (
            conn.execute(
                sa.select(step_runs)
                .where(step_runs.c.cache_key == cache_key, step_runs.c.status == StepState.SUCCEEDED.value)
                .order_by(step_runs.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    return _to_step(row) if row is not None else None


def _to_step(row: RowMapping) -> StepRun:
    return StepRun(
        id=row["id"],
        pipeline_run_id=row["pipeline_run_id"],
        step=row["step"],
        status=StepState(row["status"]),
        cache_key=row["cache_key"],
        cached_from=row["cached_from"],
        outputs=row["outputs"],
        details=row["details"],
        run_id=row["run_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        error=row["error"],
    )


def _to_run(row: RowMapping, steps: tuple[StepRun, ...]) -> PipelineRun:
    summary = row["summary"]
    if row["status"] == RunState.RUNNING.value and isinstance(summary, dict):
        summary = {key: value for key, value in summary.items() if key != "holder"}
    return PipelineRun(
        id=row["id"],
        pipeline=row["name"],
        status=RunState(row["status"]),
        params=row["params"],
        trigger=row["trigger"],
        run_id=row["run_id"],
        actor=row["actor"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        error=row["error"],
        summary=summary or None,
        steps=steps,
    )


def _select_runs() -> sa.Select[Any]:
    return sa.select(pipeline_runs, pipelines.c.name).join(pipelines, pipelines.c.id == pipeline_runs.c.pipeline_id)


def _steps_of(conn: Connection, run_id: str) -> tuple[StepRun, ...]:
    rows = conn.execute(
        sa.select(step_runs).where(step_runs.c.pipeline_run_id == run_id).order_by(step_runs.c.id)
    ).mappings()
    return tuple(_to_step(row) for row in rows)


def _load(conn: Connection, run_id: str) -> PipelineRun:
    row = conn.execute(_select_runs().where(pipeline_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound(f"pipeline run {run_id!r} does not exist", hint=_RUN_HINT)
    return _to_run(row, _steps_of(conn, run_id))


def get_pipeline_run(db: Database, run_id: str) -> PipelineRun:
    with db.read() as conn:
        return _load(conn, run_id)


def list_pipeline_runs(db: Database, pipeline: str | None = None, *, limit: int = 50) -> list[PipelineRun]:
    """Newest first, each with its step runs."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive integer, got {limit!r}")
    query = _select_runs().order_by(pipeline_runs.c.started_at.desc(), pipeline_runs.c.id).limit(limit)
    with db.read() as conn:
        if pipeline is not None:
            query = query.where(pipeline_runs.c.pipeline_id == pipeline_row(conn, pipeline)["id"])
        rows = list(conn.execute(query).mappings())
        return [_to_run(row, _steps_of(conn, row["id"])) for row in rows]


def attach_tracked_run(db: Database, pipeline_run_id: str, run_id: str) -> None:
    """Link the tracked run that groups the step runs' tracked runs (created after the lock is held)."""
    with db.write() as conn:
        conn.execute(pipeline_runs.update().where(pipeline_runs.c.id == pipeline_run_id).values(run_id=run_id))
