"""mlpilot records in MLflow's JSON shapes, and MLflow ids to mlpilot ones.

MLflow's experiment "0" is mlpilot's default experiment (``Settings.experiment_name``), which is
also shown as "0"; every other experiment keeps its mlpilot id. Run ids are the same 32-character
hex ids in both. Artifacts live at ``mlflow-artifacts:/<experiment>/<run>/artifacts``, which the
client resolves to this server's ``/api/2.0/mlflow-artifacts`` routes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlpilot.registry.mlflow_models import mlflow_folder_of
from mlpilot.registry.records import ModelVersion, RegisteredModel
from mlpilot.server.mlflow.errors import MlflowError
from mlpilot.store import Database
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking.logged_models import TAG_PREFIX, LoggedModel, run_logged_models
from mlpilot.tracking.records import Experiment, Metric, Run

__all__ = [
    "DEFAULT_ID",
    "artifact_root",
    "default_experiment",
    "experiment_json",
    "logged_model_json",
    "metric_json",
    "mlpilot_experiment_id",
    "model_json",
    "run_info_json",
    "run_json",
    "version_json",
]

DEFAULT_ID = "0"


def default_experiment(db: Database, name: str) -> Experiment:
    return experiment_service.get_or_create_experiment(db, name)


def mlpilot_experiment_id(db: Database, default_name: str, experiment_id: str | None) -> int:
    """The mlpilot id of an MLflow experiment id ("0" or none: the default experiment)."""
    if experiment_id in (None, "", DEFAULT_ID):
        return default_experiment(db, default_name).id
    if not experiment_id.isdecimal() or len(experiment_id) > 9:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"experiment id {experiment_id!r} is not a valid id")
    return int(experiment_id)


def mlflow_experiment_id(experiment: Experiment | int, default_name: str, default_id: int | None = None) -> str:
    if isinstance(experiment, Experiment):
        return DEFAULT_ID if experiment.name == default_name else str(experiment.id)
    return DEFAULT_ID if experiment == default_id else str(experiment)


def artifact_root(experiment_id: str, run_id: str) -> str:
    return f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def experiment_json(experiment: Experiment, default_name: str) -> dict[str, Any]:
    mlflow_id = mlflow_experiment_id(experiment, default_name)
    tags = [] if not experiment.description else [{"key": "mlflow.note.content", "value": experiment.description}]
    return {
        "experiment_id": mlflow_id,
        "name": experiment.name,
        "artifact_location": f"mlflow-artifacts:/{mlflow_id}",
        "lifecycle_stage": "active",
        "creation_time": experiment.created_at,
        "last_update_time": experiment.created_at,
        "tags": tags,
    }


def _number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric_json(metric: Metric) -> dict[str, Any]:
    return {"key": metric.key, "value": _number(metric.value), "timestamp": metric.timestamp, "step": metric.step}


def run_info_json(run: Run, experiment_id: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": experiment_id,
        "user_id": run.user,
        "status": run.status.value,
        "start_time": run.start_time,
        "artifact_uri": artifact_root(experiment_id, run.id),
        "lifecycle_stage": "active",
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run_json(run: Run, experiment_id: str, latest: Sequence[Metric]) -> dict[str, Any]:
    tags = {key: value for key, value in run.tags.items() if not key.startswith(TAG_PREFIX)}
    tags.setdefault("mlflow.runName", run.name)
    tags.setdefault("mlflow.user", run.user)
    if run.parent_run_id is not None:
        tags.setdefault("mlflow.parentRunId", run.parent_run_id)
    if run.git_commit is not None:
        tags.setdefault("mlflow.source.git.commit", run.git_commit)
    models = run_logged_models(run.id, run.experiment_id, run.tags)
    body: dict[str, Any] = {
        "info": run_info_json(run, experiment_id),
        "data": {
            "metrics": [metric_json(point) for point in latest],
            "params": [{"key": key, "value": value} for key, value in run.params.items()],
            "tags": [{"key": key, "value": value} for key, value in tags.items()],
        },
        "inputs": {},
    }
    if models:
        body["outputs"] = {"model_outputs": [{"model_id": model.model_id, "step": 0} for model in models]}
    return body


def logged_model_json(model: LoggedModel, experiment_id: str) -> dict[str, Any]:
    return {
        "info": {
            "model_id": model.model_id,
            "experiment_id": experiment_id,
            "name": model.name,
            "artifact_uri": f"{artifact_root(experiment_id, model.run_id)}/{model.artifact_path}",
            "creation_timestamp_ms": model.created_at,
            "last_updated_timestamp_ms": model.updated_at,
            "source_run_id": model.run_id,
            "status": "LOGGED_MODEL_" + ("READY" if model.status.endswith("READY") else "PENDING"),
            "tags": [{"key": key, "value": value} for key, value in model.tags.items()],
            **({"model_type": model.model_type} if model.model_type else {}),
        },
        "data": {"params": [{"key": key, "value": value} for key, value in model.params.items()], "metrics": []},
    }


def version_source(version: ModelVersion, experiment_id: str) -> str:
    folder = mlflow_folder_of(version.artifact_path) or version.artifact_path
    return f"{artifact_root(experiment_id, version.run_id)}/{folder}"


def version_json(version: ModelVersion, experiment_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
        "user_id": version.created_by,
        "current_stage": "Archived" if version.status.value == "ARCHIVED" else "None",
        "source": version_source(version, experiment_id),
        "run_id": version.run_id,
        "status": "READY",
        "tags": [{"key": key, "value": value} for key, value in version.tags.items()],
        "aliases": list(version.aliases),
    }
    if version.description:
        body["description"] = version.description
    return body


def model_json(model: RegisteredModel, latest: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": model.created_at,
        "last_updated_timestamp": model.updated_at,
        "tags": [{"key": key, "value": value} for key, value in model.tags.items()],
        "aliases": [{"alias": alias, "version": str(number)} for alias, number in _sorted(model.aliases)],
    }
    if model.description:
        body["description"] = model.description
    if latest:
        body["latest_versions"] = list(latest)
    return body


def _sorted(aliases: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(aliases.items())
