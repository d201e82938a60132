"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts``) and artifact listing, on run artifacts.

The client addresses a run's artifacts as ``<experiment>/<run id>/artifacts/<path>`` (the run's
``artifact_uri``); they are stored content-addressed like every mlpilot artifact.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mlpilot.server.audit_scope import audit_as
from mlpilot.server.deps import Caller, Reader, Writer
from mlpilot.server.mlflow.convert import artifact_root
from mlpilot.server.mlflow.errors import MlflowError, MlflowRoute
from mlpilot.server.mlflow.protocol import Payload, field_str, reply, required_str
from mlpilot.server.routes.artifacts import receive_artifact, stream_blob
from mlpilot.tracking import artifacts as artifact_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking.artifacts import ArtifactEntry

router = APIRouter(route_class=MlflowRoute)
proxy = APIRouter(route_class=MlflowRoute)


def _locate(path: str) -> tuple[str, str]:
    """``<experiment>/<run>/artifacts[/<rest>]`` → (run id, rest)."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 3 or parts[2] != "artifacts":
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"artifact path {path!r} is not under a run: expected <experiment>/<run id>/artifacts/...",
        )
    return parts[1], "/".join(parts[3:])


def _children(entries: list[ArtifactEntry], directory: str) -> list[dict[str, Any]]:
    """The files and folders directly inside ``directory`` (run-relative), paths relative to it."""
    base = f"{directory}/" if directory else ""
    files: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not entry.path.startswith(base):
            continue
        head, slash, _ = entry.path[len(base) :].partition("/")
        if slash:
            files.setdefault(head, {"path": head, "is_dir": True})
        else:
            files[head] = {"path": head, "is_dir": False, "file_size": entry.size}
    return [files[name] for name in sorted(files)]


def _listing(caller: Caller, run_id: str, directory: str) -> list[dict[str, Any]]:
    run_service.get_run(caller.db, run_id)
    entries = artifact_service.list_artifacts(caller.db, run_id, directory) if directory else None
    if entries is None:
        entries = artifact_service.list_artifacts(caller.db, run_id)
    return _children(entries, directory)


@router.get("/artifacts/list")
def list_run_artifacts(payload: Payload, caller: Reader) -> Response:
    run_id = field_str(payload, "run_id") or required_str(payload, "run_uuid")
    directory = (field_str(payload, "path") or "").strip("/")
    run = run_service.get_run(caller.db, run_id)
    experiment = "0" if run.experiment_name == caller.settings.experiment_name else str(run.experiment_id)
    files = _listing(caller, run_id, directory)
    prefix = f"{directory}/" if directory else ""
    body: dict[str, Any] = {
        "root_uri": artifact_root(experiment, run_id),
        "files": [{**item, "path": prefix + item["path"]} for item in files],
    }
    return reply(body)


@proxy.get("/artifacts")
def list_artifacts(payload: Payload, caller: Reader) -> Response:
    run_id, directory = _locate(field_str(payload, "path") or "")
    return reply({"files": _listing(caller, run_id, directory)})


@proxy.put("/artifacts/{path:path}", name="mlflow.artifact.upload")
async def upload_artifact(path: str, request: Request, caller: Writer) -> Response:
    run_id, relative = _locate(path)
    cleaned = artifact_service.clean_artifact_path(relative)
    audit_as(request, "artifact.upload", f"/runs/{run_id}/artifacts/{cleaned}")
    await receive_artifact(request, caller, run_id, cleaned)
    return reply({})


@proxy.get("/artifacts/{path:path}")
def download_artifact(path: str, caller: Reader) -> Response:
    run_id, relative = _locate(path)
    entry = artifact_service.find_artifact(caller.db, run_id, relative)
    return stream_blob(caller.content, entry.sha256, entry.size)


@proxy.api_route("/mpu/{action}/{path:path}", methods=["POST"])
def multipart(action: str, path: str, caller: Writer) -> Response:
    # The client falls back to a plain upload when the message starts with this sentence.
    raise MlflowError("NOT_IMPLEMENTED", "Multipart upload is not supported for the current artifact repository")
