"""A Grafana dashboard for one deployment, built only from the Prometheus metrics mlpilot exposes.

The JSON is an importable export: ``__inputs`` declares the Prometheus datasource placeholder, so
Grafana's "Import dashboard" asks which datasource to use; file provisioning, which substitutes
nothing, passes a real ``datasource_uid`` instead. Every query filters on a hidden ``deployment``
constant, so one dashboard never mixes deployments, and the uid is derived from the deployment
name, so re-importing replaces the dashboard rather than adding a copy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mlpilot.deployments.specs import check_deployment_name
from mlpilot.errors import InvalidInput
from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE
from mlpilot.monitoring.gauges import MONITORING_METRIC_NAMES as WATCHED
from mlpilot.monitoring.gauges import SERVING_METRIC_NAMES as SERVED

__all__ = ["SCHEMA_VERSION", "grafana_dashboard", "metric_names_in"]

SCHEMA_VERSION = 39
_DEPLOYMENT = 'deployment="$deployment"'
_QUALITY = ("live", "estimated", "offline")
_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z0-9_]+)\}$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_METRIC = re.compile(r"(?<![A-Za-z0-9_:])mlpilot_[a-z0-9_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GRAFANA_VARIABLE = re.compile(r"\$\w|\$\{|\[\[")
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
# Beyond this many per-feature panels the row starts collapsed: Grafana queries a collapsed row's
# panels only when it is opened, so a wide schema does not fire hundreds of queries on every load.
_OPEN_FEATURE_PANELS = 12
_FULL, _HALF, _THIRD, _QUARTER = 24, 12, 8, 6


def grafana_dashboard(
    deployment: str,
    *,
    features: Sequence[str] = (),
    datasource_uid: str = "${DS_PROMETHEUS}",
    title: str | None = None,
) -> dict[str, Any]:
    """The dashboard JSON model (schemaVersion 39) for ``deployment``; ``features`` adds a panel each."""
    check_deployment_name(deployment)
    columns = _check_features(features)
    if not isinstance(datasource_uid, str) or not datasource_uid.strip():
        raise InvalidInput("datasource_uid must be a non-empty string", hint="Pass the Prometheus datasource's uid.")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise InvalidInput("title must be a non-empty string when given")
    datasource = {"type": "prometheus", "uid": datasource_uid}
    board = _Board(datasource)

    board.row("Traffic")
    requests = SERVED["requests"]
    board.timeseries("Request rate by status", "reqps", (f"sum by (status) ({_rate(requests)})", "{{status}}"))
    server_errors = _rate(requests, ',status=~"5.."')
    errors = f"sum({server_errors}) / sum({_rate(requests)})"
    board.timeseries("Error ratio (5xx over all requests)", "percentunit", (errors, "5xx share"), y_range=(0, None))
    buckets_name = SERVED["latency"] + "_bucket"
    buckets = _rate(buckets_name)
    quantiles = [(f"histogram_quantile({q}, sum by (le) ({buckets}))", f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)]
    board.timeseries("Latency p50 / p95 / p99", "s", *quantiles)
    board.heatmap("Latency distribution", f"sum by (le) ({_rate(buckets_name, fn='increase')})")
    weights = (f"max by (version, role) ({_sel(SERVED['traffic'])})", "v{{version}} {{role}}")
    board.timeseries("Traffic weight by version and role", "percentunit", weights, y_range=(0, 1))
    board.stat("Open alerts", f"sum({_sel(WATCHED['alerts_open'])}) or vector(0)", unit="none", alert_at=1)
    last_run = f"time() - max({_sel(WATCHED['last_run'])})"
    board.stat("Since the last monitor run", last_run, unit="s")

    board.row("Drift")
    share = (f"max by (version) ({_sel(WATCHED['drift_share'])})", "v{{version}}")
    board.timeseries("Dataset drift share", "percentunit", share, y_range=(0, 1), threshold_line=DEFAULT_DRIFT_SHARE)
    scores = (f"max by (feature, method) ({_sel(WATCHED['drift_score'])})", "{{feature}} ({{method}})")
    board.timeseries("Drift score per feature", "none", scores)
    board.state_timeline("Drifted features", f"max by (feature) ({_sel(WATCHED['drifted'])})")

    board.row("Model quality")
    board.timeseries(
        "$metric: live, estimated (CBPE) and offline",
        "none",
        *[(_sel(WATCHED[kind], ',metric="$metric"'), f"{kind} v{{{{version}}}}") for kind in _QUALITY],
        width=_FULL,
        dashed=_QUALITY[1:],
    )

    if columns:
        board.row("Drift by feature", collapsed=len(columns) > _OPEN_FEATURE_PANELS)
        for column in columns:
            selector = _sel(WATCHED["drift_score"], f',feature="{_promql_string(column)}"')
            board.timeseries(f"Drift: {column}", "none", (f"max by (method) ({selector})", "{{method}}"), width=_THIRD)

    return {
        "__inputs": _inputs(datasource_uid),
        "__elements": {},
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            *({"type": "panel", "id": kind, "name": kind, "version": ""} for kind in sorted(board.kinds)),
        ],
        "annotations": {"list": [_BUILTIN_ANNOTATIONS]},
        "description": f"mlpilot serving, drift and model quality for the deployment {deployment}.",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": board.panels,
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["mlpilot", deployment],
        "templating": {"list": [_deployment_variable(deployment), _metric_variable(datasource)]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title if title is not None else f"mlpilot · {deployment}",
        "uid": "mlpilot-" + hashlib.sha256(deployment.encode()).hexdigest()[:24],
        "version": 1,
        "weekStart": "",
    }


def metric_names_in(dashboard: Mapping[str, Any]) -> set[str]:
    """Every mlpilot metric the dashboard's queries read, histogram series mapped to their base name."""
    names = set()
    for expr in _expressions(dashboard):
        # Label values are user text (feature names): only what lies outside quotes is PromQL.
        for name in _METRIC.findall(_STRING.sub('""', expr)):
            suffix = next((s for s in _HISTOGRAM_SUFFIXES if name.endswith(s)), "")
            names.add(name[: len(name) - len(suffix)] if suffix else name)
    return names


