"""Webhook delivery against a real HTTP receiver on 127.0.0.1; only the sleeps between retries are fake."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest

from mlpilot.errors import InvalidInput, MlpilotError
from mlpilot.monitoring.webhooks import Delivery, RetryPolicy, WebhookSender, check_webhook_url, deliver

ALERT = {"monitor": "churn-drift", "severity": "critical", "score": 0.42, "features": ["age", "plan"]}
FAST = RetryPolicy(attempts=5, backoff_seconds=0.5, max_backoff_seconds=30.0, timeout_seconds=5.0, jitter=0.0)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None  # answer only once the test sets it


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver that records every request and answers from a script (then 200)."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Received] = []
        self.arrived = threading.Condition()
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver.arrived:
                    receiver.requests.append(Received(self.path, headers, body))
                    reply = receiver.replies.popleft() if receiver.replies else Reply()
                    receiver.arrived.notify_all()
                if reply.hold is not None:
                    reply.hold.wait(10)
                if reply.delay:
                    receiver.closing.wait(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (a timeout test); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/t0ken-123"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def answer(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.closing.set()
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(5)


@pytest.fixture
def waits() -> list[float]:
    return []


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_delivers_json_with_identifying_headers(receiver: Receiver, waits: list[float]) -> None:
    delivery = deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code, delivery.error) == (True, 1, 200, None)
    assert waits == []
    [request] = receiver.requests
    assert request.path == "/hooks/t0ken-123"
    assert orjson.loads(request.body) == ALERT
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("mlpilot-webhook/")
    assert request.headers["x-mlpilot-delivery"] == delivery.delivery_id
    assert "x-mlpilot-signature" not in request.headers
    assert delivery.to_dict() == {
        "url": receiver.url,
        "delivered": True,
        "attempts": 1,
        "status_code": 200,
        "error": None,
        "elapsed_seconds": delivery.elapsed_seconds,
        "delivery_id": delivery.delivery_id,
    }


def test_retries_5xx_with_backoff_and_keeps_the_delivery_id(receiver: Receiver, waits: list[float]) -> None:
    receiver.answer(Reply(503), Reply(502), Reply(200))

    delivery = deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (True, 3, 200)
    assert waits == [0.5, 1.0]
    ids = {request.headers["x-mlpilot-delivery"] for request in receiver.requests}
    assert ids == {delivery.delivery_id}
    assert len(receiver.requests) == 3
    # Another delivery of the same payload is a different delivery.
    assert deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append).delivery_id != delivery.delivery_id


def test_backoff_doubles_up_to_the_cap_then_gives_up(receiver: Receiver, waits: list[float]) -> None:
    receiver.answer(*[Reply(500, b"boom")] * 5)
    policy = RetryPolicy(attempts=5, backoff_seconds=1.0, max_backoff_seconds=3.0, jitter=0.0)

    delivery = deliver(receiver.url, ALERT, policy=policy, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 5, 500)
    assert waits == [1.0, 2.0, 3.0, 3.0]
    assert delivery.error == "gave up after 5 attempts: HTTP 500: boom"
    assert len(receiver.requests) == 5


def test_jitter_stays_within_its_fraction_and_the_cap() -> None:
    policy = RetryPolicy(backoff_seconds=1.0, max_backoff_seconds=4.0, jitter=0.1)
    first = [policy.backoff(0) for _ in range(200)]
    assert all(0.9 <= wait <= 1.1 for wait in first)
    assert len(set(first)) > 1
    assert all(policy.backoff(retry) <= 4.0 for retry in range(1, 200))


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("7", 7.0), ("0", 0.0), ("120", 30.0), ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0), ("soon", 0.5)],
)
def test_retry_after_is_honoured_up_to_the_cap(
    receiver: Receiver, waits: list[float], retry_after: str, expected: float
) -> None:
    receiver.answer(Reply(429, b"slow down", {"Retry-After": retry_after}), Reply(200))

    delivery = deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts) == (True, 2)
    assert waits == [expected]


@pytest.mark.parametrize("status", [408, 425])
def test_request_timeout_and_too_early_are_retried(receiver: Receiver, waits: list[float], status: int) -> None:
    receiver.answer(Reply(status), Reply(204, b""))
    delivery = deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append)
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (True, 2, 204)


def test_a_client_error_is_not_retried(receiver: Receiver, waits: list[float]) -> None:
    receiver.answer(Reply(400, b'{"detail": "field \'severity\' must be one of info, warning"}' + b"x" * 500))

    delivery = deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 1, 400)
    assert delivery.error is not None
    assert delivery.error.startswith('HTTP 400: {"detail": "field \'severity\' must be one of')
    assert len(delivery.error) == len("HTTP 400: ") + 200
    assert waits == []
    assert len(receiver.requests) == 1


def test_a_redirect_is_reported_not_followed(receiver: Receiver, waits: list[float]) -> None:
    receiver.answer(Reply(308, b"", {"Location": "https://elsewhere.example.com/new/s3cret"}))
    # Even a client configured to follow redirects does not follow them for a webhook.
    with httpx.Client(follow_redirects=True) as client:
        delivery = deliver(receiver.url, ALERT, policy=FAST, client=client, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 1, 308)
    assert delivery.error == (
        "HTTP 308: redirected to https://elsewhere.example.com/…; configure the final URL instead"
    )
    assert len(receiver.requests) == 1


def test_a_timeout_counts_as_an_attempt_and_is_retried(receiver: Receiver, waits: list[float]) -> None:
    receiver.answer(Reply(200, delay=5.0), Reply(200))
    policy = RetryPolicy(attempts=3, backoff_seconds=0.5, timeout_seconds=0.2, jitter=0.0)

    delivery = deliver(receiver.url, ALERT, policy=policy, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (True, 2, 200)
    assert waits == [0.5]
    assert [request.headers["x-mlpilot-delivery"] for request in receiver.requests] == [delivery.delivery_id] * 2


def test_a_timeout_on_every_attempt_is_reported(receiver: Receiver, waits: list[float]) -> None:
    receiver.answer(Reply(200, delay=5.0), Reply(200, delay=5.0))
    policy = RetryPolicy(attempts=2, backoff_seconds=0.5, timeout_seconds=0.2, jitter=0.0)

    delivery = deliver(receiver.url, ALERT, policy=policy, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 2, None)
    assert delivery.error == "gave up after 2 attempts: timed out after 0.2s (ReadTimeout)"


def test_a_refused_connection_gives_up_after_all_attempts(waits: list[float]) -> None:
    url = f"http://127.0.0.1:{_unused_port()}/hook"
    policy = RetryPolicy(attempts=3, backoff_seconds=0.25, jitter=0.0)

    delivery = deliver(url, ALERT, policy=policy, sleep=waits.append)

    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 3, None)
    assert waits == [0.25, 0.5]
    assert delivery.error is not None
    assert delivery.error.startswith("gave up after 3 attempts: could not reach the receiver: ")
    assert "refused" in delivery.error.lower()
    assert "\n" not in delivery.error
    assert "Traceback" not in delivery.error


def test_the_signature_is_an_hmac_of_the_exact_body(receiver: Receiver, waits: list[float]) -> None:
    secret = "whsec-Ø-42"
    deliver(receiver.url, ALERT, policy=FAST, secret=secret, sleep=waits.append)

    [request] = receiver.requests
    scheme, _, signature = request.headers["x-mlpilot-signature"].partition("=")
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert scheme == "sha256"
    assert hmac.compare_digest(signature, expected)
    wrong = hmac.new(b"another secret", request.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(signature, wrong)


def test_failed_attempts_are_logged_as_warnings_without_the_url_token(
    receiver: Receiver, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    receiver.answer(Reply(503), Reply(200))
    with caplog.at_level(logging.WARNING, logger="mlpilot.monitoring.webhooks"):
        deliver(receiver.url, ALERT, policy=FAST, sleep=waits.append)

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "attempt 1/5 failed: HTTP 503" in record.getMessage()
    assert "t0ken-123" not in record.getMessage()


@pytest.mark.parametrize(
    "url", ["ftp://x", "not a url", "http://", "", "https:///path", "http://exa mple.com/", "http://host:99999/"]
)
def test_a_bad_url_is_invalid_input_with_a_hint(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_webhook_url(url)
    assert "https://" in caught.value.hint


@pytest.mark.parametrize("url", ["https://hooks.example.com/mlpilot", "http://127.0.0.1:8080/h?x=1", "http://[::1]/"])
def test_a_good_url_is_returned(url: str) -> None:
    assert check_webhook_url(f"  {url} ") == url


def test_deliver_reports_a_bad_url_instead_of_raising(waits: list[float]) -> None:
    delivery = deliver("ftp://x", ALERT, sleep=waits.append)
    assert (delivery.delivered, delivery.attempts) == (False, 0)
    assert delivery.error is not None
    assert "http or https" in delivery.error


def test_a_payload_that_is_not_json_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        deliver("http://127.0.0.1:9/", {"when": object()})


@pytest.mark.parametrize(
    "options",
    [{"attempts": 0}, {"backoff_seconds": -1.0}, {"timeout_seconds": 0.0}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_a_nonsensical_policy_is_invalid_input(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        RetryPolicy(**options)


class Results:
    """on_result for a WebhookSender: collects what it reports, and lets a test wait for it."""

    def __init__(self) -> None:
        self.items: list[tuple[Delivery, Mapping[str, Any]]] = []
        self.changed = threading.Condition()

    def __call__(self, delivery: Delivery, payload: Mapping[str, Any]) -> None:
        with self.changed:
            self.items.append((delivery, payload))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.items) >= count, timeout)


def test_the_sender_delivers_in_the_background_and_close_drains(receiver: Receiver) -> None:
    release = threading.Event()
    receiver.answer(Reply(200, hold=release))
    results = Results()
    sender = WebhookSender(FAST, on_result=results)
    payloads = [{"n": n} for n in range(3)]

    for payload in payloads:
        sender.submit(receiver.url, payload, secret="s")
    # The receiver holds the first request, and submit has returned for all three.
    receiver.wait_for_requests(1)
    assert results.items == []

    release.set()
    sender.close(timeout=10)

    assert [payload for _, payload in results.items] == payloads
    assert all(delivery.delivered for delivery, _ in results.items)
    assert [orjson.loads(request.body) for request in receiver.requests] == payloads


def test_the_sender_retries_in_the_background(receiver: Receiver) -> None:
    receiver.answer(Reply(503), Reply(200))
    results = Results()
    with WebhookSender(RetryPolicy(backoff_seconds=0.01, jitter=0.0), on_result=results) as sender:
        sender.submit(receiver.url, ALERT)
    [(delivery, payload)] = results.items
    assert (delivery.delivered, delivery.attempts, payload) == (True, 2, ALERT)


def test_close_waits_a_bounded_time_and_abandons_the_rest(receiver: Receiver) -> None:
    release = threading.Event()
    receiver.answer(Reply(200, hold=release))
    results = Results()
    sender = WebhookSender(FAST, on_result=results)
    sender.submit(receiver.url, {"n": 0})
    sender.submit(receiver.url, {"n": 1})
    receiver.wait_for_requests(1)

    started = time.monotonic()
    sender.close(timeout=0.2)
    assert time.monotonic() - started < 3  # generous: the point is that it does not wait for the receiver

    release.set()
    results.wait_for(2)
    (first, _), (second, _) = results.items
    assert first.delivered  # the attempt in flight completes
    assert not second.delivered
    assert second.attempts == 0
    assert second.error == "abandoned: the sender closed before it was sent"
    assert len(receiver.requests) == 1


def test_close_interrupts_a_backoff(receiver: Receiver) -> None:
    receiver.answer(*[Reply(503)] * 5)
    results = Results()
    sender = WebhookSender(RetryPolicy(backoff_seconds=30.0, jitter=0.0), on_result=results)
    sender.submit(receiver.url, ALERT)
    receiver.wait_for_requests(1)

    sender.close(timeout=0.2)

    results.wait_for(1)
    [(delivery, _)] = results.items
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 1, 503)
    assert delivery.error == "abandoned when the sender closed, after 1 attempt: HTTP 503: ok"
    assert len(receiver.requests) == 1


def test_submit_after_close_is_an_error(receiver: Receiver) -> None:
    sender = WebhookSender(FAST)
    sender.close()
    sender.close()  # idempotent
    with pytest.raises(MlpilotError, match="closed"):
        sender.submit(receiver.url, ALERT)


def test_a_full_queue_drops_and_reports_without_blocking(receiver: Receiver) -> None:
    release = threading.Event()
    receiver.answer(Reply(200, hold=release))
    results = Results()
    sender = WebhookSender(FAST, on_result=results, max_pending=1)
    sender.submit(receiver.url, {"n": 0})
    receiver.wait_for_requests(1)  # the worker holds n=0, so the queue is empty
    sender.submit(receiver.url, {"n": 1})
    sender.submit(receiver.url, {"n": 2})

    [(dropped, payload)] = results.items
    assert payload == {"n": 2}
    assert not dropped.delivered
    assert dropped.error == "dropped: 1 deliveries were already pending"

    release.set()
    sender.close(timeout=10)
    assert sorted(payload["n"] for delivery, payload in results.items if delivery.delivered) == [0, 1]


def test_a_failing_callback_does_not_stop_the_sender(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Mapping[str, Any]] = []

    def on_result(delivery: Delivery, payload: Mapping[str, Any]) -> None:
        seen.append(payload)
        if len(seen) == 1:
            raise RuntimeError("callback bug")

    with WebhookSender(FAST, on_result=on_result) as sender:
        sender.submit(receiver.url, {"n": 0})
        sender.submit(receiver.url, {"n": 1})
    assert seen == [{"n": 0}, {"n": 1}]
    assert "on_result callback" in caplog.text
