"""Rollback (a pin to the version served before) and promotion (the canary becomes the primary)."""

from __future__ import annotations

import pytest

from mlpilot.deployments import (
    Canary,
    Target,
    create_deployment,
    deployment_events,
    get_deployment,
    promote_deployment,
    resolve_traffic,
    rollback_deployment,
    update_deployment,
)
from mlpilot.deployments.rollout import previous_version
from mlpilot.errors import Conflict
from mlpilot.registry.aliases import set_alias
from mlpilot.registry.events import events_of
from mlpilot.registry.versions import get_model
from mlpilot.store import Database
from tests.deployments.conftest import ACTOR, Models


def test_previous_version_rule() -> None:
    assert previous_version([1, 2, 3], 3, set()) == 2
    assert previous_version([1, 2, 3], 2, set()) == 1
    assert previous_version([1, None, 3], 3, set()) == 1
    assert previous_version([1, 2, 3], 3, {2}) == 1
    assert previous_version([3, 5, 3], 3, {5}) is None
    assert previous_version([1, 2, 1], 1, set()) == 2
    assert previous_version([1], 1, set()) is None
    assert previous_version([1, 2], 7, set()) is None


def test_rollback_of_an_alias_follower_uses_the_alias_history(db: Database, models: Models) -> None:
    models("churn", 3, production=1, challenger=3)
    set_alias(db, "churn", "production", 2, actor=ACTOR)
    create_deployment(db, "api", "churn@production", canary=("challenger", 0.2), actor=ACTOR)
    rolled = rollback_deployment(db, "api", actor="oncall")
    assert rolled.pinned_version == 1 and rolled.canary is None and rolled.revision == 2
    assert rolled.target == Target(alias="production")  # the target stays; the pin overrides it
    traffic = resolve_traffic(db, "api")
    assert (traffic.primary, traffic.pinned, traffic.canary) == (1, True, None)
    assert get_model(db, "churn").aliases["production"] == 2  # a rollback does not move the alias
    event = deployment_events(db, "api")[0]
    assert (event.action, event.actor) == ("rolled_back", "oncall")
    assert event.details == {
        "from_version": 2,
        "to_version": 1,
        "target": "@production",
        "cleared_canary": {"target": "@challenger", "weight": 0.2},
        "revision": 2,
        "cause": "rollback",  # a rollback is unplanned work, whoever asks for it
    }
    with pytest.raises(Conflict, match="no version to roll back to") as caught:
        rollback_deployment(db, "api", actor="oncall")
    assert "history of alias 'production'" in caught.value.message
    assert get_deployment(db, "api") == rolled


def test_repeated_rollbacks_step_back_through_the_alias_history(db: Database, models: Models) -> None:
    models("churn", 4, production=1)
    for version in (2, 3, 4):
        set_alias(db, "churn", "production", version, actor=ACTOR)
    create_deployment(db, "api", "churn@production", actor=ACTOR)
    assert [rollback_deployment(db, "api", actor=ACTOR).pinned_version for _ in range(3)] == [3, 2, 1]
    with pytest.raises(Conflict):
        rollback_deployment(db, "api", actor=ACTOR)


def test_rollback_of_a_fixed_version_uses_the_deployment_history(db: Database, models: Models) -> None:
    models("churn", 4)
    create_deployment(db, "api", "churn/1", actor=ACTOR)
    with pytest.raises(Conflict, match="this deployment's history has none before version 1") as caught:
        rollback_deployment(db, "api", actor=ACTOR)
    assert "mlpilot deployments update api" in caught.value.hint
    update_deployment(db, "api", model_ref="churn/3", actor=ACTOR)
    assert rollback_deployment(db, "api", actor=ACTOR).pinned_version == 1
    assert resolve_traffic(db, "api").primary == 1
    # 3 was rolled back from: a second rollback does not return to it.
    with pytest.raises(Conflict):
        rollback_deployment(db, "api", actor=ACTOR)
    update_deployment(db, "api", model_ref="churn/4", actor=ACTOR)
    rolled = rollback_deployment(db, "api", actor=ACTOR)
    assert rolled.pinned_version == 1  # the version served before 4, skipping the bad 3
    actions = [
        (e.action, (e.details or {}).get("from_version"), (e.details or {}).get("to_version"))
        for e in deployment_events(db, "api")
    ]
    assert actions == [
        ("rolled_back", 4, 1),
        ("updated", 1, 4),
        ("rolled_back", 3, 1),
        ("updated", 1, 3),
        ("created", None, 1),
    ]


