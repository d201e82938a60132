"""API keys and the audit log: ``admin`` only. Secrets are returned once, at creation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from mlpilot.security import ApiKey, AuditEntry
from mlpilot.security import audit as audit_service
from mlpilot.security import keys as key_service
from mlpilot.server.auth import actor_of
from mlpilot.server.deps import Admin, State, render
from mlpilot.wire.bodies import KeyBody

router = APIRouter(tags=["keys"])


class CreatedKey(BaseModel):
    key: ApiKey
    secret: str


@router.post("/keys", name="key.create", status_code=201, response_model=CreatedKey)
def create_api_key(body: KeyBody, state: State, caller: Admin) -> Response:
    key, secret = key_service.create_key(
        state.db, body.name, body.scopes, actor=actor_of(caller), actor_key=caller.name
    )
    return render({"key": key, "secret": secret}, 201)


@router.get("/keys", response_model=list[ApiKey])
def list_api_keys(state: State, caller: Admin) -> Response:
    return render(key_service.list_keys(state.db))


@router.delete("/keys/{name}", name="key.revoke", response_model=ApiKey)
def revoke_api_key(name: str, state: State, caller: Admin) -> Response:
    """Revoke by name or prefix; the key stays listed and stops authenticating at once."""
    return render(key_service.revoke_key(state.db, name, actor=actor_of(caller), actor_key=caller.name))


@router.get("/audit", response_model=list[AuditEntry], tags=["audit"])
def audit_log(
    state: State,
    caller: Admin,
    limit: Annotated[int, Query(ge=1, le=audit_service.MAX_AUDIT_LIMIT)] = 100,
    since: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Epoch ms; entries from then on.")] = None,
) -> Response:
    """The newest entries first: key name, actor, action, target and time (never payloads)."""
    return render(audit_service.list_audit(state.db, limit, since))
