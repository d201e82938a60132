"""What a monitor watches and when it alerts, checked field by field.

A monitor's config is plain JSON (stored in the database, sent over HTTP, written in files), read
here into a typed record. Every refusal names the field, so ``conditions.latency_p99_ms`` in an
error message points at the exact key to fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.corrections import check_correction
from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE, DEFAULT_MIN_ROWS
from mlpilot.monitoring.methods import get_method
from mlpilot.monitoring.webhooks import check_webhook_url
from mlpilot.monitoring.windows import WindowSpec, parse_window

__all__ = ["SECRET_MASK", "Conditions", "MonitorConfig", "PerformanceDrop"]

T = TypeVar("T")
SECRET_MASK = "***"  # what a stored webhook secret reads as
DEFAULT_WINDOW = "1h"
DEFAULT_SCHEDULE_SECONDS = 3600
MIN_SCHEDULE_SECONDS = 10
_FIELDS = {
    "window",
    "features",
    "method",
    "methods",
    "threshold",
    "thresholds",
    "correction",
    "min_rows",
    "drift_share",
    "schedule_seconds",
    "conditions",
    "webhooks",
    "webhook_secret",
}
_CONDITIONS = {"drift_share", "features", "performance", "latency_p99_ms", "error_rate"}


def _refuse(where: str, problem: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(f"monitor config field {where}: {problem}", hint=hint)


def _within(where: str, check: Callable[[Any], T], value: object) -> T:
    """``check(value)``, its refusal re-worded to name the field."""
    try:
        return check(value)
    except InvalidInput as refused:
        raise _refuse(where, refused.message, refused.hint) from None


def _number(value: object, where: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse(where, f"expected a number, got {value!r}")
    if not low <= value <= high:
        raise _refuse(where, f"{value!r} is outside {low:g} to {high:g}")
    return float(value)


def _names(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _refuse(where, f"expected a list of names, got {value!r}")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class PerformanceDrop:
    """Alert when the live metric falls more than ``max_drop`` below the version's offline one
    (for error metrics such as mae, when it rises more than ``max_drop`` above it)."""

    metric: str
    max_drop: float

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "max_drop": self.max_drop}


@dataclass(frozen=True, slots=True)
class Conditions:
    drift_share: float | None = DEFAULT_DRIFT_SHARE  # alert when at least this share of columns drift
    features: tuple[str, ...] = ()  # alert when any of these drifts
    performance: PerformanceDrop | None = None
    latency_p99_ms: float | None = None
    error_rate: float | None = None  # alert when more than this share of requests failed (5xx)

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift_share": self.drift_share,
            "features": list(self.features),
            "performance": None if self.performance is None else self.performance.to_dict(),
            "latency_p99_ms": self.latency_p99_ms,
            "error_rate": self.error_rate,
        }

    @classmethod
    def from_dict(cls, data: object) -> Conditions:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise _refuse("conditions", f"expected an object, got {data!r}")
        unknown = sorted(set(data) - _CONDITIONS)
        if unknown:
            raise _refuse(f"conditions.{unknown[0]}", "unknown condition", f"Known: {', '.join(sorted(_CONDITIONS))}.")
        share = data.get("drift_share", DEFAULT_DRIFT_SHARE)
        performance = data.get("performance")
        drop = None
        if performance is not None:
            if not isinstance(performance, Mapping) or not isinstance(performance.get("metric"), str):
                raise _refuse("conditions.performance", 'expected {"metric": "accuracy", "max_drop": 0.05}')
            drop = PerformanceDrop(
                performance["metric"], _number(performance.get("max_drop"), "conditions.performance.max_drop")
            )
        latency = data.get("latency_p99_ms")
        errors = data.get("error_rate")
        return cls(
            drift_share=None if share is None else _number(share, "conditions.drift_share", low=1e-9, high=1.0),
            features=_names(data.get("features", []), "conditions.features"),
            performance=drop,
            latency_p99_ms=None if latency is None else _number(latency, "conditions.latency_p99_ms", low=1e-9),
            error_rate=None if errors is None else _number(errors, "conditions.error_rate", high=1.0),
        )


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    window: WindowSpec = field(default_factory=lambda: parse_window(DEFAULT_WINDOW))
    features: tuple[str, ...] | None = None  # None: every input of the reference, and the outputs
    method: str | None = None
    methods: Mapping[str, str] = field(default_factory=dict)
    threshold: float | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    correction: str | None = None
    min_rows: int = DEFAULT_MIN_ROWS
    drift_share: float = DEFAULT_DRIFT_SHARE
    schedule_seconds: int = DEFAULT_SCHEDULE_SECONDS
    conditions: Conditions = field(default_factory=Conditions)
    webhooks: tuple[str, ...] = ()
    webhook_secret: str | None = None

    def drift_options(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "methods": dict(self.methods),
            "threshold": self.threshold,
            "thresholds": dict(self.thresholds),
            "correction": self.correction,
            "min_rows": self.min_rows,
            "drift_share": self.drift_share,
        }

    def to_dict(self, *, secrets: bool = True) -> dict[str, Any]:
        return {
            "window": self.window.text,
            "features": None if self.features is None else list(self.features),
            **self.drift_options(),
            "schedule_seconds": self.schedule_seconds,
            "conditions": self.conditions.to_dict(),
            "webhooks": list(self.webhooks),
            "webhook_secret": self.webhook_secret if secrets else (SECRET_MASK if self.webhook_secret else None),
        }

    @classmethod
    def from_dict(cls, data: object) -> MonitorConfig:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidInput(f"a monitor config must be an object, not {data!r}")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise _refuse(unknown[0], "unknown field", f"Known fields: {', '.join(sorted(_FIELDS))}.")
        method = data.get("method")
        if method is not None:
            method = get_method(method).name
        methods = data.get("methods") or {}
        if not isinstance(methods, Mapping):
            raise _refuse("methods", "expected an object of column to method name")
        thresholds = data.get("thresholds") or {}
        if not isinstance(thresholds, Mapping):
            raise _refuse("thresholds", "expected an object of column to threshold")
        features = data.get("features")
        min_rows = data.get("min_rows", DEFAULT_MIN_ROWS)
        if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
            raise _refuse("min_rows", f"expected a whole number of at least 1, got {min_rows!r}")
        schedule = data.get("schedule_seconds", DEFAULT_SCHEDULE_SECONDS)
        if isinstance(schedule, bool) or not isinstance(schedule, int) or schedule < MIN_SCHEDULE_SECONDS:
            raise _refuse("schedule_seconds", f"expected whole seconds of at least {MIN_SCHEDULE_SECONDS}")
        threshold = data.get("threshold")
        secret = data.get("webhook_secret")
        if secret is not None and not isinstance(secret, str):
            raise _refuse("webhook_secret", "expected text")
        window = _within("window", parse_window, data.get("window", DEFAULT_WINDOW))
        correction = _within("correction", check_correction, data.get("correction"))
        urls = _names(data.get("webhooks", []), "webhooks")
        webhooks = tuple(_within(f"webhooks[{i}]", check_webhook_url, url) for i, url in enumerate(urls))
        return cls(
            window=window,
            features=None if features is None else _names(features, "features"),
            method=method,
            methods={str(column): get_method(name).name for column, name in methods.items()},
            threshold=None if threshold is None else _number(threshold, "threshold"),
            thresholds={str(column): _number(value, f"thresholds.{column}") for column, value in thresholds.items()},
            correction=correction,
            min_rows=min_rows,
            drift_share=_number(data.get("drift_share", DEFAULT_DRIFT_SHARE), "drift_share", low=1e-9, high=1.0),
            schedule_seconds=schedule,
            conditions=Conditions.from_dict(data.get("conditions")),
            webhooks=webhooks,
            webhook_secret=secret or None,
        )
