"""Who may call a route: an API key with the route's scope, checked on every request.

Two steps. ``Authenticate``, a middleware, verifies the key of every ``/api/v1`` request and of
every request to MLflow's API (``mlpilot.server.mlflow``): constant-time hash comparison,
revocation honoured at once. It also spends a rate-limit token before
anything reads the body, so an unauthenticated or throttled caller learns nothing from validation
errors. ``authorize(scope)``, the dependency every API route declares, then checks the route's scope
and hands the route a ``Caller``: the key plus the stores to work on. For a route that changes
something, the caller's database commits an audit entry inside the route's first write
transaction, so the change and its record of who made it commit together or not at all.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mlpilot.artifacts import ContentStore
from mlpilot.config import Settings
from mlpilot.errors import RateLimited, Unauthorized
from mlpilot.security import ApiKey
from mlpilot.security import Scope as KeyScope
from mlpilot.security import audit as audit_service
from mlpilot.security.keys import authenticate, require_scope
from mlpilot.server.audit_scope import audit_name, failed
from mlpilot.server.errors import error_response
from mlpilot.server.mlflow.errors import mlflow_error_response
from mlpilot.server.state import ServerState, state_of
from mlpilot.store import Database
from mlpilot.wire import API_PREFIX

__all__ = ["API_KEY_SCHEME", "Authenticate", "Caller", "authorize"]

# The name of the bearer scheme in the OpenAPI document.
API_KEY_SCHEME = "ApiKey"
_KEY_STATE = "api_key"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name=API_KEY_SCHEME,
    description="An mlpilot API key: `Authorization: Bearer mlp_…` (create one with `mlpilot keys create`).",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authorized request: its key, and the stores its route works on."""

    key: ApiKey
    db: Database
    content: ContentStore
    settings: Settings

    @property
    def actor(self) -> str:
        """How the caller appears in model events and the audit log."""
        return f"key:{self.key.name}"


def authorize(scope: KeyScope, *, audited: bool = True) -> Callable[..., AsyncIterator[Caller]]:
    """A dependency yielding the ``Caller`` if its key holds ``scope``; 401/403/429 otherwise.

    Writes (every scope but read) are audited, named by the route (``run.create``) and targeting
    the request path, never the payload; a failed write leaves no entry. Routes whose service
    audits itself (key management) pass ``audited=False``.
    """

    async def dependency(
        request: Request,
        state: Annotated[ServerState, Depends(state_of)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> AsyncIterator[Caller]:
        # ``credentials`` is declared so the OpenAPI document states the scheme; Authenticate has
        # already verified the key it carries.
        key: ApiKey = getattr(request.state, _KEY_STATE)
        require_scope(key, scope)
        db = state.db
        record: Callable[[Database | Connection], None] | None = None
        if audited and scope is not KeyScope.READ:
            route: Any = request.scope.get("route")
            record = functools.partial(
                _record,
                key=key,
                scope=request.scope,
                action=getattr(route, "name", "api.write"),
                target=request.url.path.removeprefix(API_PREFIX),
            )
            db = db.before_next_commit(record)
        yield Caller(key, db, state.content, state.settings)
        if record is not None and db.hook_pending and not failed(request.scope):
            # The route wrote nothing to the database (or only blobs): audit alone.
            await run_in_threadpool(record, state.db)

    return dependency


def _record(target_db: Database | Connection, *, key: ApiKey, scope: Scope, action: str, target: str) -> None:
    # Read when the entry is written, not when the request arrived: the route may have renamed it.
    action, target = audit_name(scope, action, target)
    audit_service.record(target_db, key_name=key.name, actor=f"key:{key.name}", action=action, target=target)


class Authenticate:
    """ASGI middleware: 401 (or 429) for a request under ``prefix`` without a valid key, before the
    body is read. Nothing there is exempt, the OpenAPI document included (any scope may read it):
    only the health checks and the data-free /docs page and its static files live outside."""

    def __init__(self, app: ASGIApp, *, state: ServerState, prefix: str, mlflow_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.state = state
        self.prefix = prefix
        # MLflow's API (MLFLOW_TRACKING_TOKEN arrives as a bearer key): refusals in MLflow's shape.
        self.mlflow_prefixes = mlflow_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        mlflow = bool(self.mlflow_prefixes) and path.startswith(self.mlflow_prefixes)
        if scope["type"] != "http" or not (mlflow or path.startswith(self.prefix)):
            await self.app(scope, receive, send)
            return
        try:
            key = await run_in_threadpool(authenticate, self.state.db, _bearer_token(scope))
            self.state.limiter.take(key.name)
        except (Unauthorized, RateLimited) as refused:
            respond = mlflow_error_response if mlflow else error_response
            await respond(refused)(scope, receive, send)
            return
        scope.setdefault("state", {})[_KEY_STATE] = key
        await self.app(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    header = Headers(scope=scope).get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token if scheme.lower() == "bearer" else None
