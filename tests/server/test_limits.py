"""Request limits on a real server: body size (413), rate (429 + Retry-After), page size caps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mlpilot
from mlpilot.errors import PayloadTooLarge, RateLimited
from mlpilot.server.limits import RateLimiter, is_upload
from tests.conftest import LiveServer


@pytest.fixture
def tight_server(sqlite_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[LiveServer]:
    server = LiveServer(
        sqlite_uri,
        str(tmp_path / "artifacts"),
        tmp_path / "home",
        # Above what creating a run sends (its environment lists every installed package).
        server_max_body_bytes=16_384,
        server_max_upload_bytes=40_000,
        server_rate_limit=5,
        server_rate_burst=20,
        server_max_results=3,
    )
    server.start()
    yield server
    server.stop()


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_json_body_over_the_limit_is_413_and_stores_nothing(tight_server: LiveServer) -> None:
    with mlpilot.connect(tight_server.url, api_key=tight_server.admin_key) as client:
        run = client.create_run("limits")
        with pytest.raises(PayloadTooLarge, match="16,384 bytes"):
            client.log_params(run.id, {f"p{i}": "x" * 200 for i in range(100)})
        assert client.get_run(run.id).params == {}
    # Declared length and a chunked body without one are both refused.
    response = httpx.post(
        f"{tight_server.url}/api/v1/runs/{run.id}/params",
        content=b"{" + b" " * 20_000 + b"}",
        headers={**_headers(tight_server.admin_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    def chunks() -> Iterator[bytes]:
        yield b'{"params": {"a": "'
        for _ in range(40):
            yield b"y" * 500
        yield b'"}}'

    response = httpx.post(
        f"{tight_server.url}/api/v1/runs/{run.id}/params",
        content=chunks(),
        headers={**_headers(tight_server.admin_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_uploads_have_their_own_larger_limit(tight_server: LiveServer) -> None:
    with mlpilot.connect(tight_server.url, api_key=tight_server.admin_key) as client:
        run = client.create_run("limits")
        entry = client.log_bytes(run.id, b"z" * 20_000, "ok.bin")  # over the JSON limit, under the upload one
        assert entry.size == 20_000
        with pytest.raises(PayloadTooLarge):
            client.log_bytes(run.id, b"z" * 50_000, "big.bin")
        assert [item.path for item in client.list_artifacts(run.id)] == ["ok.bin"]


def test_is_upload_matches_only_upload_routes() -> None:
    assert is_upload("PUT", "/api/v1/runs/abc/artifacts/model/model.pkl")
    assert is_upload("POST", "/api/v1/datasets/raw/churn/versions")
    assert not is_upload("GET", "/api/v1/runs/abc/artifacts/model/model.pkl")
    assert not is_upload("POST", "/api/v1/runs/abc/params")


def test_rate_limit_answers_429_with_retry_after(tight_server: LiveServer) -> None:
    statuses = []
    with httpx.Client(base_url=tight_server.url, headers=_headers(tight_server.admin_key)) as http:
        for _ in range(40):
            response = http.get("/api/v1/experiments")
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "RATE_LIMITED"
                assert int(response.headers["Retry-After"]) >= 1
                # The body says exactly when (a token frees every 0.2 s at 5 per second).
                assert 0 < response.json()["error"]["retry_after"] <= 0.2
                break
        assert 429 in statuses
        # Health checks are never rate limited.
        assert http.get("/healthz").status_code == 200


def test_the_client_waits_out_a_rate_limit(tight_server: LiveServer) -> None:
    with mlpilot.connect(tight_server.url, api_key=tight_server.admin_key) as client:
        for _ in range(30):  # past the burst of 20: the client sleeps for Retry-After and retries
            client.list_experiments()


def test_rate_limiter_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    for _ in range(3):
        limiter.take("k")
    with pytest.raises(RateLimited) as refused:
        limiter.take("k")
    assert refused.value.retry_after == pytest.approx(0.5)
    limiter.take("other")  # buckets are per key
    now[0] += 0.5
    limiter.take("k")
    RateLimiter(rate=0, burst=1).take("k")  # a rate of 0 turns limiting off


def test_search_pages_are_capped_and_continue_by_token(tight_server: LiveServer) -> None:
    with mlpilot.connect(tight_server.url, api_key=tight_server.admin_key) as client:
        for index in range(7):
            client.end_run(client.create_run("paged", name=f"r{index}").id)
        first = client.search_runs("paged", max_results=1000)
        assert len(first) == 3 and first.next_page_token
        seen = [run.name for run in first]
        token = first.next_page_token
        while token:
            page = client.search_runs("paged", max_results=1000, page_token=token)
            seen += [run.name for run in page]
            token = page.next_page_token
        assert sorted(seen) == [f"r{index}" for index in range(7)]
