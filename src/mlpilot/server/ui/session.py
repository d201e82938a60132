"""Sign-in for the web UI: an API key becomes a session cookie; actions carry a CSRF token.

The cookie holds a random session token (``mlpilot.security.sessions``), never the key: HttpOnly
so page scripts cannot read it, SameSite=Strict so other sites' requests do not carry it, Secure
behind https. Pages need the ``read`` scope. An action (a POST) needs ``deploy`` and passes two
independent CSRF checks: the synchronizer token of the session in the form, and an Origin (or
Referer) naming this server.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from mlpilot.artifacts import ContentStore
from mlpilot.config import Settings
from mlpilot.errors import Forbidden, MlpilotError, PayloadTooLarge, Unauthorized
from mlpilot.security import ApiKey, Scope
from mlpilot.security.keys import require_scope
from mlpilot.security.sessions import csrf_token, session_of, valid_csrf
from mlpilot.server.state import ServerState, state_of
from mlpilot.store import Database

__all__ = [
    "COOKIE",
    "Actor",
    "DataViewer",
    "SignInNeeded",
    "Viewer",
    "ViewerSession",
    "form_of",
    "optional_viewer",
    "same_origin",
]

COOKIE = "mlpilot_session"
_MAX_FORM_BYTES = 64 * 1024


class SignInNeeded(Exception):
    """A page asked for without a live session: the route answers with a redirect to /login."""


@dataclass(frozen=True, slots=True)
class ViewerSession:
    """A signed-in browser on a request: its key, its CSRF token and the stores to read."""

    key: ApiKey
    csrf: str
    db: Database
    content: ContentStore
    settings: Settings

    @property
    def can_deploy(self) -> bool:
        return self.key.allows(Scope.DEPLOY)

    @property
    def actor(self) -> str:
        return f"key:{self.key.name}"


async def _session(request: Request, state: ServerState) -> ViewerSession:
    token = request.cookies.get(COOKIE)
    found = await run_in_threadpool(session_of, state.db, token)
    require_scope(found.key, Scope.READ)
    assert token is not None  # session_of refuses a missing token
    return ViewerSession(found.key, csrf_token(token), state.db, state.content, state.settings)


async def _page_viewer(request: Request, state: Annotated[ServerState, Depends(state_of)]) -> ViewerSession:
    try:
        return await _session(request, state)
    except Unauthorized:
        raise SignInNeeded from None


async def optional_viewer(request: Request) -> ViewerSession | None:
    """The signed-in viewer of a request, or None: for pages drawn outside a route's dependencies
    (an error page keeps the navigation bar of whoever is signed in)."""
    try:
        return await _session(request, await state_of(request))
    except MlpilotError:
        return None


async def _data_viewer(request: Request, state: Annotated[ServerState, Depends(state_of)]) -> ViewerSession:
    # Unauthorized propagates: a script's fetch gets a 401 JSON body, not a login page.
    return await _session(request, state)


async def _actor(request: Request, state: Annotated[ServerState, Depends(state_of)]) -> ViewerSession:
    viewer = await _page_viewer(request, state)
    if not same_origin(request):
        raise Forbidden("the request did not come from this server's pages", hint="Use the buttons on the page.")
    form = await form_of(request)
    token = request.cookies.get(COOKIE) or ""
    if not valid_csrf(token, form.get("csrf")):
        raise Forbidden("the form's CSRF token is missing or wrong", hint="Reload the page and try again.")
    require_scope(viewer.key, Scope.DEPLOY)
    return viewer


def same_origin(request: Request) -> bool:
    """Whether Origin (or, without it, Referer) names this server; a request with neither is refused."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer")
    if referer is None:
        return False
    parts = urllib.parse.urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" == own


async def form_of(request: Request) -> dict[str, str]:
    """A url-encoded form body (the only kind the UI posts), first value of each field."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise PayloadTooLarge(
            f"the form is {len(body)} bytes, over the {_MAX_FORM_BYTES} a page's form may send",
            hint="Send only the page's own fields; the UI's forms are a few hundred bytes.",
        )
    fields = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


Viewer = Annotated[ViewerSession, Depends(_page_viewer)]
DataViewer = Annotated[ViewerSession, Depends(_data_viewer)]
Actor = Annotated[ViewerSession, Depends(_actor)]
