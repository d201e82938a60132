"""Artifact storage: a narrow blob port, a local and an fsspec backend, content addressing on top."""

from __future__ import annotations

from mlpilot.artifacts.backend import BlobBackend
from mlpilot.artifacts.content import Blob, ContentStore
from mlpilot.artifacts.local import LocalBackend
from mlpilot.artifacts.remote import FsspecBackend

__all__ = ["Blob", "BlobBackend", "ContentStore", "FsspecBackend", "LocalBackend", "open_backend"]


def open_backend(uri: str) -> BlobBackend:
    """A local path or ``file://`` URL gives the local backend; any other URL goes through fsspec."""
    if "://" not in uri:
        return LocalBackend(uri)
    if uri.startswith("file://"):
        return LocalBackend(uri.removeprefix("file://"))
    return FsspecBackend(uri)
