"""The 2024 bands at their boundaries, where the report's table leaves a choice (see bands.py)."""

from __future__ import annotations

import pytest

from mlpilot.ops.bands import (
    BANDS_YEAR,
    DAY_MS,
    HOUR_MS,
    MONTH_MS,
    WEEK_MS,
    change_fail_band,
    frequency_band,
    lead_time_band,
    recovery_band,
    rework_band,
)


@pytest.mark.parametrize(
    ("per_day", "level"),
    [
        (1.01, "elite"),
        (1.0, "high"),  # once a day is high's bound; elite is more than that
        (1 / 7, "high"),  # once a week: shared by high and medium, goes to the better
        (1 / 7 - 1e-9, "medium"),
        (1 / 30, "medium"),
        (1 / 30 - 1e-9, "low"),
        (0.001, "low"),
    ],
)
def test_deployment_frequency(per_day: float, level: str) -> None:
    assert frequency_band(per_day).level == level


@pytest.mark.parametrize(
    ("median_ms", "level"),
    [
        (0, "elite"),
        (DAY_MS - 1, "elite"),
        (DAY_MS, "high"),
        (WEEK_MS, "high"),
        (WEEK_MS + 1, "medium"),
        (MONTH_MS, "medium"),
        (MONTH_MS + 1, "low"),
        (400 * DAY_MS, "low"),
    ],
)
def test_change_lead_time(median_ms: int, level: str) -> None:
    assert lead_time_band(median_ms).level == level


@pytest.mark.parametrize(
    ("rate", "level"),
    [
        (0.0, "elite"),
        (0.05, "elite"),
        (0.075, "elite"),  # halfway between elite's 5% and medium's 10%: the better
        (0.0751, "medium"),
        (0.15, "medium"),  # 2024's medium cluster (10%) fails less often than its high one (20%)
        (0.1501, "high"),
        (0.30, "high"),
        (0.3001, "low"),
        (1.0, "low"),
    ],
)
def test_change_fail_rate(rate: float, level: str) -> None:
    band = change_fail_band(rate)
    assert band.level == level
    assert "typical" in band.reason


@pytest.mark.parametrize(
    ("median_ms", "level"),
    [(0, "elite"), (HOUR_MS - 1, "elite"), (HOUR_MS, "high"), (DAY_MS - 1, "high"), (DAY_MS, "low")],
)
def test_failed_deployment_recovery_time(median_ms: int, level: str) -> None:
    assert recovery_band(median_ms).level == level


def test_rework_rate_has_no_published_band_and_every_band_names_its_year() -> None:
    band = rework_band()
    assert band.level == "n/a" and "2024" in band.reason
    assert BANDS_YEAR == 2024
    assert frequency_band(2).to_dict() == {"level": "elite", "reason": frequency_band(2).reason, "year": 2024}
