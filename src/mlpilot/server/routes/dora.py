"""DORA metrics (``GET /api/v1/dora``) from the platform's own events; reading needs ``read``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mlpilot.ops.dora import dora_metrics
from mlpilot.ops.instants import parse_instant
from mlpilot.server.deps import Reader, render
from mlpilot.store.clock import now_ms
from mlpilot.wire.dora import DoraReportView

router = APIRouter(tags=["dora"])

_WHEN = "A duration before now (30d, 12h, 2w, 90min), an ISO date or time (UTC without an offset), or epoch ms."


@router.get("/dora", response_model=DoraReportView, summary="DORA metrics")
def dora(
    caller: Reader,
    since: Annotated[
        str | None, Query(description=f"The window's start. {_WHEN} Default: the first deployment.")
    ] = None,
    until: Annotated[str | None, Query(description=f"The window's end. {_WHEN} Default: now.")] = None,
    deployment: Annotated[str | None, Query(description="Only this deployment.")] = None,
) -> Response:
    """Deployment frequency, change lead time, change fail rate, failed deployment recovery time
    and deployment rework rate, each with its DORA 2024 band, overall and per deployment."""
    now = now_ms()
    start = parse_instant(since, now=now, name="since") if since is not None else None
    end = parse_instant(until, now=now, name="until") if until is not None else None
    report = dora_metrics(caller.db, since=start, until=end, deployment=deployment, now=now)
    return render(report.to_dict())
