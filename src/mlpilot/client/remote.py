"""The remote transport: the same operations over an mlpilot server's REST API.

Values are validated and cleaned on this side first (param and tag values, metric points,
dataset frames), so a mistake fails fast with the same error as on the local transport.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from mlpilot.artifacts.verified import write_verified
from mlpilot.client.http import HttpSession
from mlpilot.client.transport import Transport
from mlpilot.data import DatasetDiff, DatasetSummary, DatasetVersion
from mlpilot.deployments import Deployment, DeploymentEvent, Traffic
from mlpilot.errors import Conflict, IntegrityError, MlpilotError, NotFound
from mlpilot.registry import ModelEvent, ModelRef, ModelVersion, RegisteredModel
from mlpilot.registry.lineage import Lineage, VersionComparison
from mlpilot.registry.versions import check_model_name
from mlpilot.security import ApiKey, AuditEntry, Scope
from mlpilot.tracking.artifacts import ArtifactEntry
from mlpilot.tracking.metrics import Point
from mlpilot.tracking.records import Experiment, Metric, Run, RunPage, RunStatus
from mlpilot.tracking.runs import RunOrigin, clean_params, clean_tags
from mlpilot.wire import SHA256_HEADER, decode
from mlpilot.wire.pages import (
    AlertPage,
    ApiKeyPage,
    DatasetPage,
    DatasetVersionPage,
    DeploymentPage,
    ExperimentPage,
    Listing,
    ModelPage,
    ModelVersionPage,
    MonitorPage,
    MonitorResultPage,
)

if TYPE_CHECKING:
    from mlpilot.monitoring.monitors import Alert, Monitor, MonitorResult

__all__ = ["RemoteTransport"]

T = TypeVar("T")
_CHUNK = 1 << 20


def _seg(value: str | int) -> str:
    """One path segment, with '/' and every reserved character escaped."""
    return quote(str(value), safe="")


def _path(value: str) -> str:
    """A path that may span segments (artifact paths, dataset names): '/' kept, the rest escaped."""
    return quote(value, safe="/")


def _version_seg(version: int | None) -> str:
    return "latest" if version is None else _seg(version)


def _ref_seg(ref: ModelRef) -> str:
    if ref.alias is not None:
        return _seg(f"@{ref.alias}")
    return _version_seg(ref.version)


def _points_json(points: Sequence[Point]) -> list[dict[str, Any]]:
    # NaN is stored as None in a point; on the wire it is the string "NaN".
    return [
        {"key": key, "value": float("nan") if value is None else value, "step": step, "timestamp": timestamp}
        for _run, key, value, step, timestamp in points
    ]


class RemoteTransport(Transport):
    def __init__(self, uri: str, api_key: str | None, *, timeout: float) -> None:
        self.uri = uri
        self.api_key = api_key
        self.http = HttpSession(uri, api_key, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _get(self, kind: type[T], path: str, **params: Any) -> T:
        return decode(kind, self.http.call("GET", path, params=_params(params)).content)

    def _send(self, method: str, kind: type[T], path: str, body: Any = None, **params: Any) -> T:
        return decode(kind, self.http.call(method, path, json=body, params=_params(params)).content)

    def _do(self, method: str, path: str, body: Any = None, **params: Any) -> None:
        self.http.call(method, path, json=body, params=_params(params))

    def _every(self, kind: type[Listing], path: str, **params: Any) -> list[Any]:
        """Every record of a listing: its pages one after another, as long as the server hands out a
        ``next_page_token`` (each page as large as the server allows)."""
        records: list[Any] = []
        token: str | None = None
        while True:
            page = self._get(kind, path, page_token=token, **params)
            records.extend(page.records())
            following = page.next_page_token
            if not following:
                return records
            if following == token:  # a server (or a proxy) that would hand out the same page forever
                raise MlpilotError(
                    f"{self.uri} sent the same page of {path} twice",
                    hint="Check that the URI points at an mlpilot server.",
                )
            token = following

    # experiments and runs ------------------------------------------------------------------------

    def create_experiment(self, name: str, description: str | None) -> Experiment:
        result: Experiment = self._send("POST", Experiment, "/experiments", {"name": name, "description": description})
        return result

    def get_experiment(self, name_or_id: str | int) -> Experiment:
        if isinstance(name_or_id, int):
            found: Experiment = self._get(Experiment, f"/experiments/{name_or_id}", by_id="true")
            return found
        return self._get(Experiment, f"/experiments/{_path(name_or_id)}")

    def get_or_create_experiment(self, name: str) -> Experiment:
        # Read first: creating is the rare case, and only a real creation is a (audited) write.
        try:
            return self.get_experiment(name)
        except NotFound:
            pass
        try:
            return self.create_experiment(name, None)
        except Conflict:  # another client created it between our read and our write
            return self.get_experiment(name)

    def list_experiments(self) -> list[Experiment]:
        return self._every(ExperimentPage, "/experiments")

    def create_run(
        self,
        experiment_id: int,
        origin: RunOrigin,
        name: str | None,
        tags: Mapping[str, object] | None,
        parent_run_id: str | None,
    ) -> Run:
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "tags": clean_tags(tags or {}),
            "parent_run_id": parent_run_id,
            "user": origin.user,
            "entry_point": origin.entry_point,
            "git_commit": origin.git.commit,
            "git_dirty": origin.git.dirty,
            "git_diff_hash": origin.git.diff_hash,
            "git_committed_at": origin.git.committed_at,
            "environment": origin.environment,
        }
        return self._send("POST", Run, "/runs", body)

    def get_run(self, run_id: str) -> Run:
        return self._get(Run, f"/runs/{_seg(run_id)}")

    def get_run_environment(self, run_id: str) -> dict[str, object] | None:
        environment: dict[str, object] | None = self.http.call("GET", f"/runs/{_seg(run_id)}/environment").json()
        return environment

    def end_run(self, run_id: str, status: RunStatus | str) -> None:
        self._do("POST", f"/runs/{_seg(run_id)}/end", {"status": str(status)})

    def search_runs(
        self,
        experiments: Sequence[str | int] | None,
        filter: str | None,
        order_by: Sequence[str] | None,
        max_results: int,
        page_token: str | None,
    ) -> RunPage:
        names = [ref for ref in experiments or [] if not isinstance(ref, int)]
        ids = [ref for ref in experiments or [] if isinstance(ref, int)]
        return self._get(
            RunPage,
            "/runs",
            experiment=names or None,
            experiment_id=ids or None,
            filter=filter,
            order_by=list(order_by) if order_by else None,
            max_results=max_results,
            page_token=page_token,
        )

    def log_params(self, run_id: str, values: Mapping[str, object]) -> None:
        self._do("POST", f"/runs/{_seg(run_id)}/params", {"params": clean_params(values)})

    def set_tags(self, run_id: str, values: Mapping[str, object]) -> None:
        self._do("POST", f"/runs/{_seg(run_id)}/tags", {"tags": clean_tags(values)})

    def log_batch(
        self, run_id: str, points: list[Point], params: Mapping[str, object] | None, tags: Mapping[str, object] | None
    ) -> None:
        body = {
            "metrics": _points_json(points),
            "params": clean_params(params or {}),
            "tags": clean_tags(tags or {}),
        }
        self._do("POST", f"/runs/{_seg(run_id)}/batch", body)

    def write_points(self, points: list[Point]) -> None:
        by_run: dict[str, list[Point]] = defaultdict(list)
        for point in points:
            by_run[point[0]].append(point)
        failure: MlpilotError | None = None
        # One request per run; a refused run (ended, unknown) does not stop the others' points.
        for run_id, run_points in by_run.items():
            try:
                self._do("POST", f"/runs/{_seg(run_id)}/metrics", {"metrics": _points_json(run_points)})
            except MlpilotError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self._get(list[Metric], f"/runs/{_seg(run_id)}/metrics", key=key)

    # artifacts -----------------------------------------------------------------------------------

    def store_files(self, run_id: str, files: Mapping[str, Path]) -> list[ArtifactEntry]:
        entries = []
        for path, source in files.items():
            with open(source, "rb") as handle:
                entries.append(self._upload(run_id, path, handle))
        return entries

    def store_bytes(self, run_id: str, path: str, data: bytes) -> ArtifactEntry:
        return self._upload(run_id, path, data)

    def _upload(self, run_id: str, path: str, content: Any) -> ArtifactEntry:
        response = self.http.call(
            "PUT",
            f"/runs/{_seg(run_id)}/artifacts/{_path(path)}",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )
        return decode(ArtifactEntry, response.content)

    def list_artifacts(self, run_id: str, prefix: str) -> list[ArtifactEntry]:
        return self._get(list[ArtifactEntry], f"/runs/{_seg(run_id)}/artifacts", prefix=prefix or None)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        response = self.http.call("GET", f"/runs/{_seg(run_id)}/artifacts/{_path(path)}")
        return _verified(response.content, response.headers.get(SHA256_HEADER), path)

    def download_artifact(self, run_id: str, entry: ArtifactEntry, target: Path) -> None:
        with self.http.stream(f"/runs/{_seg(run_id)}/artifacts/{_path(entry.path)}") as response:
            write_verified(
                response.iter_bytes(_CHUNK), target, entry.sha256, lambda: _tampered(entry.path, entry.sha256)
            )

    # datasets ------------------------------------------------------------------------------------

    def log_dataset(self, data: object, name: str, run_id: str | None, role: str) -> DatasetVersion:
        from mlpilot.data.frames import read_frame, to_parquet_bytes

        frame = read_frame(data)
        response = self.http.call(
            "POST",
            f"/datasets/{_path(name)}/versions",
            content=to_parquet_bytes(frame.frame),
            headers={"Content-Type": "application/vnd.apache.parquet"},
            params=_params({"run_id": run_id, "role": role, "source": frame.source}),
        )
        return decode(DatasetVersion, response.content)

    def list_datasets(self) -> list[DatasetSummary]:
        return self._every(DatasetPage, "/datasets")

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        return self._every(DatasetVersionPage, f"/datasets/{_path(name)}/versions")

    def get_dataset(self, name: str, version: int | None) -> DatasetVersion:
        return self._get(DatasetVersion, f"/datasets/{_path(name)}/versions/{_version_seg(version)}")

    def dataset_runs(self, name: str, version: int | None) -> list[tuple[str, str]]:
        uses = self._get(list[dict[str, str]], f"/datasets/{_path(name)}/versions/{_version_seg(version)}/runs")
        return [(use["run_id"], use["role"]) for use in uses]

    def load_dataset(self, name: str, version: int | None) -> Any:
        from mlpilot.data.frames import from_parquet_bytes

        response = self.http.call("GET", f"/datasets/{_path(name)}/versions/{_version_seg(version)}/data")
        return from_parquet_bytes(_verified(response.content, response.headers.get(SHA256_HEADER), name))

    def diff_datasets(self, a: str, b: str) -> DatasetDiff:
        return self._get(DatasetDiff, "/datasets/diff", a=a, b=b)

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
        check_model_name(name)  # before it goes into the URL, where a '/' would change the route
        body = {
            "run_id": run_id,
            "artifact_path": artifact_path,
            "description": description,
            "tags": clean_tags(tags or {}),
            "reason": reason,
        }
        return self._send("POST", ModelVersion, f"/models/{_seg(name)}/versions", body)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._get(RegisteredModel, f"/models/{_seg(name)}")

    def list_registered_models(self) -> list[RegisteredModel]:
        return self._every(ModelPage, "/models")

    def get_model_version(self, ref: ModelRef) -> ModelVersion:
        return self._get(ModelVersion, f"/models/{_seg(ref.name)}/versions/{_ref_seg(ref)}")

    def list_model_versions(self, name: str, include_archived: bool) -> list[ModelVersion]:
        return self._every(
            ModelVersionPage, f"/models/{_seg(name)}/versions", include_archived=str(include_archived).lower()
        )

    def _model_path(self, name: str, version: int | None) -> str:
        return f"/models/{_seg(name)}" + ("" if version is None else f"/versions/{_seg(version)}")

    def set_model_description(self, name: str, description: str | None, version: int | None) -> None:
        self._do("PATCH", self._model_path(name, version), {"description": description})

    def set_model_tags(self, name: str, tags: Mapping[str, object], version: int | None) -> None:
        self._do("PATCH", self._model_path(name, version), {"tags": clean_tags(tags)})

    def set_alias(self, name: str, alias: str, version: int, reason: str | None) -> ModelVersion:
        body = {"version": version, "reason": reason}
        return self._send("PUT", ModelVersion, f"/models/{_seg(name)}/aliases/{_seg(alias)}", body)

    def delete_alias(self, name: str, alias: str, reason: str | None) -> None:
        self._do("DELETE", f"/models/{_seg(name)}/aliases/{_seg(alias)}", reason=reason)

    def rollback(self, name: str, alias: str, reason: str | None) -> ModelVersion:
        path = f"/models/{_seg(name)}/aliases/{_seg(alias)}/rollback"
        return self._send("POST", ModelVersion, path, {"reason": reason})

    def archive_model_version(self, name: str, version: int, reason: str | None) -> ModelVersion:
        path = f"/models/{_seg(name)}/versions/{_seg(version)}/archive"
        return self._send("POST", ModelVersion, path, {"reason": reason})

    def model_events(self, name: str) -> list[ModelEvent]:
        return self._get(list[ModelEvent], f"/models/{_seg(name)}/events")

    def model_lineage(self, ref: ModelRef) -> Lineage:
        return self._get(Lineage, f"/models/{_seg(ref.name)}/versions/{_ref_seg(ref)}/lineage")

    def compare_model_versions(self, a: ModelRef, b: ModelRef) -> VersionComparison:
        return self._get(VersionComparison, f"/models/{_seg(a.name)}/compare", a=_ref_param(a), b=_ref_param(b))

    # keys and audit ------------------------------------------------------------------------------

    def create_api_key(self, name: str, scopes: str | Sequence[Scope | str]) -> tuple[ApiKey, str]:
        wanted = scopes if isinstance(scopes, str) else [str(scope) for scope in scopes]
        created = self._send("POST", dict[str, Any], "/keys", {"name": name, "scopes": wanted})
        return decode(ApiKey, created["key"]), str(created["secret"])

    def list_api_keys(self) -> list[ApiKey]:
        return self._every(ApiKeyPage, "/keys")

    def revoke_api_key(self, name: str) -> ApiKey:
        return self._send("DELETE", ApiKey, f"/keys/{_seg(name)}")

    def audit_log(self, limit: int, since: int | None) -> list[AuditEntry]:
        return self._get(list[AuditEntry], "/audit", limit=limit, since=since)

    # deployments ---------------------------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model: str,
        canary: Mapping[str, Any] | None,
        shadow: Mapping[str, Any] | None,
        config: Mapping[str, Any] | None,
    ) -> Deployment:
        body = {"name": name, "model": model, "canary": canary, "shadow": shadow, "config": config}
        return self._send("POST", Deployment, "/deployments", body)

    def get_deployment(self, name: str) -> Deployment:
        return self._get(Deployment, f"/deployments/{_seg(name)}")

    def list_deployments(self) -> list[Deployment]:
        return self._every(DeploymentPage, "/deployments")

    def deployment_traffic(self, name: str) -> Traffic:
        return self._get(Traffic, f"/deployments/{_seg(name)}/traffic")

    def update_deployment(self, name: str, changes: Mapping[str, Any]) -> Deployment:
        body = {("model" if key == "model_ref" else key): value for key, value in changes.items()}
        return self._send("PATCH", Deployment, f"/deployments/{_seg(name)}", body)

    def delete_deployment(self, name: str) -> None:
        self._do("DELETE", f"/deployments/{_seg(name)}")

    def rollback_deployment(self, name: str) -> Deployment:
        return self._send("POST", Deployment, f"/deployments/{_seg(name)}/rollback")

    def promote_deployment(self, name: str) -> Deployment:
        return self._send("POST", Deployment, f"/deployments/{_seg(name)}/promote")

    def deployment_events(self, name: str, limit: int) -> list[DeploymentEvent]:
        return self._get(list[DeploymentEvent], f"/deployments/{_seg(name)}/events", limit=limit)

    # monitors ------------------------------------------------------------------------------------
    # Records are rebuilt from their to_dict() form with the monitoring package's from_dict,
    # imported on first use: it loads pandas, which a client that only tracks runs does not need.

    def create_monitor(self, name: str, deployment: str, config: Mapping[str, Any] | None, enabled: bool) -> Monitor:
        body = {"name": name, "deployment": deployment, "config": config, "enabled": enabled}
        return _monitor(self._send("POST", dict[str, Any], "/monitors", body))

    def get_monitor(self, name: str) -> Monitor:
        return _monitor(self._get(dict[str, Any], f"/monitors/{_seg(name)}"))

    def list_monitors(self, deployment: str | None) -> list[Monitor]:
        return [_monitor(_plain(view)) for view in self._every(MonitorPage, "/monitors", deployment=deployment)]

    def update_monitor(self, name: str, changes: Mapping[str, Any]) -> Monitor:
        return _monitor(self._send("PATCH", dict[str, Any], f"/monitors/{_seg(name)}", dict(changes)))

    def delete_monitor(self, name: str) -> None:
        self._do("DELETE", f"/monitors/{_seg(name)}")

    def run_monitor(self, name: str) -> dict[str, Any]:
        done: dict[str, Any] = self._send("POST", dict[str, Any], f"/monitors/{_seg(name)}/run")
        return done

    def monitor_results(self, name: str, limit: int) -> list[MonitorResult]:
        from mlpilot.monitoring.monitors import MonitorResult

        found: list[MonitorResult] = []
        token: str | None = None
        while len(found) < limit:
            page = self._get(
                MonitorResultPage, f"/monitors/{_seg(name)}/results", max_results=limit - len(found), page_token=token
            )
            found.extend(MonitorResult.from_dict(_plain(view)) for view in page.records())
            if not page.next_page_token or page.next_page_token == token:
                break
            token = page.next_page_token
        return found[:limit]

    def list_alerts(self, monitor: str | None, deployment: str | None, state: str | None) -> list[Alert]:
        from mlpilot.monitoring.monitors import Alert

        views = self._every(AlertPage, "/alerts", monitor=monitor, deployment=deployment, state=state)
        return [Alert.from_dict(_plain(view)) for view in views]

    def fit_reference(self, ref: ModelRef) -> dict[str, Any]:
        fitted: dict[str, Any] = self._send("POST", dict[str, Any], _reference_path(ref))
        return fitted

    def get_reference(self, ref: ModelRef) -> dict[str, Any]:
        found: dict[str, Any] = self._get(dict[str, Any], _reference_path(ref))
        return found

    # DORA ----------------------------------------------------------------------------------------

    def dora(self, since: str | None, until: str | None, deployment: str | None) -> dict[str, Any]:
        report: dict[str, Any] = self._get(dict[str, Any], "/dora", since=since, until=until, deployment=deployment)
        return report


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _ref_param(ref: ModelRef) -> str:
    if ref.alias is not None:
        return f"@{ref.alias}"
    return "latest" if ref.version is None else str(ref.version)


def _verified(data: bytes, sha256: str | None, what: str) -> bytes:
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise _tampered(what, sha256)
    return data


def _tampered(what: str, sha256: str) -> IntegrityError:
    return IntegrityError(
        f"the bytes received for {what!r} do not match their sha256 {sha256}",
        hint="The download was corrupted or the stored file changed; try again, then check the server's store.",
    )


def _reference_path(ref: ModelRef) -> str:
    return f"/models/{_seg(ref.name)}/versions/{_ref_seg(ref)}/reference"


def _monitor(data: Mapping[str, Any]) -> Monitor:
    from mlpilot.monitoring.monitors import Monitor

    return Monitor.from_dict(data)


def _plain(view: Any) -> dict[str, Any]:
    """A record of a page, as the server sent it (the fields it left out stay out)."""
    found: dict[str, Any] = view.model_dump(exclude_unset=True)
    return found
