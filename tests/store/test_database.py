"""Database transaction helpers: the commit hook the server audits with."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.store import Database, ensure_schema
from mlpilot.store.schema import experiments


def _names(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(sa.select(experiments.c.name).order_by(experiments.c.id)).scalars())


def _insert(conn: Connection, name: str) -> None:
    conn.execute(experiments.insert().values(name=name, created_at=0))


def test_the_hook_commits_with_the_first_write_and_only_once(store_uri: str) -> None:
    db = Database(store_uri)
    ensure_schema(db)
    view = db.before_next_commit(lambda conn: _insert(conn, "audit"))
    assert view.hook_pending and not db.hook_pending
    with view.write() as conn:
        _insert(conn, "change")
    assert not view.hook_pending
    with view.write() as conn:
        _insert(conn, "second")
    assert _names(db) == ["change", "audit", "second"]
    db.dispose()


def test_a_failed_write_commits_neither_the_change_nor_the_hook(store_uri: str) -> None:
    db = Database(store_uri)
    ensure_schema(db)
    view = db.before_next_commit(lambda conn: _insert(conn, "audit"))
    with pytest.raises(RuntimeError), view.write() as conn:
        _insert(conn, "change")
        raise RuntimeError("the service refused")
    assert _names(db) == []
    assert view.hook_pending  # still waiting: the caller decides what to do with it
    db.dispose()
