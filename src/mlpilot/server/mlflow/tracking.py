"""MLflow's tracking API (experiments, runs, params, metrics, tags, search) over mlpilot's services."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from mlpilot.errors import Conflict, InactiveRun
from mlpilot.server.audit_scope import audit_as
from mlpilot.server.deps import Caller, Reader, Writer
from mlpilot.server.mlflow.convert import (
    DEFAULT_ID,
    experiment_json,
    metric_json,
    mlflow_experiment_id,
    mlpilot_experiment_id,
    run_info_json,
    run_json,
)
from mlpilot.server.mlflow.errors import MlflowError, MlflowRoute
from mlpilot.server.mlflow.protocol import Payload, field_int, field_list, field_str, key_values, reply, required_str
from mlpilot.store.clock import now_ms
from mlpilot.tracking import batch as batch_service
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking import metrics as metric_service
from mlpilot.tracking import mlflow_runs
from mlpilot.tracking import runs as run_service
from mlpilot.tracking import search as search_service
from mlpilot.tracking.environment import GitState
from mlpilot.tracking.records import Run, RunStatus

router = APIRouter(route_class=MlflowRoute)

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
# Kept natively on the run (name, user, parent), so not stored twice as tags.
_NATIVE_TAGS = ("mlflow.runName", "mlflow.user", "mlflow.parentRunId")


def _experiment_id_of(caller: Caller, run: Run) -> str:
    return DEFAULT_ID if run.experiment_name == caller.settings.experiment_name else str(run.experiment_id)


def _run_body(caller: Caller, run: Run) -> dict[str, Any]:
    latest = mlflow_runs.latest_points(caller.db, [run.id]).get(run.id, [])
    return run_json(run, _experiment_id_of(caller, run), latest)


def _run_id(payload: dict[str, Any]) -> str:
    run_id = field_str(payload, "run_id") or field_str(payload, "run_uuid")
    if not run_id:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'.")
    return run_id


# --- experiments -------------------------------------------------------------------------------


@router.post("/experiments/create", name="mlflow.experiment.create")
def create_experiment(payload: Payload, caller: Writer, request: Request) -> Response:
    name = required_str(payload, "name")
    audit_as(request, "experiment.create", "/experiments")
    note = key_values(payload, "tags").get("mlflow.note.content")
    experiment = experiment_service.create_experiment(caller.db, name, note)
    return reply({"experiment_id": mlflow_experiment_id(experiment, caller.settings.experiment_name)})


@router.get("/experiments/get")
def get_experiment(payload: Payload, caller: Reader) -> Response:
    default = caller.settings.experiment_name
    ref = mlpilot_experiment_id(caller.db, default, required_str(payload, "experiment_id"))
    experiment = experiment_service.get_experiment(caller.db, ref)
    return reply({"experiment": experiment_json(experiment, default)})


@router.get("/experiments/get-by-name")
def get_experiment_by_name(payload: Payload, caller: Reader) -> Response:
    name = required_str(payload, "experiment_name")
    default = caller.settings.experiment_name
    if name == default:
        experiment = experiment_service.get_or_create_experiment(caller.db, name)
    else:
        with caller.db.read() as conn:
            found = experiment_service.resolve_experiment(conn, name)
        if found is None or found.name != name:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name '{name}'")
        experiment = found
    return reply({"experiment": experiment_json(experiment, default)})


@router.api_route("/experiments/search", methods=["GET", "POST"])
def search_experiments(payload: Payload, caller: Reader) -> Response:
    default = caller.settings.experiment_name
    experiment_service.get_or_create_experiment(caller.db, default)
    wanted = _name_filter(field_str(payload, "filter"))
    limit = field_int(payload, "max_results", 1000) or 1000
    after = field_int(payload, "page_token")
    found = experiment_service.list_experiments(caller.db, limit=None if wanted else limit + 1, after=after)
    if wanted is not None:
        found = [experiment for experiment in found if wanted(experiment.name)]
    page, more = found[:limit], len(found) > limit
    body: dict[str, Any] = {"experiments": [experiment_json(experiment, default) for experiment in page]}
    if more:
        body["next_page_token"] = str(page[-1].id)
    return reply(body)


def _name_filter(text: str | None) -> Any:
    """The one experiment filter supported: ``name = 'x'`` or ``name LIKE 'x%'``."""
    if not text or not text.strip():
        return None
    field, _, rest = text.strip().partition(" ")
    operator, _, literal = rest.strip().partition(" ")
    literal = literal.strip()
    if field.strip('`"') not in ("name", "attribute.name") or len(literal) < 2 or literal[0] not in "'\"":
        raise MlflowError("INVALID_PARAMETER_VALUE", f"unsupported experiment filter {text!r}: use name = '...'")
    value = literal[1:-1]
    op = operator.upper()
    if op == "=":
        return lambda name: name == value
    if op == "!=":
        return lambda name: name != value
    if op in ("LIKE", "ILIKE"):
        pattern = re.compile(
            "^" + re.escape(value).replace("%", ".*").replace("_", "."), re.IGNORECASE if op == "ILIKE" else 0
        )
        return lambda name: pattern.match(name) is not None
    raise MlflowError("INVALID_PARAMETER_VALUE", f"unsupported operator {operator!r} in experiment filter")


# --- runs --------------------------------------------------------------------------------------


@router.post("/runs/create", name="mlflow.run.create")
def create_run(payload: Payload, caller: Writer, request: Request) -> Response:
    audit_as(request, "run.create", "/runs")
    experiment_id = mlpilot_experiment_id(
        caller.db, caller.settings.experiment_name, field_str(payload, "experiment_id")
    )
    tags = key_values(payload, "tags")
    origin = run_service.RunOrigin(
        user=tags.get("mlflow.user") or field_str(payload, "user_id") or "unknown",
        entry_point=tags.get("mlflow.project.entryPoint") or tags.get("mlflow.source.name"),
        git=GitState(tags.get("mlflow.source.git.commit"), None, None),
        environment=None,
    )
    run = run_service.create_run(
        caller.db,
        experiment_id,
        origin,
        name=field_str(payload, "run_name") or tags.get("mlflow.runName") or None,
        tags={key: value for key, value in tags.items() if key not in _NATIVE_TAGS},
        parent_run_id=tags.get("mlflow.parentRunId"),
    )
    return reply({"run": _run_body(caller, run)})


@router.get("/runs/get")
def get_run(payload: Payload, caller: Reader) -> Response:
    return reply({"run": _run_body(caller, run_service.get_run(caller.db, _run_id(payload)))})


@router.post("/runs/update", name="mlflow.run.update")
def update_run(payload: Payload, caller: Writer, request: Request) -> Response:
    run_id = _run_id(payload)
    run = run_service.get_run(caller.db, run_id)
    status = field_str(payload, "status")
    wanted = _status(status) if status is not None else None
    if wanted is not None and not wanted.is_terminal and run.status.is_terminal:
        raise MlflowError("INVALID_PARAMETER_VALUE", _reopen_refusal(run))
    ending = wanted if wanted is not None and wanted.is_terminal and not run.status.is_terminal else None
    if ending is not None:
        audit_as(request, "run.end", f"/runs/{run_id}/end")
    else:
        audit_as(request, "mlflow.run.update", f"/runs/{run_id}")
    name = field_str(payload, "run_name")
    if name and name != run.name:
        mlflow_runs.rename_run(caller.db, run_id, name)
    if ending is not None:
        run_service.end_run(caller.db, run_id, ending)
    run = run_service.get_run(caller.db, run_id)
    return reply({"run_info": run_info_json(run, _experiment_id_of(caller, run))})


def _status(text: str) -> RunStatus:
    try:
        return RunStatus(text.upper())
    except ValueError:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"unsupported run status {text!r}") from None


def _reopen_refusal(run: Run) -> str:
    """What to do instead of resuming an ended run, which mlpilot keeps read-only (docs/mlflow.md)."""
    return (
        f"run {run.id} has ended ({run.status.value}) and mlpilot keeps ended runs read-only, so it cannot be "
        "resumed or logged to. Start a new run instead: mlflow.start_run() without run_id, or "
        f"mlflow.start_run(parent_run_id='{run.id}') to file the new run under it. Tags can still be set on it."
    )


@router.post("/runs/log-metric", name="mlflow.run.log_metric")
def log_metric(payload: Payload, caller: Writer, request: Request) -> Response:
    run_id = _run_id(payload)
    audit_as(request, "run.log_metrics", f"/runs/{run_id}/metrics")
    key = required_str(payload, "key")
    if "value" not in payload:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'value'.")
    point = metric_service.make_point(
        run_id, key, payload["value"], field_int(payload, "step", 0) or 0, field_int(payload, "timestamp") or now_ms()
    )
    metric_service.write_points(caller.db, [point])
    return reply()


@router.post("/runs/log-parameter", name="mlflow.run.log_param")
def log_param(payload: Payload, caller: Writer, request: Request) -> Response:
    key = required_str(payload, "key")
    run_id = _run_id(payload)
    audit_as(request, "run.log_params", f"/runs/{run_id}/params")
    _log_params(caller, run_id, {key: field_str(payload, "value") or ""})
    return reply()


def _log_params(caller: Caller, run_id: str, values: dict[str, str]) -> None:
    try:
        run_service.log_params(caller.db, run_id, values)
    except InactiveRun:
        raise
    except Conflict as exc:
        raise MlflowError("INVALID_PARAMETER_VALUE", exc.message) from exc


@router.post("/runs/set-tag", name="mlflow.run.set_tag")
def set_tag(payload: Payload, caller: Writer, request: Request) -> Response:
    key = required_str(payload, "key")
    value = field_str(payload, "value") or ""
    run_id = _run_id(payload)
    audit_as(request, "run.set_tags", f"/runs/{run_id}/tags")
    if key == "mlflow.runName":
        mlflow_runs.rename_run(caller.db, run_id, value)
    else:
        mlflow_runs.tag_run(caller.db, run_id, {key: value})
    return reply()


@router.post("/runs/delete-tag", name="mlflow.run.delete_tag")
def delete_tag(payload: Payload, caller: Writer, request: Request) -> Response:
    run_id = _run_id(payload)
    audit_as(request, "mlflow.run.delete_tag", f"/runs/{run_id}/tags")
    mlflow_runs.delete_tag(caller.db, run_id, required_str(payload, "key"))
    return reply()


@router.post("/runs/log-batch", name="mlflow.run.log_batch")
def log_batch(payload: Payload, caller: Writer, request: Request) -> Response:
    run_id = _run_id(payload)
    audit_as(request, "run.log_batch", f"/runs/{run_id}/batch")
    metrics = field_list(payload, "metrics")
    params = key_values(payload, "params")
    tags = key_values(payload, "tags")
    _check_batch(len(metrics), len(field_list(payload, "params")), len(field_list(payload, "tags")))
    when = now_ms()
    points = []
    for item in metrics:
        if not isinstance(item, dict) or "key" not in item or "value" not in item:
            raise MlflowError("INVALID_PARAMETER_VALUE", "every metric needs a 'key' and a 'value'")
        step, stamp = field_int(item, "step", 0) or 0, field_int(item, "timestamp") or when
        points.append(metric_service.make_point(run_id, item["key"], item["value"], step, stamp))
    try:
        batch_service.log_batch(caller.db, run_id, points, params, tags)
    except InactiveRun:
        raise
    except Conflict as exc:
        raise MlflowError("INVALID_PARAMETER_VALUE", exc.message) from exc
    return reply()


def _check_batch(metrics: int, params: int, tags: int) -> None:
    for what, count, limit in (
        ("metrics", metrics, MAX_METRICS_PER_BATCH),
        ("params", params, MAX_PARAMS_PER_BATCH),
        ("tags", tags, MAX_TAGS_PER_BATCH),
    ):
        if count > limit:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"A batch logging request can contain at most {limit} {what}. Got {count} {what}. "
                "Please split up the request into multiple requests.",
            )
    if metrics + params + tags > MAX_ENTITIES_PER_BATCH:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} metrics, params and tags in "
            f"total. Got {metrics + params + tags}.",
        )


@router.post("/runs/search")
def search_runs(payload: Payload, caller: Reader) -> Response:
    default = caller.settings.experiment_name
    ids = [mlpilot_experiment_id(caller.db, default, str(ref)) for ref in field_list(payload, "experiment_ids")]
    order = [str(item) for item in field_list(payload, "order_by")]
    page = search_service.search_runs(
        caller.db,
        list(ids) if ids else None,
        _native_fields(field_str(payload, "filter")),
        [_native_fields(item) or item for item in order] or None,
        field_int(payload, "max_results", 1000) or 1000,
        field_str(payload, "page_token") or None,
    )
    latest = mlflow_runs.latest_points(caller.db, [run.id for run in page])
    body: dict[str, Any] = {
        "runs": [run_json(run, _experiment_id_of(caller, run), latest.get(run.id, [])) for run in page]
    }
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return reply(body)


# MLflow filters on the tags it derives from run attributes; mlpilot keeps those as attributes.
_DERIVED_TAGS = re.compile(
    r"""\btags\.(?:(["`])mlflow\.(runName|user|parentRunId)\1|mlflow\.(runName|user|parentRunId)\b)"""
)
_ATTRIBUTE_OF = {"runName": "run_name", "user": "user", "parentRunId": "parent_run_id"}


def _native_fields(text: str | None) -> str | None:
    if not text:
        return None
    return _DERIVED_TAGS.sub(lambda found: "attributes." + _ATTRIBUTE_OF[found.group(2) or found.group(3)], text)


@router.get("/metrics/get-history")
def get_metric_history(payload: Payload, caller: Reader) -> Response:
    history = metric_service.get_metric_history(caller.db, _run_id(payload), required_str(payload, "metric_key"))
    offset = field_int(payload, "page_token", 0) or 0
    limit = field_int(payload, "max_results")
    page = history[offset:] if limit is None else history[offset : offset + limit]
    body: dict[str, Any] = {"metrics": [metric_json(point) for point in page]}
    if limit is not None and offset + limit < len(history):
        body["next_page_token"] = str(offset + limit)
    return reply(body)


@router.post("/runs/log-inputs", name="mlflow.run.log_inputs")
def log_inputs(payload: Payload, caller: Writer, request: Request) -> Response:
    # MLflow dataset inputs carry a digest and a source, not the data mlpilot versions; the run
    # must exist, and the inputs are acknowledged without being stored (docs/mlflow.md).
    run_id = _run_id(payload)
    audit_as(request, "mlflow.run.log_inputs", f"/runs/{run_id}")
    run_service.get_run(caller.db, run_id)
    return reply()


@router.post("/runs/outputs", name="mlflow.run.log_outputs")
def log_outputs(payload: Payload, caller: Writer, request: Request) -> Response:
    # The model outputs of a run are its logged models, already recorded when they were created.
    run_id = _run_id(payload)
    audit_as(request, "mlflow.run.log_outputs", f"/runs/{run_id}")
    run_service.get_run(caller.db, run_id)
    return reply()
