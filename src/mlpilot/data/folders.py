"""Dataset versions stored as a folder of Parquet parts (written by Spark executors) rather than
one Parquet blob: the content store keeps a small manifest naming the folder and its parts.

The manifest is what the version's ``storage_sha256`` points at, so it is verified like any blob;
the parts are checked against the sizes it lists whenever the folder is read back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlpilot.errors import IntegrityError, InvalidInput

__all__ = ["MANIFEST_FORMAT", "FolderManifest", "parse_manifest", "read_folder"]

MANIFEST_FORMAT = "mlpilot.parquet-folder.v1"


@dataclass(frozen=True, slots=True)
class FolderManifest:
    uri: str  # the folder, as Spark wrote it (a path, file://, s3a://…)
    parts: tuple[tuple[str, int], ...]  # (path relative to the folder, size in bytes), sorted
    rows: int

    @property
    def size(self) -> int:
        return sum(size for _, size in self.parts)

    def to_bytes(self) -> bytes:
        body = {"format": MANIFEST_FORMAT, "uri": self.uri, "rows": self.rows, "parts": [list(p) for p in self.parts]}
        return json.dumps(body, sort_keys=True).encode()


def parse_manifest(data: bytes) -> FolderManifest | None:
    """The manifest in ``data``, or None when ``data`` is something else (a Parquet blob)."""
    if not data.startswith(b"{"):
        return None
    try:
        body: Any = json.loads(data)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("format") != MANIFEST_FORMAT:
        return None
    return FolderManifest(str(body["uri"]), tuple((str(p), int(s)) for p, s in body["parts"]), int(body["rows"]))


def _filesystem(uri: str) -> tuple[Any, str]:
    import fsspec

    # Hadoop's s3a:// is fsspec's s3://; the bytes are the same objects.
    url = "s3://" + uri.removeprefix("s3a://") if uri.startswith("s3a://") else uri
    filesystem, root = fsspec.core.url_to_fs(url)
    return filesystem, str(root).rstrip("/")


def list_parts(uri: str) -> tuple[tuple[str, int], ...]:
    """The Parquet parts under ``uri`` with their sizes (Spark's _SUCCESS and .crc files left out)."""
    filesystem, root = _filesystem(uri)
    found = filesystem.find(root, detail=True)
    parts = [
        (str(path)[len(root) :].lstrip("/"), int(info["size"]))
        for path, info in found.items()
        if str(path).endswith(".parquet")
    ]
    return tuple(sorted(parts))


def read_folder(manifest: FolderManifest) -> pd.DataFrame:
    """The parts the manifest lists, read with pyarrow, after checking they are all there unchanged."""
    import pyarrow.parquet as pq

    filesystem, root = _filesystem(manifest.uri)
    present = dict(list_parts(manifest.uri))
    changed = [path for path, size in manifest.parts if present.get(path) != size]
    if changed:
        raise IntegrityError(
            f"the dataset folder {manifest.uri} no longer holds the parts it was logged with "
            f"({len(changed)} missing or changed, e.g. {changed[0]})",
            hint="Restore the folder, or log the data again as a new version.",
        )
    if not manifest.parts:
        raise InvalidInput(f"the dataset folder {manifest.uri} has no Parquet parts")
    paths = [f"{root}/{path}" for path, _ in manifest.parts]
    frame: pd.DataFrame = pq.read_table(paths, filesystem=filesystem).to_pandas()
    return frame
