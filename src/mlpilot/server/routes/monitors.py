"""Monitors, their results and alerts, and the reference profiles they compare with.

Reading needs ``read``; creating, changing, deleting and running a monitor ``deploy`` (like the
deployments it watches); fitting a model version's reference ``write`` (like registering it).
Every response shows a webhook secret only as its mask, ``"***"``.

Results and alerts are listed newest first, paged like every listing (``max_results`` and
``page_token``): a page's ``next_page_token`` resumes right before its last (oldest) record.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from mlpilot.models.cache import model_cache_root
from mlpilot.monitoring import monitors as monitor_service
from mlpilot.monitoring import references as reference_service
from mlpilot.monitoring.runner import run_monitor
from mlpilot.registry import version_ref
from mlpilot.registry import versions as version_service
from mlpilot.server.deps import Deployer, Reader, Writer, render
from mlpilot.server.paging import Paging
from mlpilot.spark.monitor_engine import monitor_log_reader
from mlpilot.wire.monitors import (
    MonitorBody,
    MonitorRunView,
    MonitorUpdateBody,
    MonitorView,
    ReferenceView,
)
from mlpilot.wire.pages import AlertPage, MonitorPage, MonitorResultPage

router = APIRouter(tags=["monitors"])

RefParam = Annotated[str, Path(description='A version number, "latest", or "@alias".')]
DeploymentFilter = Annotated[str | None, Query(description="Only the monitors of this deployment.")]


@router.post("/monitors", name="monitor.create", status_code=201, response_model=MonitorView)
def create_monitor(body: MonitorBody, caller: Deployer) -> Response:
    """Watch ``deployment``'s prediction log; ``config`` is checked field by field (400 naming it)."""
    created = monitor_service.create_monitor(
        caller.db,
        body.name,
        body.deployment,
        body.config,
        actor=caller.actor,
        enabled=body.enabled,
    )
    return render(created.to_dict(), 201)


@router.get("/monitors", response_model=MonitorPage)
def list_monitors(caller: Reader, paging: Paging, deployment: DeploymentFilter = None) -> Response:
    """By name, one page at a time."""
    page = paging.take(
        lambda limit, after: monitor_service.list_monitors(caller.db, deployment=deployment, limit=limit, after=after),
        key=lambda monitor: monitor.name,
        kind=str,
    )
    return render(_page("monitors", [monitor.to_dict() for monitor in page.items], page.next_page_token))


@router.get("/monitors/{name}", response_model=MonitorView)
def get_monitor(name: str, caller: Reader) -> Response:
    return render(monitor_service.get_monitor(caller.db, name).to_dict())


@router.patch("/monitors/{name}", name="monitor.update", response_model=MonitorView)
def update_monitor(name: str, body: MonitorUpdateBody, caller: Deployer) -> Response:
    """Only the fields present change. A ``config`` replaces the whole config (``null``: the
    defaults); a webhook secret sent back as ``"***"`` keeps the stored one."""
    return render(monitor_service.update_monitor(caller.db, name, **body.changes()).to_dict())


@router.delete("/monitors/{name}", name="monitor.delete", status_code=204)
def delete_monitor(name: str, caller: Deployer) -> Response:
    """The monitor, its results and its alerts."""
    monitor_service.delete_monitor(caller.db, name)
    return Response(status_code=204)


@router.post("/monitors/{name}/run", name="monitor.run", response_model=MonitorRunView)
def run_monitor_now(name: str, caller: Deployer) -> Response:
    """Evaluate the window ending now, store the result, open or resolve alerts. Webhooks are
    delivered (with retries) before this answers; ``deliveries`` says how each went."""
    done = run_monitor(
        caller.db,
        caller.content,
        name,
        predictions_root=caller.settings.resolved_predictions_uri(),
        cache_root=model_cache_root(caller.settings.home),
        reader=monitor_log_reader(caller.settings),
    )
    return render(done.to_dict())


@router.get("/monitors/{name}/results", response_model=MonitorResultPage)
def monitor_results(name: str, caller: Reader, paging: Paging) -> Response:
    """Newest first, one page at a time; ``next_page_token`` continues with older results."""
    page = paging.take(
        lambda limit, before: monitor_service.list_results(caller.db, name, limit=limit, before=before),
        key=lambda result: result.id,
        kind=int,
    )
    return render(_page("results", [result.to_dict() for result in page.items], page.next_page_token))


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    caller: Reader,
    paging: Paging,
    monitor: Annotated[str | None, Query(description="Only this monitor's alerts.")] = None,
    deployment: Annotated[str | None, Query(description="Only the alerts of this deployment's monitors.")] = None,
    state: Annotated[Literal["open", "resolved"] | None, Query(description="Only open or resolved ones.")] = None,
) -> Response:
    """Newest first, one page at a time; ``next_page_token`` continues with older alerts."""
    page = paging.take(
        lambda limit, before: monitor_service.list_alerts(
            caller.db, monitor=monitor, deployment=deployment, state=state, limit=limit, before=before
        ),
        key=lambda alert: alert.id,
        kind=int,
    )
    return render(_page("alerts", [alert.to_dict() for alert in page.items], page.next_page_token))


@router.get("/models/{name}/versions/{version}/reference", response_model=ReferenceView)
def get_reference(name: str, version: RefParam, caller: Reader) -> Response:
    """The stored reference profile of a model version; 404 until one is fitted (by this route's
    POST, or by the first run of a monitor on it)."""
    found = version_service.get_version(caller.db, version_ref(name, version))
    return render(reference_service.get_reference(caller.db, caller.content, found).to_dict())


@router.post(
    "/models/{name}/versions/{version}/reference",
    name="model.reference.fit",
    status_code=201,
    response_model=ReferenceView,
)
def fit_reference(name: str, version: RefParam, caller: Writer) -> Response:
    """Fit (or refit) the reference now, from the training dataset the version's run logged; the
    model scores the sample rows, so its outputs get a reference too."""
    found = version_service.get_version(caller.db, version_ref(name, version))
    fitted = reference_service.fit_reference(
        caller.db, caller.content, found, cache_root=model_cache_root(caller.settings.home)
    )
    return render(fitted.to_dict(), 201)


def _page(field: str, records: list[dict[str, Any]], next_page_token: str | None) -> dict[str, Any]:
    # Plain dicts: the records are already in their to_dict() form, which the page model describes.
    return {field: records, "next_page_token": next_page_token}
