"""Request limits: a body size cap (413), and the per-key token bucket (429) from security.

The body cap is enforced on the bytes actually received, not only on Content-Length, so a chunked
upload cannot slip past it.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlpilot.errors import PayloadTooLarge
from mlpilot.security.rate_limit import RateLimiter
from mlpilot.server.errors import error_body
from mlpilot.server.mlflow.errors import mlflow_error_response

__all__ = ["BodyLimit", "RateLimiter", "is_upload"]

_UPLOADS = (
    ("PUT", re.compile(r"^/api/v1/runs/[^/]+/artifacts/.+")),
    ("POST", re.compile(r"^/api/v1/datasets/.+/versions$")),
    ("PUT", re.compile(r"^/api/2\.0/mlflow-artifacts/artifacts/.+")),
)


def is_upload(method: str, path: str) -> bool:
    """Artifact and dataset uploads get the (larger) upload limit; every other body the JSON one."""
    return any(method == verb and pattern.match(path) for verb, pattern in _UPLOADS)


class BodyLimit:
    """ASGI middleware answering 413 for bodies over the limit, declared or streamed."""

    def __init__(
        self, app: ASGIApp, *, json_limit: int, upload_limit: int, mlflow_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        # MLflow's API (mlpilot.server.mlflow): its clients read {"error_code", "message"} bodies.
        self.mlflow_prefixes = mlflow_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if is_upload(scope["method"], scope["path"]) else self.json_limit
        mlflow = bool(self.mlflow_prefixes) and scope["path"].startswith(self.mlflow_prefixes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, _too_large(limit), mlflow=mlflow)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    # Answer 413 now and tell the app the client went away; whatever it then tries
                    # to send (FastAPI turns a failed body read into a 400) is dropped below.
                    refused = True
                    await _refuse(send, _too_large(limit), mlflow=mlflow)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than this server's limit of {limit:,} bytes")


async def _refuse(send: Send, error: PayloadTooLarge, *, mlflow: bool) -> None:
    status, body = error.http_status, error_body(error.code, error.message, error.hint)
    if mlflow:
        response = mlflow_error_response(error)
        status, body = response.status_code, bytes(response.body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
