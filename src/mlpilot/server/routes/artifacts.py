"""Run artifacts: streamed upload (one file per request) and streamed, hash-labelled download."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.artifacts import Blob, ContentStore
from mlpilot.server.deps import Caller, Reader, Writer, render
from mlpilot.tracking import artifacts as artifact_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking.artifacts import ArtifactEntry
from mlpilot.wire import SHA256_HEADER

router = APIRouter(prefix="/runs/{run_id}/artifacts", tags=["artifacts"])

_CHUNK = 1 << 20


@router.put(
    "/{path:path}",
    name="artifact.upload",
    status_code=201,
    response_model=ArtifactEntry,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string"}}}}
    },
)
async def upload_artifact(run_id: str, path: str, request: Request, caller: Writer) -> Response:
    """Store the request body as the run's artifact ``path`` (replacing an earlier one)."""
    cleaned = artifact_service.clean_artifact_path(path)
    blob = await receive_artifact(request, caller, run_id, cleaned)
    return render(ArtifactEntry(cleaned, blob.size, blob.sha256), 201)


async def receive_artifact(request: Request, caller: Caller, run_id: str, path: str) -> Blob:
    """Stream the request body into the content store as the run's artifact ``path`` (already
    cleaned): the one upload path of both this API and MLflow's artifact proxy."""
    await run_in_threadpool(_require_running, caller, run_id)
    fd, scratch = tempfile.mkstemp(prefix="mlpilot-upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        return await run_in_threadpool(_store, caller, run_id, path, Path(scratch))
    finally:
        os.unlink(scratch)


def _require_running(caller: Caller, run_id: str) -> None:
    # Checked before the bytes arrive, so an upload to an ended run stores nothing.
    with caller.db.read() as conn:
        run_service.require_running(conn, run_id)


def _store(caller: Caller, run_id: str, path: str, source: Path) -> Blob:
    blob = caller.content.put_file(source)
    artifact_service.record_artifacts(caller.db, run_id, {path: blob})
    return blob


@router.get("", response_model=list[ArtifactEntry])
def list_artifacts(run_id: str, caller: Reader, prefix: str = "") -> Response:
    run_service.get_run(caller.db, run_id)
    return render(artifact_service.list_artifacts(caller.db, run_id, prefix))


@router.get(
    "/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
def download_artifact(run_id: str, path: str, caller: Reader) -> StreamingResponse:
    """The artifact's bytes; the ``X-Content-SHA256`` header says what they must hash to."""
    entry = artifact_service.find_artifact(caller.db, run_id, path)
    return stream_blob(caller.content, entry.sha256, entry.size)


def stream_blob(
    content: ContentStore, sha256: str, size: int, media_type: str = "application/octet-stream"
) -> StreamingResponse:
    handle = content.open(sha256)

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    headers = {SHA256_HEADER: sha256, "Content-Length": str(size)}
    return StreamingResponse(chunks(), media_type=media_type, headers=headers)
