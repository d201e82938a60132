"""Which files a run logged: path, size and the sha256 naming their bytes in the content store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from mlpilot.artifacts import Blob
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import artifacts
from mlpilot.store.upsert import upsert_insert
from mlpilot.tracking.runs import require_running

__all__ = [
    "ArtifactEntry",
    "clean_artifact_path",
    "download_plan",
    "find_artifact",
    "list_artifacts",
    "record_artifacts",
]


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def clean_artifact_path(path: str) -> str:
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise InvalidInput(
            f"artifact path {path!r} must be relative and stay inside the run", hint="Use a path like 'plots/roc.png'."
        )
    cleaned = "/".join(parts)
    if len(cleaned) > 1000:
        raise InvalidInput(f"artifact path is {len(cleaned)} characters; the limit is 1000")
    return cleaned


def record_artifacts(db: Database, run_id: str, entries: dict[str, Blob]) -> None:
    """Record (or replace) artifact paths of a running run."""
    if not entries:
        return
    created = now_ms()
    rows = [
        {"run_id": run_id, "path": path, "size": blob.size, "sha256": blob.sha256, "created_at": created}
        for path, blob in entries.items()
    ]
    insert = upsert_insert(db.dialect, artifacts)
    with db.write() as conn:
        require_running(conn, run_id)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["run_id", "path"],
                set_={"size": insert.excluded.size, "sha256": insert.excluded.sha256, "created_at": created},
            ),
            rows,
        )


def list_artifacts(db: Database, run_id: str, prefix: str = "") -> list[ArtifactEntry]:
    query = sa.select(artifacts.c.path, artifacts.c.size, artifacts.c.sha256).where(artifacts.c.run_id == run_id)
    if prefix:
        cleaned = clean_artifact_path(prefix)
        query = query.where(sa.or_(artifacts.c.path == cleaned, artifacts.c.path.startswith(cleaned + "/")))
    with db.read() as conn:
        rows = conn.execute(query.order_by(artifacts.c.path)).all()
    return [ArtifactEntry(path, size, sha) for path, size, sha in rows]


def download_plan(path: str, entries: Sequence[ArtifactEntry]) -> tuple[str, list[tuple[ArtifactEntry, str]]]:
    """Where the files under artifact ``path`` go when copied into a folder: ``path``'s last part
    keeps its name (``model/`` lands as ``DEST/model/…``). Returns that part and, for each entry,
    its path relative to the folder."""
    parent, _, leaf = clean_artifact_path(path).rpartition("/")
    return leaf, [(entry, entry.path[len(parent) + 1 :] if parent else entry.path) for entry in entries]


def find_artifact(db: Database, run_id: str, path: str) -> ArtifactEntry:
    cleaned = clean_artifact_path(path)
    with db.read() as conn:
        row = conn.execute(
            sa.select(artifacts.c.size, artifacts.c.sha256).where(
                artifacts.c.run_id == run_id, artifacts.c.path == cleaned
            )
        ).first()
    if row is None:
        raise NotFound(
            f"run {run_id} has no artifact {cleaned!r}", hint="List a run's artifacts with `mlpilot runs show RUN_ID`."
        )
    return ArtifactEntry(cleaned, row[0], row[1])
