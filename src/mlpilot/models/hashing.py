"""One sha256 for a whole model directory, computable from the files on disk or from a run's
artifact index alone.

The hash covers each file's path relative to the model root and the sha256 of its bytes, in path
order: nothing else (no mtimes, no permissions, no empty folders), so the same files always give
the same hash, and the registry can recompute it from the ``(path, sha256)`` rows the artifact
store already keeps without downloading a byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from mlpilot.errors import InvalidInput, NotFound

__all__ = ["TREE_HASH_SCHEME", "file_sha256", "model_sha256", "tree_entries", "tree_hash_from_entries"]

# Part of every digest: change it whenever the scheme changes, so old and new hashes never collide.
TREE_HASH_SCHEME = b"mlpilot.model-tree.v1"
_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_entries(directory: str | Path) -> list[tuple[str, str]]:
    """``(relative posix path, sha256)`` of every file under ``directory``, sorted by path.

    Walks the tree the way ``Client.log_artifacts`` does (every file, hidden ones included), so the
    two sides of a hash comparison see the same set of files.
    """
    root = Path(directory)
    if not root.is_dir():
        raise NotFound(f"model folder {root} does not exist", hint="Pass the folder a model was saved to.")
    files = sorted((path.relative_to(root).as_posix(), path) for path in root.rglob("*") if path.is_file())
    return [(relative, file_sha256(path)) for relative, path in files]


def model_sha256(directory: str | Path) -> str:
    """The tree hash of a model directory as it is on disk."""
    return tree_hash_from_entries(tree_entries(directory))


def tree_hash_from_entries(entries: Iterable[tuple[str, str]], *, prefix: str = "") -> str:
    """The tree hash from ``(path, sha256)`` pairs, e.g. a run's artifact index.

    Paths are relative to the model root; with ``prefix`` (the model's artifact path inside the
    run, such as ``"model"``) they may instead be run-relative, and the prefix is stripped.
    """
    base = prefix.strip("/")
    pairs: dict[str, str] = {}
    for path, sha256 in entries:
        relative = _relative(path, base)
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput(f"{sha256!r} (for {path!r}) is not a lowercase sha256 hex digest")
        if relative in pairs:
            raise InvalidInput(f"the file {relative!r} is listed twice; a model tree names each file once")
        pairs[relative] = sha256
    if not pairs:
        raise InvalidInput("a model tree needs at least one file", hint="Check the model's artifact path.")
    digest = hashlib.sha256(TREE_HASH_SCHEME)
    for relative in sorted(pairs):
        # A path never holds NUL, and a digest is exactly 64 characters: the framing is unambiguous.
        digest.update(b"\0" + relative.encode("utf-8") + b"\0" + pairs[relative].encode("ascii"))
    return digest.hexdigest()


def _relative(path: str, base: str) -> str:
    cleaned = path.replace("\\", "/").strip("/")
    if base:
        if not cleaned.startswith(base + "/"):
            raise InvalidInput(f"artifact {path!r} is not inside the model folder {base!r}")
        cleaned = cleaned[len(base) + 1 :]
    parts = cleaned.split("/")
    if not cleaned or any(part in ("", ".", "..") for part in parts):
        raise InvalidInput(f"{path!r} is not a clean relative path inside the model folder")
    return cleaned
