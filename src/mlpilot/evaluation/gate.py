"""The champion/challenger gate: a candidate's metrics, a baseline's, and what is required of them.

TFMA's semantics, with its traps closed:

- A threshold passes when the candidate's value lies within its bounds.
- A change passes when the candidate improves on the baseline by at least the required amount
  (see ``requirements``); relative changes divide by ``|baseline|`` and fail when it is 0.
- A metric the candidate (or, for a change, the baseline) lacks, or holds as NaN or infinity,
  fails the check: the gate fails closed.
- With no baseline (the first model) change requirements are skipped, each saying so, and the
  candidate is judged on its thresholds alone (TFMA's "rubber stamp").
- With no requirements at all the decision is still written: passed, with a reason saying nothing
  was checked (TFX writes no blessing at all then, tfx #5148).

Comparisons allow 1e-9 for floating-point rounding: 0.86 - 0.85 (0.010000000000000009) meets
``>=+0.01`` and does not meet ``>+0.01``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlpilot.evaluation.requirements import Change, Requirement, RequirementSpec, Threshold, parse_requirements

__all__ = ["NO_BASELINE", "NO_REQUIREMENTS", "Check", "GateDecision", "gate", "summarize"]

NO_BASELINE = "no baseline: judged on absolute thresholds only"
NO_REQUIREMENTS = "no requirements: nothing was checked, so the candidate passes by default"
_ROUNDING = 1e-9


@dataclass(frozen=True, slots=True)
class Check:
    """One requirement judged: the values it read, ``delta`` = candidate - baseline when both are
    known, and a sentence saying why it passed, failed or was skipped (a skipped check passes)."""

    requirement: Requirement
    candidate: float | None
    baseline: float | None
    delta: float | None
    passed: bool
    reason: str
    skipped: bool = False

    @property
    def metric(self) -> str:
        return self.requirement.metric

    @property
    def expression(self) -> str:
        return self.requirement.expression

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else ("passed" if self.passed else "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "expression": self.expression,
            "kind": self.requirement.kind,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "delta": self.delta,
            "passed": self.passed,
            "skipped": self.skipped,
            "status": self.status,
            "reason": self.reason,
            "requirement": self.requirement.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class GateDecision:
    passed: bool
    checks: tuple[Check, ...]
    reasons: tuple[str, ...]
    has_baseline: bool

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "verdict": "BLESSED" if self.passed else "NOT_BLESSED",
            "has_baseline": self.has_baseline,
            "reasons": list(self.reasons),
            "checks": [check.to_dict() for check in self.checks],
        }


def gate(
    candidate: Mapping[str, float],
    baseline: Mapping[str, float] | None,
    requirements: Iterable[RequirementSpec] | RequirementSpec | None,
    *,
    candidate_notes: Mapping[str, str] | None = None,
    baseline_notes: Mapping[str, str] | None = None,
) -> GateDecision:
    """Judge ``candidate`` against ``requirements`` (expressions, mappings or records) and, for
    changes, against ``baseline`` (None for a first model). ``*_notes`` say why a metric is
    missing (an ``Evaluation``'s notes); they only make the reasons clearer."""
    parsed = parse_requirements(requirements)
    checks = tuple(
        _check(
            requirement,
            _Side("candidate", candidate, candidate_notes or {}),
            None if baseline is None else _Side("baseline", baseline, baseline_notes or {}),
        )
        for requirement in parsed
    )
    passed = all(check.passed for check in checks)
    reasons: list[str] = [f"{check.expression}: {check.reason}" for check in checks if not check.passed]
    if not parsed:
        reasons.append(NO_REQUIREMENTS)
    elif passed:
        judged = sum(not check.skipped for check in checks)
        reasons.append(f"all {judged} judged requirement{'s' if judged != 1 else ''} met")
    if any(check.skipped for check in checks):
        reasons.append(NO_BASELINE)
    return GateDecision(passed, checks, tuple(reasons), baseline is not None)


@dataclass(frozen=True, slots=True)
class _Side:
    name: str
    metrics: Mapping[str, float]
    notes: Mapping[str, str]

    def value(self, metric: str) -> tuple[float | None, str | None]:
        """The metric's value, or None and why it cannot be used."""
        if metric not in self.metrics or self.metrics[metric] is None:
            why = f" ({self.notes[metric]})" if metric in self.notes else ""
            return None, f"the {self.name} has no metric {metric!r}{why}"
        try:
            value = float(self.metrics[metric])
        except (TypeError, ValueError):
            return None, f"the {self.name}'s {metric} is not a number: {self.metrics[metric]!r}"
        if not math.isfinite(value):
            return None, f"the {self.name}'s {metric} is {value}, not a finite number"
        return value, None


def _check(requirement: Requirement, candidate: _Side, baseline: _Side | None) -> Check:
    value, missing = candidate.value(requirement.metric)
    base, base_missing = baseline.value(requirement.metric) if baseline is not None else (None, None)
    delta = value - base if value is not None and base is not None else None
    if isinstance(requirement, Change) and baseline is None:
        return Check(requirement, value, None, None, True, NO_BASELINE, skipped=True)
    if value is None:
        return Check(requirement, None, base, None, False, f"{missing}; a missing metric fails the gate")
    if isinstance(requirement, Threshold):
        passed, reason = _threshold(requirement, value)
        return Check(requirement, value, base, delta, passed, reason)
    if base is None:
        return Check(requirement, value, None, None, False, f"{base_missing}; a missing metric fails the gate")
    passed, reason = _change(requirement, value, base)
    return Check(requirement, value, base, delta, passed, reason)


def _at_least(value: float, bound: float, inclusive: bool) -> bool:
    return value >= bound - _ROUNDING if inclusive else value > bound + _ROUNDING


def _threshold(requirement: Threshold, value: float) -> tuple[bool, str]:
    metric, inclusive = requirement.metric, requirement.inclusive
    if requirement.min is not None and not _at_least(value, requirement.min, inclusive):
        bound = "minimum" if inclusive else "bound"
        return False, f"{metric} is {value:.6g}, below the required {bound} of {requirement.min:.6g}"
    if requirement.max is not None and not _at_least(-value, -requirement.max, inclusive):
        bound = "maximum" if inclusive else "bound"
        return False, f"{metric} is {value:.6g}, above the allowed {bound} of {requirement.max:.6g}"
    return True, f"{metric} is {value:.6g}, meeting {requirement.expression}"


def _change(requirement: Change, value: float, base: float) -> tuple[bool, str]:
    metric = requirement.metric
    improvement = requirement.improvement(value, base)
    if improvement is None:
        return False, f"the baseline's {metric} is 0, so a relative change is undefined"
    moved = value - base
    change = f"{moved / abs(base) * 100:+.4g}%" if requirement.relative else f"{moved:+.6g}"
    told = f"{metric} changed by {change} ({value:.6g} vs baseline {base:.6g})"
    if _at_least(improvement, requirement.min_delta, requirement.inclusive):
        return True, f"{told}, meeting {requirement.expression}"
    return False, f"{told}, short of {requirement.expression} ({requirement.better} is better)"


def summarize(decision: GateDecision) -> str:
    """The decision as plain text: a headline, then one line per check and the overall reasons."""
    judged = [check for check in decision.checks if not check.skipped]
    failed = len(decision.failures)
    if decision.passed:
        headline = f"PASSED: {len(judged)} of {len(judged)} judged requirements met"
    else:
        headline = f"FAILED: {failed} of {len(judged)} judged requirements not met"
    if not decision.checks:
        headline = "PASSED: no requirements"
    width = max((len(check.expression) for check in decision.checks), default=0)
    lines = [headline]
    lines += [f"  {check.status.upper():<7} {check.expression:<{width}}  {check.reason}" for check in decision.checks]
    said = {f"{check.expression}: {check.reason}" for check in decision.failures}
    lines += [f"  - {reason}" for reason in decision.reasons if reason not in said]
    return "\n".join(lines)
