"""Monitors through the client, on both transports (the database directly, and a real server) and
both stores: the same calls, the same records, the same errors; and a local and a remote client on
one store reading exactly the same monitors, results, alerts and references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.errors import Conflict, InvalidInput, NotFound
from mlpilot.monitoring.monitors import Monitor, get_monitor
from mlpilot.store import Database
from tests.conftest import LiveServer, Receiver
from tests.server.test_monitors_api import CONFIG, DEPLOYMENT, SECRET, log_predictions, register_churn


def _predictions_root(client: Client, request: pytest.FixtureRequest) -> str:
    """Where the monitors of this client read: the server's prediction log, or this machine's."""
    if client.is_remote:
        server: LiveServer = request.getfixturevalue("live_server")
        return server.settings.resolved_predictions_uri()
    return client.settings.resolved_predictions_uri()


def _stored_secret(store_uri: str, name: str) -> str | None:
    db = Database(store_uri)
    try:
        return get_monitor(db, name).config.webhook_secret
    finally:
        db.dispose()


def test_a_monitor_lives_through_the_client(client: Client, store_uri: str, request: pytest.FixtureRequest) -> None:
    version, model = register_churn(client)
    client.set_alias("churn", "production", version)
    client.create_deployment(DEPLOYMENT, "churn@production")

    reference = client.fit_reference("churn@production")
    assert (reference["model"], reference["version"], reference["task"]) == ("churn", 1, "classification")
    assert {"tenure", "charges", "prediction", "proba:0", "proba:1"} <= set(reference["columns"])
    assert client.get_reference("churn/1") == reference == client.get_reference("models:/churn@production")
    with pytest.raises(NotFound, match=r"churn/9|version 9"):
        client.get_reference("churn/9")
    with pytest.raises(InvalidInput, match="run's model"):
        client.fit_reference("runs:/0123456789abcdef0123456789abcdef/model")
    with pytest.raises(InvalidInput, match="names no version"):
        client.fit_reference("churn")

    created = client.create_monitor("watch", DEPLOYMENT, {**CONFIG, "webhook_secret": SECRET})
    assert isinstance(created, Monitor) and created.enabled is True and created.last_run_at is None
    assert created.config.window.text == "1h" and created.config.conditions.features == ("tenure",)
    assert created.to_dict()["config"]["webhook_secret"] == "***"
    client.create_monitor("asleep", DEPLOYMENT, enabled=False)
    assert [m.name for m in client.list_monitors()] == ["asleep", "watch"]
    assert [m.name for m in client.list_monitors(deployment=DEPLOYMENT)] == ["asleep", "watch"]
    assert client.list_monitors(deployment="no-such-api") == []
    assert client.get_monitor("watch").to_dict() == created.to_dict()

    with pytest.raises(Conflict, match="already exists"):
        client.create_monitor("watch", DEPLOYMENT)
    with pytest.raises(NotFound, match="deployment 'nope'"):
        client.create_monitor("other", "nope")
    with pytest.raises(InvalidInput, match="field window"):
        client.create_monitor("other", DEPLOYMENT, {"window": "soon"})
    with pytest.raises(InvalidInput, match=r"field conditions\.typo"):
        client.update_monitor("watch", config={"conditions": {"typo": 1}})
    with pytest.raises(NotFound, match="monitor 'nope'"):
        client.run_monitor("nope")
    assert [m.name for m in client.list_monitors()] == ["asleep", "watch"]

    empty = client.run_monitor("watch")
    assert empty["result"]["status"] == "not_enough_data" and empty["opened"] == []
    log_predictions(_predictions_root(client, request), model, 400, shift=12.0)
    drifted = client.run_monitor("watch")
    assert drifted["result"]["status"] == "alert"
    assert {a["condition"] for a in drifted["opened"]} == {"feature_drift:tenure", "drift_share"}

    results = client.monitor_results("watch")
    assert [r["status"] for r in results] == ["alert", "not_enough_data"]
    assert results[0] == drifted["result"] and results[1] == empty["result"]
    assert client.monitor_results("watch", limit=1) == results[:1]
    with pytest.raises(InvalidInput, match="limit"):
        client.monitor_results("watch", limit=0)
    opened = client.alerts(monitor="watch", state="open")
    assert sorted(a["condition"] for a in opened) == ["drift_share", "feature_drift:tenure"]
    assert client.alerts(deployment=DEPLOYMENT) == opened == client.alerts()
    assert client.alerts(state="resolved") == []
    with pytest.raises(InvalidInput, match="state"):
        client.alerts(state="closed")
    with pytest.raises(NotFound, match="monitor 'nope'"):
        client.alerts(monitor="nope")

    paused = client.update_monitor("watch", enabled=False)
    assert paused.enabled is False and paused.to_dict()["config"] == created.to_dict()["config"]
    # A config read back (its secret masked, through a server) and sent again keeps the secret.
    kept = client.update_monitor("watch", config=client.get_monitor("watch").config)
    assert kept.to_dict()["config"] == created.to_dict()["config"]
    assert _stored_secret(store_uri, "watch") == SECRET
    replaced = client.update_monitor("watch", config={"window": "2h"})
    assert replaced.config.window.text == "2h" and replaced.config.webhooks == () and replaced.enabled is False
    assert _stored_secret(store_uri, "watch") is None
    assert client.update_monitor("watch", config=None, enabled=True).config.window.text == "1h"

    client.delete_monitor("watch")
    with pytest.raises(NotFound):
        client.get_monitor("watch")
    with pytest.raises(NotFound):
        client.delete_monitor("watch")
    assert client.alerts() == []
    assert [m.name for m in client.list_monitors()] == ["asleep"]


def _comparable(run: dict[str, Any]) -> dict[str, Any]:
    """A run without what differs between two runs of twin monitors: ids, names, times."""

    def plain(record: dict[str, Any]) -> dict[str, Any]:
        dropped = {"id", "monitor", "created_at", "opened_at", "updated_at", "elapsed_seconds", "delivery_id"}
        return {key: value for key, value in record.items() if key not in dropped}

    result = plain(run["result"])
    result["window"] = {key: value for key, value in result["window"].items() if key not in ("start", "end")}
    return {
        "result": result,
        "opened": sorted((plain(a) for a in run["opened"]), key=lambda a: a["condition"]),
        "resolved": [plain(a) for a in run["resolved"]],
        "deliveries": sorted(
            (d["url"], d["delivered"], d["attempts"], d["status_code"], d["error"]) for d in run["deliveries"]
        ),
    }


def test_both_transports_read_and_do_the_same(
    live_server: LiveServer, store_uri: str, tmp_path: Path, receiver: Receiver
) -> None:
    # The local client shares the server's store, artifacts, prediction log and model cache.
    local = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "server-home"))
    remote = Client(live_server.url, api_key=live_server.admin_key, settings=load_settings(home=tmp_path / "home"))
    try:
        _, model = register_churn(remote)  # through the server: its reference is fitted on registration
        remote.create_deployment(DEPLOYMENT, "churn/1")
        assert local.get_reference("churn/1") == remote.get_reference("churn/1")

        config = {**CONFIG, "webhooks": [receiver.url], "webhook_secret": SECRET}
        twins = {"by-local": local.create_monitor("by-local", DEPLOYMENT, config)}
        twins["by-remote"] = remote.create_monitor("by-remote", DEPLOYMENT, config)
        views = {name: monitor.to_dict() for name, monitor in twins.items()}
        assert views["by-local"]["config"] == views["by-remote"]["config"]
        assert views["by-local"]["config"]["webhook_secret"] == "***"
        assert twins["by-local"].config.webhook_secret == SECRET  # the local caller holds the store anyway
        assert [m.to_dict() for m in local.list_monitors()] == [m.to_dict() for m in remote.list_monitors()]
        for name in twins:
            assert local.get_monitor(name).to_dict() == remote.get_monitor(name).to_dict() == views[name]

        log_predictions(live_server.settings.resolved_predictions_uri(), model, 400, shift=12.0)
        by_local, by_remote = local.run_monitor("by-local"), remote.run_monitor("by-remote")
        assert by_local["result"]["status"] == "alert" and len(by_local["opened"]) == 2
        assert _comparable(by_local) == _comparable(by_remote)
        assert all(delivery["delivered"] for delivery in by_local["deliveries"] + by_remote["deliveries"])
        assert sorted(body["monitor"] for body, _ in receiver.requests) == ["by-local"] * 2 + ["by-remote"] * 2

        for name in twins:
            assert local.monitor_results(name) == remote.monitor_results(name)
            assert local.monitor_results(name, limit=1) == remote.monitor_results(name, limit=1)
            assert local.alerts(monitor=name) == remote.alerts(monitor=name)
        assert local.alerts() == remote.alerts() and len(local.alerts(state="open")) == 4
        assert local.alerts(deployment=DEPLOYMENT, state="resolved") == remote.alerts(state="resolved") == []

        by_hand = local.fit_reference("churn/1")
        by_server = remote.fit_reference("churn/latest")
        assert {**by_hand, "created_at": 0} == {**by_server, "created_at": 0}
        assert local.get_reference("churn/1") == remote.get_reference("churn/1") == by_server

        for kind, call in [
            (NotFound, lambda c: c.get_monitor("nope")),
            (NotFound, lambda c: c.run_monitor("nope")),
            (NotFound, lambda c: c.monitor_results("nope")),
            (NotFound, lambda c: c.update_monitor("nope", enabled=True)),
            (Conflict, lambda c: c.create_monitor("by-local", DEPLOYMENT)),
            (InvalidInput, lambda c: c.create_monitor("x", DEPLOYMENT, {"webhooks": ["ftp://x"]})),
            (InvalidInput, lambda c: c.create_monitor("x", DEPLOYMENT, {"webhook_secret": "***"})),
        ]:
            messages = []
            for client in (local, remote):
                with pytest.raises(kind) as caught:
                    call(client)
                messages.append(caught.value.message)
            assert messages[0] == messages[1]

        local.delete_monitor("by-remote")
        remote.delete_monitor("by-local")
        assert local.list_monitors() == remote.list_monitors() == []
    finally:
        local.close()
        remote.close()
