"""DORA metrics from real histories: runs with commit times, registered versions, deployments
created, promoted, rolled back and moved by their aliases, on SQLite and PostgreSQL. The services
stamp events with the wall clock, so these tests assert what does not depend on exact times."""

from __future__ import annotations

import pytest

from mlpilot.deployments import (
    create_deployment,
    delete_deployment,
    promote_deployment,
    rollback_deployment,
    update_deployment,
)
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.ops.bands import DAY_MS, HOUR_MS
from mlpilot.ops.dora import dora_metrics
from mlpilot.ops.records import AssessedChange
from mlpilot.registry.aliases import rollback_alias, set_alias
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from tests.ops.conftest import ACTOR, Trained


def _actions(changes: tuple[AssessedChange, ...]) -> list[tuple[str, str, int, str]]:
    return [(c.change.deployment, c.change.action, c.change.version, c.change.cause) for c in changes]


def test_a_release_a_bad_promotion_its_rollback_and_a_release_again(db: Database, trained: Trained) -> None:
    start = now_ms()
    three_days_ago, two_hours_ago = start // 1000 - 3 * 86_400, start // 1000 - 2 * 3_600
    v1, v2 = trained(three_days_ago), trained(two_hours_ago)
    v3 = trained(None)  # trained outside any git checkout: no commit time
    set_alias(db, "churn", "production", v1, actor=ACTOR)
    create_deployment(db, "churn-api", "churn@production", actor=ACTOR)
    update_deployment(db, "churn-api", canary=(str(v2), 0.1), actor=ACTOR)
    promote_deployment(db, "churn-api", actor=ACTOR)  # moves production to v2: one deployment, not two
    rollback_deployment(db, "churn-api", actor=ACTOR, context={"alert": 7})
    update_deployment(db, "churn-api", model_ref="churn@production", actor=ACTOR)  # releases the pin: v2 again
    set_alias(db, "churn", "production", v3, actor=ACTOR)  # a person moves the followed alias

    report = dora_metrics(db, since=start - 1, until=None)

    assert _actions(report.changes) == [
        ("churn-api", "created", v1, "planned"),
        ("churn-api", "promoted", v2, "planned"),
        ("churn-api", "rolled_back", v1, "rollback"),
        ("churn-api", "updated", v2, "planned"),
        ("churn-api", "alias_set", v3, "planned"),
    ]
    assert report.changes[2].change.context == {"alert": 7}
    assert [c.failed for c in report.changes] == [False, True, False, False, False]
    metrics = report.metrics
    assert metrics.deployment_frequency.count == 5
    assert metrics.deployment_frequency.band.level == "elite"  # five in (at least) a day
    assert metrics.change_fail_rate.failed == 1 and metrics.change_fail_rate.total == 5
    assert metrics.change_fail_rate.rate == pytest.approx(0.2)
    assert metrics.change_fail_rate.band.level == "high"
    recovery = metrics.failed_deployment_recovery_time
    assert recovery.n == 1 and recovery.median_ms is not None and recovery.median_ms < HOUR_MS
    assert recovery.band.level == "elite"
    assert metrics.deployment_rework_rate.unplanned == 1 and metrics.deployment_rework_rate.rate == pytest.approx(0.2)
    assert metrics.deployment_rework_rate.band.level == "n/a"
    # Lead time: v1 (three days) and v2 (two hours) are new; v1 and v2 served again are not; v3 has no commit time.
    lead = metrics.change_lead_time
    assert lead.n == 2 and lead.excluded == 1
    assert lead.median_ms is not None and 1.5 * DAY_MS < lead.median_ms < 1.6 * DAY_MS + HOUR_MS
    assert lead.p90_ms is not None and lead.p90_ms > lead.median_ms
    assert lead.band.level == "high"
    assert report.bands_year == 2024 and report.to_dict()["bands_year"] == 2024
    assert list(report.by_deployment) == ["churn-api"]


