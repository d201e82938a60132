"""Starting the server: the first-start admin key, then uvicorn with one or more workers."""

from __future__ import annotations

from mlpilot.config import Settings
from mlpilot.security.keys import ensure_bootstrap_key
from mlpilot.server.app import create_app
from mlpilot.serving.run import run_workers
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
    """Serve until interrupted (the platform API and every stored deployment's prediction API)."""
    run_workers(
        settings,
        lambda: create_app(settings),
        "mlpilot.server.app:create_app",
        host=settings.server_host,
        port=settings.server_port,
        workers=settings.server_workers,
        access_log=access_log,
    )
