"""One monitor window, evaluated: drift of inputs and outputs against the version's reference,
live performance from the labels that arrived, a CBPE estimate for the rows still without one,
latency, and each alert condition with its value.

Pure: frames in, a plain-JSON result out, so the same code serves a scheduled run, a CLI run and
a test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlpilot.deployments.request_counts import RequestCounts
from mlpilot.errors import InvalidInput

# Error metrics: a rise, not a fall, is the performance drop to alert on (one list, evaluation's).
from mlpilot.evaluation.names import LOWER_IS_BETTER
from mlpilot.monitoring.cbpe import CBPE
from mlpilot.monitoring.config import MonitorConfig
from mlpilot.monitoring.drift import CurrentColumns, drift
from mlpilot.monitoring.performance import Performance, classification_performance, regression_performance
from mlpilot.monitoring.references import PREDICTION, PROBA, StoredReference
from mlpilot.monitoring.results import DriftReport
from mlpilot.monitoring.windows import feature_frame

__all__ = ["LOWER_IS_BETTER", "MIN_CALIBRATION_ROWS", "Evaluation", "evaluate_window"]

# CBPE learns how confidence relates to outcomes; fewer labelled rows than this teach it noise.
MIN_CALIBRATION_ROWS = 200


@dataclass(frozen=True, slots=True)
class Evaluation:
    result: dict[str, Any]
    breaches: list[dict[str, Any]]  # the conditions that hold now, each with its value and message


def _proba_frame(frame: pd.DataFrame) -> pd.DataFrame | None:
    columns = [column for column in frame.columns if column.startswith(PROBA)]
    if not columns:
        return None
    return frame[columns].rename(columns=lambda column: column.removeprefix(PROBA)).astype(np.float64)


def _drift(
    reference: StoredReference,
    window: pd.DataFrame,
    version: int,
    config: MonitorConfig,
    features: CurrentColumns | None = None,
) -> DriftReport:
    profile = reference.profile
    inputs: pd.DataFrame | CurrentColumns = feature_frame(window) if features is None else features
    columns = list(config.features) if config.features is not None else list(profile.columns)
    unknown = [name for name in columns if name not in profile.columns]
    if unknown:
        raise InvalidInput(
            f"the monitor's features {', '.join(map(repr, unknown))} are not in the reference of "
            f"{reference.model}/{reference.version} ({', '.join(profile.columns)})",
            hint="Name columns of the model's signature, 'prediction' or 'proba:<class>' in the monitor's features.",
        )
    # The outputs of other versions (a canary) are not this reference's to compare with.
    outputs = [name for name in columns if (name == PREDICTION or name.startswith(PROBA)) and name in inputs.columns]
    if outputs and isinstance(inputs, pd.DataFrame):  # given features come with them blanked already
        inputs.loc[(window["version"] != version).to_numpy(), outputs] = np.nan
    options = config.drift_options()
    options["methods"] = {k: v for k, v in options["methods"].items() if k in columns}
    options["thresholds"] = {k: v for k, v in options["thresholds"].items() if k in columns}
    return drift(profile, inputs, columns=columns, **options)


def _live(task: str | None, labelled: pd.DataFrame) -> Performance | None:
    if labelled.empty:
        return None
    if task == "regression":
        return regression_performance(pd.to_numeric(labelled["label"], errors="coerce"), labelled[PREDICTION])
    return classification_performance(labelled["label"], labelled[PREDICTION], _proba_frame(labelled))


def _no_estimate(rows: int, why: str) -> dict[str, Any]:
    """An estimate's place in a result, empty, saying why."""
    return {
        "rows": rows,
        "metrics": {},
        "sampling_error": {},
        "calibrated": False,
        "assumptions": [],
        "notes": {"calibration": why},
    }


def _estimate(window: pd.DataFrame, calibration: pd.DataFrame) -> dict[str, Any] | None:
    proba = _proba_frame(window)
    learned = _proba_frame(calibration)
    if proba is None:
        return None
    if learned is None or len(calibration) < MIN_CALIBRATION_ROWS:
        return _no_estimate(
            len(window),
            f"{len(calibration)} labelled predictions to learn from; CBPE needs at least "
            f"{MIN_CALIBRATION_ROWS}, so there is no estimate yet.",
        )
    try:
        return CBPE.fit(learned, calibration["label"]).estimate(proba).to_dict()
    except InvalidInput as refused:
        return _no_estimate(len(window), refused.message)


def _latency(window: pd.DataFrame) -> dict[str, float] | None:
    if "latency_ms" not in window.columns or window.empty:
        return None
    values = pd.to_numeric(window["latency_ms"], errors="coerce").dropna().to_numpy(dtype=np.float64)
    if not len(values):
        return None
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(values.mean())}


