"""Datasets: versions uploaded as Parquet, listings, lineage to runs, data download, diffs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from mlpilot.data import DatasetDiff, DatasetVersion
from mlpilot.data import versions as datasets
from mlpilot.data.frames import from_parquet_bytes
from mlpilot.errors import InvalidInput
from mlpilot.server.deps import Caller, Reader, Writer, render
from mlpilot.server.paging import Paging
from mlpilot.server.routes.artifacts import stream_blob
from mlpilot.wire.pages import DatasetPage, DatasetVersionPage

router = APIRouter(prefix="/datasets", tags=["datasets"])

PARQUET = "application/vnd.apache.parquet"
VersionParam = Annotated[str, Path(description='A version number, or "latest".')]


class DatasetUse(BaseModel):
    run_id: str
    role: str


def _version(value: str) -> int | None:
    if value.lower() == "latest":
        return None
    if value.isdecimal():
        return int(value)
    raise InvalidInput(f"dataset version must be a number or 'latest', got {value!r}")


@router.post(
    "/{name:path}/versions",
    name="dataset.log",
    status_code=201,
    response_model=DatasetVersion,
    openapi_extra={"requestBody": {"required": True, "content": {PARQUET: {"schema": {"type": "string"}}}}},
)
async def log_dataset(
    name: str,
    request: Request,
    caller: Writer,
    run_id: str | None = None,
    role: str = "input",
    source: str | None = None,
) -> Response:
    """Version the Parquet body as dataset ``name`` (same content, same version); with ``run_id``,
    record that the run read it as ``role``."""
    data = await request.body()
    version = await run_in_threadpool(_log, caller, data, name, source, run_id, role)
    return render(version, 201)


def _log(caller: Caller, data: bytes, name: str, source: str | None, run_id: str | None, role: str) -> DatasetVersion:
    frame = from_parquet_bytes(data)
    return datasets.log_dataset(caller.db, caller.content, frame, name, source=source, run_id=run_id, role=role)


@router.get("", response_model=DatasetPage)
def list_datasets(caller: Reader, paging: Paging) -> Response:
    """By name, one page at a time."""
    page = paging.take(
        lambda limit, after: datasets.list_datasets(caller.db, limit=limit, after=after),
        key=lambda summary: summary.name,
        kind=str,
    )
    return render(DatasetPage.model_construct(datasets=page.items, next_page_token=page.next_page_token))


@router.get("/diff", response_model=DatasetDiff)
def diff_datasets(a: str, b: str, caller: Reader) -> Response:
    """Schema and profile changes between ``name:version`` references ``a`` and ``b``."""
    return render(datasets.diff_versions(caller.db, a, b))


@router.get("/{name:path}/versions", response_model=DatasetVersionPage)
def list_dataset_versions(name: str, caller: Reader, paging: Paging) -> Response:
    """Oldest first (by number), one page at a time."""
    page = paging.take(
        lambda limit, after: datasets.list_versions(caller.db, name, limit=limit, after=after),
        key=lambda version: version.version,
        kind=int,
    )
    return render(DatasetVersionPage.model_construct(versions=page.items, next_page_token=page.next_page_token))


@router.get("/{name:path}/versions/{version}", response_model=DatasetVersion)
def get_dataset(name: str, version: VersionParam, caller: Reader) -> Response:
    return render(datasets.get_version(caller.db, name, _version(version)))


@router.get("/{name:path}/versions/{version}/runs", response_model=list[DatasetUse])
def dataset_runs(name: str, version: VersionParam, caller: Reader) -> Response:
    found = datasets.get_version(caller.db, name, _version(version))
    return render([{"run_id": run_id, "role": role} for run_id, role in datasets.runs_using(caller.db, found.id)])


@router.get(
    "/{name:path}/versions/{version}/data",
    response_class=StreamingResponse,
    responses={200: {"content": {PARQUET: {"schema": {"type": "string", "format": "binary"}}}}},
)
def dataset_data(name: str, version: VersionParam, caller: Reader) -> StreamingResponse:
    """The stored Parquet copy; ``X-Content-SHA256`` says what it must hash to."""
    found = datasets.get_version(caller.db, name, _version(version))
    return stream_blob(caller.content, found.storage_sha256, found.size, PARQUET)
