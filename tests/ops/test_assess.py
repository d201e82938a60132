"""The metrics over histories with chosen times: the window, failures, recovery and lead time.

The histories are the records the replay produces (``Change``), written out so every time is known.
"""

from __future__ import annotations

import pytest

from mlpilot.ops.bands import DAY_MS, HOUR_MS
from mlpilot.ops.dora import assess
from mlpilot.ops.history import Change

T0 = 1_700_000_000_000


def change(at: int, version: int, previous: int | None, cause: str = "planned", deployment: str = "api") -> Change:
    action = "rolled_back" if cause == "rollback" else ("created" if previous is None else "promoted")
    return Change(deployment, "churn", version, previous, at, action, cause, "alice")


HISTORY = [
    change(T0, 1, None),
    change(T0 + 2 * DAY_MS, 2, 1),
    change(T0 + 2 * DAY_MS + 30 * 60_000, 1, 2, "rollback"),  # v2 failed after 30 minutes
    change(T0 + 4 * DAY_MS, 3, 1),
    change(T0 + 6 * DAY_MS, 4, 3, "incident"),  # replaces v3: v3 failed, v4 is rework
]
COMMITS = {("churn", 1): T0 - DAY_MS, ("churn", 2): T0, ("churn", 3): None, ("churn", 4): T0 + 5 * DAY_MS}


def test_the_whole_history() -> None:
    report = assess(HISTORY, COMMITS, since=None, until=T0 + 10 * DAY_MS, now=T0 + 10 * DAY_MS)
    metrics = report.metrics
    assert report.window_start == T0
    frequency = metrics.deployment_frequency
    assert frequency.count == 5 and frequency.days == 10
    assert frequency.per_day == pytest.approx(0.5) and frequency.per_week == pytest.approx(3.5)
    assert frequency.median_between_ms == 2 * DAY_MS - 15 * 60_000  # gaps 2d, 30min, 2d-30min, 2d
    assert frequency.band.level == "high"
    assert [item.failed for item in report.changes] == [False, True, False, True, False]
    assert [item.recovery_ms for item in report.changes] == [None, 30 * 60_000, None, 2 * DAY_MS, None]
    assert (metrics.change_fail_rate.failed, metrics.change_fail_rate.total) == (2, 5)
    assert metrics.change_fail_rate.band.level == "low"  # 40%
    assert metrics.failed_deployment_recovery_time.median_ms == DAY_MS + 15 * 60_000
    assert metrics.failed_deployment_recovery_time.band.level == "low"
    assert (metrics.deployment_rework_rate.unplanned, metrics.deployment_rework_rate.rate) == (2, 0.4)
    # Lead times: v1 1 day, v2 2 days, v4 1 day; v1 again is no new change; v3 has no commit time.
    lead = metrics.change_lead_time
    assert (lead.n, lead.excluded) == (3, 1)
    assert lead.median_ms == DAY_MS and lead.p90_ms == pytest.approx(1.8 * DAY_MS)
    assert lead.band.level == "high"


def test_a_window_measures_its_deployments_with_what_is_known_later() -> None:
    # The window holds only v2's deployment; its rollback came after the window and still counts.
    report = assess(HISTORY, COMMITS, since=T0 + DAY_MS, until=T0 + 2 * DAY_MS + 1, now=T0 + 10 * DAY_MS)
    assert [item.change.version for item in report.changes] == [2]
    assert report.metrics.change_fail_rate.rate == 1.0
    assert report.metrics.failed_deployment_recovery_time.median_ms == 30 * 60_000
    assert report.metrics.deployment_frequency.days == pytest.approx(1.0)  # a window of a day and 1 ms
    assert report.metrics.deployment_frequency.median_between_ms is None


def test_a_short_window_counts_as_a_day() -> None:
    report = assess(HISTORY[:1], COMMITS, since=None, until=T0 + HOUR_MS, now=T0 + HOUR_MS)
    assert report.metrics.deployment_frequency.days == 1.0
    assert report.metrics.deployment_frequency.per_day == 1.0


def test_deployments_are_broken_down_and_recreated_ones_start_afresh() -> None:
    history = [
        change(T0, 1, None, deployment="a"),
        change(T0 + HOUR_MS, 1, None, deployment="b"),
        change(T0 + 2 * HOUR_MS, 2, 1, deployment="a"),
        # "b" was deleted and created again: its rollback-free history has no failure.
        change(T0 + 3 * HOUR_MS, 2, None, "incident", deployment="b"),
    ]
    report = assess(history, {}, since=None, until=T0 + DAY_MS, now=T0 + DAY_MS)
    assert list(report.by_deployment) == ["a", "b"]
    assert report.by_deployment["a"].deployment_frequency.count == 2
    assert report.by_deployment["b"].change_fail_rate.failed == 0
    assert report.by_deployment["b"].deployment_rework_rate.unplanned == 1


def test_a_window_reaching_into_the_future_counts_the_time_passed() -> None:
    report = assess(HISTORY, COMMITS, since=T0, until=T0 + 400 * DAY_MS, now=T0 + 10 * DAY_MS)
    assert report.until == T0 + 400 * DAY_MS
    assert report.metrics.deployment_frequency.days == 10


def test_a_retraining_drift_forced_is_rework_but_the_version_it_replaced_did_not_fail() -> None:
    history = [change(T0, 1, None), change(T0 + DAY_MS, 2, 1, "drift"), change(T0 + 2 * DAY_MS, 3, 2, "incident")]
    report = assess(history, {}, since=None, until=T0 + 3 * DAY_MS, now=T0 + 3 * DAY_MS)
    assert [item.failed for item in report.changes] == [False, True, False]
    assert report.metrics.deployment_rework_rate.unplanned == 2
    assert report.metrics.change_fail_rate.failed == 1
