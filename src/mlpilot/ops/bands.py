"""DORA's 2024 performance bands, and which band a measured value falls in.

The bands come from the 2024 Accelerate State of DevOps report's cluster table (as summarised in
the reference note, section 6.2). DORA re-derives them from its survey every year, so the year is
part of every answer. Where the table leaves a choice open, mlpilot decides as follows and says so
in each band's ``reason``:

* A value on a boundary two bands share ("once per week" ends *high* and starts *medium*) goes to
  the better band; a month is 30 days.
* *Elite* deployment frequency is "multiple per day": more than one a day.
* Change fail rate has one typical value per cluster, not a range, and in 2024 they are not in
  order (high 20%, medium 10%). A rate goes to the cluster whose value is nearest, ties to the
  better level: up to 7.5% elite, up to 15% medium, up to 30% high, above that low.
* Recovery: high and medium are both "< 1 day" (mlpilot says high); 2024 names no band between
  1 day and 1 week, so anything from a day on is low, the only slower cluster.
* Deployment rework rate was introduced in 2024 without published bands: always "n/a".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "BANDS_YEAR",
    "LEVELS",
    "Band",
    "change_fail_band",
    "frequency_band",
    "lead_time_band",
    "no_data",
    "recovery_band",
    "rework_band",
]

BANDS_YEAR = 2024
LEVELS = ("elite", "high", "medium", "low")
NOT_APPLICABLE = "n/a"

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
MONTH_MS = 30 * DAY_MS

# Typical change fail rate of each 2024 cluster.
_CHANGE_FAIL_2024 = {"elite": 0.05, "high": 0.20, "medium": 0.10, "low": 0.40}


@dataclass(frozen=True, slots=True)
class Band:
    """A DORA performance level (elite, high, medium, low, or "n/a") and why."""

    level: str
    reason: str
    year: int = BANDS_YEAR

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "reason": self.reason, "year": self.year}


def no_data(reason: str) -> Band:
    return Band(NOT_APPLICABLE, reason)


def frequency_band(per_day: float) -> Band:
    """Deployments per day, averaged over the report's window."""
    if per_day > 1:
        return Band("elite", "on demand: more than one deployment a day")
    if per_day >= 1 / 7:
        return Band("high", "between once a day and once a week")
    if per_day >= 1 / 30:
        return Band("medium", "between once a week and once a month")
    return Band("low", "less than once a month")


def lead_time_band(median_ms: float) -> Band:
    """The median lead time for changes, in milliseconds."""
    if median_ms < DAY_MS:
        return Band("elite", "less than one day")
    if median_ms <= WEEK_MS:
        return Band("high", "between one day and one week")
    if median_ms <= MONTH_MS:
        return Band("medium", "between one week and one month")
    return Band("low", "more than one month")


def change_fail_band(rate: float) -> Band:
    """A change fail rate from 0 to 1: the cluster with the nearest typical rate, ties to the better."""
    level = min(LEVELS, key=lambda name: (abs(rate - _CHANGE_FAIL_2024[name]), LEVELS.index(name)))
    typical = _CHANGE_FAIL_2024[level]
    return Band(level, f"nearest to the {level} cluster's typical change fail rate of {typical:.0%}")


def recovery_band(median_ms: float) -> Band:
    """The median failed deployment recovery time, in milliseconds."""
    if median_ms < HOUR_MS:
        return Band("elite", "less than one hour")
    if median_ms < DAY_MS:
        return Band("high", "less than one day (2024 gives high and medium the same bound)")
    return Band("low", "one day or more (2024 names no band between one day and one week)")


def rework_band() -> Band:
    return no_data(f"the {BANDS_YEAR} DORA report publishes no performance bands for deployment rework rate")
