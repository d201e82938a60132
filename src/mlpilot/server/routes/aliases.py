"""Aliases: moving, deleting and rolling back an alias needs the ``deploy`` scope."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlpilot.registry import ModelVersion
from mlpilot.registry import aliases as alias_service
from mlpilot.server.deps import Deployer, render
from mlpilot.wire.bodies import AliasBody, ReasonBody

router = APIRouter(prefix="/models/{name}", tags=["aliases"])


@router.put("/aliases/{alias}", name="model.alias.set", response_model=ModelVersion)
def set_alias(name: str, alias: str, body: AliasBody, caller: Deployer) -> Response:
    """Point ``alias`` at ``version`` (an event records the previous holder)."""
    moved = alias_service.set_alias(caller.db, name, alias, body.version, actor=caller.actor, reason=body.reason)
    return render(moved)


@router.delete("/aliases/{alias}", name="model.alias.delete", status_code=204)
def delete_alias(name: str, alias: str, caller: Deployer, reason: str | None = None) -> Response:
    alias_service.delete_alias(caller.db, name, alias, actor=caller.actor, reason=reason)
    return Response(status_code=204)


@router.post("/aliases/{alias}/rollback", name="model.alias.rollback", response_model=ModelVersion)
def rollback(name: str, alias: str, body: ReasonBody, caller: Deployer) -> Response:
    """Move ``alias`` back to its previous holder; repeated calls keep stepping back."""
    return render(alias_service.rollback_alias(caller.db, name, alias, actor=caller.actor, reason=body.reason))
