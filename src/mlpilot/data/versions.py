"""Dataset versions: log (deduplicated by content hash), look up, link to runs, load, compare.

A version number is the next integer for its dataset, taken inside the write transaction. On
SQLite writers are serialized (``BEGIN IMMEDIATE``), so the number is always free; on PostgreSQL
two writers can pick the same one, and the loser's unique-constraint violation sends it round
again — where it either takes the following number or finds the winner logged the same content.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from mlpilot.artifacts import ContentStore
from mlpilot.data.diff import compare_versions
from mlpilot.data.folders import parse_manifest, read_folder
from mlpilot.data.frames import from_parquet_bytes, read_frame, to_parquet_bytes
from mlpilot.data.hashing import content_hash
from mlpilot.data.profile import build_profile, build_schema
from mlpilot.data.records import DatasetDiff, DatasetSummary, DatasetVersion, json_safe
from mlpilot.data.refs import parse_ref
from mlpilot.errors import Conflict, InactiveRun, InvalidInput, LimitExceeded, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import dataset_versions, datasets, run_inputs, runs
from mlpilot.store.upsert import upsert_insert

__all__ = [
    "MAX_DATASET_NAME",
    "MAX_ROLE",
    "check_dataset_name",
    "check_role",
    "diff_versions",
    "find_by_hash",
    "get_version",
    "insert_version",
    "link_to_run",
    "list_datasets",
    "list_versions",
    "load_frame",
    "log_dataset",
    "parse_ref",
    "runs_using",
]

log = logging.getLogger(__name__)

MAX_DATASET_NAME = 250
MAX_ROLE = 64
# Each retry means another writer committed a version of the same dataset in between; more than
# a handful in a row is not contention but a bug.
_MAX_ATTEMPTS = 20
# ":" and "@" separate a name from its version in references such as "churn:3" and "churn@latest".
_RESERVED = (":", "@")
_LIST_HINT = "List datasets with `mlpilot datasets list`."

_VERSION_COLUMNS = (
    dataset_versions.c.id,
    datasets.c.name.label("dataset"),
    dataset_versions.c.version,
    dataset_versions.c.content_hash,
    dataset_versions.c.rows,
    dataset_versions.c.schema,
    dataset_versions.c.profile,
    dataset_versions.c.storage_sha256,
    dataset_versions.c.size,
    dataset_versions.c.source,
    dataset_versions.c.created_at,
)


def check_dataset_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("dataset name must be a non-empty string", hint='Name the dataset, e.g. name="churn".')
    if len(name) > MAX_DATASET_NAME:
        raise LimitExceeded(f"dataset name is {len(name)} characters; the limit is {MAX_DATASET_NAME}")
    if name != name.strip() or any(char in name for char in _RESERVED) or not name.isprintable():
        raise InvalidInput(
            f"dataset name {name!r} contains a character it may not",
            hint="Use a name without ':', '@', control characters or surrounding spaces, e.g. 'churn-train'.",
        )
    return name


def check_role(role: object) -> str:
    if not isinstance(role, str) or not role.strip():
        raise InvalidInput(
            "dataset role must be a non-empty string", hint='Say how the run used it, e.g. role="train".'
        )
    if len(role) > MAX_ROLE:
        raise LimitExceeded(f"dataset role is {len(role)} characters; the limit is {MAX_ROLE}")
    return role


def log_dataset(
    db: Database,
    content: ContentStore,
    data: object,
    name: str,
    *,
    source: str | None = None,
    run_id: str | None = None,
    role: str = "input",
) -> DatasetVersion:
    """Store ``data`` as a version of dataset ``name``; the same content returns the same version.

    ``source`` records where in-memory data came from (the remote client sends the file path it
    read); a path given as ``data`` is its own source. With ``run_id``, the version is recorded as
    read by that run as ``role``; the run must be RUNNING, which is checked before anything is stored.
    """
    check_dataset_name(name)
    if run_id is not None:
        check_role(role)
        _require_running(db, run_id)
        version = log_dataset(db, content, data, name, source=source)
        link_to_run(db, run_id, version.id, role)
        return version
    frame = read_frame(data)
    digest = content_hash(frame.frame)
    with db.read() as conn:
        found = _version_by_hash(conn, name, digest)
    if found is not None:
        return found
    blob = content.put_bytes(to_parquet_bytes(frame.frame))
    values: dict[str, Any] = {
        "content_hash": digest,
        "rows": len(frame.frame),
        "schema": json_safe(build_schema(frame.frame)),
        "profile": json_safe(build_profile(frame.frame)),
        "storage_sha256": blob.sha256,
        "size": blob.size,
        "source": frame.source or source,
    }
    return insert_version(db, name, values)


def insert_version(db: Database, name: str, values: dict[str, Any]) -> DatasetVersion:
    """Add a version of ``name`` with the given column values (its content hash, rows, schema,
    profile, storage blob…), or return the version that already has that content hash."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            with db.write() as conn:
                return _insert_version(db, conn, name, values)
        except SqlIntegrityError:
            log.debug("dataset %r: another writer took the version number; retrying (attempt %d)", name, attempt)
    raise Conflict(
        f"could not add a version to dataset {name!r} after {_MAX_ATTEMPTS} attempts",
        hint="Many processes are logging this dataset at once; try again.",
    )


