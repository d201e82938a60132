"""Who may call a route: an API key with the route's scope, checked on every request.

``authorize(scope)`` is the one dependency every route but the health checks declares. It verifies
the key (constant-time hash comparison, revocation honoured at once), spends a rate-limit token,
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

from mlpilot.artifacts import ContentStore
from mlpilot.config import Settings
from mlpilot.security import ApiKey, Scope
from mlpilot.security import audit as audit_service
from mlpilot.security.keys import verify_key
from mlpilot.server.state import ServerState, state_of
from mlpilot.store import Database

__all__ = ["Caller", "authorize"]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
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


def authorize(scope: Scope, *, audited: bool = True) -> Callable[..., AsyncIterator[Caller]]:
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
        # async, with the one database call in the thread pool: a sync generator dependency would
        # cost a thread-pool round trip on the way in and another on the way out of every request.
        presented = credentials.credentials if credentials is not None else None
        key = await run_in_threadpool(verify_key, state.db, presented, scope)
        state.limiter.take(key.name)
        db = state.db
        record: Callable[[Database | Connection], None] | None = None
        if audited and scope is not Scope.READ:
            route: Any = request.scope.get("route")
            record = functools.partial(
                _record,
                key=key,
                action=getattr(route, "name", "api.write"),
                target=request.url.path.removeprefix("/api/v1"),
            )
            db = db.before_next_commit(record)
        yield Caller(key, db, state.content, state.settings)
        if record is not None and db.hook_pending:
            # The route wrote nothing to the database (or only blobs): audit alone.
            await run_in_threadpool(record, state.db)

    return dependency


def _record(target_db: Database | Connection, *, key: ApiKey, action: str, target: str) -> None:
    audit_service.record(target_db, key_name=key.name, actor=f"key:{key.name}", action=action, target=target)
