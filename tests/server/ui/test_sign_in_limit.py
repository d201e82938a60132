"""Failed sign-ins are throttled per client address (the platform's token bucket) and audited
without the key; a throttled client is refused before its key is checked."""

from __future__ import annotations

import httpx
import pytest

from mlpilot.errors import RateLimited
from mlpilot.security.audit import list_audit
from mlpilot.security.rate_limit import RateLimiter
from mlpilot.server.ui.signin import SIGN_IN_BURST
from tests.server.ui.conftest import Filled, sign_in

# Another loopback address, so this client's bucket is not the one every other test signs in from.
GUESSER = "127.0.0.2"


def test_failed_sign_ins_are_throttled_then_refused_with_429(filled: Filled) -> None:
    guess = "mlp_notarealkey_" + "x" * 20
    transport = httpx.HTTPTransport(local_address=GUESSER)
    with httpx.Client(base_url=filled.url, headers={"Origin": filled.url}, transport=transport) as http:
        statuses = []
        for _ in range(SIGN_IN_BURST + 5):
            response = http.post("/login", data={"key": guess})
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[:SIGN_IN_BURST] == [401] * SIGN_IN_BURST, statuses
        assert statuses[-1] == 429
        assert response.headers["content-type"].startswith("text/html")
        assert int(response.headers["retry-after"]) >= 1
        assert f"too many failed sign-ins from {GUESSER}; try again in" in response.text
        # While throttled even the right key is not tried: guessing gains nothing.
        right = http.post("/login", data={"key": filled.reader_key})
        assert right.status_code == 429 and "set-cookie" not in right.headers
    with sign_in(filled.url, filled.reader_key) as other:  # 127.0.0.1 signs in as before
        assert other.get("/experiments").status_code == 200

    failed = [entry for entry in list_audit(filled.db, limit=1000) if entry.action == "ui.login_failed"]
    mine = [entry for entry in failed if entry.actor == f"client:{GUESSER}"]
    assert len(mine) == SIGN_IN_BURST  # failures, not the refusals that followed them
    assert {entry.target for entry in mine} == {"/login: unauthenticated"}
    for entry in failed:
        assert guess not in f"{entry.key_name} {entry.actor} {entry.target}"
        assert filled.reader_key not in f"{entry.key_name} {entry.actor} {entry.target}"


def test_a_key_without_read_is_audited_by_name(filled: Filled) -> None:
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(base_url=filled.url, headers={"Origin": filled.url}, transport=transport) as http:
        assert http.post("/login", data={"key": filled.predict_key}).status_code == 403
    entry = next(e for e in list_audit(filled.db, limit=1000) if e.actor == "client:127.0.0.3")
    assert (entry.action, entry.key_name, entry.target) == ("ui.login_failed", "predictor", "/login: permission_denied")
    assert filled.predict_key not in entry.target


def test_checking_the_bucket_spends_nothing() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1 / 6, burst=2, clock=lambda: now[0])
    for _ in range(5):
        limiter.check("client")  # looking is free: a success never spends
    limiter.take("client")
    limiter.take("client")
    with pytest.raises(RateLimited) as refused:
        limiter.check("client")
    assert refused.value.retry_after == pytest.approx(6.0)
    now[0] = 6.0
    limiter.check("client")  # one failure's worth has come back
