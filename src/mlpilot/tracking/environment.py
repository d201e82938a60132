"""What a run records about where it ran, without being asked: git state, Python, platform,
installed packages, user and entry point."""

from __future__ import annotations

import functools
import getpass
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["GitState", "capture_environment", "capture_git", "current_user", "entry_point", "environment_hash"]


@dataclass(frozen=True, slots=True)
class GitState:
    commit: str | None
    dirty: bool | None
    diff_hash: str | None
    # The commit's committer time, epoch ms: where DORA's lead time for changes starts.
    committed_at: int | None = None


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=10, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


_GIT_TTL_SECONDS = 5.0
_git_cache: dict[Path, tuple[float, GitState]] = {}


def capture_git(cwd: Path | None = None) -> GitState:
    """Commit, its committer time, dirty flag and a hash of the uncommitted diff (tracked and
    untracked-file names).

    Cached for a few seconds per folder: a loop creating many runs should not fork git three times
    per run, and the tree cannot meaningfully change between runs created that close together.
    """
    where = (cwd or Path.cwd()).resolve()
    cached = _git_cache.get(where)
    if cached is not None and time.monotonic() - cached[0] < _GIT_TTL_SECONDS:
        return cached[1]
    state = _read_git(where)
    _git_cache[where] = (time.monotonic(), state)
    return state


def _read_git(where: Path) -> GitState:
    # One call for the commit and its committer time (%ct, epoch seconds); a signature check that
    # a user's config may switch on would add lines, so it is switched off here.
    head = _git(["-c", "log.showSignature=false", "show", "-s", "--format=%H %ct", "HEAD"], where)
    commit, committed_at = _commit_of(head)
    if commit is None:
        return GitState(None, None, None)
    status = _git(["status", "--porcelain", "--untracked-files=normal"], where) or b""
    dirty = bool(status.strip())
    diff_hash = None
    if dirty:
        diff = _git(["diff", "HEAD", "--no-color", "--no-ext-diff"], where) or b""
        diff_hash = hashlib.sha256(diff + b"\0" + status).hexdigest()
    return GitState(commit, dirty, diff_hash, committed_at)


def _commit_of(output: bytes | None) -> tuple[str | None, int | None]:
    """``(sha, committer time in epoch ms)`` from ``git show -s --format='%H %ct'``'s output."""
    fields = (output or b"").decode(errors="replace").split()
    if not fields:
        return None, None
    seconds = fields[1] if len(fields) > 1 else ""
    return fields[0], int(seconds) * 1000 if seconds.isdigit() else None


@functools.cache
def capture_environment() -> dict[str, Any]:
    """Python, platform and packages; computed once per process since they cannot change under it."""
    packages = sorted(
        {
            f"{dist.metadata['Name']}=={dist.version}"
            for dist in importlib.metadata.distributions()
            if dist.metadata["Name"]
        },
        key=str.lower,
    )
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages,
    }


def environment_hash(environment: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(environment, sort_keys=True).encode()).hexdigest()


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def entry_point() -> str:
    """The script or command that started this process."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if not argv0 or argv0 == "-c":
        return "<interactive>"
    return os.path.abspath(argv0) if os.path.exists(argv0) else argv0
