"""Experiments: each with its number of runs and its newest run, linking to its runs table."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mlpilot.server.ui.listing import cut
from mlpilot.server.ui.render import UiRoute, page
from mlpilot.server.ui.session import Viewer
from mlpilot.tracking import experiments as experiment_service

__all__ = ["MAX_EXPERIMENTS", "router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)

MAX_EXPERIMENTS = 1000


@router.get("/experiments")
def experiments_list(request: Request, viewer: Viewer) -> Response:
    experiments, capped = cut(
        experiment_service.list_experiments(viewer.db, limit=MAX_EXPERIMENTS + 1), MAX_EXPERIMENTS
    )
    counts = experiment_service.run_counts(viewer.db)
    rows = [(item, *counts.get(item.id, (0, None))) for item in experiments]
    # Where the work is happening first: the experiment with the newest run at the top.
    rows.sort(key=lambda row: (row[2] is not None, row[2] or row[0].created_at), reverse=True)
    return page(request, viewer, "experiments.html", rows=rows, capped=capped)
