"""The FastAPI application: routers under /api/v1, errors as JSON, limits, offline docs.

``create_app()`` with no argument reads Settings, which is how uvicorn's worker processes build
it (``mlpilot.server.app:create_app`` with ``--factory``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from mlpilot.config import Settings, load_settings
from mlpilot.server.auth import Authenticate
from mlpilot.server.errors import ERROR_RESPONSES, install_error_handlers
from mlpilot.server.limits import BodyLimit
from mlpilot.server.routes import (
    aliases,
    artifacts,
    datasets,
    events,
    experiments,
    health,
    keys,
    metrics,
    models,
    runs,
    versions,
)
from mlpilot.server.state import open_state
from mlpilot.wire import API_PREFIX

__all__ = ["OPENAPI_URL", "create_app"]

OPENAPI_URL = f"{API_PREFIX}/openapi.json"
_ASSETS = "/docs-assets"


def create_app(settings: Settings | None = None) -> FastAPI:
    state = open_state(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
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
    for module in (experiments, runs, metrics, artifacts, datasets, models, versions, aliases, events, keys):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    _document_non_finite_numbers(app)
    _mount_docs(app)
    app.add_middleware(
        BodyLimit,
        json_limit=state.settings.server_max_body_bytes,
        upload_limit=state.settings.server_max_upload_bytes,
    )
    # Added last, so it runs first: no key, no body limit check, no parsing.
    app.add_middleware(Authenticate, state=state, prefix=f"{API_PREFIX}/", public=frozenset({OPENAPI_URL}))
    return app


_NON_FINITE = {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}


def _document_non_finite_numbers(app: FastAPI) -> None:
    """Say in the OpenAPI document what the wire does: any number may also be one of the strings
    "NaN", "Infinity" and "-Infinity" (JSON has no spelling for them; metrics can be all three)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_non_finite(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_non_finite(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "number":
            return {"anyOf": [node, _NON_FINITE]}
        return {key: _with_non_finite(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_non_finite(item) for item in node]
    return node


def _mount_docs(app: FastAPI) -> None:
    # Swagger UI's files come from a wheel (fastapi-offline), not a CDN: the docs work air-gapped.
    static = importlib.resources.files("fastapi_offline") / "static"
    app.mount(_ASSETS, StaticFiles(directory=str(static)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="mlpilot API",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon.png",
        )


def _version() -> str:
    # From the installed metadata: importing the mlpilot package would load the client too.
    return importlib.metadata.version("mlpilot")
