"""Monitoring (drift heatmap, live and estimated accuracy against offline, alerts), pipeline runs
with their step DAG, and the DORA figures over time."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from mlpilot.monitoring import monitors as monitor_service
from mlpilot.monitoring.monitors import Monitor, MonitorResult
from mlpilot.ops.dora import dora_metrics, metrics_of
from mlpilot.ops.records import DoraMetrics
from mlpilot.orchestration import runs as pipeline_runs
from mlpilot.orchestration.records import PipelineRun
from mlpilot.orchestration.stored import get_pipeline
from mlpilot.server.ui.graphs import Node, layered_svg
from mlpilot.server.ui.listing import cut
from mlpilot.server.ui.render import UiRoute, chart, iso, page
from mlpilot.server.ui.session import Viewer, ViewerSession

__all__ = ["MAX_ALERTS", "MAX_MONITORS", "MAX_PIPELINE_RUNS", "router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)

_RESULTS = 60
# Lists whose services cannot page cheaply are cut here, with a note saying where the rest is.
MAX_ALERTS = 100
MAX_MONITORS = 200
MAX_PIPELINE_RUNS = 100
_BUCKETS = 8
_PREFERRED = ("accuracy", "roc_auc", "f1", "rmse", "mae")


@router.get("/monitoring")
def monitoring(request: Request, viewer: Viewer, monitor: str = "") -> Response:
    monitors, monitors_capped = cut(monitor_service.list_monitors(viewer.db, limit=MAX_MONITORS + 1), MAX_MONITORS)
    chosen: Monitor | None = None
    if monitor:
        chosen = monitor_service.get_monitor(viewer.db, monitor)
    elif monitors:
        chosen = monitors[0]
    results = list(reversed(monitor_service.list_results(viewer.db, chosen.name, limit=_RESULTS))) if chosen else []
    alerts, alerts_capped = cut(monitor_service.list_alerts(viewer.db, limit=MAX_ALERTS + 1), MAX_ALERTS)
    heatmap = _drift_heatmap(results)
    accuracy = _accuracy_chart(results)
    return page(
        request,
        viewer,
        "monitoring.html",
        monitors=monitors,
        monitors_capped=monitors_capped,
        chosen=chosen,
        results=list(reversed(results)),
        heatmap=heatmap,
        accuracy=accuracy,
        open_alerts=[alert for alert in alerts if alert.state == "open"],
        resolved_alerts=[alert for alert in alerts if alert.state != "open"],
        alerts_capped=alerts_capped,
        most_alerts=MAX_ALERTS,
        charts=heatmap is not None or accuracy is not None,
    )


def _window(result: MonitorResult) -> str:
    return iso(result.window_end or result.created_at)


def _drift_heatmap(results: list[MonitorResult]) -> Markup | None:
    """Features down, windows across; 1 = drifted, 0 = not, blank = no verdict (too few rows)."""
    with_drift = [result for result in results if isinstance(result.result.get("drift"), dict)]
    if not with_drift:
        return None
    features = sorted({f["column"] for r in with_drift for f in r.result["drift"].get("features", [])})
    cells: dict[tuple[str, int], dict[str, Any]] = {}
    for index, result in enumerate(with_drift):
        for feature in result.result["drift"].get("features", []):
            cells[(feature["column"], index)] = feature
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for name in features:
        z.append([])
        text.append([])
        for index in range(len(with_drift)):
            cell = cells.get((name, index))
            drifted = None if cell is None or cell.get("drifted") is None else float(bool(cell["drifted"]))
            z[-1].append(drifted)
            text[-1].append(
                "" if cell is None else f"{cell.get('method')}: {cell.get('statistic')} ({cell.get('verdict')})"
            )
    return chart(
        [
            {
                "type": "heatmap",
                "x": [_window(result) for result in with_drift],
                "y": features,
                "z": z,
                "text": text,
                "hoverinfo": "x+y+text",
                "zmin": 0,
                "zmax": 1,
                "colorscale": [[0, "#dcf3e6"], [1, "#c0322b"]],
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
            }
        ],
        {"margin": {"l": 140, "r": 20, "t": 10, "b": 50}},
        height=80 + 24 * len(features),
    )


def _accuracy_chart(results: list[MonitorResult]) -> Markup | None:
    """Live (labelled) and estimated (CBPE) values of the offline metrics the version was registered with."""
    series: dict[str, tuple[list[str], list[Any]]] = {}
    offline: dict[str, float] = {}
    for result in results:
        performance = result.result.get("performance") or {}
        offline.update(performance.get("offline") or {})
        for kind in ("live", "estimated"):
            metrics = (performance.get(kind) or {}).get("metrics") or {}
            for key, value in metrics.items():
                if value is not None:
                    xs, ys = series.setdefault(f"{kind} {key}", ([], []))
                    xs.append(_window(result))
                    ys.append(value)
    present = {label.split(" ", 1)[1] for label in series}
    wanted = [key for key in _PREFERRED if key in present][:2] or sorted(present)[:1]
    lines: list[dict[str, Any]] = [
        {"x": xs, "y": ys, "mode": "lines+markers", "name": label}
        for label, (xs, ys) in sorted(series.items())
        if label.split(" ", 1)[1] in wanted
    ]
    if not lines:
        return None
    span = [min(x for line in lines for x in line["x"]), max(x for line in lines for x in line["x"])]
    for key in wanted:
        # Offline metrics are logged at training, often with a prefix (``train_roc_auc``).
        for name, value in sorted(offline.items()):
            if name == key or name.endswith(f"_{key}"):
                lines.append(
                    {"x": span, "y": [value] * 2, "mode": "lines", "name": f"offline {name}", "line": {"dash": "dash"}}
                )
    return chart(lines, {"showlegend": True})


@router.get("/pipelines")
def pipelines(request: Request, viewer: Viewer) -> Response:
    runs, capped = cut(pipeline_runs.list_pipeline_runs(viewer.db, limit=MAX_PIPELINE_RUNS + 1), MAX_PIPELINE_RUNS)
    return page(request, viewer, "pipelines.html", runs=runs, capped=capped, most=MAX_PIPELINE_RUNS)


@router.get("/pipelines/runs/{run_id}")
def pipeline_run(request: Request, viewer: Viewer, run_id: str) -> Response:
    run = pipeline_runs.get_pipeline_run(viewer.db, run_id)
    return page(request, viewer, "pipeline_run.html", run=run, dag=_dag(viewer, run))


def _dag(viewer: ViewerSession, run: PipelineRun) -> Markup:
    """The pipeline's declared steps as boxes (a grid step once per candidate run), coloured by state."""
    declared = get_pipeline(viewer.db, run.pipeline).steps
    by_step: dict[str, list[Any]] = {}
    for step in run.steps:
        by_step.setdefault(step.step.split("[", 1)[0], []).append(step)
    nodes: list[Node] = []
    edges: list[tuple[str, str]] = []
    ids: dict[str, list[str]] = {}
    for spec in declared:
        name = spec["name"]
        ran = by_step.get(name) or []
        ids[name] = []
        for step in ran or [None]:
            node_id = step.step if step is not None else name
            state = step.status.value.lower() if step is not None else "pending"
            when = step.duration_ms if step is not None else None
            subtitle = state + ("" if when is None else f" · {when / 1000:.1f} s")
            nodes.append(Node(node_id, node_id, subtitle, state))
            ids[name].append(node_id)
    for spec in declared:
        for source in (spec.get("inputs") or {}).values():
            upstream = str(source).split(".", 1)[0].split("[", 1)[0]
            for a in ids.get(upstream, []):
                for b in ids.get(spec["name"], []):
                    edges.append((a, b))
    return layered_svg(nodes, list(dict.fromkeys(edges)), f"steps of pipeline run {run.id}")


@router.get("/dora")
def dora(request: Request, viewer: Viewer) -> Response:
    report = dora_metrics(viewer.db)
    over_time = None
    if report.window_start is not None and report.changes:
        start, end = report.window_start, report.until
        step = max(1, (end - start) // _BUCKETS)
        edges = [start + i * step for i in range(_BUCKETS)] + [end]
        buckets: list[tuple[int, DoraMetrics]] = []
        for low, high in itertools.pairwise(edges):
            inside = [change for change in report.changes if low <= change.at <= high]
            buckets.append((high, metrics_of(inside, low, high)))
        times = [iso(high) for high, _ in buckets]
        over_time = chart(
            [
                {
                    "x": times,
                    "y": [m.deployment_frequency.count for _, m in buckets],
                    "type": "bar",
                    "name": "deployments",
                },
                {
                    "x": times,
                    "y": [m.change_fail_rate.rate for _, m in buckets],
                    "mode": "lines+markers",
                    "name": "change fail rate",
                    "yaxis": "y2",
                },
            ],
            {"showlegend": True, "yaxis2": {"overlaying": "y", "side": "right", "range": [0, 1]}},
        )
    return page(request, viewer, "dora.html", report=report, over_time=over_time, charts=over_time is not None)
