"""The metric names evaluation produces and which way each improves; free of numpy and
scikit-learn so that parsing a gate (the CLI, a pipeline definition) stays cheap to import."""

from __future__ import annotations

__all__ = ["CLASSIFICATION_METRICS", "LOWER_IS_BETTER", "REGRESSION_METRICS", "is_lower_better"]

# The names the monitors use for live performance, so offline and live numbers line up.
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
# Error and loss metrics: a fall, not a rise, is an improvement. Names ending in these suffixes
# (``val_loss``, ``hamming_loss``, ``squared_error``) count too; anything else is higher-is-better.
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "mse", "rmse", "mape", "msle", "rmsle", "brier_score", "error_rate"})
_LOWER_SUFFIXES = ("_loss", "_error", "loss")


def is_lower_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER or metric.endswith(_LOWER_SUFFIXES)
