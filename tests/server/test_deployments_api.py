"""Deployments through the platform server: managed over /api/v1/deployments (the remote client),
served on the same port at /v1/deployments/{name}/predict, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import mlpilot
from mlpilot.errors import Conflict, InvalidInput, NotFound
from tests.conftest import LiveServer


def _register(client: Any, target_flip: bool) -> int:
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    frame.columns = [name.replace(" ", "_") for name in frame.columns]
    model = LogisticRegression(max_iter=5000).fit(frame, 1 - target if target_flip else target)
    with client.start_run(experiment="deploy") as run:
        client.log_model(run.id, model, "model", input_example=frame.head(3))
    return client.register_model(run.id, "model", "cancer").version


def _served_version(http: httpx.Client, timeout: float = 5.0, expected: int | None = None) -> int:
    frame, _ = load_breast_cancer(return_X_y=True, as_frame=True)
    frame.columns = [name.replace(" ", "_") for name in frame.columns]
    row = frame.head(1).to_dict("records")
    deadline = time.monotonic() + timeout
    while True:
        response = http.post("/v1/deployments/churn-api/predict", json={"instances": row})
        if response.status_code == 200:
            version: int = response.json()["version"]
            if expected is None or version == expected:
                return version
        if time.monotonic() > deadline:
            raise AssertionError(f"not served as expected: {response.status_code} {response.text[:200]}")
        time.sleep(0.05)


def test_deploy_predict_roll_back_and_promote_through_the_server(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        first = _register(client, target_flip=False)
        second = _register(client, target_flip=True)
        client.set_alias("cancer", "production", first)
        created = client.create_deployment("churn-api", "cancer@production", config={"max_batch_size": 64})
        assert (created.name, str(created.target), created.config) == (
            "churn-api",
            "@production",
            {"max_batch_size": 64},
        )
        assert [deployment.name for deployment in client.list_deployments()] == ["churn-api"]
        _, predictor = client.create_api_key("scorer", "predict")
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {predictor}"}) as http:
            assert _served_version(http) == first
            client.set_alias("cancer", "production", second)
            assert _served_version(http, expected=second) == second
            rolled = client.rollback_deployment("churn-api")
            assert rolled.pinned_version == first
            assert client.deployment_traffic("churn-api").pinned
            assert _served_version(http, expected=first, timeout=1.5) == first
            client.update_deployment("churn-api", model="cancer@production", canary=(first, 0.5))
            client.promote_deployment("churn-api")
            assert _served_version(http, expected=first) == first
        actions = [event.action for event in client.deployment_events("churn-api")]
        assert actions[-1] == "created" and "rolled_back" in actions and "promoted" in actions
        with pytest.raises(Conflict):
            client.create_deployment("churn-api", "cancer@production")
        with pytest.raises(NotFound):
            client.create_deployment("other", "cancer@nope")
        with pytest.raises(InvalidInput):
            client.create_deployment("other", "cancer@production", canary=("challenger", 1.5))
        client.delete_deployment("churn-api")
        assert client.list_deployments() == []


def test_deployment_routes_need_the_deploy_scope(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as admin:
        _, reader = admin.create_api_key("reader", "read")
    with mlpilot.connect(live_server.url, api_key=reader) as client:
        assert client.list_deployments() == []
        with pytest.raises(mlpilot.MlpilotError, match="lacks the 'deploy' scope"):
            client.create_deployment("churn-api", "cancer@production")


def test_patch_changes_only_what_it_names(live_server: LiveServer) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        first = _register(client, target_flip=False)
        client.set_alias("cancer", "production", first)
        client.create_deployment("churn-api", "cancer@production", canary=(first, 0.2), config={"max_batch_size": 8})
    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    with httpx.Client(base_url=f"{live_server.url}/api/v1/deployments", headers=headers) as http:
        kept = http.patch("/churn-api", json={"model": None})
        assert kept.status_code == 200, kept.text
        assert kept.json()["target"] == {"alias": "production", "version": None}
        assert kept.json()["canary"]["weight"] == 0.2 and kept.json()["config"] == {"max_batch_size": 8}
        cleared = http.patch("/churn-api", json={"canary": None, "config": None}).json()
        assert cleared["canary"] is None and cleared["config"] == {}
        assert cleared["target"] == {"alias": "production", "version": None}
        refused = http.patch("/churn-api", json={"modle": "cancer/1"})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "INVALID_REQUEST"
        weight = http.patch("/churn-api", json={"canary": {"target": first, "weight": 2}})
        assert weight.status_code == 400 and "weight" in weight.json()["error"]["message"]
