"""Stored deployments: served by name, canary splits (sticky by routing key), shadows whose answers
are only logged, and a rollback that pins the previous version within a second."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot import deployments as deployment_service
from tests.serving.conftest import ServingServer, Store, cancer_frame

PREDICT = "/v1/deployments/churn-api/predict"


@pytest.fixture
def two_versions(store: Store) -> tuple[int, int]:
    frame, target = cancer_frame()
    first = store.register(LogisticRegression(max_iter=5000).fit(frame, target), frame, "cancer")
    second = store.register(
        LogisticRegression(max_iter=5000).fit(frame, 1 - target), frame, "cancer", alias="challenger"
    )
    return first, second


def _wait_for(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the servers did not pick up the change in time")
        time.sleep(0.05)


def _versions(http: httpx.Client, count: int, routing_key: str | None = None) -> Counter[int]:
    frame, _ = cancer_frame()
    row = frame.head(1).to_dict("records")
    headers = {"X-Routing-Key": routing_key} if routing_key else {}
    seen: Counter[int] = Counter()
    for _ in range(count):
        response = http.post(PREDICT, json={"instances": row}, headers=headers)
        assert response.status_code == 200, response.text
        seen[response.json()["version"]] += 1
    return seen


def test_a_stored_deployment_is_served_and_new_ones_appear(store: Store, two_versions: Any, serve: Any) -> None:
    deployment_service.create_deployment(store.client.db, "churn-api", "cancer@production", actor="test")
    server: ServingServer = serve(None)
    with server.http(store.predict_key) as http:
        assert _versions(http, 3) == Counter({1: 3})
        deployment_service.create_deployment(store.client.db, "second", "cancer/2", actor="test")
        _wait_for(lambda: http.post("/v1/deployments/second/predict", json={"instances": []}).status_code == 400)
        deployment_service.delete_deployment(store.client.db, "second", actor="test")
        _wait_for(lambda: http.post("/v1/deployments/second/predict", json={"instances": []}).status_code == 404)
    with server.http(store.read_key) as http:
        listed = http.get("/v1/deployments").json()["deployments"]
    assert [(item["name"], item["primary"], item["ready"]) for item in listed] == [("churn-api", 1, True)]


def test_canary_split_and_sticky_routing(store: Store, two_versions: Any, serve: Any) -> None:
    deployment_service.create_deployment(
        store.client.db, "churn-api", "cancer@production", canary={"target": "challenger", "weight": 0.3}, actor="test"
    )
    server: ServingServer = serve(None)
    with server.http(store.predict_key) as http:
        seen = _versions(http, 300)
        assert 40 <= seen[2] <= 150, seen  # 30 % of 300, with plenty of room for chance
        for key in ("customer-1", "customer-2", "customer-3", "customer-4"):
            assert len(_versions(http, 10, routing_key=key)) == 1, "a routing key sticks to one side"
        response = http.post(PREDICT, json={"instances": cancer_frame()[0].head(1).to_dict("records")})
        role = response.headers["X-Deployment-Role"]
        assert role == ("canary" if response.json()["version"] == 2 else "primary")


def test_shadow_answers_are_logged_never_returned(store: Store, two_versions: Any, serve: Any) -> None:
    deployment_service.create_deployment(
        store.client.db, "churn-api", "cancer@production", shadow={"target": 2, "share": 1.0}, actor="test"
    )
    server: ServingServer = serve(None)
    with server.http(store.predict_key) as http:
        assert _versions(http, 20) == Counter({1: 20})
    server.stop()
    logged = store.client.predictions("churn-api")
    roles = Counter(zip(logged["role"], logged["version"], strict=True))
    assert roles == Counter({("primary", 1): 20, ("shadow", 2): 20})
    primary = logged[logged["role"] == "primary"].set_index("request_id")["prediction"]
    shadow = logged[logged["role"] == "shadow"].set_index("request_id")["prediction"]
    assert (primary.sort_index() != shadow.sort_index()).all(), "the shadow model answers differently"


def test_rollback_pins_the_previous_version_within_a_second(store: Store, two_versions: Any, serve: Any) -> None:
    first, second = two_versions
    deployment_service.create_deployment(store.client.db, "churn-api", "cancer@production", actor="test")
    server: ServingServer = serve(None)
    with server.http(store.predict_key) as http:
        store.client.set_alias("cancer", "production", second)
        _wait_for(lambda: _versions(http, 1) == Counter({second: 1}))
        rolled = time.monotonic()
        deployment_service.rollback_deployment(store.client.db, "churn-api", actor="test")
        _wait_for(lambda: _versions(http, 1) == Counter({first: 1}), timeout=1.0)
        assert time.monotonic() - rolled < 1.0
        assert _versions(http, 20) == Counter({first: 20})


def test_promote_moves_all_traffic_to_the_canary(store: Store, two_versions: Any, serve: Any) -> None:
    deployment_service.create_deployment(
        store.client.db, "churn-api", "cancer@production", canary={"target": "challenger", "weight": 0.2}, actor="test"
    )
    server: ServingServer = serve(None)
    with server.http(store.predict_key) as http:
        deployment_service.promote_deployment(store.client.db, "churn-api", actor="test")
        _wait_for(lambda: _versions(http, 5) == Counter({2: 5}))
        assert _versions(http, 30) == Counter({2: 30})


def test_a_deployments_batch_size_override_is_applied(store: Store, two_versions: Any, serve: Any) -> None:
    import asyncio

    deployment_service.create_deployment(
        store.client.db, "churn-api", "cancer@production", config={"max_batch_size": 1}, actor="test"
    )
    server: ServingServer = serve(None)
    row = cancer_frame()[0].head(1).to_dict("records")

    async def burst() -> list[int]:
        headers = {"Authorization": f"Bearer {store.predict_key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            responses = await asyncio.gather(*(http.post(PREDICT, json={"instances": row}) for _ in range(60)))
        return [response.status_code for response in responses]

    assert set(asyncio.run(burst())) == {200}
    with server.http(store.read_key) as http:
        text = http.get("/metrics").text
    count = sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("mlpilot_batch_size_count"))
    rows = sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("mlpilot_batch_size_sum"))
    assert count == rows == 60, "every model call held one row"
