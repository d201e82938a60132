"""Fixtures for project tests: a store in tmp_path, project folders, and the real `mlpilot` command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlpilot import Client


@dataclass(frozen=True)
class Store:
    """A SQLite database and artifact folder of one test, plus the environment a subprocess needs."""

    home: Path
    tracking_uri: str
    artifact_uri: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
        env.update(
            MLPILOT_HOME=str(self.home),
            MLPILOT_TRACKING_URI=self.tracking_uri,
            MLPILOT_ARTIFACT_URI=self.artifact_uri,
            COLUMNS="200",
        )
        env.update(extra)
        return env

    def client(self) -> Client:
        return Client(self.tracking_uri, self.artifact_uri)


@dataclass(frozen=True)
class Result:
    code: int
    output: str  # stdout and stderr together, in the order they were written


MlpilotCli = Callable[..., Result]
ProjectFactory = Callable[..., Path]


@pytest.fixture
def store(tmp_path: Path, isolated_env: Path) -> Store:
    home = tmp_path / "home"
    return Store(home, f"sqlite:///{tmp_path / 'store' / 'mlpilot.db'}", str(tmp_path / "store" / "artifacts"))


@pytest.fixture
def store_client(store: Store) -> Iterator[Client]:
    with store.client() as client:
        yield client


@pytest.fixture
def mlpilot_run(store: Store, isolated_env: Path) -> MlpilotCli:
    """Run the real ``mlpilot`` command in a subprocess; returns its exit code and combined output."""

    def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "mlpilot", *args],
            check=False,
            cwd=isolated_env,
            env=dict(env) if env is not None else store.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout)

    return run


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a project folder: ``make_project(yaml_text, **files)``; file names use ``__`` for ``.``."""

    def make(project_yaml: str | None, name: str = "project", **files: str) -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        if project_yaml is not None:
            (folder / "mlpilot.yaml").write_text(textwrap.dedent(project_yaml), encoding="utf-8")
        for file_name, text in files.items():
            (folder / file_name.replace("__", ".")).write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return make