def _expressions(dashboard: Mapping[str, Any]) -> Iterator[str]:
    for panel in _all_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if isinstance(target.get("expr"), str):
                yield target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query" and isinstance(variable.get("definition"), str):
            yield variable["definition"]


def _all_panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _all_panels(panel.get("panels", []))  # a collapsed row holds its panels inside


def _check_features(features: Sequence[str]) -> list[str]:
    if isinstance(features, str):
        raise InvalidInput("features must be a list of column names, not one string", hint="Pass features=[name].")
    columns: list[str] = []
    for column in features:
        # Grafana would expand $name, ${…} and [[name]] in queries and titles before Prometheus
        # sees them, and offers no escape; a lone '$' (as in "cost_$") is left alone, so it may stay.
        if not isinstance(column, str) or not column or _CONTROL.search(column) or _GRAFANA_VARIABLE.search(column):
            raise InvalidInput(
                f"feature {column!r} cannot be shown on a Grafana dashboard",
                hint="Feature names must be non-empty, without control characters, '$name', '${' or '[['.",
            )
        if column not in columns:
            columns.append(column)
    return columns


def _sel(metric: str, matchers: str = "") -> str:
    return f"{metric}{{{_DEPLOYMENT}{matchers}}}"


def _rate(metric: str, matchers: str = "", *, fn: str = "rate") -> str:
    return f"{fn}({_sel(metric, matchers)}[$__rate_interval])"


def _promql_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _inputs(datasource_uid: str) -> list[dict[str, str]]:
    match = _PLACEHOLDER.match(datasource_uid)
    if match is None:
        return []  # a concrete uid: nothing for the importer to ask
    return [
        {
            "name": match.group(1),
            "label": "Prometheus",
            "description": "The Prometheus that scrapes the mlpilot servers",
            "type": "datasource",
            "pluginId": "prometheus",
            "pluginName": "Prometheus",
        }
    ]


_BUILTIN_ANNOTATIONS: dict[str, Any] = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def _deployment_variable(deployment: str) -> dict[str, Any]:
    return {
        "name": "deployment",
        "label": "Deployment",
        "type": "constant",
        "query": deployment,
        "hide": 2,
        "skipUrlSync": False,
        "current": {"selected": True, "text": deployment, "value": deployment},
        "options": [{"selected": True, "text": deployment, "value": deployment}],
    }


def _metric_variable(datasource: dict[str, str]) -> dict[str, Any]:
    # Offered from the live series, so a regressor lists mae/rmse and a classifier accuracy/f1/…
    query = f"label_values({WATCHED['live']}{{{_DEPLOYMENT}}}, metric)"
    return {
        "name": "metric",
        "label": "Quality metric",
        "type": "query",
        "datasource": datasource,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
        "refresh": 2,
        "sort": 1,
        "multi": False,
        "includeAll": False,
        "hide": 0,
        "current": {"selected": True, "text": "accuracy", "value": "accuracy"},
        "options": [],
    }


