"""Annotated dependencies routes declare: the shared state and the caller's key per scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from mlpilot.security import Scope
from mlpilot.server.auth import Caller, authorize
from mlpilot.server.state import ServerState, state_of
from mlpilot.wire import encode

__all__ = ["Admin", "Caller", "Deployer", "Reader", "State", "Writer", "render"]

State = Annotated[ServerState, Depends(state_of)]
Reader = Annotated[Caller, Depends(authorize(Scope.READ))]
Writer = Annotated[Caller, Depends(authorize(Scope.WRITE))]
Deployer = Annotated[Caller, Depends(authorize(Scope.DEPLOY))]
# Key operations write their own audit entries, in the transaction that changes the key.
Admin = Annotated[Caller, Depends(authorize(Scope.ADMIN, audited=False))]


def render(value: object, status_code: int = 200) -> Response:
    """A record (or list of records) as JSON; routes declare its schema with ``response_model``."""
    return Response(encode(value), status_code=status_code, media_type="application/json")
