"""The local transport: direct access to the SQL store and the artifact store, no server.

The caller already holds the database, so nothing here needs an API key; registry events and key
operations record the operating-system user as the actor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot import deployments as deployment_service
from mlpilot.artifacts import Blob, ContentStore, open_backend
from mlpilot.client.transport import Transport
from mlpilot.data import DatasetDiff, DatasetSummary, DatasetVersion
from mlpilot.deployments import Deployment, DeploymentEvent, Traffic
from mlpilot.ops.dora import dora_metrics
from mlpilot.ops.instants import parse_instant
from mlpilot.registry import ModelEvent, ModelRef, ModelVersion, RegisteredModel
from mlpilot.registry import aliases as alias_service
from mlpilot.registry import events as event_service
from mlpilot.registry import lineage as lineage_service
from mlpilot.registry import versions as version_service
from mlpilot.registry.lineage import Lineage, VersionComparison
from mlpilot.security import ApiKey, AuditEntry, Scope
from mlpilot.security import audit as audit_service
from mlpilot.security import keys as key_service
from mlpilot.store import Database, ensure_schema
from mlpilot.store.clock import now_ms
from mlpilot.tracking import artifacts as artifact_service
from mlpilot.tracking import batch as batch_service
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking import metrics as metric_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking import search as search_service
from mlpilot.tracking.artifacts import ArtifactEntry
from mlpilot.tracking.environment import current_user
from mlpilot.tracking.records import Experiment, Metric, Run, RunPage, RunStatus

if TYPE_CHECKING:
    from mlpilot.monitoring.monitors import Alert, Monitor, MonitorResult

__all__ = ["LocalTransport"]


class LocalTransport(Transport):
    def __init__(
        self,
        tracking_uri: str,
        artifact_uri: str,
        *,
        busy_timeout: float,
        predictions_uri: str,
        model_cache: Path,
    ) -> None:
        """``predictions_uri``: the prediction log monitors read (where this machine's ``mlpilot
        serve`` writes); ``model_cache``: where models are unpacked to score reference rows."""
        self.uri = tracking_uri
        self.db = Database(tracking_uri, busy_timeout=busy_timeout)
        ensure_schema(self.db)
        self.content = ContentStore(open_backend(artifact_uri))
        self.predictions_uri = predictions_uri
        self.model_cache = model_cache

    def close(self) -> None:
        self.db.dispose()

    # experiments and runs ------------------------------------------------------------------------

    def create_experiment(self, name: str, description: str | None) -> Experiment:
        return experiment_service.create_experiment(self.db, name, description)

    def get_experiment(self, name_or_id: str | int) -> Experiment:
        return experiment_service.get_experiment(self.db, name_or_id)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return experiment_service.get_or_create_experiment(self.db, name)

    def list_experiments(self) -> list[Experiment]:
        return experiment_service.list_experiments(self.db)

    def create_run(
        self,
        experiment_id: int,
        origin: run_service.RunOrigin,
        name: str | None,
        tags: Mapping[str, object] | None,
        parent_run_id: str | None,
    ) -> Run:
        return run_service.create_run(self.db, experiment_id, origin, name=name, tags=tags, parent_run_id=parent_run_id)

    def get_run(self, run_id: str) -> Run:
        return run_service.get_run(self.db, run_id)

    def get_run_environment(self, run_id: str) -> dict[str, object] | None:
        return run_service.get_environment(self.db, run_id)

    def end_run(self, run_id: str, status: RunStatus | str) -> None:
        run_service.end_run(self.db, run_id, status)

    def search_runs(
        self,
        experiments: Sequence[str | int] | None,
        filter: str | None,
        order_by: Sequence[str] | None,
        max_results: int,
        page_token: str | None,
    ) -> RunPage:
        return search_service.search_runs(self.db, experiments, filter, order_by, max_results, page_token)

    def log_params(self, run_id: str, values: Mapping[str, object]) -> None:
        run_service.log_params(self.db, run_id, values)

    def set_tags(self, run_id: str, values: Mapping[str, object]) -> None:
        run_service.set_tags(self.db, run_id, values)

    def log_batch(
        self,
        run_id: str,
        points: list[metric_service.Point],
        params: Mapping[str, object] | None,
        tags: Mapping[str, object] | None,
    ) -> None:
        batch_service.log_batch(self.db, run_id, points, params, tags)

    def write_points(self, points: list[metric_service.Point]) -> None:
        metric_service.write_points(self.db, points)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return metric_service.get_metric_history(self.db, run_id, key)

    # artifacts -----------------------------------------------------------------------------------

    def store_files(self, run_id: str, files: Mapping[str, Path]) -> list[ArtifactEntry]:
        blobs: dict[str, Blob] = {path: self.content.put_file(source) for path, source in files.items()}
        artifact_service.record_artifacts(self.db, run_id, blobs)
        return [ArtifactEntry(path, blob.size, blob.sha256) for path, blob in blobs.items()]

    def store_bytes(self, run_id: str, path: str, data: bytes) -> ArtifactEntry:
        blob = self.content.put_bytes(data)
        artifact_service.record_artifacts(self.db, run_id, {path: blob})
        return ArtifactEntry(path, blob.size, blob.sha256)

    def list_artifacts(self, run_id: str, prefix: str) -> list[ArtifactEntry]:
        run_service.get_run(self.db, run_id)
        return artifact_service.list_artifacts(self.db, run_id, prefix)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return self.content.read_bytes(artifact_service.find_artifact(self.db, run_id, path).sha256)

    def download_artifact(self, run_id: str, entry: ArtifactEntry, target: Path) -> None:
        self.content.download(entry.sha256, target)

    # datasets ------------------------------------------------------------------------------------
    # The dataset service is imported inside each method: it loads pandas and pyarrow, which a
    # client that only tracks runs (and the CLI at start-up) should not pay for.

    def log_dataset(self, data: object, name: str, run_id: str | None, role: str) -> DatasetVersion:
        from mlpilot.data import versions as datasets

        return datasets.log_dataset(self.db, self.content, data, name, run_id=run_id, role=role)

    def list_datasets(self) -> list[DatasetSummary]:
        from mlpilot.data import versions as datasets

        return datasets.list_datasets(self.db)

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        from mlpilot.data import versions as datasets

        return datasets.list_versions(self.db, name)

    def get_dataset(self, name: str, version: int | None) -> DatasetVersion:
        from mlpilot.data import versions as datasets

        return datasets.get_version(self.db, name, version)

    def dataset_runs(self, name: str, version: int | None) -> list[tuple[str, str]]:
        from mlpilot.data import versions as datasets

        return datasets.runs_using(self.db, self.get_dataset(name, version).id)

    def load_dataset(self, name: str, version: int | None) -> Any:
        from mlpilot.data import versions as datasets

        return datasets.load_frame(self.content, self.get_dataset(name, version))

    def diff_datasets(self, a: str, b: str) -> DatasetDiff:
        from mlpilot.data import versions as datasets

        return datasets.diff_versions(self.db, a, b)

    # registry ------------------------------------------------------------------------------------

    def register_model(
        self,
        run_id: str,
        artifact_path: str,
        name: str,
        description: str | None,
        tags: Mapping[str, object] | None,
        reason: str | None,
    ) -> ModelVersion:
        from mlpilot.monitoring.references import fit_after_registration

        version = version_service.register_model(
            self.db,
            self.content,
            run_id,
            artifact_path,
            name,
            actor=current_user(),
            description=description,
            tags=tags,
            reason=reason,
        )
        fit_after_registration(self.db, self.content, version)
        return version

    def get_registered_model(self, name: str) -> RegisteredModel:
        return version_service.get_model(self.db, name)

    def list_registered_models(self) -> list[RegisteredModel]:
        return version_service.list_models(self.db)

    def get_model_version(self, ref: ModelRef) -> ModelVersion:
        return version_service.get_version(self.db, ref)

    def list_model_versions(self, name: str, include_archived: bool) -> list[ModelVersion]:
        return version_service.list_versions(self.db, name, include_archived=include_archived)

    def set_model_description(self, name: str, description: str | None, version: int | None) -> None:
        version_service.set_description(self.db, name, description, version=version, actor=current_user())

    def set_model_tags(self, name: str, tags: Mapping[str, object], version: int | None) -> None:
        version_service.set_tags(self.db, name, tags, version=version, actor=current_user())

    def set_alias(self, name: str, alias: str, version: int, reason: str | None) -> ModelVersion:
        return alias_service.set_alias(self.db, name, alias, version, actor=current_user(), reason=reason)

    def delete_alias(self, name: str, alias: str, reason: str | None) -> None:
        alias_service.delete_alias(self.db, name, alias, actor=current_user(), reason=reason)

    def rollback(self, name: str, alias: str, reason: str | None) -> ModelVersion:
        return alias_service.rollback_alias(self.db, name, alias, actor=current_user(), reason=reason)

    def archive_model_version(self, name: str, version: int, reason: str | None) -> ModelVersion:
        return version_service.archive_version(self.db, name, version, actor=current_user(), reason=reason)

    def model_events(self, name: str) -> list[ModelEvent]:
        return event_service.events_of(self.db, name)

    def model_lineage(self, ref: ModelRef) -> Lineage:
        return lineage_service.lineage(self.db, ref)

    def compare_model_versions(self, a: ModelRef, b: ModelRef) -> VersionComparison:
        return lineage_service.compare_versions(self.db, a, b)

    # keys and audit ------------------------------------------------------------------------------

    def create_api_key(self, name: str, scopes: str | Sequence[Scope | str]) -> tuple[ApiKey, str]:
        return key_service.create_key(self.db, name, scopes, actor=current_user())

    def list_api_keys(self) -> list[ApiKey]:
        return key_service.list_keys(self.db)

    def revoke_api_key(self, name: str) -> ApiKey:
        return key_service.revoke_key(self.db, name, actor=current_user())

    def audit_log(self, limit: int, since: int | None) -> list[AuditEntry]:
        return audit_service.list_audit(self.db, limit, since)

    # deployments ---------------------------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model: str,
        canary: Mapping[str, Any] | None,
        shadow: Mapping[str, Any] | None,
        config: Mapping[str, Any] | None,
    ) -> Deployment:
        return deployment_service.create_deployment(
            self.db, name, model, canary=canary, shadow=shadow, config=config, actor=current_user()
        )

    def get_deployment(self, name: str) -> Deployment:
        return deployment_service.get_deployment(self.db, name)

    def list_deployments(self) -> list[Deployment]:
        return deployment_service.list_deployments(self.db)

    def deployment_traffic(self, name: str) -> Traffic:
        return deployment_service.resolve_traffic(self.db, name)

    def update_deployment(self, name: str, changes: Mapping[str, Any]) -> Deployment:
        return deployment_service.update_deployment(self.db, name, **changes, actor=current_user())

    def delete_deployment(self, name: str) -> None:
        deployment_service.delete_deployment(self.db, name, actor=current_user())

    def rollback_deployment(self, name: str) -> Deployment:
        return deployment_service.rollback_deployment(self.db, name, actor=current_user())

    def promote_deployment(self, name: str) -> Deployment:
        return deployment_service.promote_deployment(self.db, name, actor=current_user())

    def deployment_events(self, name: str, limit: int) -> list[DeploymentEvent]:
        return deployment_service.deployment_events(self.db, name, limit=limit)

    # monitors ------------------------------------------------------------------------------------
    # Imported inside each method, like the dataset service: the monitoring package loads pandas.

    def create_monitor(self, name: str, deployment: str, config: Mapping[str, Any] | None, enabled: bool) -> Monitor:
        from mlpilot.monitoring import monitors

        return monitors.create_monitor(self.db, name, deployment, config, actor=current_user(), enabled=enabled)

    def get_monitor(self, name: str) -> Monitor:
        from mlpilot.monitoring import monitors

        return monitors.get_monitor(self.db, name)

    def list_monitors(self, deployment: str | None) -> list[Monitor]:
        from mlpilot.monitoring import monitors

        return monitors.list_monitors(self.db, deployment=deployment)

    def update_monitor(self, name: str, changes: Mapping[str, Any]) -> Monitor:
        from mlpilot.monitoring import monitors

        return monitors.update_monitor(self.db, name, **changes)

    def delete_monitor(self, name: str) -> None:
        from mlpilot.monitoring import monitors

        monitors.delete_monitor(self.db, name)

    def run_monitor(self, name: str) -> dict[str, Any]:
        from mlpilot.monitoring import runner

        done = runner.run_monitor(
            self.db, self.content, name, predictions_root=self.predictions_uri, cache_root=self.model_cache
        )
        return done.to_dict()

    def monitor_results(self, name: str, limit: int) -> list[MonitorResult]:
        from mlpilot.monitoring import monitors

        return monitors.list_results(self.db, name, limit=limit)

    def list_alerts(self, monitor: str | None, deployment: str | None, state: str | None) -> list[Alert]:
        from mlpilot.monitoring import monitors

        return monitors.list_alerts(self.db, monitor=monitor, deployment=deployment, state=state)

    def fit_reference(self, ref: ModelRef) -> dict[str, Any]:
        from mlpilot.monitoring import references

        version = version_service.get_version(self.db, ref)
        return references.fit_reference(self.db, self.content, version, cache_root=self.model_cache).to_dict()

    def get_reference(self, ref: ModelRef) -> dict[str, Any]:
        from mlpilot.monitoring import references

        return references.get_reference(self.db, self.content, version_service.get_version(self.db, ref)).to_dict()

    # DORA ----------------------------------------------------------------------------------------

    def dora(self, since: str | None, until: str | None, deployment: str | None) -> dict[str, Any]:
        now = now_ms()
        start = parse_instant(since, now=now, name="since") if since is not None else None
        end = parse_instant(until, now=now, name="until") if until is not None else None
        return dora_metrics(self.db, since=start, until=end, deployment=deployment, now=now).to_dict()
