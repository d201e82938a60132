"""Client methods for models and the registry, mixed into Client.

Kept apart from core.py so each module stays about one concept. Packaging and loading happen on
the client's machine whatever the transport; registry operations go through the transport.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot import models as model_package
from mlpilot.errors import InvalidInput
from mlpilot.models.cache import cached_model_dir, model_cache_root
from mlpilot.models.hashing import model_sha256
from mlpilot.registry import ModelEvent, ModelVersion, RegisteredModel, RunModelRef, parse_model_uri, version_ref
from mlpilot.registry.lineage import Lineage, VersionComparison
from mlpilot.registry.sources import find_run_model
from mlpilot.tracking.artifacts import clean_artifact_path

if TYPE_CHECKING:
    from mlpilot.client.transport import Transport
    from mlpilot.config import Settings
    from mlpilot.models import LoadedModel
    from mlpilot.tracking.artifacts import ArtifactEntry
    from mlpilot.tracking.records import Run

__all__ = ["LoggedModel", "ModelMethods"]


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model saved as an artifact of a run; register it with ``register_model``."""

    run_id: str
    artifact_path: str
    flavor: str
    sha256: str

    @property
    def uri(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"

    def to_dict(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in ("run_id", "artifact_path", "flavor", "sha256")}, "uri": self.uri}


class ModelMethods:
    """Models and registry operations; expects the attributes and methods Client provides."""

    transport: Transport
    settings: Settings

    if TYPE_CHECKING:

        def get_run(self, run_id: str) -> Run: ...
        def log_artifacts(
            self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
        ) -> list[ArtifactEntry]: ...
        def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactEntry]: ...
        def download_artifacts(self, run_id: str, path: str, destination: str | Path) -> Path: ...
        def _require_running(self, run_id: str) -> None: ...
        def flush(self) -> None: ...

    # logging and loading -------------------------------------------------------------------------

    def log_model(
        self,
        run_id: str,
        model: object,
        name: str = "model",
        *,
        input_example: Any = None,
        signature: Any = None,
        flavor: str | None = None,
    ) -> LoggedModel:
        """Package ``model`` (descriptor, signature, input example, the run's metrics) as an artifact."""
        path = clean_artifact_path(name)
        self._require_running(run_id)
        self.flush()  # the descriptor records the run's metrics: buffered points must be in first
        metrics = self.get_run(run_id).metrics
        with tempfile.TemporaryDirectory(prefix="mlpilot-model-") as scratch:
            directory = Path(scratch) / "model"
            descriptor = model_package.save_model(
                model,
                directory,
                input_example=input_example,
                signature=signature,
                metrics=metrics,
                run_id=run_id,
                flavor=flavor,
            )
            sha256 = model_sha256(directory)
            self.log_artifacts(run_id, directory, artifact_path=path)
        return LoggedModel(run_id, path, descriptor.flavor, sha256)

    def load_model(self, uri: str) -> LoadedModel:
        """``models:/name/3``, ``models:/name@alias``, ``models:/name/latest`` or ``runs:/RUN_ID/PATH``.

        The files are fetched into a local cache and their sha256 is checked against the one
        recorded when the model was logged, before anything is unpickled.
        """
        parsed = parse_model_uri(uri)
        if isinstance(parsed, RunModelRef):
            self.get_run(parsed.run_id)
            found = find_run_model(parsed.run_id, parsed.path, self.list_artifacts(parsed.run_id, parsed.path))
            run_id, path, expected = found.run_id, found.path, found.sha256
        else:
            version = self.transport.get_model_version(parsed)
            run_id, path, expected = version.run_id, version.artifact_path, version.sha256
        return model_package.load_model_dir(
            self._cached_model(run_id, path, expected), expected_sha256=expected, name=uri
        )

    def _cached_model(self, run_id: str, path: str, sha256: str) -> Path:
        return cached_model_dir(
            model_cache_root(self.settings.home),
            sha256,
            lambda scratch: self.download_artifacts(run_id, path, scratch),
        )

    # registry ------------------------------------------------------------------------------------

    def register_model(
        self,
        run_id: str,
        artifact_path: str,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        """The next version of ``name`` from the model a run logged at ``artifact_path``."""
        return self.transport.register_model(run_id, artifact_path, name, description, tags, reason)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.transport.get_registered_model(name)

    def list_registered_models(self) -> list[RegisteredModel]:
        return self.transport.list_registered_models()

    def get_model_version(self, name: str, version: int | str | None = None) -> ModelVersion:
        """A version by number, ``"@alias"``, or the latest READY one (None or ``"latest"``)."""
        return self.transport.get_model_version(version_ref(name, version))

    def resolve_model_uri(self, uri: str) -> ModelVersion:
        parsed = parse_model_uri(uri)
        if isinstance(parsed, RunModelRef):
            raise InvalidInput(f"{uri} names a run's artifact, not a registered version", hint="Use models:/NAME/…")
        return self.transport.get_model_version(parsed)

    def list_model_versions(self, name: str, *, include_archived: bool = True) -> list[ModelVersion]:
        return self.transport.list_model_versions(name, include_archived)

    def set_model_description(self, name: str, description: str | None, version: int | None = None) -> None:
        self.transport.set_model_description(name, description, version)

    def set_model_tags(self, name: str, tags: Mapping[str, object], version: int | None = None) -> None:
        self.transport.set_model_tags(name, tags, version)

    def set_alias(self, name: str, alias: str, version: int, *, reason: str | None = None) -> ModelVersion:
        return self.transport.set_alias(name, alias, version, reason)

    def delete_alias(self, name: str, alias: str, *, reason: str | None = None) -> None:
        self.transport.delete_alias(name, alias, reason)

    def rollback(self, name: str, alias: str, *, reason: str | None = None) -> ModelVersion:
        """Move ``alias`` back to its previous holder; repeated calls keep stepping back."""
        return self.transport.rollback(name, alias, reason)

    def archive_model_version(self, name: str, version: int, *, reason: str | None = None) -> ModelVersion:
        return self.transport.archive_model_version(name, version, reason)

    def model_events(self, name: str) -> list[ModelEvent]:
        return self.transport.model_events(name)

    def model_lineage(self, name: str, version: int | str | None = None) -> Lineage:
        return self.transport.model_lineage(version_ref(name, version))

    def compare_model_versions(self, name: str, a: int | str, b: int | str) -> VersionComparison:
        return self.transport.compare_model_versions(version_ref(name, a), version_ref(name, b))
