"""Registered models: versions, aliases, the event timeline and the lineage graph of a version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup

from mlpilot.registry import ModelEvent, version_ref
from mlpilot.registry import lineage as lineage_service
from mlpilot.registry import versions as version_service
from mlpilot.registry.events import events_of
from mlpilot.registry.lineage import Lineage
from mlpilot.server.ui.graphs import Node, layered_svg
from mlpilot.server.ui.listing import After, name_page
from mlpilot.server.ui.render import MAX_INT, UiRoute, chart, iso, page, urlpart
from mlpilot.server.ui.session import Viewer

__all__ = ["router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)


@router.get("/models")
def models_list(request: Request, viewer: Viewer, after: After = "") -> Response:
    listing = name_page(version_service.list_models, viewer.db, after)
    return page(request, viewer, "models.html", listing=listing)


@router.get("/models/{name}")
def model_page(
    request: Request, viewer: Viewer, name: str, version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None
) -> Response:
    model = version_service.get_model(viewer.db, name)
    versions = version_service.list_versions(viewer.db, name)
    events = events_of(viewer.db, name)
    chosen = version if version is not None else model.latest_version
    graph = None
    if chosen is not None:
        graph = lineage_graph(lineage_service.lineage(viewer.db, version_ref(name, str(chosen))))
    timeline = None
    if events:
        actions = sorted({event.action for event in events})
        timeline = chart(
            [
                {
                    "x": [iso(event.created_at) for event in events if event.action == action],
                    "y": [action] * sum(1 for event in events if event.action == action),
                    "text": [_describe(event) for event in events if event.action == action],
                    "mode": "markers",
                    "marker": {"size": 11},
                    "name": action,
                    "hoverinfo": "text+x",
                }
                for action in actions
            ],
            {"showlegend": False, "yaxis": {"type": "category"}, "margin": {"l": 120, "r": 20, "t": 10, "b": 40}},
            height=90 + 28 * len(actions),
        )
    return page(
        request,
        viewer,
        "model.html",
        model=model,
        versions=list(reversed(versions)),
        events=list(reversed(events)),
        chosen=chosen,
        graph=graph,
        timeline=timeline,
        charts=timeline is not None,
    )


def lineage_graph(found: Lineage) -> Markup:
    version, run = found.version, found.run
    nodes = [Node(f"v{version.version}", f"{version.name} v{version.version}", version.flavor, "model")]
    nodes.append(Node(run.id, f"run {run.name}", run.experiment_name, "run", f"/runs/{run.id}"))
    edges = [(run.id, nodes[0].id)]
    for item in run.inputs:
        node_id = f"d:{item.dataset}:{item.version}"
        nodes.append(
            Node(node_id, f"{item.dataset} v{item.version}", item.role, "dataset", f"/datasets/{urlpart(item.dataset)}")
        )
        edges.append((node_id, run.id))
    if run.git_commit:
        commit = Node("commit", f"commit {run.git_commit[:10]}", "dirty tree" if run.git_dirty else "clean", "commit")
        nodes.append(commit)
        edges.append(("commit", run.id))
    # Drawn right to left in time: sources (commit, data) first.
    return layered_svg(list(reversed(nodes)), edges, f"lineage of {version.name} v{version.version}")


def _describe(event: ModelEvent) -> str:
    parts = [getattr(event, "action", "")]
    for field in ("version", "alias", "from_version", "actor", "reason"):
        value = getattr(event, field, None)
        if value is not None:
            parts.append(f"{field}={value}")
    return " ".join(str(part) for part in parts)
