"""Metric points: appended in batches (what the remote client's buffer sends), and history."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlpilot.server.deps import Reader, Writer, render
from mlpilot.store.clock import now_ms
from mlpilot.tracking import metrics as metric_service
from mlpilot.tracking.records import Metric
from mlpilot.wire.bodies import MetricsBody, points_of

router = APIRouter(prefix="/runs/{run_id}/metrics", tags=["metrics"])


@router.post("", name="run.log_metrics", status_code=204)
def log_metrics(run_id: str, body: MetricsBody, caller: Writer) -> Response:
    """Append points to a RUNNING run; points without a timestamp get the server's clock."""
    metric_service.write_points(caller.db, points_of(run_id, body.metrics, now_ms()))
    return Response(status_code=204)


@router.get("", response_model=list[Metric])
def get_metric_history(run_id: str, key: str, caller: Reader) -> Response:
    """Every point of metric ``key``, by step then time."""
    return render(metric_service.get_metric_history(caller.db, run_id, key))
