"""Load a registered version's model straight from the stores, for processes that hold them
(the serving runtime); the client loads through its transport instead (``Client.load_model``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.artifacts import ContentStore
from mlpilot.errors import NotFound
from mlpilot.models.cache import cached_model_dir
from mlpilot.registry.records import ModelVersion
from mlpilot.store import Database
from mlpilot.tracking import artifacts as artifact_service

if TYPE_CHECKING:
    from mlpilot.models import LoadedModel

__all__ = ["load_version"]


def load_version(db: Database, content: ContentStore, version: ModelVersion, cache_root: Path) -> LoadedModel:
    """The model of ``version``, fetched into ``cache_root`` once and verified against its sha256
    before anything is unpickled."""
    from mlpilot.models.package import load_model_dir  # pandas, loaded only by those who load models

    def fetch(scratch: Path) -> Path:
        entries = artifact_service.list_artifacts(db, version.run_id, version.artifact_path)
        if not entries:
            raise NotFound(
                f"the files of {version.uri} are missing from run {version.run_id}",
                hint="The run's artifacts were deleted; register the model again from a run that has it.",
            )
        leaf, plan = artifact_service.download_plan(version.artifact_path, entries)
        for entry, relative in plan:
            content.download(entry.sha256, scratch / relative)
        return scratch / leaf

    folder = cached_model_dir(cache_root, version.sha256, fetch)
    return load_model_dir(folder, expected_sha256=version.sha256, name=version.uri)
