"""Starting ``mlpilot serve``: uvicorn with one or more worker processes.

Several workers are separate processes that each build the app from Settings, so the resolved
settings reach them as ``MLPILOT_*`` variables, and their Prometheus samples meet in one folder
(``PROMETHEUS_MULTIPROC_DIR``, see ``shared_metrics``) that ``/metrics`` on any worker reads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from mlpilot.config import Settings
from mlpilot.serving.app import create_serving_app

__all__ = ["run_workers", "serve", "shared_metrics"]


def serve(settings: Settings, *, access_log: bool = False) -> None:
    run_workers(
        settings,
        lambda: create_serving_app(settings),
        "mlpilot.serving.app:create_serving_app",
        host=settings.serve_host,
        port=settings.serve_port,
        workers=settings.serve_workers,
        access_log=access_log,
    )


def run_workers(
    settings: Settings,
    build: Callable[[], Any],
    factory: str,
    *,
    host: str,
    port: int,
    workers: int,
    access_log: bool,
) -> None:
    """Serve until interrupted: one worker in this process (``build()``), or ``workers``
    processes that each call ``factory`` (``module:function``) with the settings handed over as
    ``MLPILOT_*`` variables, their metrics summed through a shared folder."""
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": access_log,
        "log_level": "info",
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # Queued predictions finish and the prediction log is flushed before a worker exits.
        "timeout_graceful_shutdown": 30,
    }
    if workers == 1:
        uvicorn.run(build(), **common)
        return
    os.environ.update(settings.as_environment())
    with shared_metrics():
        uvicorn.run(factory, factory=True, workers=workers, **common)


@contextmanager
def shared_metrics() -> Iterator[str]:
    """A folder where worker processes started inside the block write their Prometheus samples.

    Set before the workers start because prometheus_client picks its storage when imported."""
    directory = tempfile.mkdtemp(prefix="mlpilot-metrics-")
    previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        else:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = previous
        shutil.rmtree(directory, ignore_errors=True)
