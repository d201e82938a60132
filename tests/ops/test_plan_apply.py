"""Plan and apply against a real store (SQLite and PostgreSQL) with real registered models: create,
change, unchanged, delete of managed objects only, a second apply that changes nothing, the events
recorded, and nothing applied when any entry is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlpilot.deployments import (
    Canary,
    Target,
    create_deployment,
    deployment_events,
    get_deployment,
    list_deployments,
    rollback_deployment,
    update_deployment,
)
from mlpilot.monitoring.monitors import create_monitor, get_monitor, list_monitors, update_monitor
from mlpilot.ops.apply import apply_declarations
from mlpilot.ops.declarations import load_declarations
from mlpilot.ops.declared_lines import DeclarationError
from mlpilot.ops.plan import make_plan
from mlpilot.orchestration.triggers import create_trigger, list_triggers
from mlpilot.registry.aliases import set_alias
from mlpilot.store import Database
from tests.ops.declared_fixtures import GOOD, seeded, write

__all__ = ["seeded"]  # a fixture, imported for pytest

USER = "ci"


def _apply(db: Database, path: Path, *, prune: bool = False) -> list[str]:
    done = apply_declarations(db, load_declarations(path), user=USER, prune=prune)
    return [line for change in done.done for line in change.lines() if not line.startswith("    note")]


def _plan(db: Database, path: Path, *, prune: bool = False) -> list[str]:
    return [line for line in make_plan(db, load_declarations(path), prune=prune).lines() if not line.startswith(" ")]


@pytest.mark.usefixtures("seeded")
def test_create_then_a_second_apply_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert _plan(db, path) == [
        "+ deployment churn-api: model churn@production, canary @challenger (weight 0.1), shadow 3 (share 0.5), "
        "max_batch_size 32",
        "+ monitor churn-drift",
        "+ trigger churn-retrain on alert of monitor churn-drift",
        "+ trigger churn-retrain on schedule '0 3 * * 1'",
    ]
    assert len(_apply(db, path)) == 4
    deployment = get_deployment(db, "churn-api")
    assert deployment.canary == Canary(Target(alias="challenger"), 0.1)
    assert deployment.config == {"max_batch_size": 32}
    assert deployment.created_by == "ci (mlpilot apply: churn)"
    monitor = get_monitor(db, "churn-drift")
    assert monitor.deployment == "churn-api" and monitor.config.conditions.latency_p99_ms == 250
    triggers = list_triggers(db, "churn-retrain")
    assert {t.kind for t in triggers} == {"alert", "schedule"}
    assert all(t.spec["managed_by"] == "churn:churn-api" for t in triggers)
    assert triggers[0].params == {"candidates": 3}
    # The deployment service recorded its event, with apply's actor.
    (created,) = deployment_events(db, "churn-api")
    assert (created.action, created.actor) == ("created", "ci (mlpilot apply: churn)")

    second = apply_declarations(db, load_declarations(path), user=USER)
    assert not second.changed and not second.plan.has_changes
    assert second.plan.counts()["unchanged"] == 4
    assert len(deployment_events(db, "churn-api")) == 1
    assert len(list_triggers(db)) == 2


@pytest.mark.usefixtures("seeded")
def test_a_change_is_shown_field_by_field_and_recorded(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    _apply(db, path)
    changed = (
        GOOD.replace("weight: 0.1", "weight: 0.2")
        .replace("drift_share: 0.3", "drift_share: 0.25")
        .replace("candidates: 3", "candidates: 5")
        .replace("model: churn@production", "model: churn/1")
    )
    write(tmp_path, changed)
    assert _plan(db, path) == [
        "~ deployment churn-api: model churn@production → churn/1",
        "~ deployment churn-api: canary.weight 0.1 → 0.2",
        "~ monitor churn-drift: conditions.drift_share 0.3 → 0.25",
        "~ trigger churn-retrain on alert of monitor churn-drift: params {'candidates': 3} → {'candidates': 5}",
        "= trigger churn-retrain on schedule '0 3 * * 1' (unchanged)",
    ]
    _apply(db, path)
    deployment = get_deployment(db, "churn-api")
    assert deployment.target == Target(version=1) and deployment.canary is not None
    assert deployment.canary.weight == 0.2
    actions = [event.action for event in deployment_events(db, "churn-api")]
    assert actions == ["canary_set", "updated", "created"]
    assert get_monitor(db, "churn-drift").config.conditions.drift_share == 0.25
    alert = next(t for t in list_triggers(db) if t.kind == "alert")
    assert alert.params == {"candidates": 5}
    assert not make_plan(db, load_declarations(path)).has_changes


@pytest.mark.usefixtures("seeded")
def test_left_out_is_left_alone_null_clears_and_a_pin_is_kept(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "name: churn\ndeployments:\n  - {name: api, model: churn@production, max_batch_size: 8}\n")
    _apply(db, path)
    # A roll-out sets a canary and a rollback pins: neither is the file's business.
    create_deployment(db, "other", "churn/1", actor="alice")
    set_alias(db, "churn", "production", 3, actor="pipeline")
    rollback_deployment(db, "api", actor="pipeline")  # back to version 1, pinned
    update_deployment(db, "api", canary=("challenger", 0.3), actor="pipeline")
    plan = make_plan(db, load_declarations(path))
    assert not plan.has_changes
    (change,) = plan.changes
    assert change.note is not None and "pinned" in change.note
    write(
        tmp_path,
        "name: churn\ndeployments:\n  - {name: api, model: churn@production, canary: null, max_batch_size: null}\n",
    )
    assert _plan(db, path) == [
        "~ deployment api: canary @challenger (weight 0.3) → none",
        "~ deployment api: max_batch_size 8 → none",
    ]
    _apply(db, path)
    after = get_deployment(db, "api")
    assert after.canary is None and after.config == {} and after.pinned_version == 1


@pytest.mark.usefixtures("seeded")
def test_only_what_apply_created_is_ever_deleted(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    _apply(db, path)
    # Made by hand: a deployment, a monitor on the managed deployment, a trigger of the same pipeline.
    create_deployment(db, "manual", "churn@production", actor="alice")
    create_monitor(db, "hand-made", "churn-api", {"window": "2h"}, actor="alice")
    create_trigger(db, "churn-retrain", "dataset", {"dataset": "churn-data"})

    # Monitors and triggers the entry no longer lists go; the hand-made ones stay.
    write(tmp_path, GOOD[: GOOD.index("    monitors:")])
    assert _plan(db, path) == [
        "= deployment churn-api (unchanged)",
        "- monitor churn-drift",
        "- trigger churn-retrain on alert of monitor churn-drift",
        "- trigger churn-retrain on schedule '0 3 * * 1'",
    ]
    _apply(db, path)
    assert [m.name for m in list_monitors(db)] == ["hand-made"]
    assert [t.kind for t in list_triggers(db)] == ["dataset"]

    # A whole deployment gone from the file is kept, unless pruned; one made by hand never goes.
    write(tmp_path, "name: churn\ndeployments: []\n")
    plan = make_plan(db, load_declarations(path))
    assert [(c.action, c.kind, c.name) for c in plan.changes] == [("kept", "deployment", "churn-api")]
    assert not plan.has_changes
    assert _apply(db, path) == []
    assert _apply(db, path, prune=True) == ["- deployment churn-api"]
    assert [d.name for d in list_deployments(db)] == ["manual"]
    assert deployment_events(db, "churn-api")[0].action == "deleted"

    # Another project applying to the same store never touches this one's deployments.
    write(tmp_path, "name: churn\ndeployments: [{name: kept-api, model: churn/2}]\n")
    _apply(db, path)
    other = write(tmp_path, "name: billing\ndeployments: []\n", "billing.yaml")
    assert _apply(db, other, prune=True) == []
    assert {d.name for d in list_deployments(db)} == {"manual", "kept-api"}


@pytest.mark.usefixtures("seeded")
def test_a_hand_made_deployment_declared_by_name_is_changed_never_deleted(db: Database, tmp_path: Path) -> None:
    create_deployment(db, "churn-api", "churn@production", actor="alice")
    path = write(tmp_path, "name: churn\ndeployments: [{name: churn-api, model: churn@challenger}]\n")
    plan = make_plan(db, load_declarations(path))
    (change,) = plan.changes
    assert change.action == "change" and change.note is not None and "created by alice" in change.note
    _apply(db, path)
    assert get_deployment(db, "churn-api").target == Target(alias="challenger")
    write(tmp_path, "name: churn\ndeployments: []\n")
    assert _apply(db, path, prune=True) == []
    assert get_deployment(db, "churn-api").created_by == "alice"


@pytest.mark.usefixtures("seeded")
def test_a_stored_webhook_secret_survives_apply(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    _apply(db, path)
    config = get_monitor(db, "churn-drift").config.to_dict()
    update_monitor(db, "churn-drift", config={**config, "webhook_secret": "s3cret"})
    assert not make_plan(db, load_declarations(path)).has_changes
    write(tmp_path, GOOD.replace("window: 1h", "window: 2h"))
    _apply(db, path)
    stored = get_monitor(db, "churn-drift").config
    assert stored.window.text == "2h" and stored.webhook_secret == "s3cret"


@pytest.mark.usefixtures("seeded")
def test_nothing_is_applied_when_any_entry_is_refused(db: Database, tmp_path: Path) -> None:
    good = "  - {name: good-api, model: churn@production, monitors: [{name: good-drift}]}\n"
    bad = "  - {name: bad-api, model: churn@nope}\n"
    path = write(tmp_path, "name: churn\ndeployments:\n" + good + bad)
    with pytest.raises(DeclarationError) as caught:
        apply_declarations(db, load_declarations(path), user=USER)
    assert caught.value.message.endswith(":4: deployments[1].model: model 'churn' has no alias 'nope'")
    assert list_deployments(db) == [] and list_monitors(db) == []

    # Declared under one deployment, a monitor that already watches another is refused too.
    create_deployment(db, "elsewhere", "churn/1", actor="alice")
    create_monitor(db, "good-drift", "elsewhere", None, actor="alice")
    write(tmp_path, "name: churn\ndeployments:\n" + good)
    with pytest.raises(DeclarationError, match="already watches deployment 'elsewhere'"):
        apply_declarations(db, load_declarations(path), user=USER)
    assert [d.name for d in list_deployments(db)] == ["elsewhere"]

    # A deployment serves one model for life: another model under its name is refused.
    write(tmp_path, "name: churn\ndeployments: [{name: elsewhere, model: other@production}]\n")
    with pytest.raises(DeclarationError) as refused:
        make_plan(db, load_declarations(path))
    messages = [p.message for p in refused.value.problems if p.path == "deployments[0].model"]
    assert any("serves model 'churn'; a deployment serves one model for life" in m for m in messages)
