"""Templates, charts and errors shared by every page.

Charts are plotly figures described as JSON in a ``data-figure`` attribute; ``ui.js`` draws them
with the plotly.js of the installed plotly wheel, so no page fetches anything from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Mapping, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from markupsafe import Markup
from sqlalchemy.exc import DataError

from mlpilot.errors import InvalidInput, MlpilotError, RateLimited, Unauthorized
from mlpilot.server.errors import error_response
from mlpilot.server.ui.session import SignInNeeded, ViewerSession, optional_viewer

__all__ = [
    "MAX_INT",
    "PLOTLY_URL",
    "STATIC",
    "UiRoute",
    "bad_query",
    "chart",
    "error_page",
    "iso",
    "json_response",
    "page",
    "render_error",
    "sign_in_redirect",
]

STATIC = "/ui/static"
MAX_INT = 2**31 - 1  # the widest version number the store's columns hold
PLOTLY_URL = f"{STATIC}/plotly-{metadata.version('plotly')}.min.js"

_HERE = Path(str(resources.files("mlpilot.server.ui")))
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Scripts from this server only; plotly sets inline styles on the elements it draws.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def iso(ms: int) -> str:
    """An epoch-ms instant as ISO 8601 in UTC, the form plotly reads as a date."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


def _when(value: int | None) -> str:
    if value is None:
        return "—"
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(value: float | None) -> str:
    if value is None:
        return "—"
    seconds = value / 1000
    if seconds < 1:
        return f"{value:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 10_000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def urlpart(name: str) -> str:
    """A name as one segment of a path: dataset names may hold '/', '?', '#' or '%'."""
    return urllib.parse.quote(str(name), safe="")


_env.filters.update(when=_when, duration=_duration, num=_number, urlpart=urlpart)
_env.globals["plotly_url"] = PLOTLY_URL


def page(request: Request, viewer: ViewerSession | None, template: str, status: int = 200, **context: Any) -> Response:
    """A page of the UI: the template within the shared layout, with the viewer's CSRF token."""
    html = _env.get_template(template).render(request=request, viewer=viewer, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def chart(data: Sequence[Mapping[str, Any]], layout: Mapping[str, Any] | None = None, height: int = 280) -> Markup:
    """A plotly figure as a div that ui.js draws."""
    figure = {
        "data": list(data),
        "layout": {
            "height": height,
            "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
            "font": {"family": "system-ui, sans-serif", "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            **(layout or {}),
        },
    }
    text = json.dumps(figure, allow_nan=False, default=str)
    return Markup('<div class="chart" data-figure="{}"></div>').format(text)


# What to write instead of a query value a page cannot read, by parameter name.
_QUERY_HINTS = {
    "page": "Use a whole page number from 1 (e.g. ?page=2), or follow the Next and Previous links.",
    "version": "Use a version number from the versions table on the page (e.g. ?version=1).",
    "run": "Tick runs in the runs table and press Compare.",
    "after": "Follow the Next and First page links: 'after' is the name the previous page ended with.",
}
# The list page each section's error page links back to.
_SECTIONS = ("runs", "experiments", "datasets", "models", "deployments", "monitoring", "pipelines", "dora")


def bad_query(error: RequestValidationError) -> InvalidInput:
    """A query or path value FastAPI could not read, as the 400 a person can act on: which
    parameter, what it was, and what to write instead."""
    problems = error.errors()
    first = problems[0] if problems else {}
    where = [str(part) for part in first.get("loc", ())]
    kind, name = (where[0], where[-1]) if len(where) >= 2 else ("query", where[-1] if where else "request")
    shown = first.get("input")
    value = "" if shown is None or isinstance(shown, dict) else f" = {str(shown)[:60]!r}"
    problem = str(first.get("msg", "is not valid")).rstrip(".")
    return InvalidInput(
        f"the {kind} parameter {name!r}{value} is not valid: {problem[:1].lower()}{problem[1:]}",
        hint=_QUERY_HINTS.get(name, f"Correct or remove {name!r} in the address and reload."),
    )


async def render_error(request: Request, error: MlpilotError) -> Response:
    """The error page: status, what went wrong and what to do, inside the signed-in frame."""
    return error_page(request, await optional_viewer(request), error)


def error_page(request: Request, viewer: ViewerSession | None, error: MlpilotError) -> Response:
    """The error page for a viewer already looked up (or None: no navigation, a sign-in link)."""
    first = request.url.path.strip("/").split("/", 1)[0]
    section = first if first in _SECTIONS else None
    response = page(request, viewer, "error.html", status=error.http_status, error=error, section=section)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return response


class UiRoute(APIRoute):
    """A UI route: mlpilot errors become an error page (404 for unknown ids), a missing session a
    redirect to /login; ``/ui/data`` and static routes keep JSON errors, since scripts and
    ``<link>``/``<script>`` tags fetch them, not a person."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        is_data = self.path.startswith(("/ui/data", STATIC))

        async def guarded(request: Request) -> Response:
            started = time.perf_counter()
            response = await _answer(request)
            # The server's own time for the page, as browsers' devtools and bench/ui_runs.py read it.
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
            return response

        async def _answer(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                if request.method != "GET":
                    return await render_error(request, Unauthorized("not signed in", hint="Sign in at /login."))
                return sign_in_redirect(request)
            except RequestValidationError as unreadable:
                # Not FastAPI's 422 JSON: a page answers a 400 page naming the parameter.
                refused = bad_query(unreadable)
                return error_response(refused) if is_data else await render_error(request, refused)
            except (OverflowError, DataError):
                # A number the store's columns cannot hold (SQLite: OverflowError; PostgreSQL: DataError).
                refused = InvalidInput(
                    "a number in the address is out of range", hint="Versions and page numbers fit in 32 bits."
                )
                return error_response(refused) if is_data else await render_error(request, refused)
            except MlpilotError as error:
                if is_data:
                    return error_response(error)
                return await render_error(request, error)

        return guarded


def sign_in_redirect(request: Request) -> Response:
    """To /login, coming back to this address once signed in."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={urllib.parse.quote(target, safe='')}", status_code=303)


def json_response(value: Any) -> Response:
    return JSONResponse(value, headers={"Cache-Control": "no-store"})
