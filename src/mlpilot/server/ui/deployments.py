"""Deployments: traffic split, request rate, latency, error rate and canary status; promote,
roll back and set the canary's weight (the ``deploy`` scope and a CSRF token, see ``session``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from mlpilot import deployments as deployment_service
from mlpilot.deployments import Deployment, DeploymentEvent
from mlpilot.deployments.request_counts import MINUTE_MS, read_request_counts, request_series
from mlpilot.errors import InvalidInput, MlpilotError
from mlpilot.monitoring import monitors as monitor_service
from mlpilot.server.ui.listing import After, cut, name_page
from mlpilot.server.ui.render import UiRoute, chart, iso, json_response, page
from mlpilot.server.ui.session import Actor, DataViewer, Viewer, form_of
from mlpilot.store import Database
from mlpilot.store.clock import now_ms

__all__ = ["MAX_EVENTS", "router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)

_HOUR = 3_600_000
_RATE_WINDOW = 5 * MINUTE_MS
_LATENCY_RESULTS = 48
MAX_EVENTS = 50


@router.get("/deployments")
def deployments_list(request: Request, viewer: Viewer, after: After = "") -> Response:
    listing = name_page(deployment_service.list_deployments, viewer.db, after)
    now = now_ms()
    rows = [_summary(viewer.db, item, now) for item in listing.items]
    return page(request, viewer, "deployments.html", rows=rows, listing=listing)


def _summary(db: Database, deployment: Deployment, now: int) -> dict[str, Any]:
    try:
        traffic: Any = deployment_service.resolve_traffic(db, deployment.name)
    except MlpilotError as problem:  # an alias deleted under it: show why instead of failing the page
        traffic = problem.message
    counts = read_request_counts(db, deployment.name, now - _RATE_WINDOW, now + MINUTE_MS)
    return {
        "deployment": deployment,
        "traffic": traffic,
        "rate": counts.requests / (_RATE_WINDOW / 60_000),
        "error_rate": counts.error_rate,
        "latency": _latest_latency(db, deployment.name),
    }


def _latency_points(db: Database, name: str, limit: int) -> list[tuple[int, dict[str, Any]]]:
    points: list[tuple[int, dict[str, Any]]] = []
    for monitor in monitor_service.list_monitors(db, deployment=name, limit=20):
        for result in monitor_service.list_results(db, monitor.name, limit=limit):
            latency = result.result.get("latency_ms")
            if isinstance(latency, dict):
                points.append((result.window_end or result.created_at, latency))
    return sorted(points, key=lambda point: point[0])


def _latest_latency(db: Database, name: str) -> dict[str, Any] | None:
    points = _latency_points(db, name, 1)
    return points[-1][1] if points else None


@router.get("/deployments/{name}")
def deployment_page(request: Request, viewer: Viewer, name: str) -> Response:
    deployment = deployment_service.get_deployment(viewer.db, name)
    now = now_ms()
    summary = _summary(viewer.db, deployment, now)
    series = request_series(viewer.db, name, now - 6 * _HOUR, now + MINUTE_MS)
    charts = []
    if series:
        minutes = [iso(minute) for minute, _ in series]
        charts.append(
            (
                "Requests per minute",
                chart(
                    [
                        {"x": minutes, "y": [c.requests for _, c in series], "type": "bar", "name": "requests"},
                        {
                            "x": minutes,
                            "y": [c.error_rate for _, c in series],
                            "yaxis": "y2",
                            "mode": "lines",
                            "name": "error rate",
                        },
                    ],
                    {"yaxis2": {"overlaying": "y", "side": "right", "rangemode": "tozero"}, "showlegend": True},
                ),
            )
        )
    latency = _latency_points(viewer.db, name, _LATENCY_RESULTS)
    if latency:
        times = [iso(when) for when, _ in latency]
        charts.append(
            (
                "Latency (ms) per monitor window",
                chart(
                    [
                        {"x": times, "y": [point.get(q) for _, point in latency], "mode": "lines+markers", "name": q}
                        for q in ("p50", "p99")
                    ],
                    {"showlegend": True},
                ),
            )
        )
    events, events_capped = cut(deployment_service.deployment_events(viewer.db, name, limit=MAX_EVENTS + 1), MAX_EVENTS)
    return page(
        request,
        viewer,
        "deployment.html",
        deployment=deployment,
        summary=summary,
        charts=charts,
        events=events,
        events_capped=events_capped,
        most_events=MAX_EVENTS,
        canary=_canary_status(events),
    )


def _canary_status(events: list[DeploymentEvent]) -> dict[str, Any] | None:
    """The newest canary verdict in the deployment's events (newest first), if any."""
    for event in events:
        context = (event.details or {}).get("context") or {}
        verdict = context.get("canary_verdict") if isinstance(context, dict) else None
        if isinstance(verdict, dict):
            return {"when": event.created_at, "action": event.action, **verdict}
    return None


@router.get("/ui/data/deployments/{name}/rate")
def live_rate(viewer: DataViewer, name: str) -> Response:
    """Polled by the deployment page every few seconds: the request rate and error rate now."""
    deployment_service.get_deployment(viewer.db, name)
    now = now_ms()
    counts = read_request_counts(viewer.db, name, now - _RATE_WINDOW, now + MINUTE_MS)
    return json_response({"rate": counts.requests / (_RATE_WINDOW / 60_000), "error_rate": counts.error_rate})


@router.post("/deployments/{name}/rollback")
def rollback(actor: Actor, name: str) -> Response:
    deployment_service.rollback_deployment(actor.db, name, actor=actor.actor)
    return RedirectResponse(f"/deployments/{name}", status_code=303)


@router.post("/deployments/{name}/promote")
def promote(actor: Actor, name: str) -> Response:
    deployment_service.promote_deployment(actor.db, name, actor=actor.actor)
    return RedirectResponse(f"/deployments/{name}", status_code=303)


@router.post("/deployments/{name}/traffic")
async def set_traffic(request: Request, actor: Actor, name: str) -> Response:
    form = await form_of(request)
    try:
        weight = float(form.get("weight", ""))
    except ValueError:
        raise InvalidInput("the canary weight must be a number between 0 and 1") from None
    traffic = deployment_service.resolve_traffic(actor.db, name)
    if traffic.canary is None:
        raise InvalidInput(f"deployment {name!r} has no canary to weigh", hint="Start a canary first.")
    deployment = deployment_service.get_deployment(actor.db, name)
    assert deployment.canary is not None
    deployment_service.update_deployment(actor.db, name, canary=(deployment.canary.target, weight), actor=actor.actor)
    return RedirectResponse(f"/deployments/{name}", status_code=303)
