"""What each deployment served as primary, and when that changed: DORA's "deployments".

A DORA deployment is a change of the version a deployment serves to everyone. Two audit trails
record such changes, and the history is replayed from both:

* the deployment's own events that set its primary (``created``, ``updated``, ``promoted``,
  ``rolled_back``; each carries ``to_version``);
* the registry's moves of the alias a deployment follows (``alias_set``, ``alias_rollback``,
  ``alias_deleted``): a deployment of ``churn@production`` serves whatever ``production`` holds,
  so a person moving the alias deploys too. A deployment a rollback pinned ignores alias moves
  until an update or a promotion releases the pin, exactly as serving does.

A change counts only when the served version really changes, which is what keeps a promotion from
counting twice: ``promote_deployment`` records ``promoted`` and, for an alias follower, moves the
alias in the same transaction; whichever of the two is replayed second finds the version already
served. Another deployment following the same alias sees only the alias move; it inherits the
promotion's cause through the move's reason (``promoted by 'NAME'``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.deployments.events import PRIMARY_CHANGES
from mlpilot.deployments.rollout import REMEDIATION_CAUSES, UNPLANNED_CAUSES
from mlpilot.store.schema import deployment_events, model_events, model_versions, registered_models, runs

__all__ = ["Change", "commit_times", "load_changes"]

_ALIAS_ACTIONS = ("alias_set", "alias_rollback", "alias_deleted")
_PROMOTED_BY = re.compile(r"^promoted by '(?P<name>[^']+)'$")


@dataclass(frozen=True, slots=True)
class Change:
    """One DORA deployment: ``deployment`` started serving ``version`` of ``model`` at ``at`` (epoch ms).

    ``action`` is the event that did it (a deployment event, or ``alias_set``/``alias_rollback``);
    ``cause`` is ``planned`` or one of the unplanned causes.
    """

    deployment: str
    model: str
    version: int
    from_version: int | None
    at: int
    action: str
    cause: str
    actor: str
    context: Mapping[str, Any] | None = None

    @property
    def unplanned(self) -> bool:
        return self.cause in UNPLANNED_CAUSES

    @property
    def remediates(self) -> bool:
        """It replaced a version because that version failed (not merely because the world changed)."""
        return self.cause in REMEDIATION_CAUSES

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "model": self.model,
            "version": self.version,
            "from_version": self.from_version,
            "at": self.at,
            "action": self.action,
            "cause": self.cause,
            "unplanned": self.unplanned,
            "actor": self.actor,
            "context": dict(self.context) if self.context is not None else None,
        }


@dataclass(frozen=True, slots=True)
class _Event:
    """A row of either trail, in one shape for the replay."""

    at: int
    trail: int  # 0 deployment events, 1 model events: at the same millisecond the deployment's own comes first
    id: int
    action: str
    actor: str
    details: Mapping[str, Any]
    model: str | None = None  # model events only: whose alias moved
    alias: str | None = None
    version: int | None = None
    reason: str | None = None


@dataclass(slots=True)
class _State:
    model: str | None = None
    alias: str | None = None  # the alias followed; None for a fixed version
    pinned: bool = False
    served: int | None = None


def load_changes(conn: Connection, deployment: str | None = None) -> list[Change]:
    """Every primary change of every deployment (or of ``deployment``), oldest first."""
    own = _deployment_trail(conn, deployment)
    models = {str(event.details["model"]) for events in own.values() for event in events if event.action == "created"}
    moves = _alias_trail(conn, models)
    promotions = _promotion_causes(own)
    changes: list[Change] = []
    for name, events in own.items():
        changes.extend(_replay(name, events, moves, promotions))
    return sorted(changes, key=lambda change: (change.at, change.deployment))


def commit_times(conn: Connection, versions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int | None]:
    """The commit time (epoch ms, None if unknown) of the run behind each ``(model, version)``."""
    wanted = set(versions)
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(registered_models.c.name, model_versions.c.version, runs.c.git_committed_at)
        .join(model_versions, model_versions.c.model_id == registered_models.c.id)
        .join(runs, runs.c.id == model_versions.c.run_id)
        .where(registered_models.c.name.in_(sorted({model for model, _ in wanted})))
    )
    return {(name, version): committed for name, version, committed in rows if (name, version) in wanted}


def _deployment_trail(conn: Connection, deployment: str | None) -> dict[str, list[_Event]]:
    query = sa.select(deployment_events).order_by(deployment_events.c.id)
    if deployment is not None:
        query = query.where(deployment_events.c.deployment == deployment)
    trail: dict[str, list[_Event]] = defaultdict(list)
    for row in conn.execute(query).mappings():
        trail[row["deployment"]].append(
            _Event(row["created_at"], 0, row["id"], row["action"], row["actor"], row["details"] or {})
        )
    return trail


def _alias_trail(conn: Connection, models: set[str]) -> dict[str, list[_Event]]:
    """The alias moves of ``models``, by model name, oldest first."""
    if not models:
        return {}
    rows = conn.execute(
        sa.select(model_events, registered_models.c.name.label("model"))
        .join(registered_models, registered_models.c.id == model_events.c.model_id)
        .where(registered_models.c.name.in_(sorted(models)), model_events.c.action.in_(_ALIAS_ACTIONS))
        .order_by(model_events.c.id)
    ).mappings()
    trail: dict[str, list[_Event]] = defaultdict(list)
    for row in rows:
        trail[row["model"]].append(
            _Event(
                row["created_at"],
                1,
                row["id"],
                row["action"],
                row["actor"],
                row["details"] or {},
                model=row["model"],
                alias=row["alias"],
                version=row["version"],
                reason=row["reason"],
            )
        )
    return trail


def _promotion_causes(own: Mapping[str, list[_Event]]) -> dict[tuple[str, str, int], list[tuple[int, str]]]:
    """``(deployment, alias, version) -> [(time, cause)]`` of the promotions that moved an alias."""
    found: dict[tuple[str, str, int], list[tuple[int, str]]] = defaultdict(list)
    for name, events in own.items():
        for event in events:
            alias, version = event.details.get("moved_alias"), event.details.get("to_version")
            if event.action == "promoted" and alias is not None and version is not None:
                found[(name, alias, version)].append((event.at, _cause(event)))
    return found


def _cause(event: _Event) -> str:
    cause = event.details.get("cause")
    if isinstance(cause, str):
        return cause
    # Events recorded before causes were: a rollback was unplanned all the same.
    return "rollback" if event.action == "rolled_back" else "planned"


def _replay(
    name: str,
    events: list[_Event],
    moves: Mapping[str, list[_Event]],
    promotions: Mapping[tuple[str, str, int], list[tuple[int, str]]],
) -> list[Change]:
    models = {str(event.details["model"]) for event in events if event.action == "created"}
    merged = sorted(
        [*events, *(move for model in models for move in moves.get(model, ()))],
        key=lambda event: (event.at, event.trail, event.id),
    )
    state: _State | None = None  # None while the deployment does not exist
    changes: list[Change] = []
    for event in merged:
        if event.trail == 0:
            state, version, cause = _apply_own(state, event)
        elif _follows(state, event):
            version = event.version if event.action != "alias_deleted" else None
            cause = _move_cause(event, promotions)
        else:
            continue
        if state is None:
            continue
        if version is not None and version != state.served and state.model is not None:
            context = event.details.get("context") if event.trail == 0 else None
            changes.append(
                Change(
                    deployment=name,
                    model=state.model,
                    version=version,
                    from_version=state.served,
                    at=event.at,
                    action=event.action,
                    cause=cause,
                    actor=event.actor,
                    context=context if isinstance(context, Mapping) else None,
                )
            )
        if event.trail == 1 or event.action in PRIMARY_CHANGES:
            state.served = version
    return changes


def _follows(state: _State | None, move: _Event) -> bool:
    """Whether an alias move changes what the deployment serves: it exists, is not pinned by a
    rollback, and follows that alias of that model."""
    return (
        state is not None
        and not state.pinned
        and state.alias is not None
        and (move.model, move.alias) == (state.model, state.alias)
    )


def _apply_own(state: _State | None, event: _Event) -> tuple[_State | None, int | None, str]:
    """The state after one of the deployment's own events, the version it puts in service (if it
    sets the primary) and its cause."""
    details, action = event.details, event.action
    if action == "created":
        state = _State(model=str(details["model"]), alias=_alias_of(details.get("target")))
    elif state is None or action == "deleted":
        return None, None, "planned"
    elif action == "updated":
        state.alias, state.pinned = _alias_of(details.get("to_target")), False
    elif action == "promoted":
        state.pinned = False
        if details.get("moved_alias") is None:
            state.alias = None  # a fixed-version deployment now names the promoted version
    elif action == "rolled_back":
        state.pinned = True
    if action not in PRIMARY_CHANGES:
        return state, state.served, "planned"
    version = details.get("to_version")
    return state, version if isinstance(version, int) else None, _cause(event)


def _alias_of(target: object) -> str | None:
    return target[1:] if isinstance(target, str) and target.startswith("@") else None


def _move_cause(event: _Event, promotions: Mapping[tuple[str, str, int], list[tuple[int, str]]]) -> str:
    """A rollback of the alias is unplanned; a move made by promoting a deployment has that
    promotion's cause; any other move was made on purpose by a person: planned."""
    if event.action == "alias_rollback":
        return "rollback"
    match = _PROMOTED_BY.match(event.reason or "")
    if match is None or event.alias is None or event.version is None:
        return "planned"
    earlier = [item for item in promotions.get((match["name"], event.alias, event.version), ()) if item[0] <= event.at]
    return max(earlier)[1] if earlier else "planned"
