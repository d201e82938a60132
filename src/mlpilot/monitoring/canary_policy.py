"""What a canary must show before it is promoted: the checks, their limits, and how long to watch.

A policy is plain data (it lives in a pipeline's parameters and in the ``canary_judged`` event),
checked whole when it is made: a bad value is an InvalidInput naming its field, never a surprise
in the middle of a rollout.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.evaluate import LOWER_IS_BETTER
from mlpilot.monitoring.performance import CLASSIFICATION_METRICS, REGRESSION_METRICS

__all__ = ["ON_INSUFFICIENT_DATA", "CanaryPolicy"]

ON_INSUFFICIENT_DATA = ("rollback", "promote")
_METRICS = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
# Without one of these a policy would promote any canary that merely took traffic.
_CHECKS = (
    "max_error_rate",
    "max_error_rate_increase",
    "max_latency_p99_ms",
    "max_latency_p99_ratio",
    "metric_threshold",
    "max_metric_drop",
)


@dataclass(frozen=True, slots=True)
class CanaryPolicy:
    """How a canary is judged. Times are in seconds, rates are fractions (0.01 is 1 %).

    - ``window``: how long the canary is watched before it can be promoted.
    - ``max_window``: how long past ``window`` it may be watched while a required check still
      lacks data (None: not at all), so a quiet hour extends the watch instead of deciding on
      too little traffic.
    - ``min_requests``: the fewest requests (logged rows for latency) the canary, and the primary
      for a comparison with it, must have before a traffic check gives a verdict.
    - ``max_error_rate``: the canary's 5xx share may not exceed this.
    - ``max_error_rate_increase``: nor the primary's by more than this (absolute, in rate).
    - ``max_latency_p99_ms``: the canary's p99 latency may not exceed this.
    - ``max_latency_p99_ratio``: nor the primary's p99 times this.
    - ``metric``: the live metric judged once labels arrived (any the monitors compute:
      accuracy, precision, recall, f1, roc_auc, log_loss, mae, rmse, mape, r2).
    - ``metric_threshold``: the worst value the canary's metric may have: a floor for
      higher-is-better metrics (accuracy ≥ 0.8), a ceiling for error metrics (mae ≤ 3).
    - ``max_metric_drop``: how much worse than the primary's the canary's metric may be (in the
      metric's units; for error metrics "worse" is higher).
    - ``min_labelled``: the labelled predictions a version needs before its metric is judged.
    - ``require_labels``: a canary without enough labels by the window's end has too little data
      (by default the metric checks are skipped then: labels often come later than a window).
    - ``on_insufficient_data``: what a canary with too little data at the window's end gets:
      ``"rollback"`` (the default: what was not shown to be safe is not promoted) or ``"promote"``.
    - ``poll_interval``: how often the canary is judged while watched.
    """

    window: float = 600.0
    max_window: float | None = None
    min_requests: int = 100
    max_error_rate: float | None = 0.05
    max_error_rate_increase: float | None = 0.01
    max_latency_p99_ms: float | None = None
    max_latency_p99_ratio: float | None = None
    metric: str = "accuracy"
    metric_threshold: float | None = None
    max_metric_drop: float | None = None
    min_labelled: int = 50
    require_labels: bool = False
    on_insufficient_data: str = "rollback"
    poll_interval: float = 15.0

    def __post_init__(self) -> None:
        _positive("window", self.window)
        _positive("poll_interval", self.poll_interval)
        _positive("max_window", self.max_window, optional=True)
        if self.max_window is not None and self.max_window < self.window:
            raise _bad("max_window", self.max_window, f"must be at least the window ({self.window:g} s)")
        _count("min_requests", self.min_requests)
        _count("min_labelled", self.min_labelled)
        _fraction("max_error_rate", self.max_error_rate)
        _fraction("max_error_rate_increase", self.max_error_rate_increase)
        _positive("max_latency_p99_ms", self.max_latency_p99_ms, optional=True)
        _positive("max_latency_p99_ratio", self.max_latency_p99_ratio, optional=True)
        _number("metric_threshold", self.metric_threshold)
        _number("max_metric_drop", self.max_metric_drop)
        if self.max_metric_drop is not None and self.max_metric_drop < 0:
            raise _bad("max_metric_drop", self.max_metric_drop, "must be 0 or more")
        if self.metric not in _METRICS:
            raise InvalidInput(
                f"CanaryPolicy.metric {self.metric!r} is not a metric the monitors compute",
                hint=f"Use one of {', '.join(_METRICS)}.",
            )
        if not isinstance(self.require_labels, bool):
            raise _bad("require_labels", self.require_labels, "must be true or false")
        if self.on_insufficient_data not in ON_INSUFFICIENT_DATA:
            raise _bad("on_insufficient_data", self.on_insufficient_data, 'must be "rollback" or "promote"')
        if all(getattr(self, name) is None for name in _CHECKS):
            raise InvalidInput(
                "CanaryPolicy has no check: every one of " + ", ".join(_CHECKS) + " is unset",
                hint="Set at least one, or every canary that merely takes traffic would be promoted.",
            )

    @property
    def window_ms(self) -> int:
        return round(self.window * 1000)

    @property
    def max_window_ms(self) -> int:
        """The latest a verdict may come: the window, or ``max_window`` when set."""
        return round((self.window if self.max_window is None else self.max_window) * 1000)

    @property
    def task(self) -> str:
        """The kind of model the metric belongs to."""
        return "regression" if self.metric in REGRESSION_METRICS else "classification"

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CanaryPolicy:
        """A policy from plain data (a pipeline's parameters, a config file); unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"a canary policy must be a mapping, got {type(data).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        if unknown := sorted(str(key) for key in data if key not in known):
            raise InvalidInput(
                f"CanaryPolicy has no field {', '.join(map(repr, unknown))}",
                hint=f"Known fields: {', '.join(sorted(known))}.",
            )
        return cls(**{str(key): value for key, value in data.items()})

    def to_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def _bad(field: str, value: object, rule: str) -> InvalidInput:
    return InvalidInput(
        f"CanaryPolicy.{field} {rule}, got {value!r}", hint="See docs/monitoring.md, 'Canary rollouts'."
    )


def _number(field: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(field, value, "must be a finite number")


def _positive(field: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None:
        raise _bad(field, value, "must be a positive number")
    _number(field, value)
    if isinstance(value, int | float) and value <= 0:
        raise _bad(field, value, "must be a positive number")


def _fraction(field: str, value: object) -> None:
    _number(field, value)
    if isinstance(value, int | float) and not 0 <= value <= 1:
        raise _bad(field, value, "must be a fraction between 0 and 1")


def _count(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(field, value, "must be a whole number of at least 1")
