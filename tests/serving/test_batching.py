"""Micro-batching: concurrent requests share model calls, each gets exactly its own answers, a
bad request never fails its batch-mates, and a slow model does not block the event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pandas as pd

from tests.models.custom_model import FragileModel
from tests.serving.conftest import ServingServer, Store, cancer_frame


def _metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_concurrent_requests_are_batched_and_each_gets_its_own_rows(
    store: Store, cancer_model: Any, serve: Any
) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    expected = cancer_model.predict(frame).tolist()
    records = frame.to_dict(orient="records")

    async def one(http: httpx.AsyncClient, start: int, size: int) -> tuple[int, list[Any]]:
        response = await http.post("/v1/deployments/cancer/predict", json={"instances": records[start : start + size]})
        assert response.status_code == 200, response.text
        return start, response.json()["predictions"]

    async def burst() -> list[tuple[int, list[Any]]]:
        headers = {"Authorization": f"Bearer {store.predict_key}"}
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=30) as http:
            jobs = [one(http, start, 1 + index % 3) for index, start in enumerate(range(0, 501, 3))]
            return await asyncio.gather(*jobs)

    for start, predictions in asyncio.run(burst()):
        assert predictions == expected[start : start + len(predictions)]
    with server.http(store.read_key) as http:
        metrics = http.get("/metrics").text
    calls = _metric(metrics, 'mlpilot_batch_size_count{deployment="cancer"')
    rows = _metric(metrics, 'mlpilot_batch_size_sum{deployment="cancer"')
    assert rows == sum(1 + index % 3 for index in range(167))  # every row went through one model call
    assert calls < 167, "some requests shared a model call"


def test_bad_requests_in_a_mixed_load_never_fail_good_ones(store: Store, cancer_model: Any, serve: Any) -> None:
    server: ServingServer = serve("cancer@production")
    frame, _ = cancer_frame()
    good = frame.head(1).to_dict(orient="records")
    bad_bodies: list[dict[str, Any]] = [
        {"content": b"{oops", "headers": {"Content-Type": "application/json"}},
        {"json": {"instances": [{**good[0], "mean_radius": "big"}]}},
        {"json": {"instances": [{"nothing": 1}]}},
        {"json": {"instances": []}},
        {"json": {"instances": [{**good[0], "mean_area": None}]}},
    ]

    async def run() -> list[tuple[bool, int]]:
        headers = {"Authorization": f"Bearer {store.predict_key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:

            async def call(index: int) -> tuple[bool, int]:
                if index % 4 == 3:
                    body = bad_bodies[index % len(bad_bodies)]
                    response = await http.post("/v1/deployments/cancer/predict", **body)
                    return False, response.status_code
                response = await http.post("/v1/deployments/cancer/predict", json={"instances": good})
                return True, response.status_code

            return await asyncio.gather(*(call(index) for index in range(400)))

    results = asyncio.run(run())
    good_statuses = {status for is_good, status in results if is_good}
    bad_statuses = {status for is_good, status in results if not is_good}
    assert good_statuses == {200}
    assert bad_statuses <= {400, 422} and bad_statuses


def test_a_model_failing_on_some_rows_of_a_batch_fails_only_their_requests(store: Store, serve: Any) -> None:
    # Numeric rows take the matrix fast path; a model error there is isolated request by request.
    store.register(FragileModel(delay=0.01), pd.DataFrame({"x": [1.0, 2.0, 3.0]}), "fragile")
    server: ServingServer = serve("fragile@production")

    async def run() -> list[tuple[float, int, Any]]:
        headers = {"Authorization": f"Bearer {store.predict_key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:

            async def call(index: int) -> tuple[float, int, Any]:
                x = -float(index) if index % 5 == 4 else float(index)
                response = await http.post(
                    "/v1/deployments/fragile/predict", json={"instances": [{"x": x}, {"x": 1.0}]}
                )
                return x, response.status_code, response.json()

            return await asyncio.gather(*(call(index) for index in range(60)))

    results = asyncio.run(run())
    for x, status, body in results:
        if x < 0:
            assert status == 500 and body["error"]["code"] == "MODEL_ERROR"
            assert "secret" not in str(body)
        else:
            assert status == 200, body
            assert body["predictions"] == [2 * x, 2.0]
            assert len(set(body["prediction_ids"])) == 2
    with server.http(store.read_key) as http:
        metrics = http.get("/metrics").text
    calls = _metric(metrics, 'mlpilot_batch_size_count{deployment="fragile"')
    assert calls < 60, "the requests were batched, so the failures were isolated within batches"


def test_a_slow_model_does_not_block_health_checks_or_other_requests(store: Store, serve: Any) -> None:
    store.register(FragileModel(delay=0.5), pd.DataFrame({"x": [1.0, 2.0]}), "slow")
    server: ServingServer = serve("slow@production")

    async def run() -> tuple[float, float, int]:
        headers = {"Authorization": f"Bearer {store.predict_key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            slow = asyncio.ensure_future(http.post("/v1/deployments/slow/predict", json={"instances": [{"x": 1.0}]}))
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            health = await http.get("/healthz")
            health_seconds = time.perf_counter() - started
            assert health.status_code == 200
            response = await slow
            return health_seconds, time.perf_counter() - started, response.status_code

    health_seconds, _, status = asyncio.run(run())
    assert status == 200
    assert health_seconds < 0.3, "the event loop was blocked by the model"
