"""The Client: one API over two transports, the database itself or an mlpilot server.

``Client("sqlite:///…")`` and ``Client("postgresql://…")`` talk to the database directly;
``Client("http://host:5050", api_key=…)`` talks to a server. What is the same on both sides lives
here: buffered metrics, capturing git and the environment, walking artifact folders, packaging and
caching models.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mlpilot.client.active_run import ActiveRun
from mlpilot.client.buffer import MetricBuffer
from mlpilot.client.deployments import DeploymentMethods
from mlpilot.client.dora import DoraMethods
from mlpilot.client.keys import KeyMethods
from mlpilot.client.models import ModelMethods
from mlpilot.client.monitors import MonitorMethods
from mlpilot.client.transport import Transport
from mlpilot.config import Settings, load_settings
from mlpilot.data import DatasetDiff, DatasetSummary, DatasetVersion
from mlpilot.errors import InactiveRun, InvalidInput, NotFound
from mlpilot.models.cache import model_cache_root
from mlpilot.store.clock import now_ms
from mlpilot.tracking import metrics as metric_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking.artifacts import ArtifactEntry, clean_artifact_path, download_plan
from mlpilot.tracking.environment import capture_environment, capture_git, current_user, entry_point
from mlpilot.tracking.records import Experiment, Metric, Run, RunPage, RunStatus

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.store import Database

__all__ = ["Client", "is_remote"]


def is_remote(uri: str | None) -> bool:
    return uri is not None and uri.startswith(("http://", "https://"))


class Client(ModelMethods, KeyMethods, DeploymentMethods, MonitorMethods, DoraMethods):
    """Track experiments, datasets and models in a database, directly or through a server."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        artifact_uri: str | None = None,
        *,
        api_key: str | None = None,
        settings: Settings | None = None,
    ):
        self.settings = settings or load_settings()
        self.tracking_uri = tracking_uri or self.settings.resolved_tracking_uri()
        # Where artifacts live; None for a server, which keeps its own.
        self.artifact_uri: str | None = None
        if not is_remote(self.tracking_uri):
            self.artifact_uri = artifact_uri or self.settings.resolved_artifact_uri()
        self.transport = self._open_transport(api_key)
        self._running: set[str] = set()
        # Experiments are never renamed or deleted, so a name resolved once stays resolved: a
        # client starting many runs asks the store about its experiment once, not per run.
        self._experiments: dict[str | int, Experiment] = {}
        self._buffer = MetricBuffer(
            self.transport.write_points,
            interval=self.settings.metric_flush_interval,
            flush_size=self.settings.metric_flush_size,
        )
        self._closed = False
        # Buffered points must reach the store even when the user never calls close().
        atexit.register(_close_quietly, weakref.ref(self))

    def _open_transport(self, api_key: str | None) -> Transport:
        if self.artifact_uri is None:
            from mlpilot.client.remote import RemoteTransport

            secret = self.settings.api_key.get_secret_value() if self.settings.api_key is not None else None
            return RemoteTransport(self.tracking_uri, api_key or secret, timeout=self.settings.http_timeout)
        from mlpilot.client.local import LocalTransport

        return LocalTransport(
            self.tracking_uri,
            self.artifact_uri,
            busy_timeout=self.settings.sqlite_busy_timeout,
            predictions_uri=self.settings.resolved_predictions_uri(),
            model_cache=model_cache_root(self.settings.home),
        )

    def __repr__(self) -> str:
        return f"Client(tracking_uri={self.tracking_uri!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_remote(self) -> bool:
        return is_remote(self.tracking_uri)

    @property
    def db(self) -> Database:
        """The database of a local client (a remote client has none: the server holds it)."""
        database: Database | None = getattr(self.transport, "db", None)
        if database is None:
            raise InvalidInput(
                f"{self.tracking_uri} is a server; this needs direct database access",
                hint="Use a sqlite:///… or postgresql://… tracking URI for this operation.",
            )
        return database

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._buffer.close()
        finally:
            self.transport.close()

    # experiments ---------------------------------------------------------------------------------

    def create_experiment(self, name: str, description: str | None = None) -> Experiment:
        return self.transport.create_experiment(name, description)

    def get_experiment(self, name_or_id: str | int) -> Experiment:
        return self.transport.get_experiment(name_or_id)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return self.transport.get_or_create_experiment(name)

    def list_experiments(self) -> list[Experiment]:
        return self.transport.list_experiments()

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
        run = self.transport.create_run(target.id, origin, name, tags, parent_run_id)
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
        return self.transport.get_run(run_id)

    def get_run_environment(self, run_id: str) -> dict[str, object] | None:
        return self.transport.get_run_environment(run_id)

    def end_run(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Flush this run's buffered metrics, then set its final status and end time."""
        try:
            self._buffer.flush()
        finally:
            self._running.discard(run_id)
        self.transport.end_run(run_id, status)

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
        return self.transport.search_runs(experiments, filter, order_by, max_results, page_token)

    # params, tags, metrics -----------------------------------------------------------------------

    def log_params(self, run_id: str, values: Mapping[str, object]) -> None:
        self.transport.log_params(run_id, values)

    def log_param(self, run_id: str, key: str, value: object) -> None:
        self.transport.log_params(run_id, {key: value})

    def set_tags(self, run_id: str, values: Mapping[str, object]) -> None:
        self.transport.set_tags(run_id, values)

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        self.transport.set_tags(run_id, {key: value})

    def log_metric(self, run_id: str, key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
        """Buffered: returns at once; the point reaches the store within the flush interval."""
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
        self.transport.log_batch(run_id, points, params, tags)

    def flush(self) -> None:
        """Write every buffered metric point now."""
        self._buffer.flush()

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self._buffer.flush()
        return self.transport.get_metric_history(run_id, key)

    # artifacts -----------------------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: str | Path, artifact_path: str | None = None) -> ArtifactEntry:
        """Store one file; ``artifact_path`` is a folder inside the run (default: the top)."""
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInput(
                f"{source} is not a file", hint="Pass an existing file, or use log_artifacts for folders."
            )
        path = clean_artifact_path(f"{artifact_path}/{source.name}" if artifact_path else source.name)
        self._require_running(run_id)
        return self.transport.store_files(run_id, {path: source})[0]

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
        files: dict[str, Path] = {}
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = file.relative_to(root).as_posix()
            files[clean_artifact_path(f"{artifact_path}/{relative}" if artifact_path else relative)] = file
        return self.transport.store_files(run_id, files)

    def log_bytes(self, run_id: str, data: bytes, artifact_path: str) -> ArtifactEntry:
        path = clean_artifact_path(artifact_path)
        self._require_running(run_id)
        return self.transport.store_bytes(run_id, path, data)

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
        return self.transport.list_artifacts(run_id, prefix)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The artifact's bytes, verified against the sha256 recorded when it was logged."""
        return self.transport.read_artifact(run_id, path)

    def download_artifacts(self, run_id: str, path: str, destination: str | Path) -> Path:
        """Copy a file, or every file under a folder, into ``destination``; hashes are verified."""
        cleaned = clean_artifact_path(path)
        entries = self.list_artifacts(run_id, cleaned)
        if not entries:
            raise NotFound(f"run {run_id} has no artifact {cleaned!r}", hint="List artifacts with `mlpilot runs show`.")
        target = Path(destination)
        leaf, plan = download_plan(cleaned, entries)
        for entry, relative in plan:
            self.transport.download_artifact(run_id, entry, target / relative)
        return target / leaf

    # datasets ------------------------------------------------------------------------------------

    def log_dataset(self, run_id: str, data: object, name: str, role: str = "input") -> DatasetVersion:
        """Version ``data`` (same content, same version) and record that the run read it as ``role``."""
        return self.transport.log_dataset(data, name, run_id, role)

    def register_dataset(self, data: object, name: str) -> DatasetVersion:
        """Version ``data`` without a run."""
        return self.transport.log_dataset(data, name, None, "input")

    def list_datasets(self) -> list[DatasetSummary]:
        return self.transport.list_datasets()

    # prediction log ------------------------------------------------------------------------------

    def predictions(
        self,
        deployment: str,
        *,
        since: Any = None,
        until: Any = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Logged predictions of ``deployment`` with ``since <= time < until`` (datetimes, ISO text
        or epoch ms), one row per prediction: ids, time, model version, role, latency, the output,
        ``proba:<class>`` and ``input:<feature>`` columns. Reads this machine's prediction log
        (``predictions_uri``, default home/predictions), where ``mlpilot serve`` writes."""
        from mlpilot.prediction_log import read_predictions

        root = self.settings.resolved_predictions_uri()
        return read_predictions(root, deployment, since=since, until=until, columns=columns, limit=limit)

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        return self.transport.list_dataset_versions(name)

    def get_dataset(self, name: str, version: int | None = None) -> DatasetVersion:
        return self.transport.get_dataset(name, version)

    def dataset_runs(self, name: str, version: int | None = None) -> list[tuple[str, str]]:
        """(run id, role) of every run that read this dataset version (latest when None)."""
        return self.transport.dataset_runs(name, version)

    def load_dataset(self, name: str, version: int | None = None) -> Any:
        """The stored frame of a dataset version as a pandas DataFrame."""
        return self.transport.load_dataset(name, version)

    def diff_datasets(self, a: str, b: str) -> DatasetDiff:
        """Schema and profile changes between two versions, given as ``name:version`` references."""
        return self.transport.diff_datasets(a, b)

    # internals -----------------------------------------------------------------------------------

    def _experiment_for(self, experiment: str | int | None) -> Experiment:
        wanted = self.settings.experiment_name if experiment is None else experiment
        found = self._experiments.get(wanted)
        if found is None:
            found = self.get_experiment(wanted) if isinstance(wanted, int) else self.get_or_create_experiment(wanted)
            self._experiments[wanted] = found
        return found

    def _require_running(self, run_id: str) -> None:
        run = self.get_run(run_id)
        if run.status.is_terminal:
            self._running.discard(run_id)
            raise InactiveRun(f"run {run_id} has ended ({run.status.value}); it no longer accepts logging")
        self._running.add(run_id)


def _close_quietly(ref: weakref.ReferenceType[Client]) -> None:
    client = ref()
    if client is not None:
        with contextlib.suppress(Exception):  # the interpreter is exiting; nothing left to report to
            client.close()
