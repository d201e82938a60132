"""The narrow port every artifact backend implements: four byte-level operations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

__all__ = ["BlobBackend"]


class BlobBackend(Protocol):
    """Stores opaque bytes under ``/``-separated keys. Writes must be atomic: a reader sees the
    whole object or nothing."""

    uri: str

    def put(self, key: str, source: BinaryIO) -> None:
        """Store the rest of ``source`` under ``key``, replacing any object there."""

    def open(self, key: str) -> BinaryIO:
        """Open ``key`` for reading; raise FileNotFoundError when absent."""

    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield every key that starts with ``prefix``."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""
