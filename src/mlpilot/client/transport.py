"""The port between the Client and where the data lives: the database itself, or a server.

Each method is one operation, in terms of domain records; the Client adds everything that is the
same on both sides (buffering, capturing git state, walking folders, packaging and caching models).
The local transport calls the services; the remote one calls the REST API. Both pass the same
client test suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.data import DatasetDiff, DatasetSummary, DatasetVersion
from mlpilot.deployments import Deployment, DeploymentEvent, Traffic
from mlpilot.registry import ModelEvent, ModelRef, ModelVersion, RegisteredModel
from mlpilot.registry.lineage import Lineage, VersionComparison
from mlpilot.security import ApiKey, AuditEntry, Scope
from mlpilot.tracking.artifacts import ArtifactEntry
from mlpilot.tracking.metrics import Point
from mlpilot.tracking.records import Experiment, Metric, Run, RunPage, RunStatus
from mlpilot.tracking.runs import RunOrigin

if TYPE_CHECKING:  # the monitoring package loads pandas, which a client that only tracks runs skips
    from mlpilot.monitoring.monitors import Alert, Monitor, MonitorResult

__all__ = ["Transport"]


class Transport(ABC):
    uri: str

    @abstractmethod
    def close(self) -> None: ...

    # experiments and runs ------------------------------------------------------------------------

    @abstractmethod
    def create_experiment(self, name: str, description: str | None) -> Experiment: ...
    @abstractmethod
    def get_experiment(self, name_or_id: str | int) -> Experiment: ...
    @abstractmethod
    def get_or_create_experiment(self, name: str) -> Experiment: ...
    @abstractmethod
    def list_experiments(self) -> list[Experiment]: ...
    @abstractmethod
    def create_run(
        self,
        experiment_id: int,
        origin: RunOrigin,
        name: str | None,
        tags: Mapping[str, object] | None,
        parent_run_id: str | None,
    ) -> Run: ...
    @abstractmethod
    def get_run(self, run_id: str) -> Run: ...
    @abstractmethod
    def get_run_environment(self, run_id: str) -> dict[str, object] | None: ...
    @abstractmethod
    def end_run(self, run_id: str, status: RunStatus | str) -> None: ...
    @abstractmethod
    def search_runs(
        self,
        experiments: Sequence[str | int] | None,
        filter: str | None,
        order_by: Sequence[str] | None,
        max_results: int,
        page_token: str | None,
    ) -> RunPage: ...
    @abstractmethod
    def log_params(self, run_id: str, values: Mapping[str, object]) -> None: ...
    @abstractmethod
    def set_tags(self, run_id: str, values: Mapping[str, object]) -> None: ...
    @abstractmethod
    def log_batch(
        self, run_id: str, points: list[Point], params: Mapping[str, object] | None, tags: Mapping[str, object] | None
    ) -> None: ...
    @abstractmethod
    def write_points(self, points: list[Point]) -> None: ...
    @abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...

    # artifacts -----------------------------------------------------------------------------------

    @abstractmethod
    def store_files(self, run_id: str, files: Mapping[str, Path]) -> list[ArtifactEntry]:
        """Store files under the given (clean) artifact paths of a running run."""

    @abstractmethod
    def store_bytes(self, run_id: str, path: str, data: bytes) -> ArtifactEntry: ...
    @abstractmethod
    def list_artifacts(self, run_id: str, prefix: str) -> list[ArtifactEntry]: ...
    @abstractmethod
    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The bytes, verified against the sha256 recorded when they were logged."""

    @abstractmethod
    def download_artifact(self, run_id: str, entry: ArtifactEntry, target: Path) -> None:
        """Write the artifact to ``target`` atomically, verifying its sha256."""

    # datasets ------------------------------------------------------------------------------------

    @abstractmethod
    def log_dataset(self, data: object, name: str, run_id: str | None, role: str) -> DatasetVersion: ...
    @abstractmethod
    def list_datasets(self) -> list[DatasetSummary]: ...
    @abstractmethod
    def list_dataset_versions(self, name: str) -> list[DatasetVersion]: ...
    @abstractmethod
    def get_dataset(self, name: str, version: int | None) -> DatasetVersion: ...
    @abstractmethod
    def dataset_runs(self, name: str, version: int | None) -> list[tuple[str, str]]: ...
    @abstractmethod
    def load_dataset(self, name: str, version: int | None) -> Any: ...
    @abstractmethod
    def diff_datasets(self, a: str, b: str) -> DatasetDiff: ...

    # registry ------------------------------------------------------------------------------------

    @abstractmethod
    def register_model(
        self,
        run_id: str,
        artifact_path: str,
        name: str,
        description: str | None,
        tags: Mapping[str, object] | None,
        reason: str | None,
    ) -> ModelVersion: ...
    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...
    @abstractmethod
    def list_registered_models(self) -> list[RegisteredModel]: ...
    @abstractmethod
    def get_model_version(self, ref: ModelRef) -> ModelVersion: ...
    @abstractmethod
    def list_model_versions(self, name: str, include_archived: bool) -> list[ModelVersion]: ...
    @abstractmethod
    def set_model_description(self, name: str, description: str | None, version: int | None) -> None: ...
    @abstractmethod
    def set_model_tags(self, name: str, tags: Mapping[str, object], version: int | None) -> None: ...
    @abstractmethod
    def set_alias(self, name: str, alias: str, version: int, reason: str | None) -> ModelVersion: ...
    @abstractmethod
    def delete_alias(self, name: str, alias: str, reason: str | None) -> None: ...
    @abstractmethod
    def rollback(self, name: str, alias: str, reason: str | None) -> ModelVersion: ...
    @abstractmethod
    def archive_model_version(self, name: str, version: int, reason: str | None) -> ModelVersion: ...
    @abstractmethod
    def model_events(self, name: str) -> list[ModelEvent]: ...
    @abstractmethod
    def model_lineage(self, ref: ModelRef) -> Lineage: ...
    @abstractmethod
    def compare_model_versions(self, a: ModelRef, b: ModelRef) -> VersionComparison: ...

    # keys and audit ------------------------------------------------------------------------------

    @abstractmethod
    def create_api_key(self, name: str, scopes: str | Sequence[Scope | str]) -> tuple[ApiKey, str]: ...
    @abstractmethod
    def list_api_keys(self) -> list[ApiKey]: ...
    @abstractmethod
    def revoke_api_key(self, name: str) -> ApiKey: ...
    @abstractmethod
    def audit_log(self, limit: int, since: int | None) -> list[AuditEntry]: ...

    # deployments ---------------------------------------------------------------------------------

    @abstractmethod
    def create_deployment(
        self,
        name: str,
        model: str,
        canary: Mapping[str, Any] | None,
        shadow: Mapping[str, Any] | None,
        config: Mapping[str, Any] | None,
    ) -> Deployment: ...
    @abstractmethod
    def get_deployment(self, name: str) -> Deployment: ...
    @abstractmethod
    def list_deployments(self) -> list[Deployment]: ...
    @abstractmethod
    def deployment_traffic(self, name: str) -> Traffic: ...
    @abstractmethod
    def update_deployment(self, name: str, changes: Mapping[str, Any]) -> Deployment:
        """``changes`` holds only what changes, as ``update_deployment`` keywords: model_ref,
        canary, shadow, config (None clears)."""

    @abstractmethod
    def delete_deployment(self, name: str) -> None: ...
    @abstractmethod
    def rollback_deployment(self, name: str) -> Deployment: ...
    @abstractmethod
    def promote_deployment(self, name: str) -> Deployment: ...
    @abstractmethod
    def deployment_events(self, name: str, limit: int) -> list[DeploymentEvent]: ...

    # monitors ------------------------------------------------------------------------------------

    @abstractmethod
    def create_monitor(
        self, name: str, deployment: str, config: Mapping[str, Any] | None, enabled: bool
    ) -> Monitor: ...
    @abstractmethod
    def get_monitor(self, name: str) -> Monitor: ...
    @abstractmethod
    def list_monitors(self, deployment: str | None) -> list[Monitor]: ...
    @abstractmethod
    def update_monitor(self, name: str, changes: Mapping[str, Any]) -> Monitor:
        """``changes`` holds only what changes, as ``update_monitor`` keywords: config (the whole
        config; None for the defaults; a webhook secret given as "***" keeps the stored one), enabled."""

    @abstractmethod
    def delete_monitor(self, name: str) -> None: ...
    @abstractmethod
    def run_monitor(self, name: str) -> dict[str, Any]:
        """Run it now (webhooks delivered before this returns): ``MonitorRun.to_dict()``."""

    @abstractmethod
    def monitor_results(self, name: str, limit: int) -> list[MonitorResult]:
        """The newest ``limit`` results, newest first."""

    @abstractmethod
    def list_alerts(self, monitor: str | None, deployment: str | None, state: str | None) -> list[Alert]: ...
    @abstractmethod
    def fit_reference(self, ref: ModelRef) -> dict[str, Any]:
        """Fit (or refit) the version's reference now: ``StoredReference.to_dict()``."""

    @abstractmethod
    def get_reference(self, ref: ModelRef) -> dict[str, Any]: ...

    # DORA ----------------------------------------------------------------------------------------

    @abstractmethod
    def dora(self, since: str | None, until: str | None, deployment: str | None) -> dict[str, Any]:
        """``DoraReport.to_dict()``; ``since`` and ``until`` as ``parse_instant`` reads them."""
