"""The ready-made gate and roll-out steps, through the demo's retraining pipeline, against a real
server taking real traffic: a first model deployed, a better one canaried and promoted, an equal
one refused by the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.demo.loans import history
from mlpilot.demo.retrain import retrain
from mlpilot.demo.traffic import Traffic
from mlpilot.deployments import deployment_events, get_deployment
from mlpilot.security.keys import create_key
from tests.conftest import LiveServer

FAST = {"watch_seconds": 8.0, "min_requests": 5}


@pytest.fixture
def loop(sqlite_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[tuple[Client, LiveServer]]:
    home = tmp_path / "home"
    client = Client(sqlite_uri, str(tmp_path / "artifacts"), settings=load_settings(home=home))
    server = LiveServer(
        sqlite_uri,
        str(tmp_path / "artifacts"),
        home,
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
        predictions_flush_seconds=0.5,
    ).start()
    yield client, server
    server.stop()
    client.close()


def _value(run: Any, step: str) -> dict[str, Any]:
    output = run.record.step(step).outputs["output"]
    return dict(output["value"])


def test_deploy_then_canary_and_promote_a_better_model_then_refuse_an_equal_one(
    loop: tuple[Client, LiveServer],
) -> None:
    client, server = loop
    client.register_dataset(history(1, 6, 400), "loans")

    first = retrain.run(FAST, client=client, workers=1)
    assert first.succeeded, first.record.error
    gate = _value(first, "gate")
    assert gate["verdict"] == "BLESSED" and gate["champion"] is None and not gate["has_baseline"]
    assert _value(first, "roll_out") == {"action": "deployed", "version": 1, "deployment": "loans-api"}
    assert client.get_model_version("loans", "@production").version == 1
    deployed = get_deployment(client.db, "loans-api")
    assert (deployed.model, deployed.target.alias) == ("loans", "production")

    _, key = create_key(client.db, "traffic", "predict,write", actor="test")
    traffic = Traffic(server.url, key, "loans-api")
    traffic.send(history(9, 10, 300, seed=3))
    traffic.start()
    try:
        client.register_dataset(history(1, 9, 400), "loans")
        second = retrain.run(FAST, client=client)
    finally:
        traffic.stop()
    assert second.succeeded, second.record.error
    gate = _value(second, "gate")
    assert gate["verdict"] == "BLESSED" and gate["champion"]["version"] == 1
    assert gate["candidate"]["metrics"]["roc_auc"] >= gate["champion"]["metrics"]["roc_auc"] + 0.01
    rollout = _value(second, "roll_out")
    assert rollout["action"] == "promoted" and rollout["version"] == 2, rollout
    assert client.get_model_version("loans", "@production").version == 2
    assert traffic.versions.get(2, 0) > 0 and traffic.failed == 0, traffic.errors
    actions = [event.action for event in deployment_events(client.db, "loans-api")]
    assert actions[:2] == ["promoted", "canary_set"]
    promoted = (deployment_events(client.db, "loans-api")[0].details or {})["context"]
    assert promoted["pipeline_run"] == second.record.id and promoted["canary_verdict"]["decision"] == "promote"

    third = retrain.run(FAST, client=client, workers=1)
    assert third.succeeded
    assert {s.step: s.status.value for s in third.record.steps}["split_by_time"] == "CACHED"
    gate = _value(third, "gate")
    assert gate["verdict"] == "NOT_BLESSED" and any("roc_auc>=+0.01" in reason for reason in gate["reasons"])
    assert _value(third, "roll_out")["action"] == "none"
    assert [v.version for v in client.list_model_versions("loans")] == [1, 2]


def test_a_challenger_that_fails_on_live_traffic_is_rolled_back_automatically(
    loop: tuple[Client, LiveServer],
) -> None:
    from tests.pipelines.fragile import fragile_retrain

    client, server = loop
    client.register_dataset(history(1, 9, 400), "loans")
    assert retrain.run(FAST, client=client, workers=1).succeeded  # the champion, v1
    _, key = create_key(client.db, "traffic", "predict,write", actor="test")
    traffic = Traffic(server.url, key, "loans-api")
    traffic.send(history(10, 10, 300, seed=5))
    traffic.start()
    try:
        result = fragile_retrain.run(client=client)
    finally:
        traffic.stop()

    assert result.succeeded, result.record.error
    assert _value(result, "gate")["verdict"] == "BLESSED"
    rollout = _value(result, "roll_out")
    assert rollout["action"] == "rolled_back" and rollout["version"] == 2, rollout
    assert any("p99 latency" in reason for reason in rollout["reasons"]), rollout["reasons"]
    assert client.get_model_version("loans", "@production").version == 1
    deployment = get_deployment(client.db, "loans-api")
    assert deployment.canary is None and deployment.pinned_version is None
    actions = [event.action for event in deployment_events(client.db, "loans-api")]
    assert actions[:3] == ["canary_cleared", "canary_judged", "canary_set"]
    assert traffic.failed == 0 and traffic.versions.get(2, 0) > 0, traffic.errors
