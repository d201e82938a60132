"""Compare what a file declares with what is stored: per deployment, monitor and retraining
trigger, create, change (field by field), delete or unchanged.

What "delete" means. Apply only ever deletes what it created for the same project (see
``declared_state``): never a deployment, monitor or trigger made by hand. Within a declared
deployment the file is the whole truth about its monitors and retraining triggers, so the ones
apply created and the file no longer lists are deleted. A whole deployment apply created that the
file no longer lists is only deleted with ``prune``; without it the plan shows it as ``kept``, since
a missing entry is as often a wrong ``-f`` as an intended removal.

On a deployment, a key left out is left alone (a pipeline's roll-out sets and clears canaries) and
``null`` clears it; a rollback's pin is never released by apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlpilot.deployments import Canary, Deployment, Shadow
from mlpilot.deployments.specs import Unset
from mlpilot.monitoring.config import MonitorConfig
from mlpilot.monitoring.monitors import Monitor
from mlpilot.ops.declared_lines import raise_problems
from mlpilot.ops.declared_records import (
    TRIGGER_SOURCES,
    Declarations,
    DeclaredDeployment,
    DeclaredMonitor,
    DeclaredTrigger,
    model_ref,
)
from mlpilot.ops.declared_state import Stored, check_against_store, owns, read_stored
from mlpilot.orchestration.triggers import Trigger
from mlpilot.store import Database

__all__ = ["Change", "FieldChange", "Plan", "make_plan"]

PENDING = ("create", "change", "delete")
_SYMBOLS = {"create": "+", "change": "~", "delete": "-", "unchanged": "=", "kept": "!"}
Declared = DeclaredDeployment | DeclaredMonitor | DeclaredTrigger


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    def text(self) -> str:
        return f"{self.field} {_shown(self.before)} → {_shown(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class Change:
    """One object's fate. ``declared`` is what to make it (None for a delete); ``trigger_id`` the
    stored trigger a delete or a replacement removes."""

    action: str  # create | change | delete | unchanged | kept
    kind: str  # deployment | monitor | trigger
    name: str
    deployment: str
    fields: tuple[FieldChange, ...] = ()
    note: str | None = None
    declared: Declared | None = field(default=None, compare=False)
    trigger_id: int | None = None

    @property
    def pending(self) -> bool:
        return self.action in PENDING

    def lines(self) -> list[str]:
        head = f"{_SYMBOLS[self.action]} {self.kind} {self.name}"
        if self.action == "change":
            found = [f"{head}: {change.text()}" for change in self.fields]
        elif self.action == "create" and self.fields:
            found = [f"{head}: " + ", ".join(f"{c.field} {_shown(c.after)}" for c in self.fields)]
        else:
            found = [head + {"unchanged": " (unchanged)", "kept": " (kept)"}.get(self.action, "")]
        return found + ([f"    note: {self.note}"] if self.note else [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "deployment": self.deployment,
            "fields": [change.to_dict() for change in self.fields],
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    file: str
    project: str
    prune: bool
    changes: tuple[Change, ...]

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.pending)

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def counts(self) -> dict[str, int]:
        return {action: sum(c.action == action for c in self.changes) for action in _SYMBOLS}

    def lines(self) -> list[str]:
        return [line for change in self.changes for line in change.lines()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "project": self.project,
            "prune": self.prune,
            "has_changes": self.has_changes,
            "counts": self.counts(),
            "changes": [change.to_dict() for change in self.changes],
        }


def make_plan(db: Database, declared: Declarations, *, prune: bool = False) -> Plan:
    """The plan to make the store match ``declared``; DeclarationError (nothing changed) when any
    entry names what the store does not have."""
    stored = read_stored(db)
    raise_problems(declared.source, check_against_store(db, declared, stored))
    project = declared.project
    triggers = stored.owned_triggers(project)
    changes: list[Change] = []
    for entry in declared.deployments:
        changes.append(_deployment(entry, stored.deployments.get(entry.name), project))
        changes.extend(_monitors(entry, stored, project))
        changes.extend(_triggers(entry, triggers.pop(entry.name, [])))
    declared_names = {entry.name for entry in declared.deployments}
    owned = {name for name, current in stored.deployments.items() if owns(current.created_by, project)}
    for name in sorted((owned | set(triggers)) - declared_names):
        changes.extend(_gone(name, stored, project, triggers.get(name, []), prune))
    return Plan(declared.source.shown, project, prune, tuple(changes))


def _gone(name: str, stored: Stored, project: str, triggers: list[Trigger], prune: bool) -> list[Change]:
    """What apply created for deployment ``name``, which the file no longer declares: deleted with
    ``prune``, else kept. Triggers first, then monitors, then the deployment: the order of deletion."""
    action = "delete" if prune else "kept"
    changes = [Change(action, "trigger", _describe(t), name, trigger_id=t.id) for t in triggers]
    current = stored.deployments.get(name)
    if current is not None and owns(current.created_by, project):
        changes.extend(Change(action, "monitor", m.name, name) for m in stored.owned_monitors(project, name))
        note = None if prune else "no longer declared; `mlpilot apply --prune` deletes it"
        changes.append(Change(action, "deployment", name, name, note=note))
    return changes


def _deployment(entry: DeclaredDeployment, current: Deployment | None, project: str) -> Change:
    if current is None:
        fields = [FieldChange("model", None, entry.model_ref)]
        fields += [FieldChange(key, None, split) for key, split in _splits(entry) if split is not None]
        fields += [FieldChange(key, None, value) for key, value in entry.config.items() if value is not None]
        return Change("create", "deployment", entry.name, entry.name, tuple(fields), declared=entry)
    changes: list[FieldChange] = []
    if entry.target != current.target:
        changes.append(FieldChange("model", model_ref(current.model, current.target), entry.model_ref))
    changes += _split_changes("canary", "weight", current.canary, entry.canary)
    changes += _split_changes("shadow", "share", current.shadow, entry.shadow)
    for key, value in entry.config.items():
        if current.config.get(key) != value:
            changes.append(FieldChange(key, current.config.get(key), value))
    notes = []
    if current.pinned_version is not None:
        notes.append(f"pinned to version {current.pinned_version} by a rollback; apply leaves the pin")
    if not owns(current.created_by, project):
        notes.append(f"created by {current.created_by}, not by this file: apply changes it, never deletes it")
    action = "change" if changes else "unchanged"
    note = "; ".join(notes) or None
    return Change(action, "deployment", entry.name, entry.name, tuple(changes), note, entry)


def _splits(entry: DeclaredDeployment) -> list[tuple[str, str | None]]:
    found = []
    for key, split in (("canary", entry.canary), ("shadow", entry.shadow)):
        if not isinstance(split, Unset):
            found.append((key, _split_text(split)))
    return found


def _split_text(split: Canary | Shadow | None) -> str | None:
    if split is None:
        return None
    amount = f"weight {split.weight}" if isinstance(split, Canary) else f"share {split.share}"
    return f"{split.target} ({amount})"


def _split_changes(
    key: str, amount: str, before: Canary | Shadow | None, after: Canary | Shadow | Unset | None
) -> list[FieldChange]:
    if isinstance(after, Unset) or before == after:
        return []
    if before is None or after is None:
        return [FieldChange(key, _split_text(before), _split_text(after))]
    found = []
    if before.target != after.target:
        found.append(FieldChange(f"{key}.target", str(before.target), str(after.target)))
    if getattr(before, amount) != getattr(after, amount):
        found.append(FieldChange(f"{key}.{amount}", getattr(before, amount), getattr(after, amount)))
    return found


def _monitor_settings(config: MonitorConfig, enabled: bool) -> dict[str, Any]:
    """What a file can declare of a monitor (its secret is never in the file, nor compared)."""
    settings = config.to_dict(secrets=False)
    settings.pop("webhook_secret")
    return {**settings, "enabled": enabled}


def _monitors(entry: DeclaredDeployment, stored: Stored, project: str) -> list[Change]:
    changes = []
    for monitor in entry.monitors:
        current: Monitor | None = stored.monitors.get(monitor.name)
        if current is None:
            changes.append(Change("create", "monitor", monitor.name, entry.name, declared=monitor))
            continue
        before = _monitor_settings(current.config, current.enabled)
        fields = tuple(_diff(before, _monitor_settings(monitor.config, monitor.enabled), ""))
        action = "change" if fields else "unchanged"
        changes.append(Change(action, "monitor", monitor.name, entry.name, fields, declared=monitor))
    declared = {monitor.name for monitor in entry.monitors}
    changes.extend(
        Change("delete", "monitor", m.name, entry.name)
        for m in stored.owned_monitors(project, entry.name)
        if m.name not in declared
    )
    return changes


def _diff(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str) -> list[FieldChange]:
    found = []
    for key in [*after, *(key for key in before if key not in after)]:
        old, new = before.get(key), after.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            found.extend(_diff(old, new, f"{prefix}{key}."))
        elif old != new:
            found.append(FieldChange(f"{prefix}{key}", old, new))
    return found


def _source(trigger: Trigger) -> str:
    return str(trigger.spec.get(TRIGGER_SOURCES[trigger.kind], ""))


def _describe(trigger: Trigger | DeclaredTrigger) -> str:
    kind, source = (trigger.kind, _source(trigger) if isinstance(trigger, Trigger) else trigger.source)
    what = {"alert": f"alert of monitor {source}", "schedule": f"schedule '{source}'", "dataset": f"dataset {source}"}
    return f"{trigger.pipeline} on {what[kind]}"


def _triggers(entry: DeclaredDeployment, mine: list[Trigger]) -> list[Change]:
    changes = []
    left = list(mine)
    for trigger in entry.retrain:
        current = next((t for t in left if (t.pipeline, t.kind, _source(t)) == trigger.key), None)
        name = _describe(trigger)
        if current is None:
            changes.append(Change("create", "trigger", name, entry.name, declared=trigger))
            continue
        left.remove(current)
        if dict(current.params) == dict(trigger.params):
            changes.append(Change("unchanged", "trigger", name, entry.name, declared=trigger))
            continue
        fields = (FieldChange("params", dict(current.params), dict(trigger.params)),)
        note = "a trigger cannot be edited: apply replaces it (its cursor starts again from now)"
        changes.append(Change("change", "trigger", name, entry.name, fields, note, trigger, current.id))
    changes.extend(Change("delete", "trigger", _describe(t), entry.name, trigger_id=t.id) for t in left)
    return changes


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
