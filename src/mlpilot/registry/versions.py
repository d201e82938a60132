"""Registering models and versions: numbering, descriptions, tags and archiving."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

import sqlalchemy as sa

from mlpilot.artifacts import ContentStore
from mlpilot.errors import Conflict, InvalidInput
from mlpilot.models.descriptor import DESCRIPTOR_FILE, Descriptor
from mlpilot.registry.events import record_event
from mlpilot.registry.lookup import model_row, read_model, read_versions, resolve_ref, version_row
from mlpilot.registry.records import ModelVersion, RegisteredModel, VersionStatus
from mlpilot.registry.sources import locate_run_model
from mlpilot.registry.uri import ModelRef
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import (
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from mlpilot.store.upsert import upsert_insert
from mlpilot.tracking.runs import clean_tags, get_run

__all__ = [
    "archive_version",
    "check_model_name",
    "get_model",
    "get_version",
    "list_models",
    "list_versions",
    "register_model",
    "set_description",
    "set_tags",
]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,249}$")


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name != name.strip():
        raise InvalidInput(
            f"{name!r} is not a valid model name",
            hint="Use up to 250 letters, digits, '_', '-', '.' or spaces, starting with a letter, digit or '_'.",
        )
    return name


def register_model(
    db: Database,
    content: ContentStore,
    run_id: str,
    artifact_path: str,
    name: str,
    *,
    actor: str,
    description: str | None = None,
    tags: Mapping[str, object] | None = None,
    reason: str | None = None,
) -> ModelVersion:
    """Make the model a run logged at ``artifact_path`` the next version of ``name``."""
    check_model_name(name)
    tags_clean = clean_tags(tags or {})
    run = get_run(db, run_id)
    found = locate_run_model(db, run_id, artifact_path)
    path, sha256 = found.path, found.sha256
    descriptor = _read_descriptor(content, found.descriptor_sha256, f"runs:/{run_id}/{path}/{DESCRIPTOR_FILE}")
    when = now_ms()
    with db.write() as conn:
        conn.execute(
            upsert_insert(db.dialect, registered_models)
            .values(name=name, description=None, last_version=0, created_at=when, updated_at=when)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        # The increment happens in this write transaction: SQLite's writer lock or PostgreSQL's row
        # lock serializes racing registrations, so each gets its own number.
        model_id, number = conn.execute(
            registered_models.update()
            .where(registered_models.c.name == name)
            .values(last_version=registered_models.c.last_version + 1, updated_at=when)
            .returning(registered_models.c.id, registered_models.c.last_version)
        ).one()
        version_id = conn.execute(
            model_versions.insert()
            .values(
                model_id=model_id,
                version=number,
                run_id=run_id,
                artifact_path=path,
                flavor=descriptor.flavor,
                sha256=sha256,
                signature=descriptor.signature,
                metrics={key: value for key, value in run.metrics.items() if math.isfinite(value)},  # JSON has no NaN
                description=description,
                status=VersionStatus.READY.value,
                created_by=actor,
                created_at=when,
                updated_at=when,
            )
            .returning(model_versions.c.id)
        ).scalar_one()
        if tags_clean:
            conn.execute(
                model_version_tags.insert(),
                [{"version_id": version_id, "key": k, "value": v} for k, v in tags_clean.items()],
            )
        record_event(
            conn,
            model_id,
            "registered",
            actor,
            when,
            version=number,
            reason=reason,
            details={"run_id": run_id, "artifact_path": path, "sha256": sha256},
        )
        row = version_row(conn, model_id, name, number)
        return read_versions(conn, name, [row])[0]


def _read_descriptor(content: ContentStore, sha256: str, source: str) -> Descriptor:
    try:
        data = json.loads(content.read_bytes(sha256))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{source} is not valid JSON: {exc}", hint="Log the model again.") from exc
    return Descriptor.from_dict(data, source=source)


def get_version(db: Database, ref: ModelRef) -> ModelVersion:
    with db.read() as conn:
        row = resolve_ref(conn, ref)
        return read_versions(conn, ref.name, [row])[0]


def list_versions(
    db: Database, name: str, *, include_archived: bool = True, limit: int | None = None, after: int | None = None
) -> list[ModelVersion]:
    """Oldest first (by number); with ``after`` (a number), only those after it; at most ``limit``."""
    with db.read() as conn:
        model = model_row(conn, name)
        query = sa.select(model_versions).where(model_versions.c.model_id == model["id"])
        if not include_archived:
            query = query.where(model_versions.c.status == VersionStatus.READY.value)
        if after is not None:
            query = query.where(model_versions.c.version > after)
        rows = list(conn.execute(query.order_by(model_versions.c.version).limit(limit)).mappings())
        return read_versions(conn, name, rows)


def get_model(db: Database, name: str) -> RegisteredModel:
    with db.read() as conn:
        return read_model(conn, model_row(conn, name))


def list_models(db: Database, *, limit: int | None = None, after: str | None = None) -> list[RegisteredModel]:
    """By name; with ``after`` (a name), only those after it; at most ``limit``."""
    query = sa.select(registered_models).order_by(registered_models.c.name).limit(limit)
    if after is not None:
        query = query.where(registered_models.c.name > after)
    with db.read() as conn:
        return [read_model(conn, row) for row in list(conn.execute(query).mappings())]


def set_description(
    db: Database, name: str, description: str | None, *, version: int | None = None, actor: str
) -> None:
    when = now_ms()
    with db.write() as conn:
        model = model_row(conn, name)
        if version is None:
            conn.execute(
                registered_models.update()
                .where(registered_models.c.id == model["id"])
                .values(description=description, updated_at=when)
            )
        else:
            row = version_row(conn, model["id"], name, version)
            conn.execute(
                model_versions.update()
                .where(model_versions.c.id == row["id"])
                .values(description=description, updated_at=when)
            )
        record_event(conn, model["id"], "described", actor, when, version=version)


def set_tags(db: Database, name: str, values: Mapping[str, object], *, version: int | None = None, actor: str) -> None:
    clean = clean_tags(values)
    if not clean:
        return
    when = now_ms()
    with db.write() as conn:
        model = model_row(conn, name)
        if version is None:
            table, owner, rows = registered_model_tags, "model_id", model["id"]
        else:
            table, owner, rows = model_version_tags, "version_id", version_row(conn, model["id"], name, version)["id"]
        insert = upsert_insert(db.dialect, table).values(
            [{owner: rows, "key": k, "value": v} for k, v in clean.items()]
        )
        conn.execute(insert.on_conflict_do_update(index_elements=[owner, "key"], set_={"value": insert.excluded.value}))
        record_event(conn, model["id"], "tagged", actor, when, version=version, details={"tags": clean})


def archive_version(db: Database, name: str, version: int, *, actor: str, reason: str | None = None) -> ModelVersion:
    """Archived versions stay readable but are skipped by ``latest`` and cannot take aliases."""
    when = now_ms()
    with db.write() as conn:
        model = model_row(conn, name)
        row = version_row(conn, model["id"], name, version)
        held = sorted(
            conn.execute(sa.select(model_aliases.c.alias).where(model_aliases.c.version_id == row["id"])).scalars()
        )
        if held:
            raise Conflict(
                f"version {version} of {name!r} still holds the alias(es) {', '.join(held)}",
                hint=f"Move or delete them first, e.g. `mlpilot models alias {name} {held[0]} OTHER_VERSION`.",
            )
        if row["status"] == VersionStatus.ARCHIVED.value:
            raise Conflict(f"version {version} of {name!r} is already archived")
        conn.execute(
            model_versions.update()
            .where(model_versions.c.id == row["id"])
            .values(status=VersionStatus.ARCHIVED.value, updated_at=when)
        )
        record_event(conn, model["id"], "archived", actor, when, version=version, reason=reason)
        return read_versions(conn, name, [version_row(conn, model["id"], name, version)])[0]
