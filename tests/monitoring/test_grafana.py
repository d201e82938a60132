"""The Grafana dashboard: importable JSON that reads only metrics mlpilot exposes, for one deployment."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.grafana import SCHEMA_VERSION, grafana_dashboard, metric_names_in
from mlpilot.serving.metrics import METRIC_NAMES

# The gauges the platform server exposes (mlpilot.monitoring.gauges.MONITORING_METRIC_NAMES, in progress).
EXPECTED_MONITORING = {
    "mlpilot_feature_drift_score",
    "mlpilot_feature_drifted",
    "mlpilot_dataset_drift_share",
    "mlpilot_live_metric",
    "mlpilot_estimated_metric",
    "mlpilot_offline_metric",
    "mlpilot_monitor_last_run_timestamp_seconds",
    "mlpilot_alerts_open",
}
EXPOSED = set(METRIC_NAMES.values()) | EXPECTED_MONITORING
SELECTOR = re.compile(r"(mlpilot_[a-z0-9_]+)(\{[^}]*\})?")


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _queries(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in _panels(dashboard["panels"]):
        if panel["type"] != "row":
            yield panel


def test_the_dashboard_is_plain_importable_json() -> None:
    dashboard = grafana_dashboard("churn-api", features=["age", "plan"])
    assert json.loads(json.dumps(dashboard)) == dashboard
    assert dashboard["schemaVersion"] == SCHEMA_VERSION == 39
    assert dashboard["id"] is None
    assert dashboard["__inputs"] == [
        {
            "name": "DS_PROMETHEUS",
            "label": "Prometheus",
            "description": "The Prometheus that scrapes the mlpilot servers",
            "type": "datasource",
            "pluginId": "prometheus",
            "pluginName": "Prometheus",
        }
    ]
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["deployment"]["type"] == "constant"
    assert variables["deployment"]["query"] == "churn-api"
    assert dashboard["title"] == "mlpilot · churn-api"
    kinds = {panel["type"] for panel in _queries(dashboard)}
    assert {"timeseries", "stat", "heatmap", "state-timeline"} <= kinds
    required = {item["id"] for item in dashboard["__requires"] if item["type"] == "panel"}
    assert kinds == required


def test_every_panel_has_a_datasource_queries_and_a_place() -> None:
    dashboard = grafana_dashboard("churn-api", features=["age", "plan", "income"])
    ids = [panel["id"] for panel in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))
    for panel in _queries(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert target["refId"]
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}
        assert grid["x"] + grid["w"] <= 24
    refs = [[target["refId"] for target in panel["targets"]] for panel in _queries(dashboard)]
    assert all(len(ref) == len(set(ref)) for ref in refs)


def test_panels_do_not_overlap() -> None:
    dashboard = grafana_dashboard("churn-api", features=["age", "plan", "income", "tenure"])
    cells: set[tuple[int, int]] = set()
    for panel in _panels(dashboard["panels"]):
        grid = panel["gridPos"]
        mine = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & mine, panel["title"]
        cells |= mine


def test_the_dashboard_reads_only_metrics_we_expose() -> None:
    dashboard = grafana_dashboard("churn-api", features=["age"])
    used = metric_names_in(dashboard)
    # Counters keep their _total; histograms are named without _bucket/_sum/_count.
    assert used <= EXPOSED, used - EXPOSED
    assert used >= EXPECTED_MONITORING
    assert {"mlpilot_requests_total", "mlpilot_request_duration_seconds", "mlpilot_traffic_weight"} <= used


def test_metric_names_in_maps_histogram_series_and_ignores_label_values() -> None:
    dashboard = {
        "panels": [
            {
                "type": "row",
                "panels": [{"targets": [{"expr": 'sum(rate(mlpilot_x_seconds_count{a="mlpilot_y"}[5m]))'}]}],
            },
            {"targets": [{"expr": "histogram_quantile(0.9, rate(mlpilot_x_seconds_bucket[5m]))"}]},
            {"targets": [{"expr": "mlpilot_x_seconds_sum / notmlpilot_z"}]},
        ]
    }
    assert metric_names_in(dashboard) == {"mlpilot_x_seconds"}


def test_every_query_is_filtered_to_the_deployment() -> None:
    dashboard = grafana_dashboard("churn-api", features=["age", 'odd "name"'])
    expressions = [target["expr"] for panel in _queries(dashboard) for target in panel["targets"]]
    expressions += [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    for expr in expressions:
        selectors = SELECTOR.findall(expr)
        assert selectors, expr
        for name, matchers in selectors:
            assert 'deployment="$deployment"' in matchers, (name, expr)
    assert any('feature="odd \\"name\\""' in expr for expr in expressions)


def test_uids_are_stable_and_differ_between_deployments() -> None:
    first = grafana_dashboard("churn-api")
    assert grafana_dashboard("churn-api", features=["age"], title="Churn")["uid"] == first["uid"]
    assert grafana_dashboard("fraud-api")["uid"] != first["uid"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", first["uid"])


def test_features_get_a_panel_each_and_many_features_a_collapsed_row() -> None:
    few = grafana_dashboard("churn-api", features=["age", "plan", "age"])
    titles = [panel["title"] for panel in _queries(few)]
    assert titles.count("Drift: age") == 1
    assert "Drift: plan" in titles
    many = grafana_dashboard("churn-api", features=[f"f{i}" for i in range(30)])
    row = next(panel for panel in many["panels"] if panel["type"] == "row" and panel["title"] == "Drift by feature")
    assert row["collapsed"] is True
    assert len(row["panels"]) == 30
    assert "mlpilot_feature_drift_score" in metric_names_in(many)


def test_a_lone_dollar_in_a_feature_name_is_kept() -> None:
    dashboard = grafana_dashboard("churn-api", features=["cost_$", "a$-b"])
    titles = {panel["title"] for panel in _queries(dashboard)}
    assert {"Drift: cost_$", "Drift: a$-b"} <= titles


def test_a_concrete_datasource_needs_no_import_input() -> None:
    dashboard = grafana_dashboard("churn-api", datasource_uid="P1809F7CD0C75ACF3")
    assert dashboard["__inputs"] == []
    assert all(panel["datasource"]["uid"] == "P1809F7CD0C75ACF3" for panel in _queries(dashboard))


@pytest.mark.parametrize("deployment", ["", 'churn"api', "churn\napi", "churn'api", "a b", "${x}"])
def test_a_bad_deployment_name_is_refused(deployment: str) -> None:
    with pytest.raises(InvalidInput):
        grafana_dashboard(deployment)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"features": ["age\n"]},
        {"features": [""]},
        {"features": ["${DS_PROMETHEUS}"]},
        {"features": ["price_$deployment"]},
        {"features": ["[[metric]]"]},
        {"features": "age"},
        {"datasource_uid": ""},
        {"title": " "},
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        grafana_dashboard("churn-api", **kwargs)
