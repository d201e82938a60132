"""The FastAPI application: routers under /api/v1, errors as JSON, limits, offline docs.

``create_app()`` with no argument reads Settings, which is how uvicorn's worker processes build
it (``mlpilot.server.app:create_app`` with ``--factory``).

Everything under /api/v1 needs a key, the OpenAPI document included. ``/docs`` is a static page
without data that asks for a key and hands it to Swagger UI; Swagger UI's files and the page's
script (``/docs-assets``) are vendor and package files, public like the page.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response

from mlpilot.apidocs import ASSETS, docs_assets, docs_response
from mlpilot.config import Settings, load_settings
from mlpilot.models.cache import model_cache_root
from mlpilot.monitoring.scheduler import MonitorScheduler
from mlpilot.orchestration.scheduler import TriggerScheduler
from mlpilot.server.auth import API_KEY_SCHEME, Authenticate
from mlpilot.server.errors import ERROR_RESPONSES, install_error_handlers
from mlpilot.server.limits import BodyLimit
from mlpilot.server.mlflow.mount import MLFLOW_PREFIXES, include_mlflow
from mlpilot.server.routes import (
    aliases,
    artifacts,
    datasets,
    deployments,
    dora,
    events,
    experiments,
    health,
    keys,
    metrics,
    models,
    monitors,
    runs,
    versions,
)
from mlpilot.server.state import open_state
from mlpilot.server.ui import mount_ui
from mlpilot.serving.app import serving_routes
from mlpilot.serving.runtime import ServingRuntime
from mlpilot.spark.monitor_engine import monitor_log_reader
from mlpilot.wire import API_PREFIX

__all__ = ["OPENAPI_URL", "create_app"]

OPENAPI_URL = f"{API_PREFIX}/openapi.json"


def create_app(settings: Settings | None = None) -> FastAPI:
    state = open_state(settings or load_settings())
    # The prediction API of every stored deployment, on the same stores and port.
    serving = ServingRuntime(state.settings, db=state.db, content=state.content, stored_deployments=True)
    scheduler = MonitorScheduler(
        state.db,
        state.content,
        predictions_root=state.settings.resolved_predictions_uri(),
        cache_root=model_cache_root(state.settings.home),
        tick_seconds=state.settings.monitor_tick_seconds,
        reader=monitor_log_reader(state.settings),
    )
    triggers = TriggerScheduler(
        state.db,
        tracking_uri=state.settings.resolved_tracking_uri(),
        artifact_uri=state.settings.resolved_artifact_uri(),
        home=state.settings.home,
        tick_seconds=state.settings.pipeline_tick_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await serving.start()
        scheduler.start()
        triggers.start()
        try:
            yield
        finally:
            await asyncio.to_thread(triggers.stop)
            await asyncio.to_thread(scheduler.stop)
            await serving.stop()
            state.close()

    app = FastAPI(
        title="mlpilot",
        version=_version(),
        summary="Track, register and deploy models: the mlpilot platform API.",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.mlpilot = state
    install_error_handlers(app)
    app.include_router(health.router)
    for module in (
        experiments,
        runs,
        metrics,
        artifacts,
        datasets,
        models,
        versions,
        aliases,
        events,
        keys,
        deployments,
        monitors,
        dora,
    ):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    # Starlette routes outside /api/v1: they check keys themselves and are not in this document
    # (each deployment has its own, generated from its model's signature).
    app.router.routes.extend(serving_routes(serving))
    include_mlflow(app)  # MLflow's REST API on the same store (docs/mlflow.md)
    _finish_document(app)
    _mount_docs(app)
    mount_ui(app)
    app.add_middleware(
        BodyLimit,
        json_limit=state.settings.server_max_body_bytes,
        upload_limit=state.settings.server_max_upload_bytes,
        mlflow_prefixes=MLFLOW_PREFIXES,
    )
    # Added last, so it runs first: no key, no body limit check, no parsing.
    app.add_middleware(Authenticate, state=state, prefix=f"{API_PREFIX}/", mlflow_prefixes=MLFLOW_PREFIXES)
    return app


_NON_FINITE = {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}


def _finish_document(app: FastAPI) -> None:
    """Say in the OpenAPI document what the wire and the server do beyond what FastAPI infers:

    * any number may also be one of the strings "NaN", "Infinity" and "-Infinity" (JSON has no
      spelling for them; metrics can be all three);
    * the API key is required by default (a global security requirement), and the few routes
      that need none (the health checks) say so with an empty one, so a client generator or a
      scanner reading only the top level gets it right.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_security(_with_non_finite(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_security(document: dict[str, Any]) -> dict[str, Any]:
    document["security"] = [{API_KEY_SCHEME: []}]
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("security", [])
    return document


def _with_non_finite(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "number":
            return {"anyOf": [node, _NON_FINITE]}
        return {key: _with_non_finite(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_non_finite(item) for item in node]
    return node


def _mount_docs(app: FastAPI) -> None:
    app.mount(ASSETS, docs_assets(), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return docs_response(OPENAPI_URL)


def _version() -> str:
    # From the installed metadata: importing the mlpilot package would load the client too.
    return importlib.metadata.version("mlpilot")
