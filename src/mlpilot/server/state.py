"""What every request handler shares: settings, the database, the artifact store, the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from mlpilot.artifacts import ContentStore, open_backend
from mlpilot.config import Settings
from mlpilot.server.limits import RateLimiter
from mlpilot.store import Database, ensure_schema

__all__ = ["ServerState", "open_state", "state_of"]


@dataclass
class ServerState:
    settings: Settings
    db: Database
    content: ContentStore
    limiter: RateLimiter

    def close(self) -> None:
        self.db.dispose()


def open_state(settings: Settings) -> ServerState:
    db = Database(settings.resolved_tracking_uri(), busy_timeout=settings.sqlite_busy_timeout)
    ensure_schema(db)
    return ServerState(
        settings=settings,
        db=db,
        content=ContentStore(open_backend(settings.resolved_artifact_uri())),
        limiter=RateLimiter(settings.server_rate_limit, settings.server_rate_burst),
    )


async def state_of(request: Request) -> ServerState:
    # async: a plain attribute read, which FastAPI would otherwise send to the thread pool.
    state: ServerState = request.app.state.mlpilot
    return state