def _conditions(
    config: MonitorConfig,
    report: DriftReport | None,
    live: Performance | None,
    estimated: Mapping[str, Any] | None,
    offline: Mapping[str, float],
    latency: Mapping[str, float] | None,
    traffic: RequestCounts | None,
) -> list[dict[str, Any]]:
    conditions = config.conditions
    checked: list[dict[str, Any]] = []

    def check(name: str, value: float | None, threshold: float, breached: bool, message: str) -> None:
        shown = None if value is None or not math.isfinite(value) else value
        checked.append(
            {"condition": name, "value": shown, "threshold": threshold, "breached": breached, "message": message}
        )

    if conditions.drift_share is not None and report is not None and report.share is not None:
        share = report.share
        check(
            "drift_share",
            share,
            conditions.drift_share,
            share >= conditions.drift_share,
            f"{len(report.drifted_columns)} of {len(report.tested)} tested columns drifted "
            f"(share {share:.2f}; alert at {conditions.drift_share:.2f})",
        )
    for name in conditions.features:
        feature = None if report is None else next((f for f in report.features if f.column == name), None)
        if feature is None or feature.drifted is None or feature.statistic is None:
            continue
        check(
            f"feature_drift:{name}",
            feature.statistic,
            feature.threshold or 0.0,
            bool(feature.drifted),
            f"{name}: {feature.method} {feature.statistic:.4g} "
            + ("drifted" if feature.drifted else "within its threshold"),
        )
    drop = conditions.performance
    if drop is not None and drop.metric in offline:
        source, value = "live", None if live is None else live.metrics.get(drop.metric)
        if value is None and estimated is not None:
            source, value = "estimated", estimated.get("metrics", {}).get(drop.metric)
        if value is not None:
            baseline = float(offline[drop.metric])
            worse = (
                value > baseline + drop.max_drop if drop.metric in LOWER_IS_BETTER else value < baseline - drop.max_drop
            )
            check(
                f"performance:{drop.metric}",
                value,
                baseline,
                worse,
                f"{source} {drop.metric} {value:.4g} against {baseline:.4g} offline (alert beyond {drop.max_drop:g})",
            )
    if conditions.latency_p99_ms is not None and latency is not None:
        check(
            "latency_p99_ms",
            latency["p99"],
            conditions.latency_p99_ms,
            latency["p99"] > conditions.latency_p99_ms,
            f"p99 latency {latency['p99']:.1f} ms (alert above {conditions.latency_p99_ms:g} ms)",
        )
    if conditions.error_rate is not None and traffic is not None and traffic.error_rate is not None:
        check(
            "error_rate",
            traffic.error_rate,
            conditions.error_rate,
            traffic.error_rate > conditions.error_rate,
            f"{traffic.server_errors} of {traffic.requests} requests failed ({traffic.error_rate:.1%}; "
            f"alert above {conditions.error_rate:.1%})",
        )
    return checked


def evaluate_window(
    config: MonitorConfig,
    reference: StoredReference,
    window: pd.DataFrame,
    labels: pd.DataFrame,
    calibration: pd.DataFrame,
    offline: Mapping[str, float],
    traffic: RequestCounts | None = None,
    *,
    features: CurrentColumns | None = None,
) -> Evaluation:
    """``window``: the logged rows to judge (no shadow rows); ``labels``: prediction_id and label;
    ``calibration``: earlier labelled rows of the same version (log columns plus ``label``);
    ``traffic``: the window's request and error counts; ``features``: the window's inputs and
    outputs kept elsewhere (a Spark DataFrame's view), other versions' outputs blanked, when
    ``window`` lacks its ``input:`` columns."""
    report = _drift(reference, window, reference.version, config, features) if len(window) else None
    own = window[window["version"] == reference.version]
    labelled = own.merge(labels[["prediction_id", "label"]], on="prediction_id", how="inner")
    task = reference.task or ("classification" if _proba_frame(window) is not None else None)
    live = _live(task, labelled)
    estimated = _estimate(own, calibration) if task == "classification" and len(own) else None
    latency = _latency(window)
    checked = _conditions(config, report, live, estimated, offline, latency, traffic)
    breaches = [condition for condition in checked if condition["breached"]]
    message: str | None
    if not len(window):
        status, message = "not_enough_data", "no predictions were logged in this window"
    elif report is not None and report.share is None and not checked:
        status, message = "not_enough_data", report.summary()
    else:
        status, message = ("alert" if breaches else "ok"), None if report is None else report.summary()
    result = {
        "model": reference.model,
        "version": reference.version,
        "status": status,
        "message": message,
        "reference": {"dataset": reference.dataset, "rows": reference.profile.rows, "task": task},
        "drift": None if report is None else report.to_dict(),
        "performance": {
            "labelled_rows": len(labelled),
            "live": None if live is None else live.to_dict(),
            "estimated": estimated,
            "offline": {key: float(value) for key, value in offline.items()},
        },
        "latency_ms": latency,
        "traffic": None if traffic is None else traffic.to_dict(),
        "conditions": checked,
    }
    return Evaluation(result, breaches)
