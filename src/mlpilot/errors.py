"""The one exception hierarchy of mlpilot.

Every error says what went wrong and what to do about it (its ``hint``), and maps to exactly one
HTTP status and one CLI exit code. Interfaces translate errors in one place each; services only
raise.

    MlpilotError                  500 / exit 1   something we did not expect
    ├── InvalidInput              400 / exit 2   the caller sent something malformed
    │   ├── LimitExceeded         400 / exit 2   a key or value is longer than allowed
    │   ├── InvalidRequest        422 / exit 2   an HTTP request does not match the API schema
    │   └── PayloadTooLarge       413 / exit 2   a request body is larger than the server accepts
    ├── NotFound                  404 / exit 3   a named thing does not exist
    ├── Conflict                  409 / exit 4   the request contradicts what is stored
    │   └── InactiveRun           409 / exit 4   logging to a run that has ended
    ├── IntegrityError            409 / exit 5   stored bytes no longer match their hash
    ├── Unauthorized              401 / exit 6   no valid credentials
    ├── Forbidden                 403 / exit 6   credentials lack the needed scope
    ├── RateLimited               429 / exit 8   too many requests with one key; retry later
    ├── PredictionFailed          500 / exit 9   the model itself raised on an input it accepted
    ├── NotReady                  503 / exit 7   a deployment has no model loaded (yet)
    └── StoreUnavailable          503 / exit 7   the database or artifact store cannot be reached
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "Conflict",
    "Forbidden",
    "InactiveRun",
    "IntegrityError",
    "InvalidInput",
    "InvalidRequest",
    "LimitExceeded",
    "MlpilotError",
    "NotFound",
    "NotReady",
    "PayloadTooLarge",
    "PredictionFailed",
    "RateLimited",
    "StoreUnavailable",
    "Unauthorized",
    "error_for_code",
]


class MlpilotError(Exception):
    """Root of every error mlpilot raises on purpose."""

    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_hint: ClassVar[str] = "This is a bug in mlpilot; please report it with the command you ran."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, str]:
        return {"error_code": self.code, "message": self.message, "hint": self.hint}


class InvalidInput(MlpilotError, ValueError):
    http_status = 400
    exit_code = 2
    code = "INVALID_INPUT"
    default_hint = "Check the value against the documentation and try again."


class LimitExceeded(InvalidInput):
    code = "LIMIT_EXCEEDED"
    default_hint = "Shorten the value, or store large content as an artifact instead."


class InvalidRequest(InvalidInput):
    http_status = 422
    code = "INVALID_REQUEST"
    default_hint = "Compare the request with the API schema at /api/v1/openapi.json."


class PayloadTooLarge(InvalidInput):
    http_status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_hint = "Send less per request (split the batch), or raise the server's configured limit."


class NotFound(MlpilotError, LookupError):
    http_status = 404
    exit_code = 3
    code = "NOT_FOUND"
    default_hint = "Check the name or id; list what exists with the matching `list` command."


class Conflict(MlpilotError):
    http_status = 409
    exit_code = 4
    code = "CONFLICT"
    default_hint = "The stored state disagrees with the request; read it again and retry."


class InactiveRun(Conflict):
    code = "RUN_NOT_ACTIVE"
    default_hint = "Start a new run to log more; a finished run is read-only."


class IntegrityError(MlpilotError):
    http_status = 409
    exit_code = 5
    code = "INTEGRITY_ERROR"
    default_hint = "The stored bytes changed after they were written; restore them or log them again."


class Unauthorized(MlpilotError):
    http_status = 401
    exit_code = 6
    code = "UNAUTHENTICATED"
    default_hint = "Pass a valid API key (header `Authorization: Bearer <key>`)."


class Forbidden(MlpilotError):
    http_status = 403
    exit_code = 6
    code = "PERMISSION_DENIED"
    default_hint = "Use a key with the scope this operation needs (`mlpilot keys create --scopes`)."


class RateLimited(MlpilotError):
    http_status = 429
    exit_code = 8
    code = "RATE_LIMITED"
    default_hint = "Wait the number of seconds in Retry-After, batch more work per request, or ask for a higher limit."

    def __init__(self, message: str, *, retry_after: float = 1.0, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class PredictionFailed(MlpilotError):
    # The input matched the signature, so the fault is the model's (or its environment's): a 500,
    # but one whose message says which model failed, never the traceback or the input.
    exit_code = 9
    code = "MODEL_ERROR"
    default_hint = "The model raised on this input; the server log has the traceback (search for the request id)."


class NotReady(MlpilotError):
    http_status = 503
    exit_code = 7
    code = "NOT_READY"
    default_hint = "The model is still loading or could not be loaded; retry shortly or check the server log."


class StoreUnavailable(MlpilotError):
    http_status = 503
    exit_code = 7
    code = "STORE_UNAVAILABLE"
    default_hint = "Check that the database and artifact locations exist and are reachable."


def error_for_code(code: str) -> type[MlpilotError]:
    """The error class an HTTP error body's ``code`` names (MlpilotError for unknown codes), so the
    remote client raises what the local transport would have raised."""
    pending: list[type[MlpilotError]] = [MlpilotError]
    while pending:
        kind = pending.pop()
        if kind.code == code:
            return kind
        pending.extend(kind.__subclasses__())
    return MlpilotError
