"""A monitor over a real prediction log and store: drift, live and estimated accuracy, alerts that
open once and resolve, and webhooks reaching a receiver on loopback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.deployments import create_deployment
from mlpilot.deployments.request_counts import RequestCounts, add_request_counts
from mlpilot.errors import Conflict, InvalidInput, NotFound
from mlpilot.monitoring.monitors import create_monitor, delete_monitor, list_alerts, list_results, update_monitor
from mlpilot.monitoring.references import get_reference
from mlpilot.registry.uri import ModelRef
from mlpilot.registry.versions import get_version
from tests.conftest import Receiver
from tests.monitoring.conftest import HOUR, T0, World

CONFIG = {
    "window": "1h",
    "conditions": {
        "drift_share": 0.5,
        "features": ["tenure"],
        "performance": {"metric": "accuracy", "max_drop": 0.15},
        "latency_p99_ms": 50,
    },
}


def test_a_monitor_watches_drift_and_accuracy_and_alerts_once_per_episode(world: World, receiver: Receiver) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    create_monitor(world.db, "watch", "churn-api", {**CONFIG, "webhooks": [receiver.url]}, actor="test")

    world.serve(0, 600, labelled=400)
    quiet = world.run(0)
    result = quiet.result.to_dict()
    assert result["status"] == "ok", result
    assert quiet.opened == [] and receiver.received == []
    features = {f["column"]: f for f in result["drift"]["features"]}
    assert set(features) == {"tenure", "charges", "prediction", "proba:0", "proba:1"}
    assert features["tenure"]["method"] == "wasserstein" and features["tenure"]["drifted"] is False
    live = result["performance"]["live"]["metrics"]
    assert live["accuracy"] > 0.8 and result["performance"]["labelled_rows"] == 400
    estimated = result["performance"]["estimated"]["metrics"]
    assert abs(estimated["accuracy"] - live["accuracy"]) < 0.08
    assert result["latency_ms"]["p99"] == pytest.approx(4.0)
    assert {c["condition"] for c in result["conditions"]} == {
        "drift_share",
        "feature_drift:tenure",
        "performance:accuracy",
        "latency_p99_ms",
    }

    world.serve(1, 600, shift=12.0)  # every customer a year older: inputs and outputs move
    drifted = world.run(1)
    assert drifted.result.status == "alert"
    assert {a.condition for a in drifted.opened} == {"feature_drift:tenure", "drift_share"}
    assert sorted(body["alert"]["condition"] for body in receiver.received) == ["drift_share", "feature_drift:tenure"]
    assert {body["event"] for body in receiver.received} == {"alert.opened"}
    assert receiver.received[0]["deployment"] == "churn-api"

    again = world.run(1)  # the same condition seen again: no new alert, no new notification
    assert again.opened == [] and again.resolved == []
    assert len(receiver.received) == 2
    assert len(list_alerts(world.db, monitor="watch", state="open")) == 2

    world.serve(2, 600)
    calm = world.run(2)
    assert {a.condition for a in calm.resolved} == {"feature_drift:tenure", "drift_share"}
    assert [body["event"] for body in receiver.received[2:]] == ["alert.resolved", "alert.resolved"]
    assert list_alerts(world.db, monitor="watch", state="open") == []
    assert len(list_alerts(world.db, monitor="watch")) == 2
    assert [r.status for r in list_results(world.db, "watch")] == ["ok", "alert", "alert", "ok"]


def test_an_empty_window_and_a_version_without_training_data_say_why(world: World) -> None:
    world.register(with_dataset=False)
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    create_monitor(world.db, "watch", "churn-api", CONFIG, actor="test")
    run = world.run(5)
    assert run.result.status == "error"
    assert "logged no training dataset" in (run.result.result["message"] or "")
    with pytest.raises(NotFound, match="no reference profile"):
        get_reference(world.db, world.content, get_version(world.db, ModelRef("churn", version=1)))


def test_a_window_without_predictions_is_not_enough_data(world: World) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    create_monitor(world.db, "watch", "churn-api", CONFIG, actor="test")
    run = world.run(7)
    assert run.result.status == "not_enough_data"
    assert run.opened == []


def test_monitor_records_refuse_bad_input_and_keep_what_is_stored(world: World) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    with pytest.raises(NotFound, match="deployment 'nope'"):
        create_monitor(world.db, "watch", "nope", None, actor="test")
    create_monitor(world.db, "watch", "churn-api", CONFIG, actor="test")
    with pytest.raises(Conflict, match="already exists"):
        create_monitor(world.db, "watch", "churn-api", CONFIG, actor="test")
    for config, needle in [
        ({"window": "soon"}, "field window"),
        ({"conditions": {"latency_p99_ms": -1}}, "field conditions.latency_p99_ms"),
        ({"conditions": {"typo": 1}}, "field conditions.typo"),
        ({"webhooks": ["ftp://example"]}, r"field webhooks\[0\]"),
        ({"method": "magic"}, "unknown drift method"),
        ({"schedule_seconds": 1}, "field schedule_seconds"),
        ({"colour": "red"}, "field colour: unknown field"),
    ]:
        with pytest.raises(InvalidInput, match=needle):
            update_monitor(world.db, "watch", config=config)
    with pytest.raises(InvalidInput, match="monitor name"):
        create_monitor(world.db, "bad name!", "churn-api", None, actor="test")
    stored = update_monitor(world.db, "watch", enabled=False)
    assert stored.config.window.text == "1h" and stored.enabled is False
    assert stored.config.conditions.features == ("tenure",)
    delete_monitor(world.db, "watch")
    with pytest.raises(NotFound):
        delete_monitor(world.db, "watch")


def test_the_error_rate_of_a_window_comes_from_the_request_counts(world: World) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    create_monitor(world.db, "watch", "churn-api", {"conditions": {"error_rate": 0.05}}, actor="test")
    world.serve(3, 300)
    minute = T0 + 3 * HOUR
    add_request_counts(
        world.db,
        {("churn-api", minute): RequestCounts(200, 4, 10), ("churn-api", minute + 60_000): RequestCounts(100, 20, 0)},
    )
    add_request_counts(world.db, {("churn-api", minute): RequestCounts(0, 0, 1)})  # a second worker's minute adds up
    add_request_counts(world.db, {("other", minute): RequestCounts(50, 50, 0)})
    run = world.run(3)
    assert run.result.result["traffic"] == {
        "requests": 300,
        "server_errors": 24,
        "client_errors": 11,
        "error_rate": pytest.approx(0.08),
    }
    assert [alert.condition for alert in run.opened] == ["error_rate"]
    assert "24 of 300 requests failed" in run.opened[0].message


def test_a_registration_stands_when_its_reference_cannot_be_fitted(world: World) -> None:
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"tenure": rng.normal(24, 6, 300), "charges": rng.normal(70, 10, 300)})
    model = LogisticRegression().fit(train, (train["tenure"] > 24).astype(int))
    with world.client.start_run("odd") as run:
        # The logged data is not what the model was fitted on: no reference can come of it.
        run.log_dataset(train.rename(columns={"charges": "fees"}), "odd-train", role="train")
        run.log_model(model, "model", input_example=train.head(2))
    version = world.client.register_model(run.id, "model", "odd")
    assert version.version == 1  # registered all the same
    with pytest.raises(NotFound, match="no reference profile"):
        get_reference(world.db, world.content, version)


def test_a_masked_webhook_secret_keeps_the_stored_one_and_is_never_a_secret_itself(world: World) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    with pytest.raises(InvalidInput, match="field webhook_secret: '\\*\\*\\*' is the mask"):
        create_monitor(world.db, "watch", "churn-api", {"webhook_secret": "***"}, actor="test")
    created = create_monitor(world.db, "watch", "churn-api", {"webhook_secret": "s3cret"}, actor="test")
    shown = created.to_dict()["config"]
    assert shown["webhook_secret"] == "***"
    kept = update_monitor(world.db, "watch", config={**shown, "window": "2h"})
    assert kept.config.webhook_secret == "s3cret" and kept.config.window.text == "2h"
    with pytest.raises(NotFound, match="monitor 'ghost'"):
        update_monitor(world.db, "ghost", config=shown)


def test_features_the_reference_lacks_are_the_run_error_and_row_windows_take_the_latest_rows(world: World) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    create_monitor(world.db, "typo", "churn-api", {"features": ["tenur", "charges"]}, actor="test")
    create_monitor(world.db, "latest", "churn-api", {"window": "rows:500", "features": ["tenure"]}, actor="test")
    world.serve(0, 600)
    world.serve(1, 600, shift=12.0)
    failed = world.run(1, "typo").result
    assert failed.status == "error"
    assert "features 'tenur' are not in the reference of churn/1" in (failed.result["message"] or "")
    latest = world.run(1, "latest").result.result
    assert latest["drift"]["current_rows"] == 500 and latest["drift"]["drifted_columns"] == ["tenure"]
