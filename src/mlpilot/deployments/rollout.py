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
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
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
from mlpilot.errors import Conflict
from mlpilot.registry.aliases import alias_history, set_alias
from mlpilot.store import Database
from mlpilot.store.clock import now_ms

__all__ = ["previous_version", "promote_deployment", "rollback_deployment"]


def previous_version(history: Sequence[int | None], current: int, bad: set[int]) -> int | None:
    """The version served before the last time ``current`` was, skipping gaps (None) and ``bad``."""
    if current not in history:
        return None
    last = len(history) - 1 - list(reversed(history)).index(current)
    for version in reversed(history[:last]):
        if version is not None and version != current and version not in bad:
            return version
    return None


def rollback_deployment(db: Database, name: str, *, actor: str) -> Deployment:
    """Send all traffic to the version served before the current primary, and remove the canary."""
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
        )
        return to_record(deployment_row(conn, name))


def promote_deployment(db: Database, name: str, *, actor: str) -> Deployment:
    """Make the canary's version the primary one (moving the followed alias), and remove the canary and any pin."""
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
        _promote_row, name=name, seen=current, served=served, version=version, actor=actor, when=now_ms()
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
    conn: Connection, *, name: str, seen: Deployment, served: int | None, version: int, actor: str, when: int
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
    )
