"""Runs: create, read, search, end; params and tags; one-transaction batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mlpilot.server.deps import Reader, Writer, render
from mlpilot.server.paging import Paging
from mlpilot.store.clock import now_ms
from mlpilot.tracking import batch as batch_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking import search as search_service
from mlpilot.tracking.environment import GitState
from mlpilot.tracking.records import Run, RunPage
from mlpilot.wire.bodies import BatchBody, EndRunBody, ParamsBody, RunBody, TagsBody, points_of

router = APIRouter(prefix="/runs", tags=["runs"])


@router.post("", name="run.create", status_code=201, response_model=Run)
def create_run(body: RunBody, caller: Writer) -> Response:
    origin = run_service.RunOrigin(
        user=body.user,
        entry_point=body.entry_point,
        git=GitState(body.git_commit, body.git_dirty, body.git_diff_hash, body.git_committed_at),
        environment=body.environment,
    )
    run = run_service.create_run(
        caller.db, body.experiment_id, origin, name=body.name, tags=body.tags, parent_run_id=body.parent_run_id
    )
    return render(run, 201)


@router.get("", response_model=RunPage, summary="Search runs")
def search_runs(
    caller: Reader,
    paging: Paging,
    experiment: Annotated[list[str] | None, Query(description="Experiment names.")] = None,
    experiment_id: Annotated[list[int] | None, Query(description="Experiment ids.")] = None,
    filter: str | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Runs matching ``filter`` (e.g. ``metrics.acc > 0.9 and params.model = 'rf'``), one page."""
    refs: list[str | int] | None = None
    if experiment is not None or experiment_id is not None:
        refs = [*(experiment or []), *(experiment_id or [])]
    return render(search_service.search_runs(caller.db, refs, filter, order_by, paging.size, paging.token))


@router.get("/{run_id}", response_model=Run)
def get_run(run_id: str, caller: Reader) -> Response:
    return render(run_service.get_run(caller.db, run_id))


@router.get("/{run_id}/environment", response_model=dict[str, Any] | None)
def get_run_environment(run_id: str, caller: Reader) -> Response:
    return render(run_service.get_environment(caller.db, run_id))


@router.post("/{run_id}/end", name="run.end", status_code=204)
def end_run(run_id: str, body: EndRunBody, caller: Writer) -> Response:
    run_service.end_run(caller.db, run_id, body.status)
    return Response(status_code=204)


@router.post("/{run_id}/params", name="run.log_params", status_code=204)
def log_params(run_id: str, body: ParamsBody, caller: Writer) -> Response:
    run_service.log_params(caller.db, run_id, body.params)
    return Response(status_code=204)


@router.post("/{run_id}/tags", name="run.set_tags", status_code=204)
def set_tags(run_id: str, body: TagsBody, caller: Writer) -> Response:
    run_service.set_tags(caller.db, run_id, body.tags)
    return Response(status_code=204)


@router.post("/{run_id}/batch", name="run.log_batch", status_code=204)
def log_batch(run_id: str, body: BatchBody, caller: Writer) -> Response:
    """Metrics, params and tags in one transaction: all of them or none."""
    points = points_of(run_id, body.metrics, now_ms())
    batch_service.log_batch(caller.db, run_id, points, body.params, body.tags)
    return Response(status_code=204)
