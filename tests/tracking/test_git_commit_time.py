"""A run keeps the committer time of its git commit (DORA's lead time starts there), whether it
was created on the database directly or through a server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mlpilot.client import Client
from mlpilot.tracking.environment import capture_git

COMMITTED_S = 1_714_521_600  # 2024-05-01T00:00:00Z


def _checkout(folder: Path) -> None:
    folder.mkdir()
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{COMMITTED_S} +0000", "GIT_AUTHOR_DATE": "@1000000000 +0000"}
    for args in (
        ["init", "-q"],
        ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def test_both_transports_store_the_commit_time(client: Client, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _checkout(repo)
    created = client.create_run("git", cwd=repo)
    assert created.git_committed_at == COMMITTED_S * 1000  # the committer's time, not the author's
    stored = client.get_run(created.id)
    assert stored.git_committed_at == COMMITTED_S * 1000 and stored.git_commit == capture_git(repo).commit
    assert stored.to_dict()["git_committed_at"] == COMMITTED_S * 1000


def test_outside_a_checkout_there_is_none(client: Client, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    run = client.get_run(client.create_run("git", cwd=tmp_path / "plain").id)
    assert run.git_commit is None and run.git_committed_at is None
