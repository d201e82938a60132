"""Content addressing on top of any BlobBackend: objects are named by their sha256 and every read
checks that the bytes still hash to their name."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mlpilot.artifacts.backend import BlobBackend
from mlpilot.artifacts.verified import write_verified
from mlpilot.errors import IntegrityError, NotFound

__all__ = ["Blob", "ContentStore"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Blob:
    sha256: str
    size: int


class ContentStore:
    def __init__(self, backend: BlobBackend) -> None:
        self.backend = backend

    @staticmethod
    def key(sha256: str) -> str:
        return f"sha256/{sha256[:2]}/{sha256[2:]}"

    def put_bytes(self, data: bytes) -> Blob:
        digest = hashlib.sha256(data).hexdigest()
        if not self.backend.exists(self.key(digest)):
            self.backend.put(self.key(digest), io.BytesIO(data))
        return Blob(digest, len(data))

    def put_file(self, path: str | Path) -> Blob:
        digest, size = _hash_file(Path(path))
        if not self.backend.exists(self.key(digest)):
            with open(path, "rb") as source:
                self.backend.put(self.key(digest), source)
        return Blob(digest, size)

    def exists(self, sha256: str) -> bool:
        return self.backend.exists(self.key(sha256))

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise _tampered(sha256, self.backend.uri)
        return data

    def download(self, sha256: str, destination: str | Path) -> Path:
        """Copy the object to ``destination`` atomically, verifying its hash on the way."""
        with self.open(sha256) as source:
            chunks = iter(lambda: source.read(_CHUNK), b"")
            return write_verified(chunks, Path(destination), sha256, lambda: _tampered(sha256, self.backend.uri))

    def open(self, sha256: str) -> BinaryIO:
        """A reader of the object's bytes; the caller checks the hash (e.g. while streaming it on)."""
        try:
            return self.backend.open(self.key(sha256))
        except FileNotFoundError as exc:
            raise NotFound(
                f"artifact object {sha256} is missing from {self.backend.uri}",
                hint="The artifact store lost the file; restore it from a backup or log it again.",
            ) from exc


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _tampered(sha256: str, where: str) -> IntegrityError:
    return IntegrityError(f"artifact object {sha256} in {where} no longer matches its sha256")
