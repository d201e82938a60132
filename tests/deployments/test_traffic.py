"""resolve_traffic: what a serving worker polls; it follows alias moves and pins, in two queries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mlpilot.deployments import Traffic, create_deployment, resolve_traffic, rollback_deployment, update_deployment
from mlpilot.errors import Conflict, NotFound
from mlpilot.registry.aliases import delete_alias, set_alias
from mlpilot.store import Database
from tests.deployments.conftest import ACTOR, Models


def test_traffic_follows_the_alias_as_it_moves(db: Database, models: Models) -> None:
    models("churn", 3, production=1, challenger=2)
    create_deployment(db, "api", "churn@production", canary=("challenger", 0.1), shadow=(3, 0.5), actor=ACTOR)
    assert resolve_traffic(db, "api") == Traffic(
        model="churn", primary=1, revision=1, pinned=False, canary=(2, 0.1), shadow=(3, 0.5)
    )
    set_alias(db, "churn", "production", 3, actor=ACTOR)
    set_alias(db, "churn", "challenger", 1, actor=ACTOR)
    moved = resolve_traffic(db, "api")
    # The deployment itself did not change: only the versions its aliases hold.
    assert (moved.primary, moved.canary, moved.revision) == (3, (1, 0.1), 1)
    assert moved.to_dict() == {
        "model": "churn",
        "primary": 3,
        "revision": 1,
        "pinned": False,
        "canary": {"version": 1, "weight": 0.1},
        "shadow": {"version": 3, "share": 0.5},
    }


def test_a_fixed_version_and_a_pin(db: Database, models: Models) -> None:
    models("churn", 3, production=1)
    set_alias(db, "churn", "production", 2, actor=ACTOR)
    create_deployment(db, "fixed", "churn/3", actor=ACTOR)
    assert resolve_traffic(db, "fixed") == Traffic(model="churn", primary=3, revision=1)
    create_deployment(db, "api", "churn@production", actor=ACTOR)
    rollback_deployment(db, "api", actor=ACTOR)
    pinned = resolve_traffic(db, "api")
    assert (pinned.primary, pinned.pinned, pinned.revision) == (1, True, 2)
    # A pin holds even when the alias moves on.
    set_alias(db, "churn", "production", 3, actor=ACTOR)
    assert resolve_traffic(db, "api").primary == 1
    released = update_deployment(db, "api", model_ref="churn@production", actor=ACTOR)
    assert released.pinned_version is None
    assert resolve_traffic(db, "api") == Traffic(model="churn", primary=3, revision=3)


def test_a_deleted_alias_is_a_clear_conflict(db: Database, models: Models) -> None:
    models("churn", 2, production=1, challenger=2)
    create_deployment(db, "api", "churn@production", canary=("challenger", 0.5), actor=ACTOR)
    delete_alias(db, "churn", "challenger", actor=ACTOR)
    with pytest.raises(Conflict, match=r"follows models:/churn@challenger as its canary target") as caught:
        resolve_traffic(db, "api")
    assert "mlpilot models alias churn challenger VERSION" in caught.value.hint
    delete_alias(db, "churn", "production", actor=ACTOR)
    with pytest.raises(Conflict, match="as its primary target, but that alias no longer exists"):
        resolve_traffic(db, "api")


def test_unknown_deployment(db: Database) -> None:
    with pytest.raises(NotFound, match="deployment 'ghost' does not exist"):
        resolve_traffic(db, "ghost")


def test_at_most_two_queries(db: Database, models: Models) -> None:
    models("churn", 3, production=1, challenger=2, staging=3)
    create_deployment(db, "api", "churn@production", canary=("challenger", 0.1), shadow=("staging", 1), actor=ACTOR)
    create_deployment(db, "fixed", "churn/1", canary=(2, 0.1), actor=ACTOR)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        resolve_traffic(db, "api")
        queries_with_aliases = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        statements.clear()
        resolve_traffic(db, "fixed")
        queries_fixed = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(queries_with_aliases) == 2
    assert len(queries_fixed) == 1