def _insert_version(db: Database, conn: Connection, name: str, values: dict[str, Any]) -> DatasetVersion:
    dataset_id = _ensure_dataset(db, conn, name)
    # Checked again inside the transaction: another writer may have logged the same content since
    # our read.
    found = _version_by_hash(conn, name, values["content_hash"])
    if found is not None:
        return found
    latest = conn.execute(
        sa.select(sa.func.max(dataset_versions.c.version)).where(dataset_versions.c.dataset_id == dataset_id)
    ).scalar()
    row = {**values, "dataset_id": dataset_id, "version": (latest or 0) + 1, "created_at": now_ms()}
    new_id = conn.execute(dataset_versions.insert().values(row).returning(dataset_versions.c.id)).scalar_one()
    log.info("dataset %r: logged version %d (%s)", name, row["version"], values["content_hash"][:12])
    return DatasetVersion(
        id=new_id,
        dataset=name,
        version=row["version"],
        content_hash=values["content_hash"],
        rows=values["rows"],
        schema=values["schema"],
        profile=values["profile"],
        storage_sha256=values["storage_sha256"],
        size=values["size"],
        source=values["source"],
        created_at=row["created_at"],
    )


def _ensure_dataset(db: Database, conn: Connection, name: str) -> int:
    insert = upsert_insert(db.dialect, datasets)
    conn.execute(insert.values(name=name, created_at=now_ms()).on_conflict_do_nothing(index_elements=["name"]))
    return int(conn.execute(sa.select(datasets.c.id).where(datasets.c.name == name)).scalar_one())


def _versions_query() -> sa.Select[Any]:
    return sa.select(*_VERSION_COLUMNS).select_from(
        dataset_versions.join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
    )


def _record(row: RowMapping) -> DatasetVersion:
    return DatasetVersion(
        id=row["id"],
        dataset=row["dataset"],
        version=row["version"],
        content_hash=row["content_hash"],
        rows=row["rows"],
        schema=row["schema"],
        profile=row["profile"],
        storage_sha256=row["storage_sha256"],
        size=row["size"],
        source=row["source"],
        created_at=row["created_at"],
    )


def find_by_hash(db: Database, name: str, digest: str) -> DatasetVersion | None:
    with db.read() as conn:
        return _version_by_hash(conn, name, digest)


def _version_by_hash(conn: Connection, name: str, digest: str) -> DatasetVersion | None:
    query = _versions_query().where(datasets.c.name == name, dataset_versions.c.content_hash == digest)
    row = conn.execute(query).mappings().first()
    return None if row is None else _record(row)


def _require_running(db: Database, run_id: str) -> None:
    with db.read() as conn:
        status = conn.execute(sa.select(runs.c.status).where(runs.c.id == run_id)).scalar()
    if status is None:
        raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")
    if status != "RUNNING":
        raise InactiveRun(f"run {run_id} has ended ({status}); it no longer accepts logging")


def link_to_run(db: Database, run_id: str, version_id: int, role: str) -> None:
    """Record that ``run_id`` read dataset version ``version_id`` as ``role``; repeating it is a no-op."""
    check_role(role)
    with db.write() as conn:
        if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
            raise NotFound(f"run {run_id!r} does not exist", hint="List runs with `mlpilot runs list`.")
        if conn.execute(sa.select(dataset_versions.c.id).where(dataset_versions.c.id == version_id)).first() is None:
            raise NotFound(f"dataset version id {version_id} does not exist", hint=_LIST_HINT)
        insert = upsert_insert(db.dialect, run_inputs)
        conn.execute(
            insert.values(
                run_id=run_id, dataset_version_id=version_id, role=role, created_at=now_ms()
            ).on_conflict_do_nothing(index_elements=["run_id", "dataset_version_id", "role"])
        )


