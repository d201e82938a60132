"""The platform server on 127.0.0.1 for the length of one local task.

``mlpilot run`` uses it for an MLproject on a local store: the project's own ``mlflow`` calls need
an HTTP tracking server, and this one writes to the same store, through a key that exists only
while the project runs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mlpilot.config import Settings
from mlpilot.errors import MlpilotError
from mlpilot.security import Scope
from mlpilot.security.temporary import temporary_key
from mlpilot.store import Database, ensure_schema

__all__ = ["local_server"]

_STARTUP_SECONDS = 60.0


@contextmanager
def local_server(settings: Settings, *, purpose: str = "local-task") -> Iterator[tuple[str, str]]:
    """Yield ``(url, key)`` of a server on 127.0.0.1 and a free port, with a read,write key."""
    import uvicorn

    from mlpilot.server.app import create_app

    # No schedulers (monitors and triggers belong to a real server) and no rate limit (one caller).
    quiet = settings.model_copy(update={"monitor_tick_seconds": 0, "pipeline_tick_seconds": 0, "server_rate_limit": 0})
    db = Database(quiet.resolved_tracking_uri(), busy_timeout=quiet.sqlite_busy_timeout)
    try:
        ensure_schema(db)
        with temporary_key(db, purpose, [Scope.READ, Scope.WRITE], actor="mlpilot run") as key:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            port = listener.getsockname()[1]
            config = uvicorn.Config(create_app(quiet), log_level="warning", access_log=False, lifespan="on")
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
            thread.start()
            try:
                deadline = time.monotonic() + _STARTUP_SECONDS
                while not server.started:
                    if not thread.is_alive() or time.monotonic() > deadline:
                        raise MlpilotError("the local mlpilot server did not start")
                    time.sleep(0.01)
                yield f"http://127.0.0.1:{port}", key
            finally:
                server.should_exit = True
                thread.join(timeout=30)
                listener.close()
    finally:
        db.dispose()
