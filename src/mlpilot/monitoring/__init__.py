"""Watching deployed models: drift against the training reference, live and estimated
performance, monitors and alerts, and the canary rollouts judged on them."""

from mlpilot.monitoring.canary import (
    CanaryCheck,
    CanaryOutcome,
    CanaryPolicy,
    CanaryVerdict,
    VersionStats,
    judge_canary,
    start_canary,
    watch_canary,
)
from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE, DEFAULT_MIN_ROWS, drift
from mlpilot.monitoring.methods import METHODS
from mlpilot.monitoring.profile import ReferenceProfile
from mlpilot.monitoring.results import DriftReport, FeatureDrift, Verdict
from mlpilot.monitoring.windows import drift_series

__all__ = [
    "DEFAULT_DRIFT_SHARE",
    "DEFAULT_MIN_ROWS",
    "METHODS",
    "CanaryCheck",
    "CanaryOutcome",
    "CanaryPolicy",
    "CanaryVerdict",
    "DriftReport",
    "FeatureDrift",
    "ReferenceProfile",
    "Verdict",
    "VersionStats",
    "drift",
    "drift_series",
    "judge_canary",
    "start_canary",
    "watch_canary",
]
