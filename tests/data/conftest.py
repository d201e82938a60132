"""Fixtures for dataset versioning: a migrated store (SQLite and PostgreSQL), a content store, and
a factory for runs to link datasets to."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlpilot.artifacts import ContentStore, LocalBackend
from mlpilot.store import Database, ensure_schema
from mlpilot.store.schema import experiments, runs
from tests.data.factories import sample_frame


@pytest.fixture
def db(store_uri: str) -> Iterator[Database]:
    database = Database(store_uri)
    ensure_schema(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """SQLite only, for tests about the data rather than the database."""
    database = Database(f"sqlite:///{tmp_path}/m.db")
    ensure_schema(database)
    yield database
    database.dispose()


@pytest.fixture
def content(tmp_path: Path) -> ContentStore:
    return ContentStore(LocalBackend(tmp_path / "artifacts"))


@pytest.fixture
def make_run(db: Database) -> Callable[[], str]:
    """Insert an experiment (once) and a run straight into the store; return the run id."""

    def create() -> str:
        run_id = uuid.uuid4().hex
        with db.write() as conn:
            experiment_id = conn.execute(
                experiments.select().with_only_columns(experiments.c.id).where(experiments.c.name == "data-tests")
            ).scalar()
            if experiment_id is None:
                experiment_id = conn.execute(
                    experiments.insert().values(name="data-tests", created_at=0).returning(experiments.c.id)
                ).scalar_one()
            conn.execute(
                runs.insert().values(
                    id=run_id, experiment_id=experiment_id, name="r", status="RUNNING", start_time=0, user="tester"
                )
            )
        return run_id

    return create


@pytest.fixture
def frame() -> pd.DataFrame:
    return sample_frame()
