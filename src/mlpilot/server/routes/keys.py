"""API keys and the audit log: ``admin`` only. Secrets are returned once, at creation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from mlpilot.security import ApiKey, AuditEntry
from mlpilot.security import audit as audit_service
from mlpilot.security import keys as key_service
from mlpilot.server.deps import Admin, render
from mlpilot.server.paging import Paging
from mlpilot.wire.bodies import KeyBody
from mlpilot.wire.pages import ApiKeyPage

router = APIRouter(tags=["keys"])


class CreatedKey(BaseModel):
    key: ApiKey
    secret: str


@router.post("/keys", name="key.create", status_code=201, response_model=CreatedKey)
def create_api_key(body: KeyBody, caller: Admin) -> Response:
    key, secret = key_service.create_key(
        caller.db, body.name, body.scopes, actor=caller.actor, actor_key=caller.key.name
    )
    return render({"key": key, "secret": secret}, 201)


@router.get("/keys", response_model=ApiKeyPage)
def list_api_keys(caller: Admin, paging: Paging) -> Response:
    """Revoked keys included, oldest first, one page at a time."""
    page = paging.take(
        lambda limit, after: key_service.list_keys(caller.db, limit=limit, after=after),
        key=lambda key: (key.created_at, key.name),
        kind=tuple[int, str],
    )
    return render(ApiKeyPage.model_construct(keys=page.items, next_page_token=page.next_page_token))


@router.delete("/keys/{name}", name="key.revoke", response_model=ApiKey)
def revoke_api_key(name: str, caller: Admin) -> Response:
    """Revoke by name or prefix; the key stays listed and stops authenticating at once."""
    return render(key_service.revoke_key(caller.db, name, actor=caller.actor, actor_key=caller.key.name))


@router.get("/audit", response_model=list[AuditEntry], tags=["audit"])
def audit_log(
    caller: Admin,
    limit: Annotated[int, Query(ge=1, le=audit_service.MAX_AUDIT_LIMIT)] = 100,
    since: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Epoch ms; entries from then on.")] = None,
) -> Response:
    """The newest entries first: key name, actor, action, target and time (never payloads)."""
    return render(audit_service.list_audit(caller.db, limit, since))