def runs_using(db: Database, version_id: int) -> list[tuple[str, str]]:
    """(run id, role) of every run that read the version, oldest link first."""
    query = (
        sa.select(run_inputs.c.run_id, run_inputs.c.role)
        .where(run_inputs.c.dataset_version_id == version_id)
        .order_by(run_inputs.c.created_at, run_inputs.c.run_id, run_inputs.c.role)
    )
    with db.read() as conn:
        return [(row.run_id, row.role) for row in conn.execute(query)]


def list_datasets(db: Database, *, limit: int | None = None, after: str | None = None) -> list[DatasetSummary]:
    """By name; with ``after`` (a name), only those after it; at most ``limit``."""
    query = (
        sa.select(
            datasets.c.name,
            datasets.c.created_at,
            sa.func.max(dataset_versions.c.version).label("latest"),
            sa.func.count(dataset_versions.c.id).label("versions"),
        )
        .select_from(datasets.join(dataset_versions, dataset_versions.c.dataset_id == datasets.c.id))
        .group_by(datasets.c.id, datasets.c.name, datasets.c.created_at)
        .order_by(datasets.c.name)
        .limit(limit)
    )
    if after is not None:
        query = query.where(datasets.c.name > after)
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        DatasetSummary(name=row.name, latest_version=row.latest, versions=row.versions, created_at=row.created_at)
        for row in rows
    ]


def list_versions(
    db: Database, name: str, *, limit: int | None = None, after: int | None = None
) -> list[DatasetVersion]:
    """The dataset's versions, oldest first; with ``after`` (a number), only those after it; at most
    ``limit``. NotFound if the dataset has no version at all."""
    query = _versions_query().where(datasets.c.name == name).order_by(dataset_versions.c.version).limit(limit)
    if after is not None:
        query = query.where(dataset_versions.c.version > after)
    with db.read() as conn:
        found = [_record(row) for row in conn.execute(query).mappings()]
        # An empty page past the last version is not a missing dataset.
        missing = not found and (after is None or _latest_version(conn, name) is None)
    if missing:
        raise NotFound(f"dataset {name!r} does not exist", hint=_LIST_HINT)
    return found


def get_version(db: Database, name: str, version: int | None = None) -> DatasetVersion:
    """One version of a dataset; ``None`` means the latest."""
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise InvalidInput(f"dataset version must be a positive integer, got {version!r}", hint="Versions start at 1.")
    query = _versions_query().where(datasets.c.name == name)
    if version is None:
        query = query.order_by(dataset_versions.c.version.desc()).limit(1)
    else:
        query = query.where(dataset_versions.c.version == version)
    with db.read() as conn:
        row = conn.execute(query).mappings().first()
        latest = None if row is not None else _latest_version(conn, name)
    if row is not None:
        return _record(row)
    if latest is None:
        raise NotFound(f"dataset {name!r} does not exist", hint=_LIST_HINT)
    raise NotFound(
        f"dataset {name!r} has no version {version}; its latest is {latest}",
        hint=f"List its versions with `mlpilot datasets versions {name}`.",
    )


def _latest_version(conn: Connection, name: str) -> int | None:
    query = (
        sa.select(sa.func.max(dataset_versions.c.version))
        .select_from(dataset_versions.join(datasets, datasets.c.id == dataset_versions.c.dataset_id))
        .where(datasets.c.name == name)
    )
    value = conn.execute(query).scalar()
    return None if value is None else int(value)


def load_frame(content: ContentStore, version: DatasetVersion) -> pd.DataFrame:
    """Read the stored Parquet copy back; the content store verifies its sha256 on the way. A
    version written by Spark is a folder of parts, read through its manifest."""
    data = content.read_bytes(version.storage_sha256)
    manifest = parse_manifest(data)
    return from_parquet_bytes(data) if manifest is None else read_folder(manifest)


def diff_versions(db: Database, ref_a: str, ref_b: str) -> DatasetDiff:
    """Schema and profile changes from ``ref_a`` to ``ref_b`` (references like ``churn:1``)."""
    before = get_version(db, *parse_ref(ref_a))
    after = get_version(db, *parse_ref(ref_b))
    return compare_versions(before, after)
