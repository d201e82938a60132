"""Pipelines as stored records: registered (or updated) by name each time one runs, listed, read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.orchestration.records import Pipeline
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import pipelines

__all__ = ["LIST_HINT", "check_pipeline_name", "get_pipeline", "list_pipelines", "pipeline_row", "save_pipeline"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,249}$")
LIST_HINT = "List pipelines with `mlpilot pipelines list`."


def check_pipeline_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"pipeline name {name!r} is not valid",
            hint="Use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 250).",
        )
    return name


def to_pipeline(row: RowMapping) -> Pipeline:
    return Pipeline(
        id=row["id"],
        name=row["name"],
        source=row["source"],
        workdir=row["workdir"],
        steps=list(row["steps"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def pipeline_row(conn: Connection, name: str) -> RowMapping:
    row = conn.execute(sa.select(pipelines).where(pipelines.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"pipeline {name!r} does not exist", hint=LIST_HINT)
    return row


def save_pipeline(
    db: Database, name: str, *, source: str, workdir: str | None, steps: Sequence[dict[str, Any]]
) -> Pipeline:
    """Create the pipeline, or update where it lives and its DAG: the code is the source of truth."""
    check_pipeline_name(name)
    if not isinstance(source, str) or not source.strip() or len(source) > 1000:
        raise InvalidInput(f"pipeline source {source!r} is not valid", hint="Name it as FILE.py:ATTRIBUTE.")
    when = now_ms()
    values = {"source": source, "workdir": workdir, "steps": list(steps), "updated_at": when}
    with db.write() as conn:
        found = conn.execute(sa.select(pipelines.c.id).where(pipelines.c.name == name)).first()
        if found is None:
            conn.execute(pipelines.insert().values(name=name, created_at=when, **values))
        else:
            conn.execute(pipelines.update().where(pipelines.c.id == found[0]).values(**values))
        return to_pipeline(pipeline_row(conn, name))


def get_pipeline(db: Database, name: str) -> Pipeline:
    with db.read() as conn:
        return to_pipeline(pipeline_row(conn, name))


def list_pipelines(db: Database) -> list[Pipeline]:
    with db.read() as conn:
        rows = conn.execute(sa.select(pipelines).order_by(pipelines.c.name)).mappings()
        return [to_pipeline(row) for row in rows]
