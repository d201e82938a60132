"""Ending a rollout: roll a deployment back to the version it served before, or promote its canary.

Rollback pins: all traffic goes to the previous version, whatever the target says, and the
canary is removed. "Previous" is read from history: the alias's moves in the registry's audit
trail for a deployment that follows an alias, the deployment's own events for a fixed version. A
version this deployment was already rolled back away from is never chosen again, so repeated
rollbacks step further back instead of returning to a bad version.

Promotion keeps the deployment's kind. One that follows an alias moves that alias to the
canary's version with the registry's ``set_alias``, so the registry stays the source of truth
(``churn@production`` means the promoted version everywhere) and the move is in the alias's
history for a later rollback. One with a fixed version switches to the canary's version.

Both record why they happened, for DORA's instability metrics: a ``cause`` from ``CAUSES`` and a
free ``context`` (a pipeline run id, an alert id…) go into the event's details. A promotion
without a cause was planned; a rollback is unplanned whatever the caller says, so it records
``"rollback"`` unless given a more specific unplanned cause.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from mlpilot.deployments.events import record_event, rolled_back_from, served_versions
from mlpilot.deployments.lifecycle import get_deployment
from mlpilot.deployments.records import Deployment, Target
from mlpilot.deployments.stored import (
    canary_values,
    change_row,
    deployment_row,
    target_values,
    to_record,
    version_for_use,
    version_now,
)
from mlpilot.errors import Conflict, InvalidInput
from mlpilot.registry.aliases import alias_history, set_alias
from mlpilot.store import Database
from mlpilot.store.clock import now_ms

__all__ = [
    "CAUSES",
    "REMEDIATION_CAUSES",
    "UNPLANNED_CAUSES",
    "check_cause",
    "previous_version",
    "promote_deployment",
    "rollback_deployment",
]

# Why a version went into service. "planned": a release someone meant to make; the others are
# unplanned work (DORA's rework): a rollback, a fix made in a hurry, a deployment an incident
# caused, or a retraining that drift forced (a monitor's drift alert started its pipeline). The
# first three also say the version they replaced failed; drift does not: the world changed, the
# deployment before it did not go wrong.
REMEDIATION_CAUSES = frozenset({"rollback", "hotfix", "incident"})
UNPLANNED_CAUSES = REMEDIATION_CAUSES | {"drift"}
CAUSES = frozenset({"planned"}) | UNPLANNED_CAUSES
_CAUSE_HINT = "Use one of: " + ", ".join(sorted(CAUSES)) + "."


def check_cause(cause: object, *, unplanned: bool = False) -> str | None:
    """``cause`` if it is one of ``CAUSES`` (and unplanned when ``unplanned``), None for None."""
    if cause is None:
        return None
    allowed = UNPLANNED_CAUSES if unplanned else CAUSES
    if not isinstance(cause, str) or cause not in allowed:
        what = "a rollback's cause" if unplanned else "cause"
        raise InvalidInput(f"{what} must be one of {sorted(allowed)}, got {cause!r}", hint=_CAUSE_HINT)
    return cause


def _check_context(context: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A plain JSON object, checked here so a bad value is refused before anything is written."""
    if context is None:
        return None
    if not isinstance(context, Mapping) or not all(isinstance(key, str) for key in context):
        raise InvalidInput("context must be a mapping with string keys", hint='E.g. {"pipeline_run": "…"}.')
    try:
        return dict(json.loads(json.dumps(dict(context), allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"context must hold JSON values only: {exc}", hint="Use strings, numbers, booleans, lists and mappings."
        ) from exc


def previous_version(history: Sequence[int | None], current: int, bad: set[int]) -> int | None:
    """The version served before the last time ``current`` was, skipping gaps (None) and ``bad``."""
    if current not in history:
        return None
    last = len(history) - 1 - list(reversed(history)).index(current)
    for version in reversed(history[:last]):
        if version is not None and version != current and version not in bad:
            return version
    return None


def rollback_deployment(
    db: Database,
    name: str,
    *,
    actor: str,
    cause: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> Deployment:
    """Send all traffic to the version served before the current primary, and remove the canary.

    ``cause`` defaults to ``"rollback"`` and must be unplanned; ``context`` is stored as given.
    """
    why = check_cause(cause, unplanned=True) or "rollback"
    extra = _check_context(context)
    when = now_ms()
    with db.write() as conn:
        row = deployment_row(conn, name, lock=True)
        current = to_record(row)
        target = current.target
        served = current.pinned_version or version_now(conn, row["model_id"], target)
        if target.alias is not None:
            history = alias_history(conn, row["model_id"], target.alias)
            source = f"the history of alias {target.alias!r}"
        else:
            history, source = served_versions(conn, name), "this deployment's history"
        bad = rolled_back_from(conn, name)
        previous = previous_version(history, served, bad) if served is not None else None
        if previous is None:
            now = f"version {served}" if served is not None else f"alias {target.alias!r}, which was deleted"
            raise Conflict(
                f"deployment {name!r} has no version to roll back to: {source} has none before {now} "
                "that the deployment was not already rolled back from",
                hint=f"Point it at a version explicitly (`mlpilot deployments update {name} --model MODEL/VERSION`); "
                f"`mlpilot deployments events {name}` shows what it served.",
            )
        revision = change_row(conn, row, {"pinned_version": previous, **canary_values(None)}, when)
        record_event(
            conn,
            name,
            "rolled_back",
            actor,
            when,
            from_version=served,
            to_version=previous,
            target=str(target),
            cleared_canary=current.canary.to_dict() if current.canary is not None else None,
            revision=revision,
            cause=why,
            **({"context": extra} if extra is not None else {}),
        )
        return to_record(deployment_row(conn, name))


def promote_deployment(
    db: Database,
    name: str,
    *,
    actor: str,
    cause: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> Deployment:
    """Make the canary's version the primary one (moving the followed alias), and remove the canary and any pin.

    ``cause`` (one of ``CAUSES``; None means planned) and ``context`` go into the event's details.
    """
    # Only what was given is recorded: an event without a cause is a planned promotion.
    given = {"cause": check_cause(cause), "context": _check_context(context)}
    why = {key: value for key, value in given.items() if value is not None}
    with db.read() as conn:
        row = deployment_row(conn, name)
        current = to_record(row)
        if current.canary is None:
            raise Conflict(
                f"deployment {name!r} has no canary to promote",
                hint=f"Add one first: update_deployment(db, {name!r}, canary=(TARGET, WEIGHT)).",
            )
        version = version_for_use(conn, current.model, current.canary.target, "canary target")
        served = current.pinned_version or version_now(conn, row["model_id"], current.target)
    finish = functools.partial(
        _promote_row, name=name, seen=current, served=served, version=version, actor=actor, when=now_ms(), why=why
    )
    alias = current.target.alias
    if alias is None:
        with db.write() as write:
            finish(write)
    else:
        # The alias move and the deployment change commit in one transaction: set_alias's.
        set_alias(
            db.before_next_commit(finish), current.model, alias, version, actor=actor, reason=f"promoted by {name!r}"
        )
    return get_deployment(db, name)


def _promote_row(
    conn: Connection,
    *,
    name: str,
    seen: Deployment,
    served: int | None,
    version: int,
    actor: str,
    when: int,
    why: Mapping[str, Any],
) -> None:
    row = deployment_row(conn, name, lock=True)
    if row["revision"] != seen.revision:
        raise Conflict(
            f"deployment {name!r} changed while its canary was being promoted",
            hint="Read it again and promote again if its canary is still the one to promote.",
        )
    assert seen.canary is not None
    values: dict[str, Any] = {"pinned_version": None, **canary_values(None)}
    if seen.target.alias is None:
        values.update(target_values(Target(version=version)))
    revision = change_row(conn, row, values, when)
    record_event(
        conn,
        name,
        "promoted",
        actor,
        when,
        from_version=served,
        to_version=version,
        canary=seen.canary.to_dict(),
        moved_alias=seen.target.alias,
        revision=revision,
        **why,
    )
