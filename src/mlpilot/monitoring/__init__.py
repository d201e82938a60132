"""Watching deployed models: drift against the training reference, live and estimated
performance, monitors and alerts."""

from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE, DEFAULT_MIN_ROWS, drift
from mlpilot.monitoring.methods import METHODS
from mlpilot.monitoring.profile import ReferenceProfile
from mlpilot.monitoring.results import DriftReport, FeatureDrift, Verdict
from mlpilot.monitoring.windows import drift_series

__all__ = [
    "DEFAULT_DRIFT_SHARE",
    "DEFAULT_MIN_ROWS",
    "METHODS",
    "DriftReport",
    "FeatureDrift",
    "ReferenceProfile",
    "Verdict",
    "drift",
    "drift_series",
]
