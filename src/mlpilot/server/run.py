"""Starting the server: the first-start admin key, then uvicorn with one or more workers."""

from __future__ import annotations

import os

import uvicorn

from mlpilot.config import Settings
from mlpilot.security.keys import ensure_bootstrap_key
from mlpilot.server.app import create_app
from mlpilot.serving.run import shared_metrics
from mlpilot.store import Database, ensure_schema

__all__ = ["bootstrap", "serve"]


def bootstrap(settings: Settings) -> str | None:
    """Migrate the store; on a store with no API keys, create the admin key and return its secret."""
    db = Database(settings.resolved_tracking_uri(), busy_timeout=settings.sqlite_busy_timeout)
    try:
        ensure_schema(db)
        return ensure_bootstrap_key(db, actor="mlpilot server")
    finally:
        db.dispose()


def serve(settings: Settings, *, access_log: bool = False) -> None:
    """Serve until interrupted. Several workers are separate processes that each build the app from
    Settings, so the resolved settings are handed to them as ``MLPILOT_*`` variables."""
    common = {
        "host": settings.server_host,
        "port": settings.server_port,
        "access_log": access_log,
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
    }
    if settings.server_workers == 1:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return
    os.environ.update(settings.as_environment())
    with shared_metrics():  # the prediction API's /metrics adds up every worker
        uvicorn.run("mlpilot.server.app:create_app", factory=True, workers=settings.server_workers, **common)  # type: ignore[arg-type]
