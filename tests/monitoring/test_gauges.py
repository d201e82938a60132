"""The latest monitor results as Prometheus gauges, with the names Grafana dashboards use."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from mlpilot.deployments import create_deployment
from mlpilot.monitoring.gauges import MONITORING_METRIC_NAMES, monitoring_exposition
from mlpilot.monitoring.monitors import create_monitor
from tests.monitoring.conftest import World

CONFIG = {"window": "1h", "conditions": {"features": ["tenure"]}}


def _samples(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def test_gauges_follow_the_latest_result_of_each_monitor(world: World) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    create_monitor(world.db, "watch", "churn-api", CONFIG, actor="test")
    create_monitor(world.db, "idle", "churn-api", CONFIG, actor="test")
    assert _samples(monitoring_exposition(world.db))["mlpilot_alerts_open"] == [
        ({"monitor": "idle", "deployment": "churn-api"}, 0.0),
        ({"monitor": "watch", "deployment": "churn-api"}, 0.0),
    ]

    world.serve(0, 600, labelled=300)
    world.run(0)
    world.serve(1, 600, shift=12.0)
    world.run(1)
    samples = _samples(monitoring_exposition(world.db))
    assert set(samples) >= set(MONITORING_METRIC_NAMES.values()) - {"mlpilot_estimated_metric", "mlpilot_live_metric"}
    drifted = {labels["feature"]: value for labels, value in samples["mlpilot_feature_drifted"]}
    assert drifted["tenure"] == 1.0 and drifted["charges"] == 0.0
    scores = {labels["feature"]: labels for labels, _ in samples["mlpilot_feature_drift_score"]}
    assert scores["tenure"] == {"deployment": "churn-api", "version": "1", "feature": "tenure", "method": "wasserstein"}
    assert ({"deployment": "churn-api", "version": "1", "metric": "accuracy"}, 0.9) in samples["mlpilot_offline_metric"]
    open_alerts = dict((labels["monitor"], value) for labels, value in samples["mlpilot_alerts_open"])
    assert open_alerts == {"watch": 2.0, "idle": 0.0}  # the drift share and tenure
    assert b"churn-api" not in monitoring_exposition(world.db, ["other"])
