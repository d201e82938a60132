"""connect(): which URIs work and how bad ones fail."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlpilot
from mlpilot import InvalidInput
from mlpilot.errors import StoreUnavailable


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("mysql://localhost/db", "unsupported database"),
        ("sqlite://", "in-memory"),
        ("not a uri", "cannot parse"),
    ],
)
def test_bad_uris(uri: str, fragment: str, isolated_env: Path) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        mlpilot.connect(uri)


def test_unreachable_server_is_a_clear_error(isolated_env: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with mlpilot.connect(f"http://127.0.0.1:{port}", api_key="x") as client:
        assert client.is_remote and client.artifact_uri is None
        with pytest.raises(StoreUnavailable, match="cannot reach the mlpilot server"):
            client.list_experiments()


def test_unreachable_postgres_is_a_clear_error(isolated_env: Path) -> None:
    with pytest.raises(StoreUnavailable, match="cannot use the database"):
        mlpilot.connect("postgresql://nobody@127.0.0.1:1/none")


def test_default_home_is_dot_mlpilot(isolated_env: Path) -> None:
    with mlpilot.connect() as client:
        client.create_experiment("home")
    assert (isolated_env / ".mlpilot" / "mlpilot.db").is_file()


def test_home_from_environment(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "elsewhere"))
    with mlpilot.connect() as client:
        run = client.create_run("home")
        client.log_text(run.id, "x", "x.txt")
    assert (tmp_path / "elsewhere" / "mlpilot.db").is_file()
    assert (tmp_path / "elsewhere" / "artifacts" / "sha256").is_dir()
