"""Evaluating models on held-out data and gating a candidate against a baseline.

``evaluate_model`` scores a loaded model on a labelled frame; ``gate`` judges a candidate's
metrics against thresholds and changes versus a baseline (TFMA's semantics, failing closed).
Requirements and the gate import neither numpy nor scikit-learn; evaluation loads them on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlpilot.evaluation.gate import NO_BASELINE, NO_REQUIREMENTS, Check, GateDecision, gate, summarize
from mlpilot.evaluation.names import CLASSIFICATION_METRICS, LOWER_IS_BETTER, REGRESSION_METRICS, is_lower_better
from mlpilot.evaluation.requirements import (
    Change,
    Direction,
    Requirement,
    RequirementSpec,
    Threshold,
    default_direction,
    parse_requirement,
    parse_requirements,
    refuse_unknown_metrics,
)

if TYPE_CHECKING:
    from mlpilot.evaluation.evaluate import TASKS, Evaluation, Task, evaluate_model, infer_task
    from mlpilot.evaluation.metrics import MetricSet, classification_metrics, regression_metrics

_LAZY = {
    "TASKS": "mlpilot.evaluation.evaluate",
    "Evaluation": "mlpilot.evaluation.evaluate",
    "Task": "mlpilot.evaluation.evaluate",
    "evaluate_model": "mlpilot.evaluation.evaluate",
    "infer_task": "mlpilot.evaluation.evaluate",
    "MetricSet": "mlpilot.evaluation.metrics",
    "classification_metrics": "mlpilot.evaluation.metrics",
    "regression_metrics": "mlpilot.evaluation.metrics",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlpilot.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CLASSIFICATION_METRICS",
    "LOWER_IS_BETTER",
    "NO_BASELINE",
    "NO_REQUIREMENTS",
    "REGRESSION_METRICS",
    "TASKS",
    "Change",
    "Check",
    "Direction",
    "Evaluation",
    "GateDecision",
    "MetricSet",
    "Requirement",
    "RequirementSpec",
    "Task",
    "Threshold",
    "classification_metrics",
    "default_direction",
    "evaluate_model",
    "gate",
    "infer_task",
    "is_lower_better",
    "parse_requirement",
    "parse_requirements",
    "refuse_unknown_metrics",
    "regression_metrics",
    "summarize",
]
