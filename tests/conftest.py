"""Shared fixtures: a real PostgreSQL server for the session, a store URI per backend, a live
mlpilot server, and a webhook receiver on loopback.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user in a
temporary folder that user owns. With ``CI=true`` a missing PostgreSQL fails the run instead of
skipping its tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"), Path("/usr/bin")]
TEMPLATE_DB = "mlpilot_template"


# Folders whose tests share one expensive session-scoped resource (a Spark session, a browser and
# its filled server): pytest-xdist keeps each folder on one worker so the resource starts once.
_SHARED_SESSION_FOLDERS = ("tests/spark/", "tests/server/ui/")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group tests for ``pytest -n N --dist loadgroup``: a module's tests stay together (its
    module-scoped fixtures start once), and so does a folder in ``_SHARED_SESSION_FOLDERS``."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        path = item.nodeid.split("::", 1)[0]
        folder = next((name for name in _SHARED_SESSION_FOLDERS if path.startswith(name)), None)
        if "spark" in getattr(item, "fixturenames", ()):
            folder = "tests/spark/"  # one Spark session per run, wherever its tests live
        item.add_marker(pytest.mark.xdist_group(folder or path))


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> Path | None:
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mlpilot-pg-"))
        self.data = self.root / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o700)

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=120)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def uri(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.uri(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        if _in_ci():
            pytest.fail("PostgreSQL binaries are missing; CI must test against a real PostgreSQL")
        pytest.skip("PostgreSQL is not installed")
    server = PostgresServer(bin_dir)
    server.start()
    try:
        from mlpilot.store import Database, ensure_schema

        server.admin(f"CREATE DATABASE {TEMPLATE_DB}")
        template = Database(server.uri(TEMPLATE_DB))
        ensure_schema(template)
        template.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_uri(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield postgres_server.uri(name)
    for _attempt in range(3):
        try:
            postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            break
        except Exception:
            time.sleep(0.2)


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlpilot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against SQLite and against PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mlpilot.db'}"
    return str(request.getfixturevalue("postgres_uri"))


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MLPILOT_* variables leak in from the developer's shell; cwd is an empty folder."""
    for key in list(os.environ):
        if key.startswith("MLPILOT_"):
            monkeypatch.delenv(key)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


class LiveServer:
    """A real mlpilot server (uvicorn on 127.0.0.1, a free port) in a thread of the test process."""

    def __init__(self, store_uri: str, artifact_uri: str, home: Path, **settings: Any) -> None:
        import uvicorn

        from mlpilot.config import load_settings
        from mlpilot.server import create_app
        from mlpilot.server.run import bootstrap

        self.settings = load_settings(tracking_uri=store_uri, artifact_uri=artifact_uri, home=home, **settings)
        secret = bootstrap(self.settings)
        assert secret is not None, "a fresh store gets a bootstrap admin key"
        self.admin_key = secret
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"mlpilot-server-{self.port}", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def live_server(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[LiveServer]:
    """A server on a fresh store (SQLite and PostgreSQL). Rate limiting and the monitor and trigger schedulers
    are off (each tested on its own), so only the monitor runs a test asks for happen."""
    server = LiveServer(
        store_uri,
        str(tmp_path / "artifacts"),
        tmp_path / "server-home",
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["local", pytest.param("remote", marks=pytest.mark.remote)])
def client(request: pytest.FixtureRequest, store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[Any]:
    """A client on a fresh store (SQLite and PostgreSQL), directly and through a real server."""
    from mlpilot.client import Client
    from mlpilot.config import load_settings

    settings = load_settings(home=tmp_path / "home")
    if request.param == "local":
        opened = Client(store_uri, str(tmp_path / "artifacts"), settings=settings)
    else:
        server: LiveServer = request.getfixturevalue("live_server")
        opened = Client(server.url, api_key=server.admin_key, settings=settings)
    yield opened
    opened.close()


class Receiver:
    """An HTTP server on 127.0.0.1 that records every JSON body POSTed to it (``received``), and
    each with its headers (``requests``)."""

    def __init__(self) -> None:
        received = self.received = []  # type: list[dict[str, Any]]
        requests = self.requests = []  # type: list[tuple[dict[str, Any], dict[str, str]]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append(body)
                requests.append((body, dict(self.headers)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
