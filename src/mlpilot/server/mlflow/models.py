"""MLflow 3's logged models and the model registry, over mlpilot's runs and registry.

A logged model's files go to ``<name>/`` among its run's artifacts; registering one (or any MLflow
model folder of a run) converts it into a real mlpilot version (``mlpilot.registry.mlflow_models``)
that ``mlpilot serve NAME@alias`` can serve, while the MLflow files stay loadable by the client.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mlpilot.errors import NotFound
from mlpilot.registry import aliases as alias_service
from mlpilot.registry import mlflow_models
from mlpilot.registry import versions as version_service
from mlpilot.registry.records import ModelVersion, VersionStatus
from mlpilot.registry.uri import ModelRef
from mlpilot.server.audit_scope import audit_as
from mlpilot.server.deps import Caller, Deployer, Reader, Writer
from mlpilot.server.mlflow.convert import DEFAULT_ID, logged_model_json, model_json, version_json, version_source
from mlpilot.server.mlflow.errors import MlflowError, MlflowRoute
from mlpilot.server.mlflow.protocol import Payload, field_str, key_values, reply, required_str
from mlpilot.tracking import logged_models
from mlpilot.tracking import runs as run_service

router = APIRouter(route_class=MlflowRoute)


def _experiment_of(caller: Caller, run_id: str) -> str:
    run = run_service.get_run(caller.db, run_id)
    return DEFAULT_ID if run.experiment_name == caller.settings.experiment_name else str(run.experiment_id)


# --- logged models -----------------------------------------------------------------------------


@router.post("/logged-models", name="mlflow.logged_model.create")
def create_logged_model(payload: Payload, caller: Writer, request: Request) -> Response:
    run_id = field_str(payload, "source_run_id")
    audit_as(request, "mlflow.logged_model.create", f"/runs/{run_id}/logged-models")
    model = logged_models.create_logged_model(
        caller.db,
        run_id,
        field_str(payload, "name"),
        model_type=field_str(payload, "model_type"),
        tags=key_values(payload, "tags"),
        params=key_values(payload, "params"),
    )
    return reply({"model": logged_model_json(model, _experiment_of(caller, model.run_id))})


@router.get("/logged-models/{model_id}")
def get_logged_model(model_id: str, caller: Reader) -> Response:
    model = logged_models.get_logged_model(caller.db, model_id)
    return reply({"model": logged_model_json(model, _experiment_of(caller, model.run_id))})


@router.patch("/logged-models/{model_id}", name="mlflow.logged_model.finalize")
def finalize_logged_model(model_id: str, payload: Payload, caller: Writer) -> Response:
    model = logged_models.update_logged_model(caller.db, model_id, status=field_str(payload, "status"))
    return reply({"model": logged_model_json(model, _experiment_of(caller, model.run_id))})


@router.patch("/logged-models/{model_id}/tags", name="mlflow.logged_model.set_tags")
def set_logged_model_tags(model_id: str, payload: Payload, caller: Writer) -> Response:
    logged_models.update_logged_model(caller.db, model_id, tags=key_values(payload, "tags"))
    return reply()


@router.delete("/logged-models/{model_id}/tags/{key}", name="mlflow.logged_model.delete_tag")
def delete_logged_model_tag(model_id: str, key: str, caller: Writer) -> Response:
    logged_models.update_logged_model(caller.db, model_id, delete_tag=key)
    return reply()


@router.post("/logged-models/search")
def search_logged_models(payload: Payload, caller: Reader) -> Response:
    # The client searches by source run (``source_run_id = '…'``) to resolve runs:/ URIs.
    text = field_str(payload, "filter") or ""
    run_id = text.partition("=")[2].strip().strip("'\"") if "source_run_id" in text else None
    if not run_id:
        return reply({"models": []})
    run = run_service.get_run(caller.db, run_id)
    experiment = _experiment_of(caller, run_id)
    found = logged_models.run_logged_models(run.id, run.experiment_id, run.tags)
    return reply({"models": [logged_model_json(model, experiment) for model in found]})


# --- registered models -------------------------------------------------------------------------


def _versions(caller: Caller, name: str) -> list[ModelVersion]:
    return version_service.list_versions(caller.db, name)


def _version_body(caller: Caller, version: ModelVersion) -> dict[str, Any]:
    return version_json(version, _experiment_of(caller, version.run_id))


def _model_body(caller: Caller, name: str) -> dict[str, Any]:
    model = version_service.get_model(caller.db, name)
    ready = [version for version in _versions(caller, name) if version.status is VersionStatus.READY]
    return model_json(model, [_version_body(caller, ready[-1])] if ready else [])


@router.post("/registered-models/create", name="mlflow.model.create")
def create_registered_model(payload: Payload, caller: Writer, request: Request) -> Response:
    name = required_str(payload, "name")
    audit_as(request, "mlflow.model.create", f"/models/{name}")
    mlflow_models.create_registered_model(
        caller.db, name, description=field_str(payload, "description"), tags=key_values(payload, "tags")
    )
    return reply({"registered_model": _model_body(caller, name)})


@router.get("/registered-models/get")
def get_registered_model(payload: Payload, caller: Reader) -> Response:
    return reply({"registered_model": _model_body(caller, required_str(payload, "name"))})


@router.get("/registered-models/search")
def search_registered_models(payload: Payload, caller: Reader) -> Response:
    text = field_str(payload, "filter") or ""
    names = [model.name for model in version_service.list_models(caller.db)]
    if text.strip():
        wanted = text.partition("=")[2].strip().strip("'\"") if "=" in text else None
        if wanted is None:
            raise MlflowError("INVALID_PARAMETER_VALUE", f"unsupported filter {text!r}: use name = '...'")
        names = [name for name in names if name == wanted]
    return reply({"registered_models": [_model_body(caller, name) for name in names]})


@router.api_route("/registered-models/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions(payload: Payload, caller: Reader) -> Response:
    ready = [v for v in _versions(caller, required_str(payload, "name")) if v.status is VersionStatus.READY]
    return reply({"model_versions": [_version_body(caller, ready[-1])] if ready else []})


@router.patch("/registered-models/update", name="mlflow.model.update")
def update_registered_model(payload: Payload, caller: Writer, request: Request) -> Response:
    name = required_str(payload, "name")
    audit_as(request, "model.update", f"/models/{name}")
    version_service.set_description(caller.db, name, field_str(payload, "description"), actor=caller.actor)
    return reply({"registered_model": _model_body(caller, name)})


@router.post("/registered-models/set-tag", name="mlflow.model.set_tag")
def set_registered_model_tag(payload: Payload, caller: Writer, request: Request) -> Response:
    name, key = required_str(payload, "name"), required_str(payload, "key")
    audit_as(request, "model.update", f"/models/{name}")
    version_service.set_tags(caller.db, name, {key: field_str(payload, "value") or ""}, actor=caller.actor)
    return reply()


# Moving an alias can change what a deployment serves: the deploy scope, as on /api/v1.
@router.post("/registered-models/alias", name="mlflow.model.set_alias")
def set_alias(payload: Payload, caller: Deployer, request: Request) -> Response:
    name, alias = required_str(payload, "name"), required_str(payload, "alias")
    audit_as(request, "model.alias.set", f"/models/{name}/aliases/{alias}")
    alias_service.set_alias(caller.db, name, alias, _number(required_str(payload, "version")), actor=caller.actor)
    return reply()


@router.delete("/registered-models/alias", name="mlflow.model.delete_alias")
def delete_alias(payload: Payload, caller: Deployer, request: Request) -> Response:
    name, alias = required_str(payload, "name"), required_str(payload, "alias")
    audit_as(request, "model.alias.delete", f"/models/{name}/aliases/{alias}")
    alias_service.delete_alias(caller.db, name, alias, actor=caller.actor)
    return reply()


@router.get("/registered-models/alias")
def get_version_by_alias(payload: Payload, caller: Reader) -> Response:
    ref = ModelRef(required_str(payload, "name"), alias=required_str(payload, "alias"))
    return reply({"model_version": _version_body(caller, version_service.get_version(caller.db, ref))})


# --- model versions ----------------------------------------------------------------------------


def _number(text: str) -> int:
    if not text.isdecimal() or len(text) > 9:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"model version {text!r} is not a version number")
    return int(text)


def _source_folder(caller: Caller, source: str, run_id: str | None, model_id: str | None) -> tuple[str, str]:
    """(run id, artifact folder) of an MLflow model source on this server."""
    if model_id or source.startswith("models:/m-"):
        logged = logged_models.get_logged_model(caller.db, model_id or source.removeprefix("models:/"))
        return logged.run_id, logged.artifact_path
    if source.startswith("runs:/"):
        found_run, _, path = source.removeprefix("runs:/").partition("/")
        return found_run, path
    if source.startswith("mlflow-artifacts:/"):
        parts = [part for part in source.removeprefix("mlflow-artifacts:").split("/") if part]
        if len(parts) >= 4 and parts[2] == "artifacts":
            return parts[1], "/".join(parts[3:])
    raise MlflowError(
        "INVALID_PARAMETER_VALUE",
        f"model source {source!r} is not a model folder of a run on this server "
        "(runs:/…, models:/m-… or mlflow-artifacts:/…)",
    )


@router.post("/model-versions/create", name="mlflow.version.create")
def create_model_version(payload: Payload, caller: Writer, request: Request) -> Response:
    name = required_str(payload, "name")
    audit_as(request, "model.register", f"/models/{name}/versions")
    run_id, folder = _source_folder(
        caller, required_str(payload, "source"), field_str(payload, "run_id"), field_str(payload, "model_id")
    )
    version = mlflow_models.register_mlflow_model(
        caller.db,
        caller.content,
        run_id,
        folder,
        name,
        actor=caller.actor,
        tags=key_values(payload, "tags"),
        description=field_str(payload, "description"),
    )
    return reply({"model_version": _version_body(caller, version)})


def _version_of(caller: Caller, payload: dict[str, Any]) -> ModelVersion:
    ref = ModelRef(required_str(payload, "name"), _number(required_str(payload, "version")))
    return version_service.get_version(caller.db, ref)


@router.get("/model-versions/get")
def get_model_version(payload: Payload, caller: Reader) -> Response:
    return reply({"model_version": _version_body(caller, _version_of(caller, payload))})


@router.get("/model-versions/get-download-uri")
def get_download_uri(payload: Payload, caller: Reader) -> Response:
    version = _version_of(caller, payload)
    return reply({"artifact_uri": version_source(version, _experiment_of(caller, version.run_id))})


@router.get("/model-versions/search")
def search_model_versions(payload: Payload, caller: Reader) -> Response:
    text = field_str(payload, "filter") or ""
    field, _, value = text.partition("=")
    value = value.strip().strip("'\"")
    field = field.strip()
    if field == "name":
        try:
            found = _versions(caller, value)
        except NotFound:
            found = []
    elif field == "run_id":
        found = [
            version
            for model in version_service.list_models(caller.db)
            for version in _versions(caller, model.name)
            if version.run_id == value
        ]
    else:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"unsupported filter {text!r}: use name = '...' or run_id = '...'")
    return reply({"model_versions": [_version_body(caller, version) for version in found]})


@router.patch("/model-versions/update", name="mlflow.version.update")
def update_model_version(payload: Payload, caller: Writer, request: Request) -> Response:
    version = _version_of(caller, payload)
    audit_as(request, "model.version.update", f"/models/{version.name}/versions/{version.version}")
    version_service.set_description(
        caller.db, version.name, field_str(payload, "description"), version=version.version, actor=caller.actor
    )
    return reply({"model_version": _version_body(caller, _version_of(caller, payload))})


@router.post("/model-versions/set-tag", name="mlflow.version.set_tag")
def set_model_version_tag(payload: Payload, caller: Writer, request: Request) -> Response:
    version = _version_of(caller, payload)
    audit_as(request, "model.version.update", f"/models/{version.name}/versions/{version.version}")
    key = required_str(payload, "key")
    values = {key: field_str(payload, "value") or ""}
    version_service.set_tags(caller.db, version.name, values, version=version.version, actor=caller.actor)
    return reply()


@router.post("/model-versions/transition-stage", name="mlflow.version.transition_stage")
def transition_stage(payload: Payload, caller: Writer, request: Request) -> Response:
    stage = (field_str(payload, "stage") or "").lower()
    version = _version_of(caller, payload)
    audit_as(request, "model.archive", f"/models/{version.name}/versions/{version.version}/archive")
    if stage != "archived":
        raise MlflowError(
            "NOT_IMPLEMENTED",
            "mlpilot uses aliases instead of stages: set one with MlflowClient().set_registered_model_alias",
        )
    archived = version_service.archive_version(caller.db, version.name, version.version, actor=caller.actor)
    return reply({"model_version": _version_body(caller, archived)})
