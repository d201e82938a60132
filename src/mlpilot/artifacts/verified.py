"""Writing bytes to a file only if they hash to what they should: atomically, never half-written."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["write_verified"]


def write_verified(chunks: Iterable[bytes], target: Path, sha256: str, mismatch: Callable[[], Exception]) -> Path:
    """Stream ``chunks`` into ``target`` through a temporary file beside it, hashing on the way.

    The file appears (by rename) only when the bytes hash to ``sha256``; otherwise ``mismatch()``
    is raised and nothing is left behind, as on any other failure mid-stream.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise mismatch()
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return target
