"""Experiments and runs: the runs table (search language, sort, pages), a run, runs compared."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from markupsafe import Markup

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.server.routes.artifacts import stream_blob
from mlpilot.server.ui import experiments as experiments_page
from mlpilot.server.ui.render import UiRoute, chart, page
from mlpilot.server.ui.session import Viewer, ViewerSession
from mlpilot.tracking import artifacts as artifact_service
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking import metrics as metric_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking import search as search_service
from mlpilot.tracking.records import Run

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)

PAGE_SIZE = 50
_MAX_COLUMNS = 12  # per kind: a wide search still fits a screen
_MAX_COMPARED = 10


@router.get("/")
def home() -> Response:
    return RedirectResponse("/runs", status_code=303)


@router.get("/runs")
def runs_table(
    request: Request,
    viewer: Viewer,
    experiment: str = "",
    filter: str = "",
    order: str = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    experiments = experiment_service.list_experiments(viewer.db, limit=experiments_page.MAX_EXPERIMENTS)
    # An experiment past the selector's cap (chosen from a link) still shows as chosen, so that
    # submitting the filter form keeps it instead of widening the search to every experiment.
    unlisted = experiment if experiment and all(item.name != experiment for item in experiments) else ""
    refs: list[str | int] | None = [experiment] if experiment else None
    order_by = [order] if order else None
    problem: InvalidInput | None = None
    found: list[Run] = []
    more = False
    try:
        token = search_service.token_at((page_number - 1) * PAGE_SIZE, refs, filter or None, order_by)
        result = search_service.search_runs(viewer.db, refs, filter or None, order_by, PAGE_SIZE, token)
        found, more = list(result.runs), result.next_page_token is not None
    except (InvalidInput, NotFound) as refused:
        problem = InvalidInput(refused.message, hint=refused.hint)
    return page(
        request,
        viewer,
        "runs.html",
        status=400 if problem else 200,
        runs=found,
        experiments=experiments,
        experiment=experiment,
        unlisted=unlisted,
        filter=filter,
        order=order,
        page_number=page_number,
        more=more,
        problem=problem,
        param_keys=_columns(run.params for run in found),
        metric_keys=_columns(run.metrics for run in found),
        most_compared=_MAX_COMPARED,
    )


def _columns(maps: Any) -> list[str]:
    """The keys most runs on the page have (a pipeline's one gate run should not crowd out what
    every training run logged), shown in name order."""
    seen: Counter[str] = Counter()
    for mapping in maps:
        seen.update(mapping.keys())  # keys only: a mapping would add its values as counts
    common = sorted(seen, key=lambda key: (-seen[key], key))[:_MAX_COLUMNS]
    return sorted(common)


@router.get("/runs/{run_id}")
def run_page(request: Request, viewer: Viewer, run_id: str) -> Response:
    run = run_service.get_run(viewer.db, run_id)
    histories = {key: metric_service.get_metric_history(viewer.db, run_id, key) for key in sorted(run.metrics)}
    charts = [
        (
            key,
            chart(
                [{"x": [p.step for p in points], "y": [p.value for p in points], "mode": "lines+markers", "name": key}],
                {"xaxis": {"title": {"text": "step"}}},
                height=220,
            ),
        )
        for key, points in histories.items()
        if len(points) > 1
    ]
    return page(
        request,
        viewer,
        "run.html",
        run=run,
        charts=charts,
        environment=run_service.get_environment(viewer.db, run_id) or {},
        artifacts=artifact_service.list_artifacts(viewer.db, run_id),
    )


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download(viewer: Viewer, run_id: str, path: str) -> StreamingResponse:
    entry = artifact_service.find_artifact(viewer.db, run_id, path)
    response = stream_blob(viewer.content, entry.sha256, entry.size)
    name = path.rsplit("/", 1)[-1].replace('"', "")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/compare")
def compare(request: Request, viewer: Viewer, run: Annotated[list[str] | None, Query()] = None) -> Response:
    ids = list(dict.fromkeys(run or []))
    if not 2 <= len(ids) <= _MAX_COMPARED:
        raise InvalidInput(f"pick between 2 and {_MAX_COMPARED} runs to compare, not {len(ids)}")
    runs = [run_service.get_run(viewer.db, run_id) for run_id in ids]
    metric_keys = sorted({key for item in runs for key in item.metrics})
    charts = [(key, _compared(viewer, runs, key)) for key in metric_keys]
    param_keys = sorted({key for item in runs for key in item.params})
    return page(
        request, viewer, "compare.html", runs=runs, charts=charts, param_keys=param_keys, metric_keys=metric_keys
    )


def _compared(viewer: ViewerSession, runs: list[Run], key: str) -> Markup:
    """One metric across runs: a curve per run over steps, or bars when no run logged a history."""
    histories = [
        metric_service.get_metric_history(viewer.db, item.id, key) if key in item.metrics else [] for item in runs
    ]
    if max(len(points) for points in histories) <= 1:
        values = [item.metrics.get(key) for item in runs]
        return chart([{"x": [item.name for item in runs], "y": values, "type": "bar"}], height=240)
    lines = [
        {"x": [p.step for p in points], "y": [p.value for p in points], "mode": "lines+markers", "name": item.name}
        for item, points in zip(runs, histories, strict=True)
    ]
    return chart(lines, {"xaxis": {"title": {"text": "step"}}, "showlegend": True}, height=260)
