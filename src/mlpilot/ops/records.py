"""Domain records of a DORA report: the five metrics, each with its band, and the deployments
they were computed from. Times are epoch milliseconds, durations milliseconds, rates 0 to 1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlpilot.ops.bands import Band
from mlpilot.ops.history import Change

__all__ = [
    "AssessedChange",
    "ChangeFailRate",
    "ChangeLeadTime",
    "DeploymentFrequency",
    "DoraMetrics",
    "DoraReport",
    "RecoveryTime",
    "ReworkRate",
]


@dataclass(frozen=True, slots=True)
class DeploymentFrequency:
    """``count`` deployments over ``days`` (the window, at least one day)."""

    count: int
    days: float
    per_day: float
    per_week: float
    median_between_ms: float | None  # between consecutive deployments; None with fewer than two
    band: Band

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "days": self.days,
            "per_day": self.per_day,
            "per_week": self.per_week,
            "median_between_ms": self.median_between_ms,
            "band": self.band.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ChangeLeadTime:
    """From the commit of the code that trained a version to its first deployment, over ``n``
    deployments; ``excluded`` new versions had no known commit time."""

    median_ms: float | None
    p90_ms: float | None
    n: int
    excluded: int
    band: Band

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_ms": self.median_ms,
            "p90_ms": self.p90_ms,
            "n": self.n,
            "excluded": self.excluded,
            "band": self.band.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ChangeFailRate:
    failed: int
    total: int
    rate: float | None
    band: Band

    def to_dict(self) -> dict[str, Any]:
        return {"failed": self.failed, "total": self.total, "rate": self.rate, "band": self.band.to_dict()}


@dataclass(frozen=True, slots=True)
class RecoveryTime:
    """From a failed deployment to the rollback or fix that replaced it, over ``n`` failures."""

    median_ms: float | None
    n: int
    band: Band

    def to_dict(self) -> dict[str, Any]:
        return {"median_ms": self.median_ms, "n": self.n, "band": self.band.to_dict()}


@dataclass(frozen=True, slots=True)
class ReworkRate:
    unplanned: int
    total: int
    rate: float | None
    band: Band

    def to_dict(self) -> dict[str, Any]:
        return {"unplanned": self.unplanned, "total": self.total, "rate": self.rate, "band": self.band.to_dict()}


@dataclass(frozen=True, slots=True)
class DoraMetrics:
    """The five DORA software-delivery metrics of one set of deployments."""

    deployment_frequency: DeploymentFrequency
    change_lead_time: ChangeLeadTime
    change_fail_rate: ChangeFailRate
    failed_deployment_recovery_time: RecoveryTime
    deployment_rework_rate: ReworkRate

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment_frequency": self.deployment_frequency.to_dict(),
            "change_lead_time": self.change_lead_time.to_dict(),
            "change_fail_rate": self.change_fail_rate.to_dict(),
            "failed_deployment_recovery_time": self.failed_deployment_recovery_time.to_dict(),
            "deployment_rework_rate": self.deployment_rework_rate.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class AssessedChange:
    """A deployment with what the metrics made of it."""

    change: Change
    committed_at: int | None  # of the run that trained the version
    new_version: bool  # the first time this deployment served the version: a change with a lead time
    lead_time_ms: int | None  # None: not the version's first deployment here, or no commit time
    failed: bool  # replaced by a rollback or an unplanned fix
    recovery_ms: int | None  # failed only: until that replacement

    @property
    def at(self) -> int:
        return self.change.at

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.change.to_dict(),
            "committed_at": self.committed_at,
            "new_version": self.new_version,
            "lead_time_ms": self.lead_time_ms,
            "failed": self.failed,
            "recovery_ms": self.recovery_ms,
        }


@dataclass(frozen=True, slots=True)
class DoraReport:
    """DORA metrics over ``window_start``..``until`` for all deployments (or ``deployment``), with a
    breakdown per deployment and the deployments themselves, oldest first."""

    since: int | None  # as asked
    until: int  # the window's end: as asked, or ``generated_at``
    window_start: int | None  # ``since``, or the first deployment when not asked; None with none
    generated_at: int
    deployment: str | None
    bands_year: int
    metrics: DoraMetrics
    by_deployment: Mapping[str, DoraMetrics]
    changes: tuple[AssessedChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "window_start": self.window_start,
            "generated_at": self.generated_at,
            "deployment": self.deployment,
            "bands_year": self.bands_year,
            "metrics": self.metrics.to_dict(),
            "by_deployment": {name: metrics.to_dict() for name, metrics in self.by_deployment.items()},
            "changes": [change.to_dict() for change in self.changes],
        }
