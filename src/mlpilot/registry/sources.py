"""Where a model lives before it is registered: an artifact folder of a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlpilot.errors import NotFound
from mlpilot.models.descriptor import DESCRIPTOR_FILE
from mlpilot.models.hashing import tree_hash_from_entries
from mlpilot.store import Database
from mlpilot.tracking.artifacts import ArtifactEntry, clean_artifact_path, list_artifacts

__all__ = ["RunModel", "find_run_model", "locate_run_model"]


@dataclass(frozen=True, slots=True)
class RunModel:
    """A model folder inside a run: its path, the sha256 of the whole folder, and its descriptor's blob."""

    run_id: str
    path: str
    sha256: str
    descriptor_sha256: str


def locate_run_model(db: Database, run_id: str, artifact_path: str) -> RunModel:
    """Find the model a run logged at ``artifact_path`` and hash it from the artifact index (no download)."""
    path = clean_artifact_path(artifact_path)
    return find_run_model(run_id, path, list_artifacts(db, run_id, path))


def find_run_model(run_id: str, artifact_path: str, entries: Sequence[ArtifactEntry]) -> RunModel:
    """The model folder ``artifact_path`` among a run's artifact ``entries`` (those under that path)."""
    path = clean_artifact_path(artifact_path)
    descriptor = next((entry for entry in entries if entry.path == f"{path}/{DESCRIPTOR_FILE}"), None)
    if descriptor is None:
        raise NotFound(
            f"run {run_id} has no model at {path!r}",
            hint="Log one with run.log_model(model, name=...); `mlpilot runs show RUN_ID` lists the run's artifacts.",
        )
    sha256 = tree_hash_from_entries([(entry.path, entry.sha256) for entry in entries], prefix=path)
    return RunModel(run_id, path, sha256, descriptor.sha256)
