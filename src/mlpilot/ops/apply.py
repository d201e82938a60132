"""Make the store match a declaration file, through the deployment, monitor and trigger services.

Apply plans first (every entry checked against the store, nothing changed while any is refused),
then executes the plan's pending changes in an order where each step finds what it needs:

1. deployments created or changed (monitors and triggers attach to them);
2. triggers deleted, or replaced (an alert trigger goes before the monitor it watches);
3. monitors deleted, then created or changed;
4. triggers created;
5. deployments deleted (pruned), after their monitors and triggers.

Each step is one service call with its own transaction and events (a deployment's ``created``,
``canary_set``… with the actor ``"<user> (mlpilot apply: <project>)"``). Steps that find the
store already as declared change nothing, so a second apply is a no-op, and an apply stopped
half-way (say an alias deleted between plan and apply) is finished by running it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlpilot.deployments import create_deployment, delete_deployment, get_deployment, update_deployment
from mlpilot.deployments.specs import UNSET, Unset
from mlpilot.monitoring.monitors import create_monitor, delete_monitor, get_monitor, update_monitor
from mlpilot.ops.declared_records import Declarations, DeclaredDeployment, DeclaredMonitor, DeclaredTrigger
from mlpilot.ops.declared_state import applied_by, trigger_owner
from mlpilot.ops.plan import Change, Plan, make_plan
from mlpilot.orchestration.triggers import create_trigger, delete_trigger
from mlpilot.store import Database

__all__ = ["Applied", "apply_declarations", "apply_plan"]


@dataclass(frozen=True, slots=True)
class Applied:
    """What apply did: the plan it followed and its changes in the order they were made."""

    plan: Plan
    done: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return bool(self.done)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "applied": [change.to_dict() for change in self.done],
            "plan": self.plan.to_dict(),
        }


def apply_declarations(db: Database, declared: Declarations, *, user: str, prune: bool = False) -> Applied:
    """Plan against the store as it is now, then apply; DeclarationError before any change when an
    entry is refused."""
    return apply_plan(db, make_plan(db, declared, prune=prune), user=user)


def apply_plan(db: Database, plan: Plan, *, user: str) -> Applied:
    actor = applied_by(user, plan.project)
    pending = plan.pending
    steps: list[tuple[Callable[[Change], bool], Callable[[Database, Change, str, str], None]]] = [
        (lambda c: c.kind == "deployment" and c.action != "delete", _put_deployment),
        (lambda c: c.kind == "trigger" and c.trigger_id is not None, _remove_trigger),
        (lambda c: c.kind == "monitor" and c.action == "delete", _remove_monitor),
        (lambda c: c.kind == "monitor" and c.action != "delete", _put_monitor),
        (lambda c: c.kind == "trigger" and c.action != "delete", _add_trigger),
        (lambda c: c.kind == "deployment" and c.action == "delete", _remove_deployment),
    ]
    for wanted, step in steps:
        for change in pending:
            if wanted(change):
                step(db, change, actor, plan.project)
    return Applied(plan, pending)


def _put_deployment(db: Database, change: Change, actor: str, project: str) -> None:
    entry = change.declared
    assert isinstance(entry, DeclaredDeployment)
    canary = None if isinstance(entry.canary, Unset) else entry.canary
    shadow = None if isinstance(entry.shadow, Unset) else entry.shadow
    if change.action == "create":
        settings = {key: value for key, value in entry.config.items() if value is not None}
        create_deployment(db, entry.name, entry.model_ref, canary=canary, shadow=shadow, config=settings, actor=actor)
        return
    current = get_deployment(db, entry.name)
    # The primary target only when it differs: naming it again would release a rollback's pin.
    model_ref: str | Unset = entry.model_ref if entry.target != current.target else UNSET
    config: dict[str, Any] | Unset = UNSET
    if entry.config:
        merged = {**current.config, **entry.config}
        config = {key: value for key, value in merged.items() if value is not None}
    update_deployment(
        db, entry.name, model_ref=model_ref, canary=entry.canary, shadow=entry.shadow, config=config, actor=actor
    )


def _remove_trigger(db: Database, change: Change, actor: str, project: str) -> None:
    assert change.trigger_id is not None
    delete_trigger(db, change.trigger_id)


def _add_trigger(db: Database, change: Change, actor: str, project: str) -> None:
    trigger = change.declared
    assert isinstance(trigger, DeclaredTrigger)
    spec = {**trigger.spec, "managed_by": trigger_owner(project, change.deployment)}
    create_trigger(db, trigger.pipeline, trigger.kind, spec, params=trigger.params)


def _remove_monitor(db: Database, change: Change, actor: str, project: str) -> None:
    delete_monitor(db, change.name)


def _put_monitor(db: Database, change: Change, actor: str, project: str) -> None:
    monitor = change.declared
    assert isinstance(monitor, DeclaredMonitor)
    if change.action == "create":
        create_monitor(db, monitor.name, change.deployment, monitor.config, actor=actor, enabled=monitor.enabled)
        return
    # A secret set by hand (never in the file) stays.
    kept = get_monitor(db, monitor.name).config.webhook_secret
    config = dataclasses.replace(monitor.config, webhook_secret=kept)
    update_monitor(db, monitor.name, config=config, enabled=monitor.enabled)


def _remove_deployment(db: Database, change: Change, actor: str, project: str) -> None:
    delete_deployment(db, change.name, actor=actor)
