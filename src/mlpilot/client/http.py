"""The remote transport's HTTP session: the API key, JSON errors back into mlpilot errors, and
waiting out rate limits.

Any status of 400 or more becomes the exception the server named in its error body, so code
written against the local transport catches the same errors remotely.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from mlpilot.errors import MlpilotError, RateLimited, StoreUnavailable, Unauthorized, error_for_code
from mlpilot.wire import API_PREFIX, encode

__all__ = ["HttpSession"]

log = logging.getLogger(__name__)

_RATE_LIMIT_RETRIES = 3
_LONGEST_WAIT = 30.0


class HttpSession:
    def __init__(self, base_url: str, api_key: str | None, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        headers = {"User-Agent": "mlpilot-client"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(base_url=self.base_url + API_PREFIX, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, *, json: Any = None, **options: Any) -> httpx.Response:
        """Send a request (``json`` encoded by the wire codec, so NaN survives) and check the answer."""
        if json is not None:
            options["content"] = encode(json)
            options["headers"] = {**options.get("headers", {}), "Content-Type": "application/json"}
        for attempt in range(_RATE_LIMIT_RETRIES + 1):
            try:
                response = self._http.request(method, path, **options)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            try:
                self.check(response)
            except RateLimited as exc:
                if attempt == _RATE_LIMIT_RETRIES or exc.retry_after > _LONGEST_WAIT:
                    raise
                log.info("rate limited by %s; retrying in %.1f s", self.base_url, exc.retry_after)
                time.sleep(exc.retry_after)
                continue
            return response
        raise AssertionError("unreachable")  # the loop returns or raises

    @contextmanager
    def stream(self, path: str, **options: Any) -> Iterator[httpx.Response]:
        try:
            with self._http.stream("GET", path, **options) as response:
                if response.status_code >= 400:
                    response.read()
                self.check(response)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            error = response.json()["error"]
            code, message, hint = str(error["code"]), str(error["message"]), error.get("hint")
        except (ValueError, KeyError, TypeError):
            raise MlpilotError(
                f"{self.base_url} answered {response.status_code} without an mlpilot error body",
                hint="Check that the URI points at an mlpilot server (a proxy may be answering).",
            ) from None
        kind = error_for_code(code)
        if kind is RateLimited:
            # The body's value is exact; the header only counts whole seconds.
            exact = error.get("retry_after")
            retry_after = (
                float(exact) if isinstance(exact, int | float) else _seconds(response.headers.get("Retry-After"))
            )
            raise RateLimited(message, retry_after=retry_after, hint=hint)
        if kind is Unauthorized and not self.api_key:
            hint = "Pass api_key= to mlpilot.connect, or set MLPILOT_API_KEY."
        raise kind(message, hint=hint)

    def _unreachable(self, exc: httpx.TransportError) -> StoreUnavailable:
        return StoreUnavailable(
            f"cannot reach the mlpilot server at {self.base_url}: {exc}",
            hint="Check the URI and that `mlpilot server` is running there.",
        )


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
