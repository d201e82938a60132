"""Every error leaves the server as ``{"error": {"code", "message", "hint"}}`` with its status.

This is the one place HTTP statuses are chosen: mlpilot errors carry their own, request validation
is 422, unknown routes 404, and anything unexpected is a 500 whose body says only that (the
traceback goes to the server log, never to the client).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from mlpilot.errors import InvalidRequest, MlpilotError, RateLimited
from mlpilot.wire import encode

__all__ = ["error_body", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "INVALID_INPUT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_body(code: str, message: str, hint: str | None = None, **extra: Any) -> bytes:
    return encode({"error": {"code": code, "message": message, "hint": hint, **extra}})


def error_response(error: MlpilotError) -> Response:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after + 0.499)))
    return Response(
        error_body(error.code, error.message, error.hint),
        status_code=error.http_status,
        media_type="application/json",
        headers=headers,
    )


async def _mlpilot_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MlpilotError)
    if exc.http_status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"where": ".".join(str(part) for part in error.get("loc", ())), "problem": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    first = problems[0] if problems else {"where": "request", "problem": "invalid"}
    message = f"invalid request: {first['where']}: {first['problem']}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return Response(
        error_body(InvalidRequest.code, message, InvalidRequest.default_hint, details=problems[:20]),
        status_code=422,
        media_type="application/json",
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    hint = "See the API reference at /docs." if exc.status_code in (404, 405) else None
    return Response(
        error_body(code, str(exc.detail), hint),
        status_code=exc.status_code,
        media_type="application/json",
        headers=dict(exc.headers or {}),
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client disconnected mid-body (or BodyLimit cut it off after answering 413): nobody is
    # listening for this response, and it is not a server failure worth a traceback in the log.
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body("INTERNAL_ERROR", "the server failed to handle this request", "The server log has the details."),
        status_code=500,
        media_type="application/json",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MlpilotError, _mlpilot_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