def test_rollback_history_starts_at_the_latest_creation(db: Database, models: Models) -> None:
    from mlpilot.deployments import delete_deployment

    models("churn", 2)
    create_deployment(db, "api", "churn/1", actor=ACTOR)
    update_deployment(db, "api", model_ref="churn/2", actor=ACTOR)
    delete_deployment(db, "api", actor=ACTOR)
    create_deployment(db, "api", "churn/2", actor=ACTOR)
    with pytest.raises(Conflict):
        rollback_deployment(db, "api", actor=ACTOR)


def test_promote_an_alias_follower_moves_its_alias(db: Database, models: Models) -> None:
    models("churn", 3, production=1, challenger=3)
    create_deployment(db, "api", "churn@production", canary=("challenger", 0.1), actor=ACTOR)
    promoted = promote_deployment(db, "api", actor="release")
    assert promoted.target == Target(alias="production") and promoted.canary is None
    assert promoted.revision == 2 and promoted.pinned_version is None
    assert get_model(db, "churn").aliases == {"challenger": 3, "production": 3}
    assert resolve_traffic(db, "api").primary == 3
    move = events_of(db, "churn")[-1]
    assert (move.action, move.alias, move.from_version, move.version, move.actor) == (
        "alias_set",
        "production",
        1,
        3,
        "release",
    )
    event = deployment_events(db, "api")[0]
    assert (event.action, event.actor) == ("promoted", "release")
    assert event.details == {
        "from_version": 1,
        "to_version": 3,
        "canary": {"target": "@challenger", "weight": 0.1},
        "moved_alias": "production",
        "revision": 2,
    }
    # The move is in the alias's history, so a rollback returns to the version before.
    assert rollback_deployment(db, "api", actor=ACTOR).pinned_version == 1


def test_promote_clears_a_pin(db: Database, models: Models) -> None:
    models("churn", 3, production=1)
    set_alias(db, "churn", "production", 2, actor=ACTOR)
    create_deployment(db, "api", "churn@production", actor=ACTOR)
    rollback_deployment(db, "api", actor=ACTOR)
    update_deployment(db, "api", canary=(3, 0.5), actor=ACTOR)
    assert resolve_traffic(db, "api").canary == (3, 0.5)
    promoted = promote_deployment(db, "api", actor=ACTOR)
    assert promoted.pinned_version is None and promoted.canary is None
    assert resolve_traffic(db, "api").primary == 3


def test_promote_a_fixed_version_switches_to_the_canary_version(db: Database, models: Models) -> None:
    models("churn", 2, challenger=2)
    create_deployment(db, "api", "churn/1", canary=Canary(Target(alias="challenger"), 0.3), actor=ACTOR)
    promoted = promote_deployment(db, "api", actor=ACTOR)
    assert promoted.target == Target(version=2) and promoted.canary is None
    assert get_model(db, "churn").aliases == {"challenger": 2}  # no alias moved
    assert rollback_deployment(db, "api", actor=ACTOR).pinned_version == 1


def test_promote_without_a_canary_is_a_conflict(db: Database, models: Models) -> None:
    models("churn", 1, production=1)
    made = create_deployment(db, "api", "churn@production", actor=ACTOR)
    with pytest.raises(Conflict, match="has no canary to promote"):
        promote_deployment(db, "api", actor=ACTOR)
    assert get_deployment(db, "api") == made
