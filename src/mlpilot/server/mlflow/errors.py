"""MLflow's error shape on the MLflow routes: ``{"error_code", "message"}`` with MLflow's statuses.

mlpilot errors are translated here, in one place; anything unexpected is an ``INTERNAL_ERROR``
whose body says only that (the traceback goes to the server log). The MLflow client reads
``error_code`` to decide what to do (``RESOURCE_ALREADY_EXISTS`` on create means "use it").
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError

from mlpilot.errors import (
    Conflict,
    Forbidden,
    InactiveRun,
    IntegrityError,
    InvalidInput,
    MlpilotError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StoreUnavailable,
    Unauthorized,
)
from mlpilot.server.audit_scope import mark_failed

__all__ = ["MlflowError", "MlflowRoute", "mlflow_error_response"]

log = logging.getLogger(__name__)

_STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class MlflowError(Exception):
    """An error with an MLflow error code, raised by the translation layer itself."""

    def __init__(self, error_code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self._status = status

    @property
    def status(self) -> int:
        """MLflow's status for the code, unless the error has a more precise HTTP one (413)."""
        return self._status or _STATUS.get(self.error_code, 400)


def _translate(error: MlpilotError) -> MlflowError:
    message = error.message if error.hint is None else f"{error.message}. {error.hint}"
    code = "INTERNAL_ERROR"
    if isinstance(error, PayloadTooLarge):
        # MLflow answers an oversized batch with INVALID_PARAMETER_VALUE; the status stays 413.
        return MlflowError("INVALID_PARAMETER_VALUE", message, status=error.http_status)
    if isinstance(error, InactiveRun):
        # MLflow lets a client log to an ended run; mlpilot keeps it read-only on purpose.
        return MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"{error.message}: mlpilot keeps ended runs read-only. Log to a new run instead: "
            "mlflow.start_run() without run_id (parent_run_id=… files it under the ended one). "
            "Tags can still be set on an ended run.",
        )
    if isinstance(error, InvalidInput):
        code = "INVALID_PARAMETER_VALUE"
    elif isinstance(error, NotFound):
        code = "RESOURCE_DOES_NOT_EXIST"
    elif isinstance(error, IntegrityError):
        code = "RESOURCE_CONFLICT"
    elif isinstance(error, Conflict):
        code = "RESOURCE_ALREADY_EXISTS" if "already exists" in error.message else "INVALID_PARAMETER_VALUE"
    elif isinstance(error, Unauthorized):
        code = "UNAUTHENTICATED"
    elif isinstance(error, Forbidden):
        code = "PERMISSION_DENIED"
    elif isinstance(error, RateLimited):
        code = "REQUEST_LIMIT_EXCEEDED"
    elif isinstance(error, StoreUnavailable):
        code = "TEMPORARILY_UNAVAILABLE"
    return MlflowError(code, message)


def mlflow_error_response(error: Exception) -> Response:
    """The response for any exception raised while handling an MLflow route."""
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    elif isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, MlpilotError):
        if error.http_status >= 500:
            log.error("MLflow API call failed: %s", error, exc_info=error)
        error = _translate(error)
    elif isinstance(error, OverflowError | DataError):
        error = MlflowError("INVALID_PARAMETER_VALUE", "a value in the request is beyond what the store holds")
    elif not isinstance(error, MlflowError):
        log.error("MLflow API call failed unexpectedly", exc_info=error)
        error = MlflowError("INTERNAL_ERROR", "the server failed to handle this request; the server log has details")
    body = json.dumps({"error_code": error.error_code, "message": error.message})
    return Response(body, status_code=error.status, media_type="application/json", headers=headers)


class MlflowRoute(APIRoute):
    """Routes whose every failure, including the key's scope check, answers in MLflow's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001  every failure becomes an MLflow error body
                # Caught here, the error never reaches the key dependency: tell it not to audit.
                mark_failed(request)
                return mlflow_error_response(exc)

        return handle
