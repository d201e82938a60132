"""Creating, reading, updating and deleting deployments, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from mlpilot.deployments import (
    Canary,
    Shadow,
    Target,
    create_deployment,
    delete_deployment,
    deployment_events,
    get_deployment,
    list_deployments,
    update_deployment,
)
from mlpilot.errors import Conflict, InvalidInput, MlpilotError, NotFound
from mlpilot.registry.versions import archive_version
from mlpilot.store import Database
from mlpilot.store.schema import deployment_events as event_table
from mlpilot.store.schema import deployments
from tests.deployments.conftest import ACTOR, Models


def test_create_get_list(db: Database, models: Models) -> None:
    models("churn", 3, production=2, challenger=3)
    made = create_deployment(
        db,
        "churn-api",
        "churn@production",
        canary=("challenger", 0.1),
        shadow=(1, 0.5),
        config={"max_batch_size": 32},
        actor=ACTOR,
    )
    assert made.name == "churn-api" and made.model == "churn"
    assert made.target == Target(alias="production") and str(made.target) == "@production"
    assert made.model_uri == "models:/churn@production"
    assert made.canary == Canary(Target(alias="challenger"), 0.1)
    assert made.shadow == Shadow(Target(version=1), 0.5)
    assert made.config == {"max_batch_size": 32}
    assert made.revision == 1 and made.pinned_version is None
    assert made.created_by == ACTOR and made.created_at == made.updated_at > 0
    assert get_deployment(db, "churn-api") == made
    fixed = create_deployment(db, "batch", "models:/churn/1", actor="bob")
    assert fixed.target == Target(version=1) and fixed.canary is None and fixed.config == {}
    assert [d.name for d in list_deployments(db)] == ["batch", "churn-api"]
    assert [d.name for d in list_deployments(db, after="batch")] == ["churn-api"]
    assert [d.name for d in list_deployments(db, limit=1)] == ["batch"]
    assert made.to_dict() | {} == {
        "name": "churn-api",
        "model": "churn",
        "target": "@production",
        "model_uri": "models:/churn@production",
        "revision": 1,
        "created_by": ACTOR,
        "created_at": made.created_at,
        "updated_at": made.updated_at,
        "canary": {"target": "@challenger", "weight": 0.1},
        "shadow": {"target": "1", "share": 0.5},
        "pinned_version": None,
        "config": {"max_batch_size": 32},
    }


def test_every_ref_form_is_accepted(db: Database, models: Models) -> None:
    models("churn", 2, production=2)
    for i, ref in enumerate(["churn@production", "churn/1", "models:/churn@production", "models:/churn/2"]):
        assert get_deployment(db, create_deployment(db, f"d{i}", ref, actor=ACTOR).name).model == "churn"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model_ref": "nope@production"}, NotFound, "model_ref: registered model 'nope' does not exist"),
        ({"model_ref": "churn@staging"}, NotFound, "model_ref: model 'churn' has no alias 'staging'"),
        ({"model_ref": "churn/9"}, NotFound, "model_ref: model 'churn' has no version 9"),
        ({"model_ref": "runs:/0123abcd/model"}, InvalidInput, "model_ref 'runs:/0123abcd/model' is a run's model"),
        ({"model_ref": "churn/latest"}, InvalidInput, "model_ref 'churn/latest' names the latest version"),
        ({"name": "bad name"}, InvalidInput, "name 'bad name' is not a valid deployment name"),
        ({"canary": ("nope", 0.1)}, NotFound, "canary target: model 'churn' has no alias 'nope'"),
        ({"canary": (7, 0.1)}, NotFound, "canary target: model 'churn' has no version 7"),
        ({"canary": (2, 1.0)}, InvalidInput, "canary weight must be a number with 0 < x < 1"),
        ({"canary": (2, 0.0)}, InvalidInput, "canary weight"),
        ({"shadow": (2, 1.5)}, InvalidInput, "shadow share must be a number with 0 < x <= 1"),
        ({"shadow": ("gone", 0.5)}, NotFound, "shadow target: model 'churn' has no alias 'gone'"),
        ({"canary": ("production", 0.2)}, InvalidInput, "canary target @production is the primary target"),
        ({"config": {"batch": 3}}, InvalidInput, "config key 'batch' is unknown"),
        ({"config": {"max_batch_size": 0}}, InvalidInput, "config max_batch_size must be an integer from 1 to"),
    ],
)
def test_bad_create_input_names_the_field_and_stores_nothing(
    db: Database, models: Models, kwargs: dict[str, object], error: type[MlpilotError], message: str
) -> None:
    models("churn", 2, production=1)
    call: dict[str, object] = {"name": "api", "model_ref": "churn@production"} | kwargs
    with pytest.raises(error) as caught:
        create_deployment(db, actor=ACTOR, **call)  # type: ignore[arg-type]
    assert message in caught.value.message
    assert type(caught.value) is error
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deployments)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(event_table)).scalar() == 0


def test_unknown_model_hints_at_listing_models(db: Database, models: Models) -> None:
    with pytest.raises(NotFound) as caught:
        create_deployment(db, "api", "nope/1", actor=ACTOR)
    assert "mlpilot models list" in caught.value.hint


def test_archived_versions_are_not_put_in_service(db: Database, models: Models) -> None:
    models("churn", 2)
    archive_version(db, "churn", 1, actor=ACTOR)
    with pytest.raises(Conflict, match="model_ref: version 1 of 'churn' is archived"):
        create_deployment(db, "api", "churn/1", actor=ACTOR)
    with pytest.raises(Conflict, match="canary target: version 1 of 'churn' is archived"):
        create_deployment(db, "api", "churn/2", canary=(1, 0.5), actor=ACTOR)


def test_duplicate_name_is_a_conflict(db: Database, models: Models) -> None:
    models("churn", 2)
    create_deployment(db, "api", "churn/1", actor=ACTOR)
    with pytest.raises(Conflict, match="deployment 'api' already exists"):
        create_deployment(db, "api", "churn/2", actor=ACTOR)
    assert get_deployment(db, "api").target == Target(version=1)


def test_missing_deployment_is_not_found(db: Database) -> None:
    for call in (
        lambda: get_deployment(db, "ghost"),
        lambda: update_deployment(db, "ghost", canary=None, actor=ACTOR),
        lambda: delete_deployment(db, "ghost", actor=ACTOR),
        lambda: deployment_events(db, "ghost"),
    ):
        with pytest.raises(NotFound, match="deployment 'ghost'"):
            call()


def test_update_changes_what_is_given_and_records_each_change(db: Database, models: Models) -> None:
    models("churn", 4, production=2, challenger=3)
    create_deployment(db, "api", "churn@production", config={"max_batch_size": 8}, actor=ACTOR)
    updated = update_deployment(db, "api", canary=("challenger", 0.25), shadow=(4, 1), actor="bob")
    assert updated.canary == Canary(Target(alias="challenger"), 0.25)
    assert updated.shadow == Shadow(Target(version=4), 1.0)
    assert updated.target == Target(alias="production") and updated.config == {"max_batch_size": 8}
    assert updated.revision == 2 and updated.updated_at >= updated.created_at
    again = update_deployment(db, "api", model_ref="churn/1", config=None, canary=None, actor="carol")
    assert again.target == Target(version=1) and again.canary is None and again.config == {}
    assert again.shadow == Shadow(Target(version=4), 1.0)
    assert again.revision == 3
    events = deployment_events(db, "api")
    assert [(e.action, e.actor) for e in events] == [
        ("config_set", "carol"),
        ("canary_cleared", "carol"),
        ("updated", "carol"),
        ("shadow_set", "bob"),
        ("canary_set", "bob"),
        ("created", ACTOR),
    ]
    details = {e.action: e.details for e in events}
    assert details["updated"] == {
        "from_target": "@production",
        "to_target": "1",
        "from_version": 2,
        "to_version": 1,
        "revision": 3,
    }
    assert details["canary_set"] == {"target": "@challenger", "weight": 0.25, "version": 3, "revision": 2}
    assert details["canary_cleared"] == {"target": "@challenger", "weight": 0.25, "revision": 3}
    assert details["config_set"] == {"from": {"max_batch_size": 8}, "to": {}, "revision": 3}
    assert details["created"] is not None and details["created"]["to_version"] == 2
    assert [e.action for e in deployment_events(db, "api", limit=2)] == ["config_set", "canary_cleared"]


def test_an_update_that_changes_nothing_keeps_the_revision(db: Database, models: Models) -> None:
    models("churn", 2, production=1)
    made = create_deployment(db, "api", "churn@production", canary=(2, 0.5), actor=ACTOR)
    same = update_deployment(db, "api", model_ref="models:/churn@production", canary=(2, 0.5), config={}, actor=ACTOR)
    assert same == made
    assert [e.action for e in deployment_events(db, "api")] == ["created"]


def test_bad_update_input_changes_nothing(db: Database, models: Models) -> None:
    models("churn", 2, production=1)
    made = create_deployment(db, "api", "churn@production", actor=ACTOR)
    with pytest.raises(InvalidInput, match="canary weight"):
        update_deployment(db, "api", model_ref="churn/2", canary=(2, 3.0), actor=ACTOR)
    with pytest.raises(NotFound, match="shadow target"):
        update_deployment(db, "api", model_ref="churn/2", shadow=("nope", 0.5), actor=ACTOR)
    with pytest.raises(InvalidInput, match="canary target 2 is the primary target"):
        update_deployment(db, "api", model_ref="churn/2", canary=(2, 0.5), actor=ACTOR)
    with pytest.raises(Conflict, match="serves model 'churn', not 'other'"):
        models("other", 1)
        update_deployment(db, "api", model_ref="other/1", actor=ACTOR)
    assert get_deployment(db, "api") == made
    assert len(deployment_events(db, "api")) == 1


def test_delete_keeps_the_history_and_the_name_can_be_reused(db: Database, models: Models) -> None:
    models("churn", 2, production=2)
    create_deployment(db, "api", "churn@production", actor=ACTOR)
    delete_deployment(db, "api", actor="bob")
    with pytest.raises(NotFound):
        get_deployment(db, "api")
    assert list_deployments(db) == []
    events = deployment_events(db, "api")
    assert [(e.action, e.actor) for e in events] == [("deleted", "bob"), ("created", ACTOR)]
    assert events[0].details == {"model": "churn", "target": "@production", "from_version": 2, "revision": 1}
    again = create_deployment(db, "api", "churn/1", actor=ACTOR)
    assert again.revision == 1 and again.target == Target(version=1)
    assert [e.action for e in deployment_events(db, "api")] == ["created", "deleted", "created"]


def test_concurrent_updates_each_get_their_own_revision(db: Database, models: Models) -> None:
    models("churn", 2)
    create_deployment(db, "api", "churn/1", actor=ACTOR)
    weights = [round(0.1 * i, 1) for i in range(1, 9)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda w: update_deployment(db, "api", canary=(2, w), actor=f"t{w}"), weights))
    final = get_deployment(db, "api")
    assert final.revision == 1 + len(weights)
    events = deployment_events(db, "api")
    assert sorted((e.details or {})["revision"] for e in events if e.action == "canary_set") == list(range(2, 10))
