"""Schema migrations: applied on first use, once, identical to the declared schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mlpilot.store import Database, ensure_schema, upgrade
from mlpilot.store.migrate import HEAD_REVISION, current_revision
from mlpilot.store.schema import metadata

MIGRATIONS = Path(__file__).parents[2] / "src" / "mlpilot" / "store" / "migrations"


def test_head_revision_constant_matches_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrated_schema_equals_the_declared_schema(store_uri: str) -> None:
    db = Database(store_uri)
    ensure_schema(db)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    db.dispose()


def test_upgrade_is_idempotent(sqlite_uri: str) -> None:
    db = Database(sqlite_uri)
    assert upgrade(db) == HEAD_REVISION
    assert upgrade(db) == HEAD_REVISION
    with db.read() as conn:
        assert current_revision(conn) == HEAD_REVISION
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    db.dispose()


@pytest.mark.slow
def test_many_processes_migrating_a_new_database_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'race.db'}"
    code = "import sys, mlpilot; c = mlpilot.connect(sys.argv[1]); c.create_run('race'); c.close()"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, uri], stderr=subprocess.PIPE, text=True) for _ in range(8)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    db = Database(uri)
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 8
        assert conn.execute(sa.text("SELECT count(*) FROM experiments")).scalar() == 1
    db.dispose()
