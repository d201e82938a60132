"""Monitors through the platform server (/api/v1/monitors, /api/v1/alerts and a version's
/reference), over plain HTTP, on SQLite and PostgreSQL: the whole life of a monitor against a real
prediction log and a webhook receiver on loopback, bad input refused with JSON errors that leave the
store as it was, scopes enforced, and the webhook secret never in a response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mlpilot
from mlpilot.monitoring.monitors import get_monitor
from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter, new_prediction_id
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from tests.conftest import LiveServer, Receiver

SECRET = "hook-secret-5d1c7e"
DEPLOYMENT = "churn-api"
MINUTE = 60_000
CONFIG: dict[str, Any] = {
    "window": "1h",
    "conditions": {"drift_share": 0.5, "features": ["tenure"], "latency_p99_ms": 50},
}


# a model, a deployment and its prediction log --------------------------------------------------


def customers(rows: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"tenure": rng.normal(24, 6, size=rows) + shift, "charges": rng.normal(70, 10, size=rows)})


def churned(frame: pd.DataFrame) -> np.ndarray:
    return (frame["tenure"] > 24).astype(int).to_numpy()


def register_churn(client: Any, *, with_training_data: bool = True) -> tuple[int, LogisticRegression]:
    """A new version of ``churn`` whose run read its training data (role "train") unless told not to."""
    train = customers(2_000, np.random.default_rng(0))
    model = LogisticRegression().fit(train, churned(train))
    with client.start_run("monitoring") as run:
        if with_training_data:
            run.log_dataset(train, "churn-train", role="train")
        run.log_model(model, "model", input_example=train.head(2))
    return client.register_model(run.id, "model", "churn").version, model


def log_predictions(
    root: str, model: LogisticRegression, rows: int, *, shift: float = 0.0, version: int = 1, seed: int = 1
) -> list[str]:
    """``rows`` predictions of ``DEPLOYMENT`` spread over the last half hour, in the log at ``root``."""
    frame = customers(rows, np.random.default_rng(seed), shift)
    ids = [new_prediction_id() for _ in range(rows)]
    start = now_ms() - 30 * MINUTE
    writer = PredictionLogWriter(root)
    writer.append(
        DEPLOYMENT,
        PredictionBatch(
            model="churn",
            version=version,
            role="primary",
            inputs=frame,
            predictions=model.predict(frame),
            prediction_ids=ids,
            request_ids=ids,
            latency_ms=np.full(rows, 4.0),
            time_ms=start + np.arange(rows) * (20 * MINUTE // rows),
            probabilities=model.predict_proba(frame),
            classes=[0, 1],
        ),
    )
    writer.close()
    return ids


# plain HTTP --------------------------------------------------------------------------------------


class Api:
    """httpx on /api/v1 with one key, keeping every response to check none carries the secret."""

    def __init__(self, server: LiveServer, key: str) -> None:
        self.http = httpx.Client(
            base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        self.seen: list[httpx.Response] = []

    def __call__(self, method: str, path: str, **options: Any) -> httpx.Response:
        response = self.http.request(method, path, **options)
        self.seen.append(response)
        assert response.status_code < 500, response.text
        return response

    def ok(self, method: str, path: str, status: int = 200, **options: Any) -> Any:
        response = self(method, path, **options)
        assert response.status_code == status, response.text
        return None if status == 204 else response.json()

    def error(self, method: str, path: str, status: int, **options: Any) -> dict[str, Any]:
        response = self(method, path, **options)
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["error"]
        assert error.keys() >= {"code", "message", "hint"}
        return error

    def every(self, path: str, field: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
        """Every record of a listing, following ``next_page_token``; and the number of pages."""
        records: list[dict[str, Any]] = []
        token, pages = None, 0
        while True:
            page = self.ok("GET", path, params={**params, **({"page_token": token} if token else {})})
            records.extend(page[field])
            pages += 1
            token = page["next_page_token"]
            if token is None:
                return records, pages

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[Api]:
    opened = Api(live_server, live_server.admin_key)
    yield opened
    opened.close()
    for response in opened.seen:
        assert SECRET not in response.text, f"{response.request.method} {response.request.url} showed the secret"


@pytest.fixture
def churn(live_server: LiveServer) -> LogisticRegression:
    """Version 1 of ``churn`` registered (its reference fitted on registration) and deployed."""
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        version, model = register_churn(client)
        client.create_deployment(DEPLOYMENT, f"churn/{version}")
    return model


def test_a_monitor_lives_through_the_api(
    live_server: LiveServer, api: Api, churn: LogisticRegression, receiver: Receiver
) -> None:
    config = {**CONFIG, "webhooks": [receiver.url], "webhook_secret": SECRET}
    created = api.ok("POST", "/monitors", 201, json={"name": "watch", "deployment": DEPLOYMENT, "config": config})
    assert created["name"] == "watch" and created["deployment"] == DEPLOYMENT and created["enabled"] is True
    assert created["config"]["webhook_secret"] == "***"
    assert created["config"]["webhooks"] == [receiver.url]
    assert created["config"]["conditions"]["features"] == ["tenure"] and created["last_run_at"] is None
    assert created["created_by"] == "key:bootstrap-admin"

    # Listing: by name, paged like every listing, filtered by deployment.
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        client.create_deployment("other-api", "churn/1")
    for name in ("b-quiet", "a-quiet", "c-quiet"):
        api.ok("POST", "/monitors", 201, json={"name": name, "deployment": DEPLOYMENT, "enabled": False})
    api.ok("POST", "/monitors", 201, json={"name": "elsewhere", "deployment": "other-api"})
    listed, pages = api.every("/monitors", "monitors", max_results=2)
    assert [m["name"] for m in listed] == ["a-quiet", "b-quiet", "c-quiet", "elsewhere", "watch"] and pages == 3
    assert [m["name"] for m in api.ok("GET", "/monitors", params={"deployment": "other-api"})["monitors"]] == [
        "elsewhere"
    ]
    assert api.ok("GET", "/monitors", params={"deployment": "no-such-api"}) == {"monitors": [], "next_page_token": None}
    assert api.ok("GET", "/monitors/watch") == created

    # A run over an empty prediction log says so, and changes no alert.
    empty = api.ok("POST", "/monitors/watch/run")
    assert empty["result"]["status"] == "not_enough_data" and empty["opened"] == [] and empty["deliveries"] == []
    assert empty["result"]["window"]["rows"] == 0

    # Every customer a year older: inputs and outputs drift, two alerts open, the receiver hears of both.
    log_predictions(live_server.settings.resolved_predictions_uri(), churn, 400, shift=12.0)
    drifted = api.ok("POST", "/monitors/watch/run")
    result = drifted["result"]
    assert result["status"] == "alert" and result["model"] == "churn" and result["version"] == 1
    assert result["window"]["rows"] == 400 and result["latency_ms"]["p99"] == pytest.approx(4.0)
    features = {f["column"]: f for f in result["drift"]["features"]}
    assert {"tenure", "charges", "prediction"} <= set(features) and features["tenure"]["drifted"] is True
    assert {a["condition"] for a in drifted["opened"]} == {"feature_drift:tenure", "drift_share"}
    assert [d["delivered"] for d in drifted["deliveries"]] == [True, True]
    assert sorted(body["alert"]["condition"] for body, _ in receiver.requests) == [
        "drift_share",
        "feature_drift:tenure",
    ]
    assert all(SECRET not in json.dumps(body) for body, _ in receiver.requests)

    again = api.ok("POST", "/monitors/watch/run")  # the same episode: nothing new opens or is sent
    assert again["result"]["status"] == "alert" and again["opened"] == [] and again["resolved"] == []
    assert len(receiver.requests) == 2
    assert api.ok("GET", "/monitors/watch")["last_run_at"] == again["result"]["created_at"]

    # Results: newest first, one per page, the tokens walking back in time.
    results, pages = api.every("/monitors/watch/results", "results", max_results=1)
    assert [r["status"] for r in results] == ["alert", "alert", "not_enough_data"] and pages == 3
    assert [r["id"] for r in results] == sorted((r["id"] for r in results), reverse=True)
    assert results[0] == again["result"] and results[2] == empty["result"]

    # Alerts: newest first, filtered by monitor, deployment and state.
    opened = api.ok("GET", "/alerts", params={"monitor": "watch", "state": "open"})["alerts"]
    assert sorted(a["condition"] for a in opened) == ["drift_share", "feature_drift:tenure"]
    assert [a["id"] for a in opened] == sorted((a["id"] for a in drifted["opened"]), reverse=True)
    assert all(a["updated_at"] == again["result"]["created_at"] for a in opened)  # seen again, kept open
    walked, pages = api.every("/alerts", "alerts", deployment=DEPLOYMENT, max_results=1)
    assert [a["id"] for a in walked] == [a["id"] for a in opened] and pages == 2
    assert api.ok("GET", "/alerts", params={"state": "resolved"})["alerts"] == []
    assert api.ok("GET", "/alerts", params={"deployment": "other-api"})["alerts"] == []

    # PATCH: enabled alone keeps the config; the secret sent back masked stays; a config replaces all.
    paused = api.ok("PATCH", "/monitors/watch", json={"enabled": False})
    assert paused["enabled"] is False and paused["config"] == created["config"]
    resent = api.ok("PATCH", "/monitors/watch", json={"config": paused["config"]})
    assert resent["config"] == created["config"]
    db = Database(live_server.settings.resolved_tracking_uri())
    try:
        assert get_monitor(db, "watch").config.webhook_secret == SECRET
        replaced = api.ok("PATCH", "/monitors/watch", json={"config": {"window": "2h"}})
        assert replaced["config"]["window"] == "2h" and replaced["config"]["webhooks"] == []
        assert replaced["config"]["webhook_secret"] is None and replaced["config"]["conditions"]["features"] == []
        assert replaced["enabled"] is False
        assert get_monitor(db, "watch").config.webhook_secret is None
        defaults = api.ok("PATCH", "/monitors/watch", json={"config": None, "enabled": True})
        assert defaults["config"]["window"] == "1h" and defaults["enabled"] is True
    finally:
        db.dispose()

    # DELETE takes its results and alerts with it.
    api.ok("DELETE", "/monitors/watch", 204)
    assert api.error("GET", "/monitors/watch", 404)["code"] == "NOT_FOUND"
    assert api.error("GET", "/monitors/watch/results", 404)["code"] == "NOT_FOUND"
    assert api.error("GET", "/alerts", 404, params={"monitor": "watch"})["code"] == "NOT_FOUND"
    assert api.ok("GET", "/alerts")["alerts"] == []
    assert api.error("DELETE", "/monitors/watch", 404)["code"] == "NOT_FOUND"


def test_references_are_read_and_fitted_through_the_api(live_server: LiveServer, api: Api) -> None:
    with mlpilot.connect(live_server.url, api_key=live_server.admin_key) as client:
        register_churn(client)  # version 1: fitted when registered
        register_churn(client, with_training_data=False)  # version 2: nothing to fit from
        client.set_alias("churn", "production", 1)
    stored = api.ok("GET", "/models/churn/versions/1/reference")
    assert (stored["model"], stored["version"], stored["dataset"], stored["task"]) == (
        "churn",
        1,
        "churn-train:1",
        "classification",
    )
    assert {"tenure", "charges", "prediction", "proba:0", "proba:1"} <= set(stored["columns"])
    assert stored["rows"] == 2_000 and stored["columns"]["tenure"]["kind"] == "numerical"
    assert api.ok("GET", "/models/churn/versions/@production/reference") == stored

    refitted = api.ok("POST", "/models/churn/versions/@production/reference", 201)
    assert refitted["created_at"] >= stored["created_at"]
    assert {**refitted, "created_at": 0} == {**stored, "created_at": 0}
    assert api.ok("GET", "/models/churn/versions/1/reference") == refitted

    missing = api.error("GET", "/models/churn/versions/2/reference", 404)
    assert "no reference profile" in missing["message"]
    unfit = api.error("POST", "/models/churn/versions/2/reference", 404)
    assert "logged no training dataset" in unfit["message"]
    assert api.error("GET", "/models/nope/versions/1/reference", 404)["code"] == "NOT_FOUND"
    assert api.error("POST", "/models/churn/versions/9/reference", 404)["code"] == "NOT_FOUND"
    assert api.error("GET", "/models/churn/versions/@nope/reference", 404)["code"] == "NOT_FOUND"
    assert api.error("GET", "/models/churn/versions/one/reference", 400)["code"] == "INVALID_INPUT"


def test_bad_input_is_a_json_4xx_and_changes_nothing(live_server: LiveServer, api: Api, churn: Any) -> None:
    body = {"name": "watch", "deployment": DEPLOYMENT, "config": {**CONFIG, "webhook_secret": SECRET}}
    api.ok("POST", "/monitors", 201, json=body)
    api.ok("POST", "/monitors/watch/run")
    before = (api.ok("GET", "/monitors"), api.ok("GET", "/monitors/watch/results"), api.ok("GET", "/alerts"))
    audit_before = api.ok("GET", "/audit", params={"limit": 1000})

    def refused(method: str, path: str, status: int, code: str, needle: str = "", **options: Any) -> None:
        error = api.error(method, path, status, **options)
        assert error["code"] == code, error
        assert needle in error["message"], error

    new = {"name": "new", "deployment": DEPLOYMENT}
    # the schema: 422
    refused("POST", "/monitors", 422, "INVALID_REQUEST", json={**new, "colour": "red"})
    refused("POST", "/monitors", 422, "INVALID_REQUEST", json={"name": "new"})
    refused("POST", "/monitors", 422, "INVALID_REQUEST", json={**new, "config": "1h"})
    refused("POST", "/monitors", 422, "INVALID_REQUEST", json={**new, "enabled": "maybe"})
    refused("POST", "/monitors", 422, "INVALID_REQUEST", json={**new, "name": "n" * 101})
    refused("PATCH", "/monitors/watch", 422, "INVALID_REQUEST", json={"enabled": True, "name": "other"})
    refused("PATCH", "/monitors/watch", 422, "INVALID_REQUEST", json={"config": [1]})
    refused("GET", "/alerts", 422, "INVALID_REQUEST", params={"state": "closed"})
    refused("GET", "/monitors", 422, "INVALID_REQUEST", params={"max_results": 0})
    # the config, field by field: 400 naming the field
    for config, field in [
        ({"window": "soon"}, "field window"),
        ({"conditions": {"latency_p99_ms": -1}}, "field conditions.latency_p99_ms"),
        ({"conditions": {"typo": 1}}, "field conditions.typo"),
        ({"webhooks": ["ftp://example.com/hook"]}, "field webhooks[0]"),
        ({"schedule_seconds": 1}, "field schedule_seconds"),
        ({"min_rows": 0}, "field min_rows"),
        ({"colour": "red"}, "field colour"),
        ({"webhook_secret": "***"}, "field webhook_secret"),
    ]:
        refused("POST", "/monitors", 400, "INVALID_INPUT", field, json={**new, "config": config})
        if field != "field webhook_secret":  # the stored monitor has a secret: "***" keeps it
            refused("PATCH", "/monitors/watch", 400, "INVALID_INPUT", field, json={"config": config})
    refused("POST", "/monitors", 400, "INVALID_INPUT", "drift method", json={**new, "config": {"method": "magic"}})
    refused("POST", "/monitors", 400, "INVALID_INPUT", "monitor name", json={**new, "name": "bad name!"})
    refused("GET", "/monitors", 400, "INVALID_INPUT", "page token", params={"page_token": "garbage"})
    refused("GET", "/alerts", 400, "INVALID_INPUT", "page token", params={"page_token": "garbage"})
    refused("GET", "/monitors/watch/results", 400, "INVALID_INPUT", "page token", params={"page_token": "x"})
    # what does not exist: 404; what does already: 409
    refused("POST", "/monitors", 404, "NOT_FOUND", "deployment 'nope'", json={**new, "deployment": "nope"})
    refused("POST", "/monitors", 409, "CONFLICT", "already exists", json=body)
    for method, path in [
        ("GET", "/monitors/nope"),
        ("PATCH", "/monitors/nope"),
        ("DELETE", "/monitors/nope"),
        ("POST", "/monitors/nope/run"),
        ("GET", "/monitors/nope/results"),
    ]:
        refused(method, path, 404, "NOT_FOUND", "monitor 'nope'", **({"json": {}} if method == "PATCH" else {}))
    refused("PATCH", "/monitors/nope", 404, "NOT_FOUND", "monitor 'nope'", json={"enabled": False})
    refused("GET", "/alerts", 404, "NOT_FOUND", "monitor 'nope'", params={"monitor": "nope"})

    after = (api.ok("GET", "/monitors"), api.ok("GET", "/monitors/watch/results"), api.ok("GET", "/alerts"))
    assert after == before
    audit_after = api.ok("GET", "/audit", params={"limit": 1000})
    # Only reads happened since: the only new audit entries are none (reads are not audited).
    assert audit_after == audit_before


def test_monitor_routes_need_their_scopes(live_server: LiveServer, api: Api, churn: Any) -> None:
    api.ok("POST", "/monitors", 201, json={"name": "watch", "deployment": DEPLOYMENT, "config": CONFIG})
    keys = {
        scope: api.ok("POST", "/keys", 201, json={"name": f"only-{scope}", "scopes": [scope]})["secret"]
        for scope in ("read", "write", "deploy")
    }
    reader, writer, deployer = (Api(live_server, keys[scope]) for scope in ("read", "write", "deploy"))
    try:
        assert [m["name"] for m in reader.ok("GET", "/monitors")["monitors"]] == ["watch"]
        reader.ok("GET", "/monitors/watch")
        reader.ok("GET", "/monitors/watch/results")
        reader.ok("GET", "/alerts")
        reader.ok("GET", "/models/churn/versions/1/reference")
        for who, needed, method, path, body in [
            (reader, "deploy", "POST", "/monitors", {"name": "mine", "deployment": DEPLOYMENT}),
            (reader, "deploy", "PATCH", "/monitors/watch", {"enabled": False}),
            (reader, "deploy", "DELETE", "/monitors/watch", None),
            (reader, "deploy", "POST", "/monitors/watch/run", None),
            (reader, "write", "POST", "/models/churn/versions/1/reference", None),
            (writer, "deploy", "POST", "/monitors", {"name": "mine", "deployment": DEPLOYMENT}),
            (writer, "deploy", "POST", "/monitors/watch/run", None),
            (deployer, "write", "POST", "/models/churn/versions/1/reference", None),
        ]:
            error = who.error(method, path, 403, **({"json": body} if body is not None else {}))
            assert error["code"] == "PERMISSION_DENIED" and repr(needed) in error["message"], error
        assert api.ok("GET", "/monitors/watch/results")["results"] == []  # no refused run was stored
        writer.ok("POST", "/models/churn/versions/1/reference", 201)
        deployer.ok("POST", "/monitors/watch/run")
        assert deployer.ok("PATCH", "/monitors/watch", json={"enabled": False})["enabled"] is False
        deployer.ok("DELETE", "/monitors/watch", 204)
    finally:
        for opened in (reader, writer, deployer):
            opened.close()
