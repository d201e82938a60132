"""Deployments: reading needs ``read``; creating, changing, rolling back and promoting ``deploy``.

The platform server also serves every stored deployment (``/v1/deployments/{name}/predict``,
mounted from ``mlpilot.serving``); these routes manage what it serves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mlpilot import deployments as deployment_service
from mlpilot.deployments import Deployment, DeploymentEvent, Traffic
from mlpilot.server.deps import Deployer, Reader, render
from mlpilot.server.paging import Paging
from mlpilot.wire.deployments import DeploymentBody, DeploymentUpdateBody
from mlpilot.wire.pages import DeploymentPage

router = APIRouter(prefix="/deployments", tags=["deployments"])


@router.post("", name="deployment.create", status_code=201, response_model=Deployment)
def create_deployment(body: DeploymentBody, caller: Deployer) -> Response:
    created = deployment_service.create_deployment(
        caller.db,
        body.name,
        body.model,
        canary=body.canary.as_split("weight") if body.canary is not None else None,
        shadow=body.shadow.as_split("share") if body.shadow is not None else None,
        config=body.config,
        actor=caller.actor,
    )
    return render(created, 201)


@router.get("", response_model=DeploymentPage)
def list_deployments(caller: Reader, paging: Paging) -> Response:
    """By name, one page at a time."""
    page = paging.take(
        lambda limit, after: deployment_service.list_deployments(caller.db, limit=limit, after=after),
        key=lambda deployment: deployment.name,
        kind=str,
    )
    return render(DeploymentPage.model_construct(deployments=page.items, next_page_token=page.next_page_token))


@router.get("/{name}", response_model=Deployment)
def get_deployment(name: str, caller: Reader) -> Response:
    return render(deployment_service.get_deployment(caller.db, name))


@router.get("/{name}/traffic", response_model=Traffic)
def deployment_traffic(name: str, caller: Reader) -> Response:
    """The versions serving it now: aliases resolved, a rollback's pin applied."""
    return render(deployment_service.resolve_traffic(caller.db, name))


@router.patch("/{name}", name="deployment.update", response_model=Deployment)
def update_deployment(name: str, body: DeploymentUpdateBody, caller: Deployer) -> Response:
    """Only the fields present change; ``null`` removes a canary, a shadow or the config."""
    return render(deployment_service.update_deployment(caller.db, name, **body.changes(), actor=caller.actor))


@router.delete("/{name}", name="deployment.delete", status_code=204)
def delete_deployment(name: str, caller: Deployer) -> Response:
    deployment_service.delete_deployment(caller.db, name, actor=caller.actor)
    return Response(status_code=204)


@router.post("/{name}/rollback", name="deployment.rollback", response_model=Deployment)
def rollback_deployment(name: str, caller: Deployer) -> Response:
    """Pin all traffic to the version served before the current one; the canary is dropped."""
    return render(deployment_service.rollback_deployment(caller.db, name, actor=caller.actor))


@router.post("/{name}/promote", name="deployment.promote", response_model=Deployment)
def promote_deployment(name: str, caller: Deployer) -> Response:
    """The canary becomes the primary and takes all traffic."""
    return render(deployment_service.promote_deployment(caller.db, name, actor=caller.actor))


@router.get("/{name}/events", response_model=list[DeploymentEvent])
def deployment_events(name: str, caller: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    """Newest first: who created, changed, rolled back or promoted it, and the versions involved."""
    return render(deployment_service.deployment_events(caller.db, name, limit=limit))
