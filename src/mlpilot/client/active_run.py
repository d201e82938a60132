"""The handle a user logs through: ``with client.start_run(...) as run: run.log_metric(...)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlpilot.tracking.records import Run, RunStatus

if TYPE_CHECKING:
    from mlpilot.client.core import Client
    from mlpilot.client.models import LoggedModel
    from mlpilot.data import DatasetVersion
    from mlpilot.tracking.artifacts import ArtifactEntry

__all__ = ["ActiveRun", "Terminated"]


class Terminated(SystemExit):
    """Raised in the main thread on SIGTERM (see mlpilot.client.fluent), so ``with`` blocks and
    exit hooks still run: buffered metrics are flushed and the run ends KILLED."""


class ActiveRun:
    """A running run. Ends FINISHED on normal exit, FAILED on an exception, KILLED on Ctrl-C.

    A run attached from ``MLPILOT_RUN_ID`` (``owned=False``) belongs to ``mlpilot run``, which
    ends it from the child's exit code; leaving the block then only flushes.
    """

    def __init__(
        self, client: Client, run: Run, *, owned: bool = True, on_end: Callable[[ActiveRun], None] | None = None
    ) -> None:
        self.client = client
        self.id = run.id
        self.name = run.name
        self.experiment_id = run.experiment_id
        self.owned = owned
        self._on_end = on_end
        self._ended = False

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self.name!r})"

    @property
    def info(self) -> Run:
        """The run as stored now (flushes buffered metrics first)."""
        self.client.flush()
        return self.client.get_run(self.id)

    def log_param(self, key: str, value: object) -> None:
        self.client.log_params(self.id, {key: value})

    def log_params(self, values: Mapping[str, object]) -> None:
        self.client.log_params(self.id, values)

    def log_metric(self, key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
        self.client.log_metric(self.id, key, value, step=step, timestamp=timestamp)

    def log_metrics(self, values: Mapping[str, float], step: int = 0, timestamp: int | None = None) -> None:
        self.client.log_metrics(self.id, values, step=step, timestamp=timestamp)

    def set_tag(self, key: str, value: object) -> None:
        self.client.set_tags(self.id, {key: value})

    def set_tags(self, values: Mapping[str, object]) -> None:
        self.client.set_tags(self.id, values)

    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> ArtifactEntry:
        return self.client.log_artifact(self.id, local_path, artifact_path)

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> list[ArtifactEntry]:
        return self.client.log_artifacts(self.id, local_dir, artifact_path)

    def log_dict(self, dictionary: Mapping[str, Any], artifact_path: str) -> ArtifactEntry:
        return self.client.log_dict(self.id, dictionary, artifact_path)

    def log_text(self, text: str, artifact_path: str) -> ArtifactEntry:
        return self.client.log_text(self.id, text, artifact_path)

    def log_dataset(self, data: object, name: str, role: str = "input") -> DatasetVersion:
        return self.client.log_dataset(self.id, data, name=name, role=role)

    def log_model(
        self, model: object, name: str = "model", *, input_example: Any = None, signature: Any = None
    ) -> LoggedModel:
        """Package ``model`` with its signature and input example as the artifact ``name``."""
        return self.client.log_model(self.id, model, name, input_example=input_example, signature=signature)

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            if self.owned:
                self.client.end_run(self.id, status)
            else:
                self.client.flush()
        finally:
            if self._on_end is not None:
                self._on_end(self)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt | Terminated):
            self.end(RunStatus.KILLED)
        else:
            self.end(RunStatus.FAILED)
