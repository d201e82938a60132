"""Bring a database to the newest schema, once, even when many processes start together."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.store.database import Database

__all__ = ["HEAD_REVISION", "current_revision", "ensure_schema", "upgrade"]

log = logging.getLogger(__name__)

# Kept in code so the common case (schema already current) costs one query and no Alembic import;
# a test pins it to the newest file in migrations/versions.
HEAD_REVISION = "0007"
_MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK_KEY = 0x6D6C_7069  # "mlpi"


def current_revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def ensure_schema(db: Database) -> None:
    """Upgrade to HEAD_REVISION unless the database is already there."""
    with db.read() as conn:
        if current_revision(conn) == HEAD_REVISION:
            return
    upgrade(db)


def upgrade(db: Database) -> str | None:
    """Apply every pending migration under a cross-process lock; return the new revision."""
    from alembic import command
    from alembic.config import Config

    with _migration_lock(db), db.write() as conn:
        before = current_revision(conn)
        if before == HEAD_REVISION:
            return before
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.attributes["connection"] = conn
        log.info("migrating %s from %s to %s", db.uri, before or "empty", HEAD_REVISION)
        command.upgrade(config, "head")
        return current_revision(conn)


@contextlib.contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    path = db.sqlite_path
    if path is not None:
        with open(path.with_name(path.name + ".migrate.lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
            conn.commit()
