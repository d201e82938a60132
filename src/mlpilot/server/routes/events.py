"""The event log of a registered model: every registration, alias move, rollback and change."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlpilot.registry import ModelEvent
from mlpilot.registry.events import events_of
from mlpilot.server.deps import Reader, render

router = APIRouter(prefix="/models/{name}", tags=["events"])


@router.get("/events", response_model=list[ModelEvent])
def model_events(name: str, caller: Reader) -> Response:
    """Every registration, alias move, rollback, archive, description and tag change, oldest first."""
    return render(events_of(caller.db, name))
