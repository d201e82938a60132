"""One conformance suite for every blob backend, and the content store on top."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlpilot.artifacts import BlobBackend, ContentStore, FsspecBackend, LocalBackend, open_backend
from mlpilot.errors import IntegrityError, NotFound


@pytest.fixture(params=["local", "file-url", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobBackend]:
    if request.param == "local":
        yield LocalBackend(tmp_path / "blobs")
    elif request.param == "file-url":
        yield FsspecBackend(f"file://{tmp_path / 'blobs'}")
    else:
        store = FsspecBackend(f"memory://mlpilot-test-{uuid.uuid4().hex}")
        yield store
        store.fs.rm(store.root, recursive=True)


def check_blob_backend(backend: BlobBackend) -> None:
    """What every backend must do; plugin backends can call this too."""
    assert not backend.exists("a/b.txt")
    backend.put("a/b.txt", io.BytesIO(b"one"))
    assert backend.exists("a/b.txt")
    with backend.open("a/b.txt") as handle:
        assert handle.read() == b"one"
    backend.put("a/b.txt", io.BytesIO(b"two"))
    with backend.open("a/b.txt") as handle:
        assert handle.read() == b"two"
    backend.put("a/c/d.bin", io.BytesIO(b"\x00" * (3 << 20)))
    assert sorted(backend.list("a/")) == ["a/b.txt", "a/c/d.bin"]
    assert list(backend.list("zzz")) == []
    with pytest.raises(FileNotFoundError):
        backend.open("missing")
    with pytest.raises(ValueError, match="escapes"):
        backend.put("../outside", io.BytesIO(b"x"))


def test_backend_conformance(backend: BlobBackend) -> None:
    check_blob_backend(backend)


def test_failed_write_leaves_no_partial_object(backend: BlobBackend) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise OSError("disk went away")
            return super().read(1024)

    with pytest.raises(OSError, match="went away"):
        backend.put("x/partial.bin", Broken(b"x" * 4096))
    assert not backend.exists("x/partial.bin")
    assert list(backend.list("x/")) == []


def test_content_store_names_objects_by_hash_and_verifies_reads(backend: BlobBackend, tmp_path: Path) -> None:
    store = ContentStore(backend)
    blob = store.put_bytes(b"hello")
    assert blob.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert store.read_bytes(blob.sha256) == b"hello"
    file = tmp_path / "f.bin"
    file.write_bytes(b"hello")
    assert store.put_file(file) == blob
    target = store.download(blob.sha256, tmp_path / "out" / "copy.bin")
    assert target.read_bytes() == b"hello"

    backend.put(store.key(blob.sha256), io.BytesIO(b"tampered"))
    with pytest.raises(IntegrityError):
        store.read_bytes(blob.sha256)
    with pytest.raises(IntegrityError):
        store.download(blob.sha256, tmp_path / "out" / "bad.bin")
    assert not (tmp_path / "out" / "bad.bin").exists()
    with pytest.raises(NotFound):
        store.read_bytes("0" * 64)


def test_open_backend_picks_by_uri(tmp_path: Path) -> None:
    assert isinstance(open_backend(str(tmp_path)), LocalBackend)
    assert isinstance(open_backend(f"file://{tmp_path}"), LocalBackend)
    assert isinstance(open_backend("memory://x"), FsspecBackend)
