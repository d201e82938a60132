"""Connections to the metadata database: SQLite (WAL, immediate write transactions) or PostgreSQL.

Writers on SQLite open their transaction with ``BEGIN IMMEDIATE`` so that they queue on the busy
timeout instead of failing with "database is locked" when a read transaction would have to be
upgraded; readers never block in WAL mode.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from mlpilot.errors import InvalidInput, StoreUnavailable

__all__ = ["Database", "normalize_uri"]

log = logging.getLogger(__name__)

_WRITE_OPTION = "mlpilot_write"


def normalize_uri(uri: str) -> URL:
    """Parse a database URI and pick the driver mlpilot supports for it."""
    try:
        url = make_url(uri)
    except ArgumentError as exc:
        raise InvalidInput(
            f"cannot parse database URI {uri!r}",
            hint="Use sqlite:///path/to/mlpilot.db or postgresql://user@host:port/db.",
        ) from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise InvalidInput(
                "an in-memory SQLite database cannot be shared between connections",
                hint="Give a file path: sqlite:///path/to/mlpilot.db.",
            )
        return url.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    raise InvalidInput(
        f"unsupported database {backend!r} in {uri!r}",
        hint="mlpilot stores metadata in sqlite:/// or postgresql:// databases.",
    )


class Database:
    """One engine plus the transaction discipline every service uses."""

    def __init__(self, uri: str, *, busy_timeout: float = 60.0) -> None:
        self.url = normalize_uri(uri)
        self.uri = uri
        self.dialect = self.url.get_backend_name()
        self.engine = self._create_engine(busy_timeout)
        # SQLite has one writer. Threads of this process queue here, woken the moment the writer
        # finishes, instead of in SQLite's busy handler, which polls with growing sleeps (a server
        # with many request threads loses about a sixth of its write throughput to those sleeps).
        # Other processes still meet at SQLite's lock. Reentrant, so nesting cannot deadlock here.
        self._write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None
        self._before_commit: Callable[[Connection], None] | None = None

    def before_next_commit(self, hook: Callable[[Connection], None]) -> Database:
        """A view of this database (same engine, same lock) whose next write transaction runs
        ``hook`` on its connection just before committing, once. The server commits an audit entry
        this way, in the very transaction of the change it records."""
        view = copy.copy(self)
        view._before_commit = hook
        return view

    @property
    def hook_pending(self) -> bool:
        """Whether the hook of ``before_next_commit`` is still waiting for a write transaction."""
        return self._before_commit is not None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database) if self.is_sqlite and self.url.database else None

    def _create_engine(self, busy_timeout: float) -> Engine:
        if self.is_sqlite:
            path = self.sqlite_path
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(
                self.url,
                connect_args={"timeout": busy_timeout, "check_same_thread": False, "isolation_level": None},
                # A server runs requests on up to 40 threads: keep their connections open rather
                # than reopening (and re-running the PRAGMAs) past the default five.
                pool_size=16,
                max_overflow=48,
            )
            _configure_sqlite(engine, busy_timeout)
            return engine
        return sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with _translate_operational_errors(self.uri), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with (
            self._write_lock or contextlib.nullcontext(),
            _translate_operational_errors(self.uri),
            self.engine.connect() as conn,
        ):
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn
                if self._before_commit is not None:
                    hook, self._before_commit = self._before_commit, None
                    hook(conn)

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        _use_wal(cursor, busy_timeout)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def _use_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch to WAL unless the file already is; retried, because SQLite can answer "locked" here
    without calling the busy handler (e.g. while another process recovers the WAL index)."""
    deadline = time.monotonic() + busy_timeout
    delay = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextlib.contextmanager
def _translate_operational_errors(uri: str) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if "locked" in message or "busy" in message:
            raise StoreUnavailable(
                f"the database {uri} stayed locked past the busy timeout",
                hint="Another process holds a long write; raise MLPILOT_SQLITE_BUSY_TIMEOUT or use PostgreSQL.",
            ) from exc
        raise StoreUnavailable(f"cannot use the database {uri}: {message.strip()}") from exc
