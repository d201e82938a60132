"""INSERT … ON CONFLICT, which SQLite and PostgreSQL both speak but SQLAlchemy builds per dialect."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["UpsertInsert", "upsert_insert"]

UpsertInsert = sqlite.Insert | postgresql.Insert


def upsert_insert(dialect: str, table: sa.Table) -> UpsertInsert:
    """An INSERT for ``table`` that accepts ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
