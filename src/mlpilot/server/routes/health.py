"""Liveness and readiness: the only routes that need no key."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Response

from mlpilot.errors import MlpilotError, StoreUnavailable
from mlpilot.server.deps import State, render
from mlpilot.server.errors import ERROR_RESPONSES, error_body

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> Response:
    return render({"status": "ok"})


@router.get("/readyz", summary="The database answers", responses={503: ERROR_RESPONSES[503]})
def readyz(state: State) -> Response:
    try:
        with state.db.read() as conn:
            conn.execute(sa.text("SELECT 1"))
    except (MlpilotError, sa.exc.SQLAlchemyError):
        body = error_body(StoreUnavailable.code, "the database is not reachable", StoreUnavailable.default_hint)
        return Response(body, status_code=503, media_type="application/json")
    return render({"status": "ready"})
