"""An address no route answers gets the UI's 404 page when a browser navigates to it; every other
404 (API clients, scripts, static files) keeps the server's JSON body.

Unknown addresses never reach a UI route: the router raises Starlette's ``HTTPException(404)``,
which the server's one handler (``mlpilot.server.errors``) turns into JSON. This module wraps that
handler rather than adding a catch-all route, so a wrong method still gets its 405 and the API's
answers stay exactly as they were. ``mount_ui`` must therefore run after ``install_error_handlers``.

A browser navigation is a GET or HEAD that accepts ``text/html`` (HTTP clients such as curl and
httpx send ``*/*``) for a path outside the API's prefixes. A signed-out browser is sent to sign in,
as every UI page does, so the answer says nothing about what exists to someone without a session.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException

from mlpilot.apidocs import ASSETS
from mlpilot.errors import NotFound
from mlpilot.server.mlflow.mount import MLFLOW_PREFIXES
from mlpilot.server.ui.render import STATIC, error_page, sign_in_redirect
from mlpilot.server.ui.session import optional_viewer
from mlpilot.wire import API_PREFIX

__all__ = ["install_not_found_page", "is_page_request"]


def _segment(prefix: str) -> str:
    return prefix.strip("/").split("/", 1)[0]


# First path segments that belong to machines: the REST API, MLflow's API, the UI's own static
# files and data endpoints, the API docs, and the prediction API (/v1, /v2, /metrics, health).
_NOT_PAGES = frozenset(
    {_segment(prefix) for prefix in (API_PREFIX, *MLFLOW_PREFIXES, ASSETS, STATIC)}
    | {"docs", "openapi.json", "v1", "v2", "metrics", "healthz", "readyz"}
)
_SHOWN_PATH = 200  # characters of an unknown address quoted back on the page


def is_page_request(request: Request) -> bool:
    """Whether a browser is navigating to a page (so a person, not a program, reads the answer)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if "text/html" not in request.headers.get("accept", ""):
        return False
    return _segment(request.url.path) not in _NOT_PAGES


def install_not_found_page(app: FastAPI) -> None:
    """Wrap the app's HTTPException handler: 404s of page requests become the UI's 404 page."""
    json_handler = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code != 404 or not is_page_request(request):
            answer = json_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        viewer = await optional_viewer(request)
        if viewer is None:
            return sign_in_redirect(request)
        path = request.url.path
        shown = path if len(path) <= _SHOWN_PATH else path[:_SHOWN_PATH] + "…"
        missing = NotFound(
            f"there is no page at {shown}",
            hint="Check the address for a typo, or pick a page from the navigation bar above.",
        )
        return error_page(request, viewer, missing)

    app.add_exception_handler(HTTPException, not_found)
