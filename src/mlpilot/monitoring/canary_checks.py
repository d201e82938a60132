"""What a canary and its primary showed over a watch, and each check of a policy against it.

A check passes, fails, or is pending: it has not seen enough yet (fewer requests than the
policy's ``min_requests``, fewer labelled predictions than ``min_labelled``, or a comparison whose
primary side is short of data). Only a check with enough data can fail, so a handful of early
errors never decides a rollout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlpilot.deployments.request_counts import RequestCounts
from mlpilot.monitoring.canary_policy import CanaryPolicy

# The monitors' own helpers: the same p99 and the same live metrics a monitor reports.
from mlpilot.monitoring.evaluate import _latency, _live
from mlpilot.monitoring.performance import finite

__all__ = ["CanaryCheck", "VersionStats", "policy_checks", "version_stats"]

PASS, FAIL, PENDING = "pass", "fail", "pending"


@dataclass(frozen=True, slots=True)
class VersionStats:
    """One version's side of a canary: ``role`` is "canary" or "primary"."""

    version: int
    role: str
    requests: int
    server_errors: int
    error_rate: float | None
    logged_rows: int
    latency_p99_ms: float | None
    labelled_rows: int
    metric: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "role": self.role,
            "requests": self.requests,
            "server_errors": self.server_errors,
            "error_rate": finite(self.error_rate),
            "logged_rows": self.logged_rows,
            "latency_p99_ms": finite(self.latency_p99_ms),
            "labelled_rows": self.labelled_rows,
            "metric": finite(self.metric),
        }


@dataclass(frozen=True, slots=True)
class CanaryCheck:
    """One check of the policy: its ``status`` (pass, fail or pending), the value it saw, its limit,
    whether a pending result keeps the canary from promotion (``required``), and a sentence."""

    name: str
    status: str
    value: float | None
    limit: float
    required: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "value": finite(self.value),
            "limit": self.limit,
            "required": self.required,
            "message": self.message,
        }


def version_stats(
    version: int, role: str, counts: RequestCounts, rows: pd.DataFrame, labels: pd.DataFrame, policy: CanaryPolicy
) -> VersionStats:
    """``rows``: the version's logged predictions (no shadow rows); ``labels``: prediction_id, label."""
    latency = _latency(rows)
    labelled = rows.merge(labels[["prediction_id", "label"]], on="prediction_id", how="inner")
    performance = _live(policy.task, labelled)
    metric = None if performance is None else performance.metrics.get(policy.metric)
    return VersionStats(
        version=version,
        role=role,
        requests=counts.requests,
        server_errors=counts.server_errors,
        error_rate=counts.error_rate,
        logged_rows=len(rows),
        latency_p99_ms=None if latency is None else latency["p99"],
        labelled_rows=len(labelled),
        metric=finite(metric),
    )


def policy_checks(policy: CanaryPolicy, canary: VersionStats, primary: VersionStats) -> list[CanaryCheck]:
    """Every check the policy sets, in a fixed order: error rate, latency, then the live metric."""
    checks: list[CanaryCheck] = []
    requests, rows = policy.min_requests, policy.min_labelled
    c, p = canary, primary
    if (limit := policy.max_error_rate) is not None:
        checks.append(
            _judged(
                "error_rate",
                limit,
                True,
                _short(c, c.requests, requests, "requests"),
                c.error_rate,
                lambda v, bad: (
                    f"error rate: the canary failed {c.server_errors} of {c.requests} requests "
                    f"({v:.1%}), {_beyond(bad)} the {limit:.1%} allowed"
                ),
            )
        )
    if (limit := policy.max_error_rate_increase) is not None:
        checks.append(
            _judged(
                "error_rate_increase",
                limit,
                True,
                _short(c, c.requests, requests, "requests") or _short(p, p.requests, requests, "requests"),
                None if c.error_rate is None or p.error_rate is None else c.error_rate - p.error_rate,
                lambda v, bad: (
                    f"error rate rise: the canary's {c.error_rate:.1%} against the primary's "
                    f"{p.error_rate:.1%} ({v:+.1%}), {_beyond(bad)} the {limit:.1%} allowed"
                ),
            )
        )
    if (limit := policy.max_latency_p99_ms) is not None:
        checks.append(
            _judged(
                "latency_p99_ms",
                limit,
                True,
                _short(c, c.logged_rows, requests, "logged predictions"),
                c.latency_p99_ms,
                lambda v, bad: f"p99 latency: the canary's {v:.1f} ms, {_beyond(bad)} the {limit:g} ms allowed",
            )
        )
    if (limit := policy.max_latency_p99_ratio) is not None:
        ratio = None
        if c.latency_p99_ms is not None and p.latency_p99_ms:
            ratio = c.latency_p99_ms / p.latency_p99_ms
        checks.append(
            _judged(
                "latency_p99_ratio",
                limit,
                True,
                _short(c, c.logged_rows, requests, "logged predictions")
                or _short(p, p.logged_rows, requests, "logged predictions"),
                ratio,
                lambda v, bad: (
                    f"p99 latency ratio: the canary's {c.latency_p99_ms:.1f} ms is {v:.2f} times the "
                    f"primary's {p.latency_p99_ms:.1f} ms, {_beyond(bad)} the {limit:g} times allowed"
                ),
            )
        )
    name, lower = policy.metric, policy.lower_is_better
    if (limit := policy.metric_threshold) is not None:
        checks.append(
            _judged(
                f"metric:{name}",
                limit,
                policy.require_labels,
                _short(c, c.labelled_rows, rows, "labelled predictions"),
                c.metric,
                lambda v, bad: (
                    f"{name}: the canary's {v:.4g} on {c.labelled_rows} labelled predictions "
                    f"{'misses' if bad else 'meets'} the {'at most' if lower else 'at least'} {limit:g} required"
                ),
                higher_fails=lower,
            )
        )
    if (limit := policy.max_metric_drop) is not None:
        drop = None
        if c.metric is not None and p.metric is not None:
            drop = c.metric - p.metric if lower else p.metric - c.metric
        checks.append(
            _judged(
                f"metric_drop:{name}",
                limit,
                policy.require_labels,
                _short(c, c.labelled_rows, rows, "labelled predictions")
                or _short(p, p.labelled_rows, rows, "labelled predictions"),
                drop,
                lambda v, bad: (
                    f"{name}: the canary's {c.metric:.4g} against the primary's {p.metric:.4g} is "
                    f"{max(v, 0.0):.4g} worse, {_beyond(bad)} the {limit:g} allowed"
                ),
            )
        )
    return checks


def _short(stats: VersionStats, have: int, need: int, what: str) -> str | None:
    return f"the {stats.role} (version {stats.version}) has {have} of the {need} {what} needed" if have < need else None


def _beyond(failed: bool) -> str:
    return "beyond" if failed else "within"


def _judged(
    name: str,
    limit: float,
    required: bool,
    short: str | None,
    value: float | None,
    describe: Callable[[float, bool], str],
    *,
    higher_fails: bool = True,
) -> CanaryCheck:
    """Pending while either side is ``short`` of data or the value is undefined; else pass or fail."""
    if short is not None or value is None:
        why = short or "it is undefined on the data so far"
        return CanaryCheck(name, PENDING, None, limit, required, f"{name} not judged yet: {why}")
    failed = value > limit if higher_fails else value < limit
    return CanaryCheck(name, FAIL if failed else PASS, value, limit, required, describe(value, failed))
