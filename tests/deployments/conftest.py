"""Fixtures for deployments: a migrated store (SQLite and PostgreSQL) and a factory for registered
models with versions and aliases to deploy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.registry.aliases import set_alias
from mlpilot.store import Database

Models = Callable[..., list[int]]
ACTOR = "alice"


@pytest.fixture
def client(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[Client]:
    """A local client on a fresh store: it logs and registers the models the tests deploy."""
    opened = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    yield opened
    opened.close()


@pytest.fixture
def db(client: Client) -> Database:
    return client.db


@pytest.fixture
def models(client: Client, db: Database) -> Models:
    """A factory: register ``count`` versions of ``name`` (one logged model, registered again and
    again), then point each ``alias=version`` keyword at its version; returns the version numbers."""
    logged: list[str] = []

    def make(name: str = "churn", count: int = 1, **aliases: int) -> list[int]:
        if not logged:
            x = pd.DataFrame({"tenure": np.arange(20, dtype=float)})
            with client.start_run("deploy") as run:
                run.log_model(LogisticRegression().fit(x, x["tenure"] > 9), "model", input_example=x.head(2))
            logged.append(run.id)
        numbers = [client.register_model(logged[0], "model", name).version for _ in range(count)]
        for alias, version in aliases.items():
            set_alias(db, name, alias, version, actor=ACTOR)
        return numbers

    return make
