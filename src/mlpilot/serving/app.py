"""The prediction API: `/v1/deployments/…`, the Open Inference Protocol under `/v2`, `/metrics`.

Handlers are plain Starlette endpoints over raw requests (orjson in and out, no per-request model
validation layer): on a small model the HTTP and JSON work costs more than the prediction, so
the hot path stays lean. ``create_serving_app`` is ``mlpilot serve``; ``serving_routes`` lets the
platform server answer the same routes for its stored deployments.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from mlpilot.apidocs import ASSETS, docs_assets, docs_response
from mlpilot.config import Settings, load_settings
from mlpilot.errors import InvalidInput, MlpilotError, NotReady, PayloadTooLarge
from mlpilot.models.signature import SignatureError
from mlpilot.security import ApiKey
from mlpilot.security import Scope as KeyScope
from mlpilot.security.keys import require_scope
from mlpilot.serving.fleet import Endpoint
from mlpilot.serving.metrics import CONTENT_TYPE
from mlpilot.serving.oip import decode_infer, encode_infer, model_metadata
from mlpilot.serving.openapi import deployment_openapi
from mlpilot.serving.payload import Payload, decode_json, decode_predict_body
from mlpilot.serving.runtime import ServingRuntime
from mlpilot.serving.version import Job, LoadedVersion, Outcome

__all__ = ["create_serving_app", "serving_routes"]

log = logging.getLogger(__name__)

_JSON = "application/json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# What nginx logs for a request whose client went away; it shows up as such in the metrics.
_CLIENT_CLOSED = 499
# Bodies larger than this are parsed in a thread: orjson holds the event loop for about 3 ms a MiB.
_PARSE_IN_THREAD = 1 << 20


def create_serving_app(settings: Settings | None = None) -> Starlette:
    """``mlpilot serve``: one deployment (``serve_model``), or every stored one when it is unset."""
    runtime = ServingRuntime(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    routes = [
        Route("/healthz", _health, methods=["GET"]),
        Route("/readyz", _handler(runtime, _readiness), methods=["GET"]),
        *serving_routes(runtime),
    ]
    if runtime.standalone:
        routes += [
            Route("/openapi.json", _handler(runtime, _standalone_openapi), methods=["GET"]),
            Route("/docs", _standalone_docs, methods=["GET"]),
        ]
    # The platform server mounts these itself; here they serve the docs pages of this app.
    routes.append(Mount(ASSETS, docs_assets(), name="docs-assets"))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.serving = runtime
    return app


def serving_routes(runtime: ServingRuntime) -> list[BaseRoute]:
    def route(path: str, handler: Callable[..., Awaitable[Response]], method: str) -> Route:
        return Route(path, _handler(runtime, handler), methods=[method])

    base = "/v1/deployments/{name}"
    model = "/v2/models/{name}"
    versioned = "/v2/models/{name}/versions/{version:int}"
    return [
        route("/metrics", _metrics, "GET"),
        route("/v1/deployments", _list_deployments, "GET"),
        route(base, _show_deployment, "GET"),
        route(f"{base}/predict", _predict, "POST"),
        route(f"{base}/feedback", _feedback, "POST"),
        route(f"{base}/openapi.json", _deployment_openapi, "GET"),
        Route(f"{base}/docs", _deployment_docs, methods=["GET"]),
        route("/v2", _server_metadata, "GET"),
        Route("/v2/health/live", _live, methods=["GET"]),
        route("/v2/health/ready", _readiness, "GET"),
        route(model, _model_metadata, "GET"),
        route(versioned, _model_metadata, "GET"),
        route(f"{model}/ready", _model_ready, "GET"),
        route(f"{versioned}/ready", _model_ready, "GET"),
        route(f"{model}/infer", _infer, "POST"),
        route(f"{versioned}/infer", _infer, "POST"),
    ]


class _Call:
    """One request in flight: its id, when it came in, and how its errors are shaped."""

    __slots__ = ("oip", "request", "request_id", "runtime", "started", "version")

    def __init__(self, runtime: ServingRuntime, request: Request) -> None:
        self.runtime = runtime
        self.request = request
        self.started = time.perf_counter()
        given = request.headers.get("x-request-id")
        self.request_id = given if given is not None and _REQUEST_ID.match(given) else uuid.uuid4().hex
        self.oip = request.url.path.startswith("/v2")
        # The version chosen to answer, once one is: a request that then fails still counts
        # against it (a canary that raises must show its own error rate).
        self.version = 0

    async def authorize(self, scope: KeyScope) -> ApiKey:
        presented = _bearer(self.request.headers.get("authorization"))
        keys = self.runtime.keys
        key = keys.cached(presented)
        if key is None:
            key = await run_in_threadpool(keys.authenticate, presented)
        require_scope(key, scope)
        self.runtime.limiter.take(key.name)
        return key

    async def body(self) -> bytes:
        limit = self.runtime.settings.serve_max_body_bytes
        declared = self.request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks = []
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def json(self) -> Any:
        body = await self.body()
        if len(body) > _PARSE_IN_THREAD:
            return await asyncio.to_thread(decode_json, body)
        return decode_json(body)

    def respond(self, content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY),
            status_code=status,
            media_type=_JSON,
            headers={"X-Request-ID": self.request_id, **(headers or {})},
        )

    def fail(self, error: MlpilotError) -> Response:
        status = 422 if isinstance(error, SignatureError) else error.http_status
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        retry_after = getattr(error, "retry_after", None)
        if status == 429 and retry_after is not None:
            headers["Retry-After"] = str(max(1, round(retry_after + 0.499)))
        detail: dict[str, Any] = {"code": error.code, "message": error.message, "hint": error.hint}
        if isinstance(error, SignatureError):
            detail["details"] = [problem.to_dict() for problem in error.problems]
        if self.oip:
            # The protocol's error shape is {"error": "<message>"}; the rest rides along.
            body = {"error": error.message, "code": error.code, "hint": error.hint, "request_id": self.request_id}
            if "details" in detail:
                body["details"] = detail["details"]
            return self.respond(body, status, headers)
        return self.respond({"error": {**detail, "request_id": self.request_id}}, status, headers)


Handler = Callable[[_Call], Awaitable[Response]]


def _handler(runtime: ServingRuntime, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        call = _Call(runtime, request)
        try:
            return await handler(call)
        except ClientDisconnect:
            return Response(status_code=_CLIENT_CLOSED)
        except MlpilotError as error:
            return call.fail(error)
        except Exception:
            log.exception("request %s failed", call.request_id)
            return call.fail(MlpilotError("the server failed to handle this request"))

    return endpoint


# --- predictions ------------------------------------------------------------------------------


async def _predict(call: _Call) -> Response:
    return await _observed(call, "predict", _predict_inner)


async def _predict_inner(call: _Call, name: str) -> tuple[Response, str]:
    runtime = call.runtime
    await call.authorize(KeyScope.PREDICT)
    endpoint = runtime.fleet.get(name)
    # Routed before the body is read: a deployment still loading its model answers 503 to every
    # request, so a client probing with an empty batch learns it is not ready rather than a 400.
    loaded, role = endpoint.route(call.request.headers.get("x-routing-key"))
    body = await call.body()
    content_type = call.request.headers.get("content-type", _JSON)
    max_rows = runtime.settings.serve_max_rows
    if len(body) > _PARSE_IN_THREAD:
        payload, probabilities = await asyncio.to_thread(decode_predict_body, body, content_type, max_rows)
    else:
        payload, probabilities = decode_predict_body(body, content_type, max_rows)
    call.version = loaded.version
    _mirror(call, endpoint.shadow(), loaded, payload)
    outcome = await loaded.predict(Job(payload, probabilities, call.request_id, role, call.started))
    content: dict[str, Any] = {
        "deployment": name,
        "model": loaded.model_name,
        "version": loaded.version,
        "request_id": call.request_id,
        "predictions": outcome.predictions,
        "prediction_ids": outcome.prediction_ids,
    }
    if outcome.probabilities is not None:
        content["probabilities"] = outcome.probabilities
        content["classes"] = loaded.classes
    if outcome.ignored_columns:
        content["ignored_columns"] = list(outcome.ignored_columns)
    headers = {"X-Model-Version": str(loaded.version), "X-Deployment-Role": role}
    return call.respond(content, headers=headers), str(loaded.version)


async def _infer(call: _Call) -> Response:
    return await _observed(call, "infer", _infer_inner)


async def _infer_inner(call: _Call, name: str) -> tuple[Response, str]:
    runtime = call.runtime
    await call.authorize(KeyScope.PREDICT)
    endpoint = runtime.fleet.get(name)
    number = call.request.path_params.get("version")
    if number is not None:
        loaded, role = endpoint.version(number), "primary"
    else:
        loaded, role = endpoint.route(call.request.headers.get("x-routing-key"))
    call.version = loaded.version
    request = decode_infer(await call.json(), loaded.signature, runtime.settings.serve_max_rows)
    wants_probabilities = "predict_proba" in request.outputs
    outcome: Outcome = await loaded.predict(
        Job(request.payload, wants_probabilities, call.request_id, role, call.started)
    )
    content = encode_infer(
        name, loaded.version, request.id or call.request_id, request.outputs, outcome.predictions, outcome.probabilities
    )
    return call.respond(content, headers={"X-Model-Version": str(loaded.version)}), str(loaded.version)


async def _observed(
    call: _Call, route: str, inner: Callable[[_Call, str], Awaitable[tuple[Response, str]]]
) -> Response:
    """Count and time the request under its deployment (only known ones: names from the URL would
    let anyone grow the metrics without bound)."""
    name: str = call.request.path_params["name"]
    metrics = call.runtime.metrics
    label = name if name in call.runtime.fleet.endpoints else "unknown"
    version = ""
    gauge = metrics.in_flight.labels(label)
    gauge.inc()
    try:
        response, version = await inner(call, name)
    except ClientDisconnect:
        # The client hung up before sending its whole body: nobody to answer, and not our error.
        response = Response(status_code=_CLIENT_CLOSED)
    except MlpilotError as error:
        response = call.fail(error)
    except Exception:
        log.exception("request %s to %s failed", call.request_id, name)
        response = call.fail(MlpilotError("the server failed to handle this request"))
    finally:
        gauge.dec()
    metrics.requests.labels(label, version, route, str(response.status_code)).inc()
    if label != "unknown":
        call.runtime.tally.count(label, response.status_code, call.version)
    metrics.latency.labels(label, route).observe(time.perf_counter() - call.started)
    return response


def _mirror(call: _Call, shadow: LoadedVersion | None, serving: LoadedVersion, payload: Payload) -> None:
    """Send a copy to the shadow version, without waiting: its outputs are logged, never returned."""
    if shadow is None or shadow is serving:
        return
    task = asyncio.get_running_loop().create_task(
        shadow.predict(Job(payload, False, call.request_id, "shadow", call.started))
    )
    call.runtime.background.add(task)
    task.add_done_callback(_shadow_done(call.runtime))


def _shadow_done(runtime: ServingRuntime) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        runtime.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("shadow prediction failed: %s", task.exception())

    return done


# --- feedback ---------------------------------------------------------------------------------


async def _feedback(call: _Call) -> Response:
    from mlpilot import deployments as deployment_service
    from mlpilot.prediction_log import find_prediction_ids

    runtime = call.runtime
    key = await call.authorize(KeyScope.WRITE)
    name: str = call.request.path_params["name"]
    runtime.fleet.get(name)
    document = await call.json()
    labels = document.get("labels") if isinstance(document, dict) else None
    if not isinstance(labels, list) or not labels:
        raise InvalidInput(
            'the body must be {"labels": [{"prediction_id": "...", "label": ...}, ...]}',
            hint="Send the prediction ids from the predict responses with their true labels.",
        )
    pairs = []
    for position, item in enumerate(labels):
        if not isinstance(item, dict) or not isinstance(item.get("prediction_id"), str) or "label" not in item:
            raise InvalidInput(f'labels[{position}] needs "prediction_id" (text) and "label"')
        pairs.append((item["prediction_id"], item["label"]))
    if runtime.log is not None:
        # Predictions this worker made moments ago must be findable: write them out first.
        await asyncio.to_thread(runtime.log.flush)
    root = runtime.predictions_root
    result = await asyncio.to_thread(
        deployment_service.record_feedback,
        runtime.db,
        name,
        pairs,
        known_ids=lambda ids: find_prediction_ids(root, name, ids),
        actor=f"key:{key.name}",
        registered=not runtime.standalone,
    )
    return call.respond(
        {"accepted": result.accepted, "updated": result.updated, "unknown_ids": list(result.unknown_ids)}
    )


# --- deployments, metadata, health ------------------------------------------------------------


async def _list_deployments(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    fleet = call.runtime.fleet
    return call.respond({"deployments": [_describe(fleet.endpoints[name]) for name in sorted(fleet.endpoints)]})


async def _show_deployment(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    return call.respond(_describe(call.runtime.fleet.get(call.request.path_params["name"])))


def _describe(endpoint: Endpoint) -> dict[str, Any]:
    binding = endpoint.binding
    return {
        "name": endpoint.name,
        "model": endpoint.model,
        "ready": endpoint.ready,
        "primary": binding.primary if binding else None,
        "canary": {"version": binding.canary[0], "weight": binding.canary[1]} if binding and binding.canary else None,
        "shadow": {"version": binding.shadow[0], "share": binding.shadow[1]} if binding and binding.shadow else None,
        "loaded_versions": sorted(endpoint.versions),
        "problem": endpoint.failure,
    }


async def _deployment_openapi(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    return call.respond(_openapi_of(call, call.request.path_params["name"]))


async def _standalone_openapi(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    names = list(call.runtime.fleet.endpoints)
    if not names:
        raise NotReady("the model is not loaded yet")
    return call.respond(_openapi_of(call, names[0]))


def _openapi_of(call: _Call, name: str) -> dict[str, Any]:
    endpoint = call.runtime.fleet.get(name)
    loaded, _ = endpoint.route(None)
    return deployment_openapi(name, endpoint.model, loaded.version, loaded.signature, f"/v1/deployments/{name}")


async def _server_metadata(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    from importlib.metadata import version

    return call.respond({"name": "mlpilot", "version": version("mlpilot"), "extensions": []})


async def _model_metadata(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    endpoint = call.runtime.fleet.get(call.request.path_params["name"])
    number = call.request.path_params.get("version")
    loaded = endpoint.version(number) if number is not None else endpoint.route(None)[0]
    return call.respond(model_metadata(endpoint.name, sorted(endpoint.versions), loaded.signature, loaded.model.flavor))


async def _model_ready(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    endpoint = call.runtime.fleet.get(call.request.path_params["name"])
    number = call.request.path_params.get("version")
    ready = endpoint.ready if number is None else number in endpoint.versions
    return call.respond({"name": endpoint.name, "ready": ready}, 200 if ready else 503)


async def _metrics(call: _Call) -> Response:
    await call.authorize(KeyScope.READ)
    content = await asyncio.to_thread(call.runtime.render_metrics)
    return Response(content, media_type=CONTENT_TYPE, headers={"X-Request-ID": call.request_id})


async def _readiness(call: _Call) -> Response:
    fleet = call.runtime.fleet
    problems = {
        name: endpoint.failure or "not loaded yet" for name, endpoint in fleet.endpoints.items() if not endpoint.ready
    }
    if call.runtime.standalone and not fleet.endpoints:
        problems["model"] = "not loaded yet"
    ready = not problems
    return call.respond({"ready": ready, "problems": problems}, 200 if ready else 503)


async def _health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=_JSON)


async def _live(request: Request) -> Response:
    return Response(b'{"live":true}', media_type=_JSON)


async def _standalone_docs(request: Request) -> Response:
    # A page without data that asks for a key; the document it then loads needs the read scope.
    return docs_response("/openapi.json")


async def _deployment_docs(request: Request) -> Response:
    name = request.path_params["name"]
    return docs_response(f"/v1/deployments/{quote(name, safe='')}/openapi.json")


def _bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token if scheme.lower() == "bearer" else None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than this server's limit of {limit:,} bytes")
