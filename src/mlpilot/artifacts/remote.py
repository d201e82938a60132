"""Blobs behind any fsspec URL (``s3://``, ``gs://``, ``memory://``, ``file://`` …)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

import fsspec

__all__ = ["FsspecBackend"]


class FsspecBackend:
    def __init__(self, url: str, **storage_options: Any) -> None:
        self.uri = url.rstrip("/")
        fs, root = fsspec.core.url_to_fs(self.uri, **storage_options)
        self.fs = fs
        self.root = str(root).rstrip("/")

    def _path(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"artifact key {key!r} escapes the store root")
        return f"{self.root}/{key}"

    def put(self, key: str, source: BinaryIO) -> None:
        target = self._path(key)
        temp = f"{target}.tmp-{uuid.uuid4().hex}"
        parent = target.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        try:
            with self.fs.open(temp, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            self.fs.mv(temp, target)
        except BaseException:
            if self.fs.exists(temp):
                self.fs.rm(temp)
            raise

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not self.fs.isfile(path):
            raise FileNotFoundError(path)
        return cast(BinaryIO, self.fs.open(path, "rb"))

    def list(self, prefix: str = "") -> Iterator[str]:
        if not self.fs.exists(self.root):
            return
        for path in self.fs.find(self.root):
            key = str(path)[len(self.root) :].lstrip("/")
            if ".tmp-" in key.rsplit("/", 1)[-1]:
                continue
            if key.startswith(prefix):
                yield key

    def exists(self, key: str) -> bool:
        return bool(self.fs.isfile(self._path(key)))
