"""The audit trail of a registered model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.registry.lookup import model_row
from mlpilot.registry.records import ModelEvent
from mlpilot.store import Database
from mlpilot.store.schema import model_events, registered_models

__all__ = ["events_of", "list_events", "record_event"]


def record_event(
    conn: Connection,
    model_id: int,
    action: str,
    actor: str,
    when: int,
    *,
    version: int | None = None,
    alias: str | None = None,
    from_version: int | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        model_events.insert().values(
            model_id=model_id,
            action=action,
            version=version,
            alias=alias,
            from_version=from_version,
            actor=actor,
            reason=reason,
            details=dict(details) if details is not None else None,
            created_at=when,
        )
    )


def list_events(conn: Connection, model_id: int, *, alias: str | None = None) -> list[ModelEvent]:
    query = (
        sa.select(model_events, registered_models.c.name)
        .join(registered_models, registered_models.c.id == model_events.c.model_id)
        .where(model_events.c.model_id == model_id)
        .order_by(model_events.c.id)
    )
    if alias is not None:
        query = query.where(model_events.c.alias == alias)
    return [
        ModelEvent(
            id=row["id"],
            name=row["name"],
            action=row["action"],
            actor=row["actor"],
            created_at=row["created_at"],
            version=row["version"],
            alias=row["alias"],
            from_version=row["from_version"],
            reason=row["reason"],
            details=row["details"],
        )
        for row in conn.execute(query).mappings()
    ]


def events_of(db: Database, name: str) -> list[ModelEvent]:
    """Every event of model ``name``, oldest first; NotFound if there is no such model."""
    with db.read() as conn:
        return list_events(conn, model_row(conn, name)["id"])