class _Board:
    """Lays panels out left to right on Grafana's 24-column grid, numbering them uniquely."""

    def __init__(self, datasource: dict[str, str]) -> None:
        self.datasource = datasource
        self.panels: list[dict[str, Any]] = []
        self.kinds: set[str] = set()
        self._into = self.panels
        self._x = self._y = self._line_height = 0
        self._next_id = 1

    def _place(self, width: int, height: int) -> dict[str, int]:
        if self._x + width > _FULL:
            self._x, self._y, self._line_height = 0, self._y + self._line_height, 0
        grid = {"h": height, "w": width, "x": self._x, "y": self._y}
        self._x += width
        self._line_height = max(self._line_height, height)
        return grid

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def row(self, title: str, *, collapsed: bool = False) -> None:
        self._x, self._y, self._line_height = 0, self._y + self._line_height, 0
        row: dict[str, Any] = {"type": "row", "id": self._id(), "title": title, "collapsed": collapsed, "panels": []}
        row["gridPos"] = self._place(_FULL, 1)
        self.panels.append(row)
        self._into = row["panels"] if collapsed else self.panels
        self._x, self._y, self._line_height = 0, self._y + 1, 0

    def _panel(self, kind: str, title: str, targets: list[dict[str, Any]], width: int, height: int) -> dict[str, Any]:
        self.kinds.add(kind)
        panel = {
            "type": kind,
            "id": self._id(),
            "title": title,
            "datasource": self.datasource,
            "targets": targets,
            "gridPos": self._place(width, height),
        }
        self._into.append(panel)
        return panel

    def _target(self, expr: str, legend: str, index: int, **extra: Any) -> dict[str, Any]:
        ref = chr(ord("A") + index)
        return {"datasource": self.datasource, "expr": expr, "legendFormat": legend, "refId": ref, **extra}

    def timeseries(
        self,
        title: str,
        unit: str,
        *queries: tuple[str, str],
        width: int = _HALF,
        height: int = 8,
        y_range: tuple[float | None, float | None] = (None, None),
        threshold_line: float | None = None,
        dashed: Sequence[str] = (),
    ) -> None:
        targets = [self._target(expr, legend, i) for i, (expr, legend) in enumerate(queries)]
        panel = self._panel("timeseries", title, targets, width, height)
        custom: dict[str, Any] = {"lineWidth": 2, "fillOpacity": 8, "showPoints": "auto", "spanNulls": False}
        steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
        if threshold_line is not None:
            custom["thresholdsStyle"] = {"mode": "line"}
            steps.append({"color": "red", "value": threshold_line})
        defaults: dict[str, Any] = {
            "unit": unit,
            "color": {"mode": "palette-classic"},
            "custom": custom,
            "thresholds": {"mode": "absolute", "steps": steps},
        }
        low, high = y_range
        defaults |= {key: value for key, value in (("min", low), ("max", high)) if value is not None}
        overrides = [
            {
                "matcher": {"id": "byRegexp", "options": f"^{prefix}"},
                "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 6]}}],
            }
            for prefix in dashed
        ]
        panel["fieldConfig"] = {"defaults": defaults, "overrides": overrides}
        panel["options"] = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }

    def heatmap(self, title: str, expr: str) -> None:
        target = self._target(expr, "{{le}}", 0, format="heatmap")
        panel = self._panel("heatmap", title, [target], _HALF, 8)
        panel["options"] = {
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "yAxis": {"unit": "s"},
            "tooltip": {"mode": "single", "yHistogram": True},
        }
        panel["fieldConfig"] = {"defaults": {}, "overrides": []}

    def stat(self, title: str, expr: str, *, unit: str, alert_at: float | None = None) -> None:
        panel = self._panel("stat", title, [self._target(expr, title, 0, instant=True)], _QUARTER, 8)
        steps: list[dict[str, Any]] = [{"color": "green" if alert_at is not None else "blue", "value": None}]
        if alert_at is not None:
            steps.append({"color": "red", "value": alert_at})
        panel["fieldConfig"] = {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        }
        panel["options"] = {"colorMode": "background", "graphMode": "none", "reduceOptions": {"calcs": ["lastNotNull"]}}

    def state_timeline(self, title: str, expr: str) -> None:
        panel = self._panel("state-timeline", title, [self._target(expr, "{{feature}}", 0)], _FULL, 9)
        panel["fieldConfig"] = {
            "defaults": {
                "color": {"mode": "thresholds"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}],
                },
                "mappings": [
                    {
                        "type": "value",
                        "options": {
                            "0": {"text": "no drift", "color": "green", "index": 0},
                            "1": {"text": "drift", "color": "red", "index": 1},
                        },
                    }
                ],
            },
            "overrides": [],
        }
        panel["options"] = {"showValue": "never", "mergeValues": True, "rowHeight": 0.85, "alignValue": "left"}
