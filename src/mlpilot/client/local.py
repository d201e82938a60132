"""The client over the local transport: direct access to the SQL store and the artifact store.

Every method is a thin call into a service; the remote transport (over the REST API) offers the
same methods.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mlpilot.artifacts import Blob, ContentStore, open_backend
from mlpilot.client.active_run import ActiveRun
from mlpilot.client.buffer import MetricBuffer
from mlpilot.client.keys import KeyMethods
from mlpilot.client.models import ModelMethods
from mlpilot.config import Settings, load_settings
from mlpilot.data import DatasetDiff, DatasetSummary, DatasetVersion
from mlpilot.errors import InactiveRun, InvalidInput, NotFound
from mlpilot.store import Database, ensure_schema
from mlpilot.store.clock import now_ms
from mlpilot.tracking import artifacts as artifact_service
from mlpilot.tracking import batch as batch_service
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking import metrics as metric_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking import search as search_service
from mlpilot.tracking.artifacts import ArtifactEntry
from mlpilot.tracking.environment import capture_environment, capture_git, current_user, entry_point
from mlpilot.tracking.records import Experiment, Metric, Run, RunPage, RunStatus

__all__ = ["Client"]


class Client(ModelMethods, KeyMethods):
    """Track experiments and datasets in a SQLite or PostgreSQL database."""

    def __init__(
        self, tracking_uri: str | None = None, artifact_uri: str | None = None, *, settings: Settings | None = None
    ):
        self.settings = settings or load_settings()
        self.tracking_uri = tracking_uri or self.settings.resolved_tracking_uri()
        self.artifact_uri = artifact_uri or self.settings.resolved_artifact_uri()
        self.db = Database(self.tracking_uri, busy_timeout=self.settings.sqlite_busy_timeout)
        ensure_schema(self.db)
        self.content = ContentStore(open_backend(self.artifact_uri))
        self._running: set[str] = set()
        self._buffer = MetricBuffer(
            self._write_points,
            interval=self.settings.metric_flush_interval,
            flush_size=self.settings.metric_flush_size,
        )
        self._closed = False
        # Buffered points must reach the database even when the user never calls close().
        atexit.register(_close_quietly, weakref.ref(self))

    def __repr__(self) -> str:
        return f"Client(tracking_uri={self.tracking_uri!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._buffer.close()
        finally:
            self.db.dispose()

    # experiments ---------------------------------------------------------------------------------

    def create_experiment(self, name: str, description: str | None = None) -> Experiment:
        return experiment_service.create_experiment(self.db, name, description)

    def get_experiment(self, name_or_id: str | int) -> Experiment:
        return experiment_service.get_experiment(self.db, name_or_id)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return experiment_service.get_or_create_experiment(self.db, name)

    def list_experiments(self) -> list[Experiment]:
        return experiment_service.list_experiments(self.db)

    # runs ----------------------------------------------------------------------------------------

    def create_run(
        self,
        experiment: str | int | None = None,
        *,
        name: str | None = None,
        tags: Mapping[str, object] | None = None,
        parent_run_id: str | None = None,
        entry_point_name: str | None = None,
        cwd: Path | None = None,
    ) -> Run:
        """Create a RUNNING run, capturing git state, Python, platform, packages and user."""
        target = self._experiment_for(experiment)
        origin = run_service.RunOrigin(
            user=current_user(),
            entry_point=entry_point_name or entry_point(),
            git=capture_git(cwd),
            environment=capture_environment(),
        )
        run = run_service.create_run(self.db, target.id, origin, name=name, tags=tags, parent_run_id=parent_run_id)
        self._running.add(run.id)
        return run

    def start_run(
        self,
        experiment: str | int | None = None,
        *,
        name: str | None = None,
        tags: Mapping[str, object] | None = None,
        parent_run_id: str | None = None,
    ) -> ActiveRun:
        """Create a run and return a handle that ends it when its ``with`` block ends."""
        run = self.create_run(experiment, name=name, tags=tags, parent_run_id=parent_run_id)
        return ActiveRun(self, run)

    def attach_run(self, run_id: str) -> ActiveRun:
        """A handle on an existing RUNNING run that leaves ending it to its creator."""
        run = self.get_run(run_id)
        if run.status.is_terminal:
            raise InactiveRun(f"run {run_id} has ended ({run.status.value}); cannot attach to it")
        self._running.add(run.id)
        return ActiveRun(self, run, owned=False)

    def get_run(self, run_id: str) -> Run:
        return run_service.get_run(self.db, run_id)

    def get_run_environment(self, run_id: str) -> dict[str, object] | None:
        return run_service.get_environment(self.db, run_id)

    def end_run(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Flush this run's buffered metrics, then set its final status and end time."""
        try:
            self._buffer.flush()
        finally:
            self._running.discard(run_id)
        run_service.end_run(self.db, run_id, status)

    def search_runs(
        self,
        experiments: Sequence[str | int] | str | int | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        """Runs matching ``filter`` (e.g. ``metrics.acc > 0.9 and params.model = 'rf'``), one page."""
        if isinstance(experiments, str | int):
            experiments = [experiments]
        if isinstance(order_by, str):
            order_by = [order_by]
        return search_service.search_runs(self.db, experiments, filter, order_by, max_results, page_token)

    # params, tags, metrics -----------------------------------------------------------------------

    def log_params(self, run_id: str, values: Mapping[str, object]) -> None:
        run_service.log_params(self.db, run_id, values)

    def log_param(self, run_id: str, key: str, value: object) -> None:
        run_service.log_params(self.db, run_id, {key: value})

    def set_tags(self, run_id: str, values: Mapping[str, object]) -> None:
        run_service.set_tags(self.db, run_id, values)

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        run_service.set_tags(self.db, run_id, {key: value})

    def log_metric(self, run_id: str, key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
        """Buffered: returns at once; the point reaches the database within the flush interval."""
        if run_id not in self._running:
            self._require_running(run_id)
        self._buffer.add(
            metric_service.make_point(run_id, key, value, step, now_ms() if timestamp is None else timestamp)
        )

    def log_metrics(
        self, run_id: str, values: Mapping[str, float], step: int = 0, timestamp: int | None = None
    ) -> None:
        if run_id not in self._running:
            self._require_running(run_id)
        when = now_ms() if timestamp is None else timestamp
        for key, value in values.items():
            self._buffer.add(metric_service.make_point(run_id, key, value, step, when))

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[metric_service.MetricInput] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> None:
        """Write metrics, params and tags now, in one transaction: all of them or none (not buffered)."""
        when = now_ms()
        points = [metric_service.point_from(run_id, item, when) for item in metrics]
        batch_service.log_batch(self.db, run_id, points, params, tags)

    def flush(self) -> None:
        """Write every buffered metric point now."""
        self._buffer.flush()

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self._buffer.flush()
        return metric_service.get_metric_history(self.db, run_id, key)

    # artifacts -----------------------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: str | Path, artifact_path: str | None = None) -> ArtifactEntry:
        """Store one file; ``artifact_path`` is a folder inside the run (default: the top)."""
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInput(
                f"{source} is not a file", hint="Pass an existing file, or use log_artifacts for folders."
            )
        path = artifact_service.clean_artifact_path(f"{artifact_path}/{source.name}" if artifact_path else source.name)
        self._require_running(run_id)
        blob = self.content.put_file(source)
        artifact_service.record_artifacts(self.db, run_id, {path: blob})
        return ArtifactEntry(path, blob.size, blob.sha256)

    def log_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> list[ArtifactEntry]:
        """Store every file under a folder, keeping their relative paths."""
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidInput(
                f"{root} is not a folder", hint="Pass an existing folder, or use log_artifact for a file."
            )
        self._require_running(run_id)
        entries: dict[str, Blob] = {}
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = file.relative_to(root).as_posix()
            path = artifact_service.clean_artifact_path(f"{artifact_path}/{relative}" if artifact_path else relative)
            entries[path] = self.content.put_file(file)
        artifact_service.record_artifacts(self.db, run_id, entries)
        return [ArtifactEntry(path, blob.size, blob.sha256) for path, blob in entries.items()]

    def log_bytes(self, run_id: str, data: bytes, artifact_path: str) -> ArtifactEntry:
        path = artifact_service.clean_artifact_path(artifact_path)
        self._require_running(run_id)
        blob = self.content.put_bytes(data)
        artifact_service.record_artifacts(self.db, run_id, {path: blob})
        return ArtifactEntry(path, blob.size, blob.sha256)

    def log_text(self, run_id: str, text: str, artifact_path: str) -> ArtifactEntry:
        return self.log_bytes(run_id, text.encode("utf-8"), artifact_path)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_path: str) -> ArtifactEntry:
        """JSON, or YAML when the path ends in .yaml/.yml."""
        try:
            if artifact_path.endswith((".yaml", ".yml")):
                text = yaml.safe_dump(dict(dictionary), sort_keys=False)
            else:
                text = json.dumps(dictionary, indent=2, default=str)
        except (TypeError, ValueError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cannot serialize the dictionary for {artifact_path!r}: {exc}") from exc
        return self.log_text(run_id, text, artifact_path)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactEntry]:
        self.get_run(run_id)
        return artifact_service.list_artifacts(self.db, run_id, prefix)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The artifact's bytes, verified against the sha256 recorded when it was logged."""
        entry = artifact_service.find_artifact(self.db, run_id, path)
        return self.content.read_bytes(entry.sha256)

    def download_artifacts(self, run_id: str, path: str, destination: str | Path) -> Path:
        """Copy a file, or every file under a folder, into ``destination``; hashes are verified."""
        cleaned = artifact_service.clean_artifact_path(path)
        entries = self.list_artifacts(run_id, cleaned)
        if not entries:
            raise NotFound(f"run {run_id} has no artifact {cleaned!r}", hint="List artifacts with `mlpilot runs show`.")
        parent, _, leaf = cleaned.rpartition("/")
        target = Path(destination)
        for entry in entries:
            self.content.download(entry.sha256, target / (entry.path[len(parent) + 1 :] if parent else entry.path))
        return target / leaf

    # datasets ------------------------------------------------------------------------------------
    # The dataset service is imported inside each method: it loads pandas and pyarrow, which a
    # client that only tracks runs (and the CLI at start-up) should not pay for.

    def log_dataset(self, run_id: str, data: object, name: str, role: str = "input") -> DatasetVersion:
        """Version ``data`` (same content, same version) and record that the run read it as ``role``."""
        from mlpilot.data import versions as datasets

        self._require_running(run_id)
        version = datasets.log_dataset(self.db, self.content, data, name)
        datasets.link_to_run(self.db, run_id, version.id, role)
        return version

    def register_dataset(self, data: object, name: str) -> DatasetVersion:
        """Version ``data`` without a run."""
        from mlpilot.data import versions as datasets

        return datasets.log_dataset(self.db, self.content, data, name)

    def list_datasets(self) -> list[DatasetSummary]:
        from mlpilot.data import versions as datasets

        return datasets.list_datasets(self.db)

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        from mlpilot.data import versions as datasets

        return datasets.list_versions(self.db, name)

    def get_dataset(self, name: str, version: int | None = None) -> DatasetVersion:
        from mlpilot.data import versions as datasets

        return datasets.get_version(self.db, name, version)

    def dataset_runs(self, name: str, version: int | None = None) -> list[tuple[str, str]]:
        """(run id, role) of every run that read this dataset version (latest when None)."""
        from mlpilot.data import versions as datasets

        return datasets.runs_using(self.db, self.get_dataset(name, version).id)

    def load_dataset(self, name: str, version: int | None = None) -> Any:
        """The stored frame of a dataset version as a pandas DataFrame."""
        from mlpilot.data import versions as datasets

        return datasets.load_frame(self.content, self.get_dataset(name, version))

    def diff_datasets(self, a: str, b: str) -> DatasetDiff:
        """Schema and profile changes between two versions, given as ``name:version`` references."""
        from mlpilot.data import versions as datasets

        return datasets.diff_versions(self.db, a, b)

    # internals -----------------------------------------------------------------------------------

    def _experiment_for(self, experiment: str | int | None) -> Experiment:
        if experiment is None:
            return self.get_or_create_experiment(self.settings.experiment_name)
        if isinstance(experiment, int):
            return self.get_experiment(experiment)
        return self.get_or_create_experiment(experiment)

    def _require_running(self, run_id: str) -> None:
        run = self.get_run(run_id)
        if run.status.is_terminal:
            self._running.discard(run_id)
            raise InactiveRun(f"run {run_id} has ended ({run.status.value}); it no longer accepts logging")
        self._running.add(run_id)

    def _write_points(self, points: list[metric_service.Point]) -> None:
        metric_service.write_points(self.db, points)


def _close_quietly(ref: weakref.ReferenceType[Client]) -> None:
    client = ref()
    if client is not None:
        with contextlib.suppress(Exception):  # the interpreter is exiting; nothing left to report to
            client.close()
