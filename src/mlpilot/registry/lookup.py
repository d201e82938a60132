"""Reading registered models and versions back as records."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from mlpilot.errors import NotFound
from mlpilot.registry.records import ModelVersion, RegisteredModel, VersionStatus
from mlpilot.registry.uri import ModelRef
from mlpilot.store.schema import (
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)

__all__ = ["model_row", "read_model", "read_versions", "resolve_ref", "version_row"]

_LIST_HINT = "List registered models with `mlpilot models list`."


def model_row(conn: Connection, name: str) -> RowMapping:
    row = conn.execute(sa.select(registered_models).where(registered_models.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"registered model {name!r} does not exist", hint=_LIST_HINT)
    return row


def version_row(conn: Connection, model_id: int, name: str, version: int) -> RowMapping:
    row = (
        conn.execute(
            sa.select(model_versions).where(model_versions.c.model_id == model_id, model_versions.c.version == version)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            f"model {name!r} has no version {version}", hint=f"List its versions with `mlpilot models show {name}`."
        )
    return row


def resolve_ref(conn: Connection, ref: ModelRef) -> RowMapping:
    """The version row a reference points at: a number, an alias, or the newest READY version."""
    model = model_row(conn, ref.name)
    if ref.version is not None:
        return version_row(conn, model["id"], ref.name, ref.version)
    if ref.alias is not None:
        row = (
            conn.execute(
                sa.select(model_versions)
                .join(model_aliases, model_aliases.c.version_id == model_versions.c.id)
                .where(model_aliases.c.model_id == model["id"], model_aliases.c.alias == ref.alias)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(
                f"model {ref.name!r} has no alias {ref.alias!r}",
                hint=f"Set it with `mlpilot models alias {ref.name} {ref.alias} VERSION`.",
            )
        return row
    row = (
        conn.execute(
            sa.select(model_versions)
            .where(model_versions.c.model_id == model["id"], model_versions.c.status == VersionStatus.READY.value)
            .order_by(model_versions.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"model {ref.name!r} has no version that is not archived", hint=_LIST_HINT)
    return row


def read_versions(conn: Connection, name: str, rows: list[RowMapping]) -> list[ModelVersion]:
    ids = [row["id"] for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    aliases: dict[int, list[str]] = defaultdict(list)
    if ids:
        for version_id, key, value in conn.execute(
            sa.select(model_version_tags.c.version_id, model_version_tags.c.key, model_version_tags.c.value).where(
                model_version_tags.c.version_id.in_(ids)
            )
        ):
            tags[version_id][key] = value
        for version_id, alias in conn.execute(
            sa.select(model_aliases.c.version_id, model_aliases.c.alias)
            .where(model_aliases.c.version_id.in_(ids))
            .order_by(model_aliases.c.alias)
        ):
            aliases[version_id].append(alias)
    return [
        ModelVersion(
            name=name,
            version=row["version"],
            run_id=row["run_id"],
            artifact_path=row["artifact_path"],
            flavor=row["flavor"],
            sha256=row["sha256"],
            status=VersionStatus(row["status"]),
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            signature=row["signature"],
            metrics=row["metrics"] or {},
            description=row["description"],
            tags=tags.get(row["id"], {}),
            aliases=tuple(aliases.get(row["id"], ())),
        )
        for row in rows
    ]


def read_model(conn: Connection, row: RowMapping) -> RegisteredModel:
    tags = dict(
        conn.execute(
            sa.select(registered_model_tags.c.key, registered_model_tags.c.value).where(
                registered_model_tags.c.model_id == row["id"]
            )
        ).all()
    )
    aliases = dict(
        conn.execute(
            sa.select(model_aliases.c.alias, model_versions.c.version)
            .join(model_versions, model_versions.c.id == model_aliases.c.version_id)
            .where(model_aliases.c.model_id == row["id"])
            .order_by(model_aliases.c.alias)
        ).all()
    )
    latest = conn.execute(
        sa.select(sa.func.max(model_versions.c.version)).where(model_versions.c.model_id == row["id"])
    ).scalar()
    return RegisteredModel(
        name=row["name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        latest_version=latest,
        description=row["description"],
        tags=tags,
        aliases=aliases,
    )
