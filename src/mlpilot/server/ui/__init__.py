"""The web UI: server-rendered pages over the same services as the REST API, at ``/``.

Sign-in is by API key (``session``); every page reads through the services the ``/api/v1``
routes use; charts are drawn by plotly.js from the installed plotly wheel. See docs/ui.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from mlpilot.server.ui import assets, datasets, deployments, experiments, models, operations, runs, signin
from mlpilot.server.ui.not_found import install_not_found_page

__all__ = ["mount_ui"]


def mount_ui(app: FastAPI) -> None:
    """Add the UI's routes to the platform server (after the API's, so those win any tie), and its
    404 page for unknown addresses (after the server's error handlers, which it wraps)."""
    signin.install_sign_in_limiter(app)
    install_not_found_page(app)
    for module in (signin, assets, runs, experiments, datasets, models, deployments, operations):
        app.include_router(module.router)
