"""/login and /logout: an API key in, a session cookie out; signing out ends the session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.errors import Forbidden, MlpilotError
from mlpilot.security import Scope
from mlpilot.security.sessions import SESSION_TTL_MS, end_session, open_session, valid_csrf
from mlpilot.server.state import state_of
from mlpilot.server.ui.render import UiRoute, page
from mlpilot.server.ui.session import COOKIE, form_of, same_origin

__all__ = ["router"]

router = APIRouter(route_class=UiRoute, include_in_schema=False)


def _next(value: str | None) -> str:
    # Only a path on this server: never an open redirect to another site.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return page(request, None, "login.html", next=_next(next), problem=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_of(request)
    target = _next(form.get("next"))
    # Login CSRF: another site must not sign a browser in with its own key.
    if not same_origin(request):
        raise Forbidden("the sign-in did not come from this server's login page")
    state = await state_of(request)
    try:
        session, token = await run_in_threadpool(open_session, state.db, form.get("key", "").strip())
        if not session.key.allows(Scope.READ):
            await run_in_threadpool(end_session, state.db, token)
            raise Forbidden(f"the API key {session.key.name!r} lacks the 'read' scope the UI needs")
    except MlpilotError as refused:
        return page(request, None, "login.html", status=refused.http_status, next=target, problem=refused)
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
