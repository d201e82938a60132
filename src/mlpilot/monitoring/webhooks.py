"""Delivering alerts to webhooks: a JSON POST per alert, signed, retried with backoff, never raising.

Receivers dedupe on ``X-Mlpilot-Delivery`` (the same id on every retry of one delivery) and verify
``X-Mlpilot-Signature: sha256=<hex>``, an HMAC of the exact body bytes with the monitor's secret.
``WebhookSender`` runs deliveries on a background thread so a monitor run never waits on a receiver.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import hashlib
import hmac
import importlib.metadata
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from mlpilot.errors import InvalidInput, MlpilotError

__all__ = ["Delivery", "RetryPolicy", "WebhookSender", "check_webhook_url", "deliver"]

logger = logging.getLogger(__name__)

# 408/425/429 say "later"; 5xx say the receiver is unwell. Any other 4xx will fail the same way again.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
_SNIPPET_CHARS = 200


@dataclass(frozen=True, slots=True)
class Delivery:
    url: str
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None
    elapsed_seconds: float
    delivery_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 5.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidInput(f"attempts must be at least 1, got {self.attempts}", hint="1 means no retry.")
        if self.backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise InvalidInput("backoff times cannot be negative", hint="Use 0 to retry at once.")
        if self.timeout_seconds <= 0:
            raise InvalidInput(f"timeout_seconds must be positive, got {self.timeout_seconds}")
        if not 0 <= self.jitter < 1:
            raise InvalidInput(f"jitter is a fraction in [0, 1), got {self.jitter}", hint="0.1 means ±10%.")

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 for the first retry)."""
        # Cap the exponent too: 2**retry of a large retry count would overflow a float.
        wait = min(self.backoff_seconds * 2.0 ** min(retry, 64), self.max_backoff_seconds)
        # Jitter spreads out the retries of many monitors that all failed at the same moment.
        wait *= 1 + random.uniform(-self.jitter, self.jitter)
        return max(0.0, min(wait, self.max_backoff_seconds))


def check_webhook_url(url: str) -> str:
    """The URL, stripped, if it can be a webhook: http(s) with a host; InvalidInput otherwise."""
    hint = "Give a full URL such as https://hooks.example.com/mlpilot."
    candidate = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in candidate):
        raise InvalidInput(f"webhook URL {candidate!r} contains whitespace or control characters", hint=hint)
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 -- parsing the port is what validates it
    except ValueError as exc:
        raise InvalidInput(f"webhook URL {candidate!r} is malformed: {exc}", hint=hint) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(f"webhook URL {candidate!r} must use http or https", hint=hint)
    if not parts.hostname:
        raise InvalidInput(f"webhook URL {candidate!r} has no host", hint=hint)
    return candidate


