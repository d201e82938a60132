"""Mounting MLflow's routers on the platform server, and the paths they answer under."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from mlpilot.server.mlflow import artifacts, models, tracking
from mlpilot.server.mlflow.errors import MlflowError, MlflowRoute

__all__ = ["MLFLOW_PREFIXES", "include_mlflow"]

_API, _AJAX, _ARTIFACTS = "/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/2.0/mlflow-artifacts"
MLFLOW_PREFIXES = (f"{_API}/", f"{_AJAX}/", f"{_ARTIFACTS}/")

_unknown = APIRouter(route_class=MlflowRoute)


@_unknown.api_route("/{path:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"], include_in_schema=False)
def unknown_endpoint(path: str, request: Request) -> None:
    raise MlflowError("ENDPOINT_NOT_FOUND", f"No API endpoint {request.method} {request.url.path} on this server")


def include_mlflow(app: FastAPI) -> None:
    for prefix in (_API, _AJAX):
        for router in (tracking.router, artifacts.router, models.router, _unknown):
            app.include_router(router, prefix=prefix, include_in_schema=False)
    for router in (artifacts.proxy, _unknown):
        app.include_router(router, prefix=_ARTIFACTS, include_in_schema=False)
