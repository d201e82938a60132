"""Realized ("live") performance of a model, once the ground-truth labels of its predictions are known.

A thin layer over ``mlpilot.evaluation.metrics``, which computes every number (the same code scores
a model offline, so live and offline metrics agree by construction; its docstring says which rows,
which classes and which averages). This module shapes the result for the monitors: a metric that
cannot be computed is ``None`` with a sentence in ``notes``, and every metric name of the task is
present. ``proba`` is a frame with one column per class, aligned row by row with the labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlpilot.errors import InvalidInput
from mlpilot.evaluation.metrics import (
    Floats,
    MetricSet,
    as_series,
    classification_metrics,
    label_codes,
    label_key,
    plain,
    regression_metrics,
    sorted_labels,
)
from mlpilot.evaluation.names import CLASSIFICATION_METRICS, REGRESSION_METRICS

# The label matching and the metric names are evaluation's, re-exported for the monitors (CBPE).
__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "Floats",
    "Performance",
    "as_series",
    "classification_performance",
    "finite",
    "label_codes",
    "label_key",
    "plain",
    "regression_performance",
    "sorted_labels",
]


@dataclass(frozen=True, slots=True)
class Performance:
    task: str
    rows: int
    metrics: dict[str, float | None]
    notes: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "rows": self.rows,
            "metrics": {name: finite(value) for name, value in self.metrics.items()},
            "notes": dict(self.notes),
        }


def finite(value: float | None) -> float | None:
    """A plain float, or None for a missing, NaN or infinite value (JSON has none of them)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def classification_performance(
    y_true: object, y_pred: object, proba: pd.DataFrame | None = None, *, positive_label: object | None = None
) -> Performance:
    if proba is not None and not isinstance(proba, pd.DataFrame):
        raise InvalidInput("proba must be a DataFrame with one column per class", hint="Use model.predict_proba.")
    scored = classification_metrics(y_true, y_pred, proba, positive_label=positive_label)
    return _performance("classification", CLASSIFICATION_METRICS, scored)


def regression_performance(y_true: object, y_pred: object) -> Performance:
    return _performance("regression", REGRESSION_METRICS, regression_metrics(y_true, y_pred))


def _performance(task: str, names: Sequence[str], scored: MetricSet) -> Performance:
    return Performance(task, scored.rows, {name: scored.values.get(name) for name in names}, dict(scored.notes))