def deliver(
    url: str,
    payload: Mapping[str, Any],
    *,
    policy: RetryPolicy = RetryPolicy(),
    secret: str | None = None,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``payload`` as JSON to ``url``, retrying per ``policy``; the outcome, never an exception
    for a failed delivery (a payload that is not JSON raises InvalidInput: that is a bug, not a failure)."""
    body = _encode(payload)
    if client is not None:
        return _send(client, url, body, policy, secret, sleep)
    with httpx.Client(follow_redirects=False) as own:
        return _send(own, url, body, policy, secret, sleep)


class _Job(NamedTuple):
    url: str
    body: bytes
    payload: Mapping[str, Any]
    secret: str | None


class WebhookSender:
    """Delivers in a background thread so a monitor run never waits on a slow receiver.

    ``on_result`` is called on that thread (or, for a delivery dropped because ``max_pending`` are
    queued, on the submitter's). The thread is a daemon: close() before exit, or pending alerts are lost.
    """

    def __init__(
        self,
        policy: RetryPolicy = RetryPolicy(),
        on_result: Callable[[Delivery, Mapping[str, Any]], None] | None = None,
        *,
        max_pending: int = 1000,
    ) -> None:
        if max_pending < 1:
            raise InvalidInput(f"max_pending must be at least 1, got {max_pending}")
        self.policy = policy
        self._on_result = on_result
        # Bounded so a receiver that is down for hours cannot grow memory without limit.
        self._max_pending = max_pending
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, url: str, payload: Mapping[str, Any], secret: str | None = None) -> None:
        # Encoding here, in the caller's thread, makes a bad payload fail where it was made and
        # freezes the body, so the caller may mutate its payload afterwards.
        job = _Job(url, _encode(payload), payload, secret)
        with self._lock:
            if self._closed:
                raise MlpilotError("the webhook sender is closed", hint="Submit before close(), or make a new sender.")
            if self._queue.qsize() < self._max_pending:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="mlpilot-webhooks", daemon=True)
                    self._thread.start()
                self._queue.put(job)
                return
        logger.warning("webhook delivery to %s dropped: %d already pending", _redact(url), self._max_pending)
        self._report(_given_up(job.url, f"dropped: {self._max_pending} deliveries were already pending"), payload)

    def close(self, timeout: float = 10.0) -> None:
        """Wait up to ``timeout`` seconds for pending deliveries, then abandon what is left (reported
        through ``on_result`` as not delivered). An attempt in flight finishes on its own."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        if thread.is_alive():
            self._stop.set()
            # A worker waiting out a backoff wakes at once and empties the queue; give it that moment.
            thread.join(0.1)
            if thread.is_alive():
                logger.warning("webhook sender closed with a delivery still in flight; it ends on its own")

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        with httpx.Client(follow_redirects=False) as client:
            while (job := self._queue.get()) is not None:
                if self._stop.is_set():
                    logger.warning("webhook delivery to %s abandoned: the sender closed", _redact(job.url))
                    self._report(_given_up(job.url, "abandoned: the sender closed before it was sent"), job.payload)
                    continue
                try:
                    delivery = _send(client, job.url, job.body, self.policy, job.secret, self._wait, self._stop)
                except Exception:
                    # The thread must outlive any bug, or every later alert would silently queue forever.
                    logger.exception("webhook delivery to %s failed unexpectedly", _redact(job.url))
                    delivery = _given_up(job.url, "failed unexpectedly; see the log")
                self._report(delivery, job.payload)

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _report(self, delivery: Delivery, payload: Mapping[str, Any]) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(delivery, payload)
        except Exception:
            logger.exception("the on_result callback of the webhook sender raised")


def _send(
    client: httpx.Client,
    url: str,
    body: bytes,
    policy: RetryPolicy,
    secret: str | None,
    sleep: Callable[[float], None],
    stop: threading.Event | None = None,
) -> Delivery:
    started = time.perf_counter()
    delivery_id = uuid.uuid4().hex
    try:
        url = check_webhook_url(url)
    except InvalidInput as exc:
        logger.warning("webhook delivery not attempted: %s", exc.message)
        return Delivery(url, False, 0, None, exc.message, time.perf_counter() - started, delivery_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"mlpilot-webhook/{_version()}",
        "X-Mlpilot-Delivery": delivery_id,
    }
    if secret:
        headers["X-Mlpilot-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    status: int | None = None
    error, attempt, abandoned = "", 0, False
    for attempt in range(1, policy.attempts + 1):
        status, error, retry_after, retryable = _attempt(client, url, body, headers, policy.timeout_seconds)
        if not error:
            return Delivery(url, True, attempt, status, None, time.perf_counter() - started, delivery_id)
        if not retryable or attempt == policy.attempts:
            logger.warning(
                "webhook %s attempt %d/%d failed: %s; giving up", _redact(url), attempt, policy.attempts, error
            )
            break
        wait = policy.backoff(attempt - 1) if retry_after is None else min(retry_after, policy.max_backoff_seconds)
        logger.warning(
            "webhook %s attempt %d/%d failed: %s; retry in %.2fs", _redact(url), attempt, policy.attempts, error, wait
        )
        sleep(wait)
        if stop is not None and stop.is_set():
            abandoned = True
            break
    if abandoned:
        error = f"abandoned when the sender closed, after {attempt} attempt{'s' * (attempt > 1)}: {error}"
    elif attempt > 1:
        error = f"gave up after {attempt} attempts: {error}"
    return Delivery(url, False, attempt, status, error, time.perf_counter() - started, delivery_id)


def _attempt(
    client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> tuple[int | None, str, float | None, bool]:
    """One POST: (status, error or "", Retry-After seconds, whether a retry may help)."""
    request = client.build_request("POST", url, content=body, headers=headers, timeout=timeout)
    try:
        response = client.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException as exc:
        return None, f"timed out after {timeout:g}s ({type(exc).__name__})", None, True
    except httpx.RequestError as exc:
        return None, _one_line(f"could not reach the receiver: {str(exc) or type(exc).__name__}"), None, True
    try:
        status = response.status_code
        if response.is_success:
            return status, "", None, False
        if response.is_redirect:
            target = _redact(urljoin(url, response.headers.get("Location", "")))
            return status, f"HTTP {status}: redirected to {target}; configure the final URL instead", None, False
        retryable = status in RETRYABLE_STATUSES or status >= 500
        retry_after = _retry_after(response.headers.get("Retry-After")) if retryable else None
        return status, _one_line(f"HTTP {status}: {_snippet(response)}"), retry_after, retryable
    finally:
        response.close()


def _snippet(response: httpx.Response) -> str:
    # Streamed and cut short: a receiver's error page can be megabytes, and only its start is useful.
    read = b""
    with contextlib.suppress(httpx.HTTPError):
        for chunk in response.iter_bytes():
            read += chunk
            if len(read) >= _SNIPPET_CHARS * 4:  # UTF-8 takes at most 4 bytes a character
                break
    return read.decode("utf-8", errors="replace")[:_SNIPPET_CHARS] or response.reason_phrase or "(no body)"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):  # the other form HTTP allows: a date
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    return None


def _encode(payload: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(dict(payload))
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        raise InvalidInput(
            f"the webhook payload is not JSON: {exc}", hint="Use only str, numbers, bools, None, lists and dicts."
        ) from None


def _given_up(url: str, error: str) -> Delivery:
    return Delivery(url, False, 0, None, error, 0.0)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _redact(url: str) -> str:
    # Chat webhooks (Slack, Teams) carry their token in the path, and URLs may hold user:password;
    # logs and error text show only where the request went.
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


@functools.cache
def _version() -> str:
    try:
        return importlib.metadata.version("mlpilot")
    except importlib.metadata.PackageNotFoundError:
        return "dev"
