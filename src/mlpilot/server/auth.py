"""Who may call a route: an API key with the route's scope, checked on every request.

``authorize(scope)`` is the one dependency every route but the health checks declares. It verifies
the key (constant-time hash comparison, revocation honoured at once), spends a rate-limit token,
and, for routes that change something, appends an audit entry once the handler has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mlpilot.security import ApiKey, Scope
from mlpilot.security import audit as audit_service
from mlpilot.security.keys import verify_key
from mlpilot.server.state import ServerState, state_of

__all__ = ["Caller", "actor_of", "authorize"]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An mlpilot API key: `Authorization: Bearer mlp_…` (create one with `mlpilot keys create`).",
)


def actor_of(key: ApiKey) -> str:
    """How a request's author appears in events and the audit log."""
    return f"key:{key.name}"


def authorize(scope: Scope, *, audited: bool = True) -> Callable[..., Iterator[ApiKey]]:
    """A dependency yielding the caller's key if it holds ``scope``; 401/403/429 otherwise.

    Writes (every scope but read) are audited after the handler returns without error, named by
    the route (``run.create``) and targeting the request path; never the payload. Routes whose
    service writes its own audit entry in the same transaction pass ``audited=False``.
    """

    def dependency(
        request: Request,
        state: Annotated[ServerState, Depends(state_of)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Iterator[ApiKey]:
        key = verify_key(state.db, credentials.credentials if credentials is not None else None, scope)
        state.limiter.take(key.name)
        request.state.api_key = key
        yield key
        if audited and scope is not Scope.READ:
            route: Any = request.scope.get("route")
            audit_service.record(
                state.db,
                key_name=key.name,
                actor=actor_of(key),
                action=getattr(route, "name", "api.write"),
                target=request.url.path.removeprefix("/api/v1"),
            )

    return dependency


Caller = Annotated[ApiKey, Depends(authorize(Scope.READ))]
