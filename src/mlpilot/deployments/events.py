"""The audit trail of a deployment, and the versions it served, replayed from that trail.

Events are keyed by the deployment's name and outlive it; a deployment created again under the
same name starts a new history at its ``created`` event.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.deployments.records import DeploymentEvent
from mlpilot.deployments.stored import LIST_HINT
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.schema import deployment_events as event_table
from mlpilot.store.schema import deployments

__all__ = ["PRIMARY_CHANGES", "deployment_events", "record_event", "rolled_back_from", "served_versions"]

# The actions that put a new version into primary service; each records from/to versions.
PRIMARY_CHANGES = frozenset({"created", "updated", "promoted", "rolled_back"})


def record_event(conn: Connection, deployment: str, action: str, actor: str, when: int, **details: Any) -> None:
    conn.execute(
        event_table.insert().values(
            deployment=deployment, action=action, details=details or None, actor=actor, created_at=when
        )
    )


def _to_record(row: Any) -> DeploymentEvent:
    return DeploymentEvent(
        id=row["id"],
        deployment=row["deployment"],
        action=row["action"],
        actor=row["actor"],
        created_at=row["created_at"],
        details=row["details"],
    )


def deployment_events(db: Database, name: str, *, limit: int = 100) -> list[DeploymentEvent]:
    """The newest ``limit`` events of deployment ``name``, newest first; also after it was deleted."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive integer, got {limit!r}")
    with db.read() as conn:
        rows = list(
            conn.execute(
                sa.select(event_table)
                .where(event_table.c.deployment == name)
                .order_by(event_table.c.id.desc())
                .limit(limit)
            ).mappings()
        )
        if not rows and conn.execute(sa.select(deployments.c.id).where(deployments.c.name == name)).first() is None:
            raise NotFound(f"deployment {name!r} does not exist and has no history", hint=LIST_HINT)
    return [_to_record(row) for row in rows]


def _current_life(conn: Connection, name: str) -> list[DeploymentEvent]:
    rows = conn.execute(
        sa.select(event_table).where(event_table.c.deployment == name).order_by(event_table.c.id)
    ).mappings()
    events: list[DeploymentEvent] = []
    for row in rows:
        if row["action"] == "created":
            events.clear()
        events.append(_to_record(row))
    return events


def served_versions(conn: Connection, name: str) -> list[int | None]:
    """The primary versions the deployment served, oldest first, since it was (last) created."""
    events = _current_life(conn, name)
    return [(event.details or {}).get("to_version") for event in events if event.action in PRIMARY_CHANGES]


def rolled_back_from(conn: Connection, name: str) -> set[int]:
    """The versions this deployment was rolled back away from: known bad, never a rollback target."""
    return {
        version
        for event in _current_life(conn, name)
        if event.action == "rolled_back" and (version := (event.details or {}).get("from_version")) is not None
    }
