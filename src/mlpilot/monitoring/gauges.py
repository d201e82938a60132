"""Prometheus gauges from the latest stored result of every monitor.

Read from the database at scrape time rather than kept in process memory, so every worker and
replica of a server reports the same numbers, and a restarted server reports them at once.
Label sets are bounded by the schema: deployment, version, feature (a signature column), method,
metric name, monitor.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mlpilot.store import Database
from mlpilot.store.schema import alerts, monitor_results, monitors

__all__ = ["MONITORING_METRIC_NAMES", "SERVING_METRIC_NAMES", "monitoring_exposition"]

# The names of everything mlpilot exposes on /metrics, as exposed (counters end in _total,
# histograms add _bucket/_sum/_count), spelt once: the prediction API defines its metrics from
# SERVING_METRIC_NAMES, and the Grafana dashboard and Prometheus rules query both dicts. They live
# here, the lowest layer all three can import (the exports sit below the prediction API).
SERVING_METRIC_NAMES = {
    "requests": "mlpilot_requests_total",
    "latency": "mlpilot_request_duration_seconds",
    "in_flight": "mlpilot_requests_in_flight",
    "batch_size": "mlpilot_batch_size",
    "predictions": "mlpilot_predictions_total",
    "prediction_value": "mlpilot_prediction_value",
    "traffic": "mlpilot_traffic_weight",
    "model_load": "mlpilot_model_load_seconds",
    "log_rows": "mlpilot_prediction_log_rows_total",
    "log_flush": "mlpilot_prediction_log_flush_seconds",
    "log_cpu": "mlpilot_prediction_log_cpu_seconds_total",
    "cpu": "mlpilot_process_cpu_seconds_total",
    "memory": "mlpilot_process_resident_memory_bytes",
}

MONITORING_METRIC_NAMES = {
    "drift_score": "mlpilot_feature_drift_score",
    "drifted": "mlpilot_feature_drifted",
    "drift_share": "mlpilot_dataset_drift_share",
    "live": "mlpilot_live_metric",
    "estimated": "mlpilot_estimated_metric",
    "offline": "mlpilot_offline_metric",
    "last_run": "mlpilot_monitor_last_run_timestamp_seconds",
    "alerts_open": "mlpilot_alerts_open",
}


def _latest(db: Database, deployments: Collection[str] | None) -> list[tuple[str, str, dict[str, Any] | None, int]]:
    """(monitor, deployment, latest result or None, open alerts) per monitor, by monitor name."""
    newest = (
        sa.select(monitor_results.c.monitor_id, sa.func.max(monitor_results.c.id).label("id"))
        .group_by(monitor_results.c.monitor_id)
        .subquery()
    )
    open_alerts = (
        sa.select(alerts.c.monitor_id, sa.func.count().label("count"))
        .where(alerts.c.state == "open")
        .group_by(alerts.c.monitor_id)
        .subquery()
    )
    query = (
        sa.select(monitors.c.name, monitors.c.deployment, monitor_results.c.result, open_alerts.c.count)
        .select_from(monitors)
        .outerjoin(newest, newest.c.monitor_id == monitors.c.id)
        .outerjoin(monitor_results, monitor_results.c.id == newest.c.id)
        .outerjoin(open_alerts, open_alerts.c.monitor_id == monitors.c.id)
        .order_by(monitors.c.name)
    )
    if deployments is not None:
        query = query.where(monitors.c.deployment.in_(list(deployments)))
    with db.read() as conn:
        return [(row[0], row[1], row[2], int(row[3] or 0)) for row in conn.execute(query)]


class _Families:
    """Gauge families, each label set given once: when two monitors watch one deployment, the
    first (by name) speaks for it."""

    def __init__(self) -> None:
        help_texts = {
            "drift_score": "Drift statistic of a feature in the latest monitor window.",
            "drifted": "1 if the feature drifted in the latest monitor window, else 0.",
            "drift_share": "Share of tested columns that drifted in the latest monitor window.",
            "live": "Metric computed from ground-truth labels in the latest monitor window.",
            "estimated": "Metric estimated without labels (CBPE) in the latest monitor window.",
            "offline": "Metric the model version was registered with.",
            "last_run": "When the monitor last ran, in seconds since the epoch.",
            "alerts_open": "Alerts of the monitor that are open now.",
        }
        labels = {
            "drift_score": ["deployment", "version", "feature", "method"],
            "drifted": ["deployment", "version", "feature"],
            "drift_share": ["deployment", "version"],
            "live": ["deployment", "version", "metric"],
            "estimated": ["deployment", "version", "metric"],
            "offline": ["deployment", "version", "metric"],
            "last_run": ["monitor", "deployment"],
            "alerts_open": ["monitor", "deployment"],
        }
        self.families = {
            key: GaugeMetricFamily(MONITORING_METRIC_NAMES[key], help_texts[key], labels=labels[key])
            for key in MONITORING_METRIC_NAMES
        }
        self._seen: set[tuple[str, ...]] = set()

    def add(self, key: str, labels: list[str], value: object) -> None:
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float) or not math.isfinite(value):
            return
        identity = (key, *labels[: len(labels) - 1 if key == "drift_score" else len(labels)])
        if identity in self._seen:
            return
        self._seen.add(identity)
        self.families[key].add_metric(labels, float(value))

    def metrics(self, result: Mapping[str, Any], deployment: str) -> None:
        version = str(result.get("version", ""))
        drift = result.get("drift") or {}
        for feature in drift.get("features", []):
            column = str(feature.get("column"))
            self.add("drift_score", [deployment, version, column, str(feature.get("method"))], feature.get("statistic"))
            if feature.get("drifted") is not None:
                self.add("drifted", [deployment, version, column], feature["drifted"])
        self.add("drift_share", [deployment, version], drift.get("share"))
        performance = result.get("performance") or {}
        for key in ("live", "estimated"):
            for metric, value in ((performance.get(key) or {}).get("metrics") or {}).items():
                self.add(key, [deployment, version, str(metric)], value)
        for metric, value in (performance.get("offline") or {}).items():
            self.add("offline", [deployment, version, str(metric)], value)


class _Collector(Collector):
    def __init__(self, db: Database, deployments: Collection[str] | None) -> None:
        self.db, self.deployments = db, deployments

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        for monitor, deployment, result, open_count in _latest(self.db, self.deployments):
            families.add("alerts_open", [monitor, deployment], open_count)
            if result is None:
                continue
            families.add("last_run", [monitor, deployment], (result.get("created_at") or 0) / 1000)
            families.metrics(result, deployment)
        yield from families.families.values()


def monitoring_exposition(db: Database, deployments: Collection[str] | None = None) -> bytes:
    """The gauges in Prometheus text format, for every monitor or those of ``deployments``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(db, deployments))
    return generate_latest(registry)
