"""Deployment rows: finding them, reading them back as records, and resolving their targets."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from mlpilot.deployments.records import Canary, Deployment, Shadow, Target
from mlpilot.errors import Conflict, NotFound
from mlpilot.registry.lookup import resolve_ref
from mlpilot.registry.records import VersionStatus
from mlpilot.registry.uri import ModelRef
from mlpilot.store.schema import deployments, model_aliases, model_versions, registered_models

__all__ = [
    "LIST_HINT",
    "alias_versions",
    "canary_values",
    "change_row",
    "deployment_row",
    "find_row",
    "list_rows",
    "shadow_values",
    "target_of",
    "target_values",
    "to_record",
    "version_for_use",
    "version_now",
]

LIST_HINT = "List deployments with `mlpilot deployments list`."


def _select() -> sa.Select[Any]:
    return sa.select(deployments, registered_models.c.name.label("model")).join(
        registered_models, registered_models.c.id == deployments.c.model_id
    )


def find_row(conn: Connection, name: str, *, lock: bool = False) -> RowMapping | None:
    """The row of deployment ``name`` with its model's name; ``lock`` holds it until the transaction
    ends (PostgreSQL; SQLite's single writer already serializes), so read-modify-write cannot race."""
    query = _select().where(deployments.c.name == name)
    if lock:
        query = query.with_for_update(of=deployments)
    return conn.execute(query).mappings().first()


def deployment_row(conn: Connection, name: str, *, lock: bool = False) -> RowMapping:
    row = find_row(conn, name, lock=lock)
    if row is None:
        raise NotFound(f"deployment {name!r} does not exist", hint=LIST_HINT)
    return row


def list_rows(conn: Connection, *, limit: int | None = None, after: str | None = None) -> list[RowMapping]:
    query = _select().order_by(deployments.c.name).limit(limit)
    if after is not None:
        query = query.where(deployments.c.name > after)
    return list(conn.execute(query).mappings())


def target_of(row: RowMapping, prefix: str = "") -> Target | None:
    """The target stored in the ``{prefix}alias`` / ``{prefix}version`` pair, None if neither is set."""
    alias, version = row[f"{prefix}alias"], row[f"{prefix}version"]
    if alias is None and version is None:
        return None
    return Target(alias=alias, version=version)


def target_values(target: Target | None, prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}alias": target.alias if target is not None else None,
        f"{prefix}version": target.version if target is not None else None,
    }


def canary_values(canary: Canary | None) -> dict[str, Any]:
    weight = canary.weight if canary is not None else None
    return {**target_values(canary.target if canary is not None else None, "canary_"), "canary_weight": weight}


def shadow_values(shadow: Shadow | None) -> dict[str, Any]:
    share = shadow.share if shadow is not None else None
    return {**target_values(shadow.target if shadow is not None else None, "shadow_"), "shadow_share": share}


def change_row(conn: Connection, row: RowMapping, values: Mapping[str, Any], when: int) -> int:
    """Store ``values`` into the (locked) ``row`` as its next revision; return that revision."""
    revision = int(row["revision"]) + 1
    conn.execute(
        deployments.update().where(deployments.c.id == row["id"]).values(**values, revision=revision, updated_at=when)
    )
    return revision


def to_record(row: RowMapping) -> Deployment:
    target = target_of(row)
    assert target is not None, "every deployment row has a primary target"
    canary, shadow = target_of(row, "canary_"), target_of(row, "shadow_")
    return Deployment(
        name=row["name"],
        model=row["model"],
        target=target,
        revision=row["revision"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        canary=Canary(canary, row["canary_weight"]) if canary is not None else None,
        shadow=Shadow(shadow, row["shadow_share"]) if shadow is not None else None,
        pinned_version=row["pinned_version"],
        config=row["config"] or {},
    )


def alias_versions(conn: Connection, model_id: int, aliases: Collection[str]) -> dict[str, int]:
    """The version each of ``aliases`` holds now; a deleted alias is absent. One query."""
    if not aliases:
        return {}
    rows = conn.execute(
        sa.select(model_aliases.c.alias, model_versions.c.version)
        .join(model_versions, model_versions.c.id == model_aliases.c.version_id)
        .where(model_aliases.c.model_id == model_id, model_aliases.c.alias.in_(sorted(set(aliases))))
    )
    return {alias: version for alias, version in rows}


def version_now(conn: Connection, model_id: int, target: Target) -> int | None:
    """The version ``target`` points at, None if its alias was deleted: for records of what was served."""
    if target.alias is None:
        return target.version
    return alias_versions(conn, model_id, [target.alias]).get(target.alias)


def version_for_use(conn: Connection, model: str, target: Target, field: str) -> int:
    """The version ``target`` points at, for putting it into service: it must exist and not be archived."""
    try:
        row = resolve_ref(conn, ModelRef(model, version=target.version, alias=target.alias))
    except NotFound as exc:
        raise NotFound(f"{field}: {exc.message}", hint=exc.hint) from exc
    if row["status"] == VersionStatus.ARCHIVED.value:
        raise Conflict(
            f"{field}: version {row['version']} of {model!r} is archived and cannot be deployed",
            hint="Deploy a version that is not archived.",
        )
    return int(row["version"])
