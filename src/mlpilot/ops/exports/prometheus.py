"""``mlpilot export prometheus``: a scrape config and alert rules for one deployment.

Every expression is built from the metric names the prediction API and the monitoring gauges are
defined with (``mlpilot.monitoring.gauges``), so a renamed metric changes the rules with it. The
serving process exposes both families on its ``/metrics``: one scrape job sees traffic, latency,
drift and model quality. With several replicas the monitoring gauges repeat on each, hence the
``max by`` around every gauge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlpilot.deployments.specs import check_deployment_name
from mlpilot.monitoring.config import MonitorConfig, PerformanceDrop
from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE
from mlpilot.monitoring.evaluate import LOWER_IS_BETTER
from mlpilot.monitoring.gauges import MONITORING_METRIC_NAMES as WATCHED
from mlpilot.monitoring.gauges import SERVING_METRIC_NAMES as SERVED
from mlpilot.ops.exports.served import kube_name

__all__ = [
    "DEFAULT_ERROR_RATE",
    "DEFAULT_LATENCY_P99_MS",
    "DEFAULT_PERFORMANCE",
    "KEY_FILE",
    "Thresholds",
    "alert_rules",
    "job_name",
    "prometheus_files",
    "scrape_config",
    "thresholds_of",
]

# Used when no monitor of the deployment sets the condition (documented in docs/devops.md).
DEFAULT_PERFORMANCE = PerformanceDrop("accuracy", 0.05)
DEFAULT_LATENCY_P99_MS = 500.0
DEFAULT_ERROR_RATE = 0.05
KEY_FILE = "/etc/prometheus/secrets/mlpilot-read-key"  # an API key with the read scope, mounted
_WINDOW = "5m"
# A monitor is stale once it has missed this many of its scheduled runs.
_MISSED_RUNS = 3


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The strictest condition any monitor of the deployment sets, else the default."""

    drift_share: float
    features: tuple[str, ...]
    performance: tuple[PerformanceDrop, ...]
    latency_p99_ms: float
    error_rate: float
    stale_after_seconds: int | None  # None: no monitor, so no runs to miss


def thresholds_of(configs: Sequence[MonitorConfig]) -> Thresholds:
    conditions = [config.conditions for config in configs]
    shares = [c.drift_share for c in conditions if c.drift_share is not None]
    latencies = [c.latency_p99_ms for c in conditions if c.latency_p99_ms is not None]
    errors = [c.error_rate for c in conditions if c.error_rate is not None]
    drops: dict[str, float] = {}
    for c in conditions:
        if c.performance is not None:
            drops[c.performance.metric] = min(c.performance.max_drop, drops.get(c.performance.metric, float("inf")))
    features = sorted({feature for c in conditions for feature in c.features})
    return Thresholds(
        drift_share=min(shares, default=DEFAULT_DRIFT_SHARE),
        features=tuple(features),
        performance=tuple(PerformanceDrop(m, d) for m, d in sorted(drops.items())) or (DEFAULT_PERFORMANCE,),
        latency_p99_ms=min(latencies, default=DEFAULT_LATENCY_P99_MS),
        error_rate=min(errors, default=DEFAULT_ERROR_RATE),
        stale_after_seconds=max((c.schedule_seconds for c in configs), default=0) * _MISSED_RUNS or None,
    )