def test_alias_followers_and_causes(db: Database, trained: Trained) -> None:
    start = now_ms()
    v1, v2, v3 = (trained(start // 1000 - 600) for _ in range(3))
    set_alias(db, "churn", "production", v1, actor=ACTOR)
    create_deployment(db, "api-a", "churn@production", actor=ACTOR)
    create_deployment(db, "api-b", "churn@production", actor=ACTOR)
    create_deployment(db, "api-fixed", f"churn/{v1}", actor=ACTOR)
    update_deployment(db, "api-a", canary=(str(v2), 0.5), actor=ACTOR)
    promote_deployment(db, "api-a", actor=ACTOR, cause="incident", context={"pipeline_run": "abc"})
    # api-b follows the same alias: it was deployed by api-a's promotion, with its cause.
    update_deployment(db, "api-fixed", canary=(str(v3), 0.5), actor=ACTOR)
    promote_deployment(db, "api-fixed", actor=ACTOR, cause="hotfix")
    rollback_alias(db, "churn", "production", actor=ACTOR)  # both followers go back to v1

    report = dora_metrics(db, since=start - 1, until=None, now=now_ms() + 1)

    by_name: dict[str, list[tuple[str, int, str, bool]]] = {}
    for item in report.changes:
        by_name.setdefault(item.change.deployment, []).append(
            (item.change.action, item.change.version, item.change.cause, item.failed)
        )
    assert by_name["api-a"] == [
        ("created", v1, "planned", True),  # replaced by an incident's deployment
        ("promoted", v2, "incident", True),  # rolled back with the alias
        ("alias_rollback", v1, "rollback", False),
    ]
    assert by_name["api-b"] == [
        ("created", v1, "planned", True),
        ("alias_set", v2, "incident", True),
        ("alias_rollback", v1, "rollback", False),
    ]
    assert by_name["api-fixed"] == [("created", v1, "planned", True), ("promoted", v3, "hotfix", False)]
    assert report.changes[[c.change.action for c in report.changes].index("promoted")].change.context == {
        "pipeline_run": "abc"
    }
    metrics = report.metrics
    assert (metrics.change_fail_rate.failed, metrics.change_fail_rate.total) == (5, 8)
    assert (metrics.deployment_rework_rate.unplanned, metrics.deployment_rework_rate.total) == (5, 8)
    assert metrics.failed_deployment_recovery_time.n == 5
    fixed = report.by_deployment["api-fixed"]
    assert fixed.change_fail_rate.rate == pytest.approx(0.5) and fixed.deployment_frequency.count == 2

    only = dora_metrics(db, since=start - 1, until=None, deployment="api-fixed")
    assert [item.change.deployment for item in only.changes] == ["api-fixed", "api-fixed"]
    assert list(only.by_deployment) == ["api-fixed"] and only.deployment == "api-fixed"


def test_pinned_deployments_ignore_alias_moves_and_deleted_ones_keep_their_history(
    db: Database, trained: Trained
) -> None:
    v1, v2, v3 = (trained(None) for _ in range(3))
    set_alias(db, "churn", "production", v1, actor=ACTOR)
    create_deployment(db, "api", "churn@production", actor=ACTOR)
    set_alias(db, "churn", "production", v2, actor=ACTOR)
    rollback_deployment(db, "api", actor=ACTOR)  # pinned to v1
    set_alias(db, "churn", "production", v3, actor=ACTOR)  # not served: the pin holds
    delete_deployment(db, "api", actor=ACTOR)
    set_alias(db, "churn", "production", v2, actor=ACTOR)  # the deployment is gone: nothing served

    report = dora_metrics(db, since=None, until=None)

    assert [(c.change.action, c.change.version) for c in report.changes] == [
        ("created", v1),
        ("alias_set", v2),
        ("rolled_back", v1),
    ]
    assert report.metrics.change_lead_time.n == 0 and report.metrics.change_lead_time.excluded == 2
    assert report.metrics.change_lead_time.band.level == "n/a"
    assert "no commit time" in report.metrics.change_lead_time.band.reason
    assert report.window_start == report.changes[0].at


def test_a_window_outside_the_history_has_no_data(db: Database, trained: Trained) -> None:
    trained(None)
    set_alias(db, "churn", "production", 1, actor=ACTOR)
    create_deployment(db, "api", "churn@production", actor=ACTOR)
    report = dora_metrics(db, since=0, until=1_000)
    assert report.changes == () and report.by_deployment == {}
    for name, metric in report.metrics.to_dict().items():
        assert metric["band"]["level"] == "n/a", name
        assert metric["band"]["reason"]
    assert report.metrics.deployment_frequency.count == 0


def test_an_empty_store_has_no_data(db: Database) -> None:
    report = dora_metrics(db, since=None, until=None)
    assert report.changes == () and report.window_start is None
    assert {metric["band"]["level"] for metric in report.metrics.to_dict().values()} == {"n/a"}


def test_bad_input_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match="since"):
        dora_metrics(db, since=10, until=5)
    with pytest.raises(InvalidInput, match="until"):
        dora_metrics(db, since=None, until=-1)
    with pytest.raises(InvalidInput, match="since"):
        dora_metrics(db, since=True, until=None)  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="ghost") as raised:
        dora_metrics(db, since=None, until=None, deployment="ghost")
    assert raised.value.hint


def test_causes_are_checked_before_anything_changes(db: Database, trained: Trained) -> None:
    v1, v2 = trained(None), trained(None)
    create_deployment(db, "api", f"churn/{v1}", canary=(str(v2), 0.1), actor=ACTOR)
    with pytest.raises(InvalidInput, match="cause"):
        promote_deployment(db, "api", actor=ACTOR, cause="because")
    with pytest.raises(InvalidInput, match="JSON"):
        promote_deployment(db, "api", actor=ACTOR, context={"when": object()})
    promote_deployment(db, "api", actor=ACTOR)
    with pytest.raises(InvalidInput, match="rollback's cause"):
        rollback_deployment(db, "api", actor=ACTOR, cause="planned")
    rolled = rollback_deployment(db, "api", actor=ACTOR, cause="incident")
    assert rolled.pinned_version == v1
    report = dora_metrics(db, since=None, until=None)
    assert [c.change.cause for c in report.changes] == ["planned", "planned", "incident"]
