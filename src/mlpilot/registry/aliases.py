"""Aliases (``production``, ``staging``, any name) and their history: set, move, delete, roll back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.errors import Conflict, NotFound
from mlpilot.registry.events import list_events, record_event
from mlpilot.registry.lookup import model_row, read_versions, version_row
from mlpilot.registry.records import ModelVersion, VersionStatus
from mlpilot.registry.uri import check_alias
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import model_aliases, model_versions
from mlpilot.store.upsert import upsert_insert

__all__ = ["alias_history", "delete_alias", "rollback_alias", "set_alias"]


def _holder(conn: Connection, model_id: int, alias: str) -> int | None:
    return conn.execute(
        sa.select(model_versions.c.version)
        .join(model_aliases, model_aliases.c.version_id == model_versions.c.id)
        .where(model_aliases.c.model_id == model_id, model_aliases.c.alias == alias)
    ).scalar()


def _point(db: Database, conn: Connection, model_id: int, alias: str, version_id: int, when: int) -> None:
    insert = upsert_insert(db.dialect, model_aliases).values(
        model_id=model_id, alias=alias, version_id=version_id, updated_at=when
    )
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=["model_id", "alias"], set_={"version_id": version_id, "updated_at": when}
        )
    )


def set_alias(
    db: Database, name: str, alias: str, version: int, *, actor: str, reason: str | None = None
) -> ModelVersion:
    """Point ``alias`` at ``version`` (creating or moving it); the move is an audited event."""
    check_alias(alias)
    when = now_ms()
    with db.write() as conn:
        model = model_row(conn, name)
        row = version_row(conn, model["id"], name, version)
        if row["status"] == VersionStatus.ARCHIVED.value:
            raise Conflict(
                f"version {version} of {name!r} is archived and cannot take an alias",
                hint="Point the alias at a version that is not archived.",
            )
        previous = _holder(conn, model["id"], alias)
        if previous == version:
            return read_versions(conn, name, [row])[0]
        _point(db, conn, model["id"], alias, row["id"], when)
        record_event(
            conn,
            model["id"],
            "alias_set",
            actor,
            when,
            version=version,
            alias=alias,
            from_version=previous,
            reason=reason,
        )
        return read_versions(conn, name, [row])[0]


def delete_alias(db: Database, name: str, alias: str, *, actor: str, reason: str | None = None) -> None:
    check_alias(alias)
    when = now_ms()
    with db.write() as conn:
        model = model_row(conn, name)
        previous = _holder(conn, model["id"], alias)
        if previous is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}")
        conn.execute(
            model_aliases.delete().where(model_aliases.c.model_id == model["id"], model_aliases.c.alias == alias)
        )
        record_event(conn, model["id"], "alias_deleted", actor, when, alias=alias, from_version=previous, reason=reason)


def alias_history(conn: Connection, model_id: int, alias: str) -> list[int | None]:
    """The holders of ``alias`` as a stack, oldest first; a rollback pops the newest.

    Replayed from the audit trail, so the stack is exactly what the events say happened.
    """
    stack: list[int | None] = []
    for event in list_events(conn, model_id, alias=alias):
        if event.action == "alias_set":
            stack.append(event.version)
        elif event.action == "alias_deleted":
            stack.append(None)
        elif event.action == "alias_rollback" and stack:
            stack.pop()
    return stack


def rollback_alias(db: Database, name: str, alias: str, *, actor: str, reason: str | None = None) -> ModelVersion:
    """Move ``alias`` back to the version that held it before its last move, and record that."""
    check_alias(alias)
    when = now_ms()
    with db.write() as conn:
        model = model_row(conn, name)
        stack = alias_history(conn, model["id"], alias)
        if len(stack) < 2 or stack[-2] is None:
            raise Conflict(
                f"alias {alias!r} of {name!r} has no previous holder to roll back to",
                hint=f"See its history with `mlpilot models events {name}`.",
            )
        current, target = stack[-1], stack[-2]
        assert target is not None
        row = version_row(conn, model["id"], name, target)
        if row["status"] == VersionStatus.ARCHIVED.value:
            raise Conflict(
                f"the previous holder of {alias!r}, version {target} of {name!r}, is archived",
                hint="Set the alias to a version explicitly instead.",
            )
        _point(db, conn, model["id"], alias, row["id"], when)
        record_event(
            conn,
            model["id"],
            "alias_rollback",
            actor,
            when,
            version=target,
            alias=alias,
            from_version=current,
            reason=reason,
        )
        return read_versions(conn, name, [row])[0]