def _string(text: str) -> str:
    """A PromQL double-quoted string's body."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _rule(name: str, expr: str, summary: str, *, deployment: str, severity: str, wait: str | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if wait is not None:
        rule["for"] = wait
    rule["labels"] = {"severity": severity, "deployment": deployment}
    rule["annotations"] = {"summary": summary, "description": f"{summary} (deployment {deployment}, rule {name})."}
    return rule


def alert_rules(deployment: str, thresholds: Thresholds) -> dict[str, Any]:
    """A Prometheus rule file (``groups:``) for ``deployment``."""
    check_deployment_name(deployment)
    d = f'deployment="{_string(deployment)}"'
    add = _RuleList(deployment)
    share = f"max by (deployment, version) ({WATCHED['drift_share']}{{{d}}})"
    add(
        "MlpilotDatasetDrift",
        f"{share} >= {thresholds.drift_share:g}",
        f"At least {thresholds.drift_share:.0%} of the columns drifted in the latest monitor window",
        "warning",
    )
    if thresholds.features:
        # RE2 accepts a backslash before any punctuation, which is all re.escape adds.
        pattern = _string("|".join(re.escape(feature) for feature in thresholds.features))
        drifted = f'max by (deployment, version, feature) ({WATCHED["drifted"]}{{{d},feature=~"{pattern}"}})'
        add(
            "MlpilotFeatureDrift",
            f"{drifted} == 1",
            "A watched feature drifted in the latest monitor window",
            "warning",
        )
    for drop in thresholds.performance:
        metric = f'{d},metric="{_string(drop.metric)}"'
        live = f"max by (deployment, version, metric) ({WATCHED['live']}{{{metric}}})"
        offline = f"max by (deployment, version, metric) ({WATCHED['offline']}{{{metric}}})"
        worse, sign = (">", "+") if drop.metric in LOWER_IS_BETTER else ("<", "-")
        add(
            f"MlpilotLive{_camel(drop.metric)}Drop",
            f"{live} {worse} on (deployment, version, metric) {offline} {sign} {drop.max_drop:g}",
            f"Live {drop.metric} is more than {drop.max_drop:g} worse than the version's offline {drop.metric}",
            "critical",
        )
    buckets = f"rate({SERVED['latency']}_bucket{{{d}}}[{_WINDOW}])"
    p99 = f"histogram_quantile(0.99, sum by (le) ({buckets}))"
    seconds = thresholds.latency_p99_ms / 1000
    add(
        "MlpilotHighLatency",
        f"{p99} > {seconds:g}",
        f"p99 prediction latency is above {thresholds.latency_p99_ms:g} ms",
        "warning",
        wait=_WINDOW,
    )
    failed = f'sum(rate({SERVED["requests"]}{{{d},status=~"5.."}}[{_WINDOW}]))'
    total = f"sum(rate({SERVED['requests']}{{{d}}}[{_WINDOW}]))"
    add(
        "MlpilotHighErrorRate",
        f"{failed} / {total} > {thresholds.error_rate:g}",
        f"More than {thresholds.error_rate:.1%} of prediction requests failed (5xx)",
        "critical",
        wait=_WINDOW,
    )
    # Rows the prediction log gave up on are predictions no monitor will see. The counter has no
    # deployment label (one log per process): the scrape job of this deployment's replicas says it.
    dropped = (
        f'sum(increase({SERVED["log_rows"]}{{job="{_string(job_name(deployment))}",outcome="dropped"}}[{_WINDOW}]))'
    )
    add(
        "MlpilotPredictionLogDropping",
        f"{dropped} > 0",
        "The prediction log dropped rows (its folder is full or unwritable): monitoring misses those predictions",
        "critical",
    )
    # mlpilot's own alerts (from the monitors' conditions) reach Alertmanager too.
    add(
        "MlpilotMonitorAlertOpen",
        f"max by (deployment, monitor) ({WATCHED['alerts_open']}{{{d}}}) > 0",
        "A monitor of the deployment has an open alert",
        "warning",
    )
    if thresholds.stale_after_seconds is not None:
        last = f"max by (deployment, monitor) ({WATCHED['last_run']}{{{d}}})"
        add(
            "MlpilotMonitorStale",
            f"time() - {last} > {thresholds.stale_after_seconds}",
            f"A monitor has not run for {_MISSED_RUNS} of its scheduled periods",
            "warning",
        )
    return {"groups": [{"name": f"mlpilot-{deployment}", "rules": add.rules}]}


class _RuleList:
    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.rules: list[dict[str, Any]] = []

    def __call__(self, name: str, expr: str, summary: str, severity: str, *, wait: str | None = None) -> None:
        self.rules.append(_rule(name, expr, summary, deployment=self.deployment, severity=severity, wait=wait))


def _camel(metric: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", metric) if part) or "Metric"


def job_name(deployment: str) -> str:
    """The scrape job of a deployment's replicas: its ``job`` label marks their samples."""
    return f"mlpilot-{deployment}"


def scrape_config(
    deployment: str, rules_file: str, *, targets: Sequence[str] = (), key_file: str = KEY_FILE
) -> dict[str, Any]:
    """A ``prometheus.yml`` scraping the deployment's replicas with a read-scope API key.

    Given ``targets`` (``host:port``) it scrapes those; otherwise it finds the pods that
    ``mlpilot export k8s`` creates, each scraped on its own (through the Service, every scrape
    would reach a different replica and counters would jump).
    """
    check_deployment_name(deployment)
    job: dict[str, Any] = {
        "job_name": job_name(deployment),
        "metrics_path": "/metrics",
        "scheme": "http",
        "authorization": {"type": "Bearer", "credentials_file": key_file},
    }
    if targets:
        job["static_configs"] = [{"targets": list(targets)}]
    else:
        job["kubernetes_sd_configs"] = [{"role": "pod"}]
        job["relabel_configs"] = [
            {
                "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"],
                "regex": re.escape(kube_name(deployment)),
                "action": "keep",
            },
            {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": "http", "action": "keep"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ]
    return {"rule_files": [rules_file], "scrape_configs": [job]}


def prometheus_files(
    deployment: str, configs: Sequence[MonitorConfig], *, targets: Sequence[str] = (), key_file: str = KEY_FILE
) -> dict[str, dict[str, Any]]:
    """``{"prometheus.yml": …, "<deployment>.rules.yml": …}``: the scrape config names the rules file."""
    rules_file = f"mlpilot-{deployment}.rules.yml"
    return {
        "prometheus.yml": scrape_config(deployment, rules_file, targets=targets, key_file=key_file),
        rules_file: alert_rules(deployment, thresholds_of(configs)),
    }
