"""The local model cache: one folder per model sha256, filled once and shared by every process.

Both the client (which downloads through its transport) and the serving runtime (which reads the
content store directly) fill it through ``cached_model_dir``, so a model served and loaded on the
same machine is fetched once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["cached_model_dir", "model_cache_root"]


def model_cache_root(home: Path) -> Path:
    return Path(home).expanduser().resolve() / "cache" / "models"


def cached_model_dir(cache_root: Path, sha256: str, fetch: Callable[[Path], Path]) -> Path:
    """The cached folder of the model with ``sha256``; on a miss ``fetch(scratch)`` downloads the
    model folder somewhere under ``scratch`` and returns where, and it is moved into place whole
    (a reader never sees a half-filled folder). The caller still verifies the sha256 on load."""
    target = cache_root / sha256
    if target.is_dir():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_root))
    try:
        downloaded = fetch(scratch)
        try:
            os.replace(downloaded, target)
        except OSError:
            if not target.is_dir():  # another process filled the cache first: use theirs
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
