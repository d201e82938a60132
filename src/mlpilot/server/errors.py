"""Every error leaves the server as ``{"error": {"code", "message", "hint"}}`` with its status.

This is the one place HTTP statuses are chosen: mlpilot errors carry their own, request validation
is 422, unknown routes 404, a value the store cannot hold 400, and anything unexpected is a 500
whose body says only that (the traceback goes to the server log, never to the client).
``ERROR_RESPONSES`` declares those errors in the OpenAPI document.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from mlpilot.errors import InvalidInput, InvalidRequest, MlpilotError, RateLimited, Unauthorized
from mlpilot.wire import encode

__all__ = ["ERROR_RESPONSES", "ErrorBody", "error_body", "error_response", "install_error_handlers"]

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


class Problem(BaseModel):
    where: str
    problem: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    hint: str | None = None
    details: list[Problem] | None = None  # 422 only: where the request broke the schema
    retry_after: float | None = None  # 429 only: seconds, finer than the Retry-After header's whole ones


class ErrorBody(BaseModel):
    """The body of every error response, whatever its status."""

    error: ErrorDetail


_ERRORS = {
    400: "A value the service refuses (`INVALID_INPUT`, `LIMIT_EXCEEDED`)",
    401: "No key, or a malformed, unknown or revoked one (`UNAUTHENTICATED`)",
    403: "The key lacks the route's scope (`PERMISSION_DENIED`)",
    404: "No such run, model, version, route … (`NOT_FOUND`)",
    409: "The stored state disagrees (`CONFLICT`, `RUN_NOT_ACTIVE`, `INTEGRITY_ERROR`)",
    413: "The body is over the server's limit (`PAYLOAD_TOO_LARGE`)",
    422: "The request does not match this schema (`INVALID_REQUEST`; `details` says where)",
    429: "The key's rate limit (`RATE_LIMITED`); `Retry-After` says when to retry",
    503: "The database or artifact store cannot be reached (`STORE_UNAVAILABLE`)",
}
_HEADERS = {
    401: {
        "WWW-Authenticate": {"description": "`Bearer`: the scheme to authenticate with.", "schema": {"type": "string"}}
    },
    429: {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}},
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text, **({"headers": _HEADERS[status]} if status in _HEADERS else {})}
    for status, text in _ERRORS.items()
}
"""The errors any ``/api/v1`` route may answer, for the OpenAPI document: ``APIRouter(responses=…)``."""


def error_body(code: str, message: str, hint: str | None = None, **extra: Any) -> bytes:
    return encode({"error": {"code": code, "message": message, "hint": hint, **extra}})


def error_response(error: MlpilotError) -> Response:
    headers = {}
    extra: dict[str, Any] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        extra["retry_after"] = error.retry_after
    elif isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"  # RFC 9110: a 401 names the scheme it wants
    return Response(
        error_body(error.code, error.message, error.hint, **extra),
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


async def _unstorable(request: Request, exc: Exception) -> Response:
    # A value the schema allows but the store cannot hold: an integer wider than its column (SQLite
    # raises OverflowError, PostgreSQL a DataError) or text with NUL characters (PostgreSQL). The
    # request is at fault, not the server; the log gets the driver's message, never the statement.
    log.warning("%s %s: the store refused a value: %s", request.method, request.url.path, getattr(exc, "orig", exc))
    return error_response(
        InvalidInput(
            "a value in the request is beyond what the store holds: a number out of range, or text with NUL characters",
            hint="Integers must fit in 64 bits (ids and version numbers in 32); text cannot contain NUL (\\x00).",
        )
    )


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
    app.add_exception_handler(OverflowError, _unstorable)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)
