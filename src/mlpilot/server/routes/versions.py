"""Model versions: register, read, describe, tag, archive; lineage and comparisons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from mlpilot.monitoring.references import fit_after_registration
from mlpilot.registry import ModelVersion, version_ref
from mlpilot.registry import lineage as lineage_service
from mlpilot.registry import versions as version_service
from mlpilot.registry.lineage import Lineage, VersionComparison
from mlpilot.server.deps import Caller, Reader, Writer, render
from mlpilot.server.paging import Paging
from mlpilot.wire.bodies import ModelUpdateBody, ReasonBody, RegisterBody
from mlpilot.wire.pages import ModelVersionPage

router = APIRouter(prefix="/models/{name}", tags=["versions"])

RefParam = Annotated[str, Path(description='A version number, "latest", or "@alias".')]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="A version number.")]  # 32-bit in the store


@router.post("/versions", name="model.register", status_code=201, response_model=ModelVersion)
def register_model(name: str, body: RegisterBody, caller: Writer) -> Response:
    """The next version of ``name`` from the model a run logged at ``artifact_path``; when the run
    read training data, its reference profile for monitoring is fitted as well."""
    version = version_service.register_model(
        caller.db,
        caller.content,
        body.run_id,
        body.artifact_path,
        name,
        actor=caller.actor,
        description=body.description,
        tags=body.tags,
        reason=body.reason,
    )
    fit_after_registration(caller.db, caller.content, version)
    return render(version, 201)


@router.get("/versions", response_model=ModelVersionPage)
def list_model_versions(name: str, caller: Reader, paging: Paging, include_archived: bool = True) -> Response:
    """Oldest first (by number), one page at a time."""
    page = paging.take(
        lambda limit, after: version_service.list_versions(
            caller.db, name, include_archived=include_archived, limit=limit, after=after
        ),
        key=lambda version: version.version,
        kind=int,
    )
    return render(ModelVersionPage.model_construct(versions=page.items, next_page_token=page.next_page_token))


@router.get("/versions/{version}", response_model=ModelVersion)
def get_model_version(name: str, version: RefParam, caller: Reader) -> Response:
    return render(version_service.get_version(caller.db, version_ref(name, version)))


@router.patch("/versions/{version}", name="model.version.update", status_code=204)
def update_model_version(name: str, version: VersionNumber, body: ModelUpdateBody, caller: Writer) -> Response:
    update_model(caller, name, body, version)
    return Response(status_code=204)


@router.post("/versions/{version}/archive", name="model.archive", response_model=ModelVersion)
def archive_model_version(name: str, version: VersionNumber, body: ReasonBody, caller: Writer) -> Response:
    """Retire a version: it stays readable, is skipped by ``latest`` and cannot take aliases."""
    return render(version_service.archive_version(caller.db, name, version, actor=caller.actor, reason=body.reason))


@router.get("/versions/{version}/lineage", response_model=Lineage)
def model_lineage(name: str, version: RefParam, caller: Reader) -> Response:
    return render(lineage_service.lineage(caller.db, version_ref(name, version)))


@router.get("/compare", response_model=VersionComparison)
def compare_model_versions(name: str, a: str, b: str, caller: Reader) -> Response:
    """Params, metrics, datasets and code that differ between versions ``a`` and ``b``."""
    return render(lineage_service.compare_versions(caller.db, version_ref(name, a), version_ref(name, b)))


def update_model(caller: Caller, name: str, body: ModelUpdateBody, version: int | None) -> None:
    """Set the description (when given, even as null) and merge tags, of a model or one version."""
    if "description" in body.model_fields_set:
        version_service.set_description(caller.db, name, body.description, version=version, actor=caller.actor)
    if body.tags:
        version_service.set_tags(caller.db, name, body.tags, version=version, actor=caller.actor)
