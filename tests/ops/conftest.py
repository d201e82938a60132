"""Fixtures for DORA metrics: a store (SQLite and PostgreSQL) and a factory for model versions
trained by runs whose git commit has a chosen committer time."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.store import Database

Trained = Callable[..., int]
ACTOR = "alice"


@pytest.fixture
def client(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[Client]:
    opened = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    yield opened
    opened.close()


@pytest.fixture
def db(client: Client) -> Database:
    return client.db


def commit_at(folder: Path, seconds: int) -> None:
    """A git repository in ``folder`` whose one commit has committer time ``seconds`` (epoch)."""
    folder.mkdir(parents=True)
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{seconds} +0000", "GIT_AUTHOR_DATE": f"@{seconds} +0000"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "train")


@pytest.fixture
def trained(client: Client, tmp_path: Path) -> Trained:
    """A factory: register a new version of ``name`` trained by a run in a git checkout committed
    at ``committed_s`` (epoch seconds), or outside any checkout for None; returns its number."""
    x = pd.DataFrame({"tenure": np.arange(20, dtype=float)})
    model = LogisticRegression().fit(x, x["tenure"] > 9)
    made: list[int] = []

    def make(committed_s: int | None, name: str = "churn") -> int:
        made.append(len(made))
        folder = tmp_path / f"checkout-{len(made)}"
        if committed_s is None:
            folder.mkdir()
        else:
            commit_at(folder, committed_s)
        run = client.create_run("dora", cwd=folder)
        client.attach_run(run.id).log_model(model, "model", input_example=x.head(2))
        client.end_run(run.id)
        return client.register_model(run.id, "model", name).version

    return make
