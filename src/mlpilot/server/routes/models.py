"""Registered models: list, read, describe and tag (their versions are in ``versions``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlpilot.registry import RegisteredModel
from mlpilot.registry import versions as version_service
from mlpilot.server.deps import Reader, Writer, render
from mlpilot.server.paging import Paging
from mlpilot.server.routes.versions import update_model
from mlpilot.wire.bodies import ModelUpdateBody
from mlpilot.wire.pages import ModelPage

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=ModelPage)
def list_registered_models(caller: Reader, paging: Paging) -> Response:
    """By name, one page at a time."""
    page = paging.take(
        lambda limit, after: version_service.list_models(caller.db, limit=limit, after=after),
        key=lambda model: model.name,
        kind=str,
    )
    return render(ModelPage.model_construct(models=page.items, next_page_token=page.next_page_token))


@router.get("/{name}", response_model=RegisteredModel)
def get_registered_model(name: str, caller: Reader) -> Response:
    return render(version_service.get_model(caller.db, name))


@router.patch("/{name}", name="model.update", status_code=204)
def update_registered_model(name: str, body: ModelUpdateBody, caller: Writer) -> Response:
    """Set the description (``null`` clears it) and/or merge tags; fields left out are left alone."""
    update_model(caller, name, body, None)
    return Response(status_code=204)
