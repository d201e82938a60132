"""Datasets: versions, schema, profile charts, and the diff of two versions."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup

from mlpilot.data import versions as dataset_service
from mlpilot.server.ui.listing import After, name_page
from mlpilot.server.ui.render import MAX_INT, UiRoute, chart, page
from mlpilot.server.ui.session import Viewer

__all__ = ["router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)

_MAX_CHARTS = 24


@router.get("/datasets")
def datasets_list(request: Request, viewer: Viewer, after: After = "") -> Response:
    listing = name_page(dataset_service.list_datasets, viewer.db, after)
    return page(request, viewer, "datasets.html", listing=listing)


@router.get("/datasets/{name:path}")  # a dataset name may hold '/'
def dataset_page(
    request: Request,
    viewer: Viewer,
    name: str,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    a: str = "",
    b: str = "",
) -> Response:
    versions = dataset_service.list_versions(viewer.db, name)
    chosen = dataset_service.get_version(viewer.db, name, version)
    if not (a or b) and len(versions) > 1:  # by default, what the newest version changed
        a, b = str(versions[-2].version), str(versions[-1].version)
    diff = dataset_service.diff_versions(viewer.db, f"{name}:{a}", f"{name}:{b}") if a and b else None
    fields: dict[str, Any] = chosen.profile.get("fields") or {}
    charts = [(column, _profile_chart(stats)) for column, stats in list(fields.items())[:_MAX_CHARTS]]
    return page(
        request,
        viewer,
        "dataset.html",
        name=name,
        versions=list(reversed(versions)),
        chosen=chosen,
        charts=[(column, figure) for column, figure in charts if figure is not None],
        fields=fields,
        diff=diff,
        a=a,
        b=b,
    )


def _profile_chart(stats: dict[str, Any]) -> Markup | None:
    histogram = stats.get("histogram") or {}
    if histogram.get("edges") and histogram.get("counts"):
        edges, counts = histogram["edges"], histogram["counts"]
        centres = [(low + high) / 2 for low, high in itertools.pairwise(edges)]
        return chart([{"x": centres, "y": counts, "type": "bar", "marker": {"color": "#2456d6"}}], height=170)
    top = stats.get("top") or []
    if top:
        return chart(
            [
                {
                    "x": [str(item["value"]) for item in top],
                    "y": [item["count"] for item in top],
                    "type": "bar",
                    "marker": {"color": "#1a7f4b"},
                }
            ],
            height=170,
        )
    return None
