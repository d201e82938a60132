"""/login and /logout: an API key in, a session cookie out; signing out ends the session.

Failed sign-ins are throttled per client address with the platform's token bucket
(``mlpilot.security.rate_limit``): ``SIGN_IN_BURST`` failures at once, then one more every
``1 / SIGN_IN_RATE`` seconds. A throttled client is refused (429) before its key is even checked, so
guessing gains nothing while throttled; a success spends nothing. Each failure is audited
(``ui.login_failed``, the client's address, never the key).
"""

from __future__ import annotations

import contextlib
import math

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.errors import Forbidden, MlpilotError, RateLimited
from mlpilot.security import Scope
from mlpilot.security import audit as audit_service
from mlpilot.security.rate_limit import RateLimiter
from mlpilot.security.sessions import SESSION_TTL_MS, end_session, open_session, valid_csrf
from mlpilot.server.state import ServerState, state_of
from mlpilot.server.ui.render import UiRoute, page
from mlpilot.server.ui.session import COOKIE, form_of, optional_viewer, same_origin

__all__ = ["SIGN_IN_BURST", "SIGN_IN_RATE", "install_sign_in_limiter", "router"]

SIGN_IN_BURST = 10
SIGN_IN_RATE = 1 / 6  # per second: ten failed attempts a minute, sustained

router = APIRouter(route_class=UiRoute, include_in_schema=False)


def _next(value: str | None) -> str:
    # Only a path on this server: never an open redirect to another site.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def install_sign_in_limiter(app: FastAPI) -> None:
    """Give the app its own bucket per client for failed sign-ins (per process, like the API's)."""
    app.state.ui_sign_in_limiter = RateLimiter(SIGN_IN_RATE, SIGN_IN_BURST, subject="the client")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttled(client: str, refused: RateLimited) -> RateLimited:
    wait = max(1, math.ceil(refused.retry_after))
    return RateLimited(
        f"too many failed sign-ins from {client}; try again in {wait} second{'s' if wait != 1 else ''}",
        retry_after=refused.retry_after,
        hint="Check the key (`mlpilot keys list` shows its prefix), then sign in after the wait.",
    )


def _failed(state: ServerState, client: str, refused: MlpilotError, key_name: str | None) -> None:
    # The presented key never reaches the log: only the address, and the key's name when known.
    target = f"/login: {refused.code.lower()}"
    audit_service.record(state.db, key_name=key_name, actor=f"client:{client}", action="ui.login_failed", target=target)


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    if await optional_viewer(request) is not None:  # already signed in: where the link was going
        return RedirectResponse(_next(next), status_code=303)
    return page(request, None, "login.html", next=_next(next), problem=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_of(request)
    target = _next(form.get("next"))
    # Login CSRF: another site must not sign a browser in with its own key.
    if not same_origin(request):
        raise Forbidden("the sign-in did not come from this server's login page")
    state = await state_of(request)
    client = _client(request)
    limiter: RateLimiter = request.app.state.ui_sign_in_limiter
    try:
        limiter.check(client)
    except RateLimited as over:
        throttled = _throttled(client, over)
        response = page(request, None, "login.html", status=429, next=target, problem=throttled)
        response.headers["Retry-After"] = str(max(1, math.ceil(throttled.retry_after)))
        return response
    key_name: str | None = None
    try:
        session, token = await run_in_threadpool(open_session, state.db, form.get("key", "").strip())
        if not session.key.allows(Scope.READ):
            key_name = session.key.name
            await run_in_threadpool(end_session, state.db, token)
            raise Forbidden(f"the API key {session.key.name!r} lacks the 'read' scope the UI needs")
    except MlpilotError as problem:
        await run_in_threadpool(_failed, state, client, problem, key_name)
        # A failure that spends the last token is still answered as itself; the next attempt is refused.
        with contextlib.suppress(RateLimited):
            limiter.take(client)
        return page(request, None, "login.html", status=problem.http_status, next=target, problem=problem)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_TTL_MS // 1000,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await form_of(request)
    token = request.cookies.get(COOKIE)
    if token is None or not same_origin(request) or not valid_csrf(token, form.get("csrf")):
        raise Forbidden("the sign-out did not come from this server's pages")
    state = await state_of(request)
    await run_in_threadpool(end_session, state.db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
