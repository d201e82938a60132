"""Response shape of ``GET /api/v1/dora``: ``DoraReport.to_dict()``, described for the OpenAPI
document. Times are epoch milliseconds, durations milliseconds, rates from 0 to 1; a metric
without data has null values and the band ``"n/a"`` with the reason."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["DoraReportView"]


class BandView(BaseModel):
    level: Literal["elite", "high", "medium", "low", "n/a"]
    reason: str
    year: int = Field(description="The DORA report whose bands these are.")


class FrequencyView(BaseModel):
    count: int
    days: float = Field(description="The window's length in days (at least 1).")
    per_day: float
    per_week: float
    median_between_ms: float | None
    band: BandView


class LeadTimeView(BaseModel):
    median_ms: float | None
    p90_ms: float | None
    n: int
    excluded: int = Field(description="New versions deployed whose training run recorded no commit time.")
    band: BandView


class FailRateView(BaseModel):
    failed: int
    total: int
    rate: float | None
    band: BandView


class RecoveryView(BaseModel):
    median_ms: float | None
    n: int
    band: BandView


class ReworkView(BaseModel):
    unplanned: int
    total: int
    rate: float | None
    band: BandView


class MetricsView(BaseModel):
    deployment_frequency: FrequencyView
    change_lead_time: LeadTimeView
    change_fail_rate: FailRateView
    failed_deployment_recovery_time: RecoveryView
    deployment_rework_rate: ReworkView


class ChangeView(BaseModel):
    """One deployment: ``deployment`` started serving ``version`` at ``at``."""

    deployment: str
    model: str
    version: int
    from_version: int | None
    at: int
    action: str = Field(description="created, updated, promoted, rolled_back, alias_set or alias_rollback.")
    cause: str = Field(description="planned, incident, hotfix or rollback.")
    unplanned: bool
    actor: str
    context: dict[str, Any] | None
    committed_at: int | None
    new_version: bool
    lead_time_ms: int | None
    failed: bool
    recovery_ms: int | None


class DoraReportView(BaseModel):
    since: int | None
    until: int
    window_start: int | None
    generated_at: int
    deployment: str | None
    bands_year: int
    metrics: MetricsView
    by_deployment: dict[str, MetricsView]
    changes: list[ChangeView]
