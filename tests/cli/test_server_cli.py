"""``mlpilot server``: first start prints one admin key, later starts none; several workers serve
the same store; the CLI works against the server like against the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import CliRunner
from tests.conftest import _free_port


class ServerProcess:
    def __init__(self, home: Path, *args: str, env_extra: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
        env.update(env_extra or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlpilot", "--home", str(home), "server", "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.process.stderr.read() if self.process.stderr else ''}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not become ready in 60 s")

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate(timeout=10)
        return out, err


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def test_first_start_prints_one_admin_key_and_later_starts_none(
    tmp_path: Path, isolated_env: Path, servers: list[ServerProcess]
) -> None:
    first = ServerProcess(tmp_path / "home")
    servers.append(first)
    first.wait_ready()
    out, err = first.stop()
    secret = out.strip()
    assert secret.startswith("mlp_") and len(secret.splitlines()) == 1
    assert "shown this once" in err

    second = ServerProcess(tmp_path / "home", "--workers", "2")
    servers.append(second)
    second.wait_ready()
    for _ in range(6):  # spread over both workers: each one accepts the key and reads the same store
        response = httpx.get(f"{second.url}/api/v1/keys", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200
        assert [key["name"] for key in response.json()["keys"]] == ["bootstrap-admin"]
    assert httpx.get(f"{second.url}/api/v1/keys").status_code == 401
    out, _ = second.stop()
    assert "mlp_" not in out


def test_the_cli_talks_to_a_server(
    tmp_path: Path, isolated_env: Path, servers: list[ServerProcess], mlpilot_cli: CliRunner
) -> None:
    server = ServerProcess(tmp_path / "server-home")
    servers.append(server)
    server.wait_ready()
    time.sleep(0.2)
    secret = _first_line(server)
    remote = ("--tracking-uri", server.url)
    keyed = {"MLPILOT_API_KEY": secret}
    mlpilot_cli(*remote, "experiments", "create", "from-cli", extra_env=keyed)
    listed = mlpilot_cli(*remote, "experiments", "list", "--json", extra_env=keyed).json()
    assert [item["name"] for item in listed] == ["from-cli"]
    refused = mlpilot_cli(*remote, "experiments", "list", check=False)
    assert refused.code == 6
    assert "API key" in refused.err and "Traceback" not in refused.err


def _first_line(server: ServerProcess) -> str:
    assert server.process.stdout is not None
    line = server.process.stdout.readline().strip()
    assert line.startswith("mlp_")
    return line


def test_bad_options_are_one_readable_line(mlpilot_cli: CliRunner) -> None:
    result = mlpilot_cli("server", "--port", "70000", check=False)
    assert result.code == 2
    assert "server_port" in result.err and "Traceback" not in result.err
    proxies = mlpilot_cli("server", check=False, extra_env={"MLPILOT_FORWARDED_ALLOW_IPS": "10.0.0.1, proxy.lan"})
    assert proxies.code == 2
    assert "forwarded_allow_ips" in proxies.err and "'proxy.lan' is not an IP address" in proxies.err
    assert "Traceback" not in proxies.err


def test_only_the_configured_proxies_name_the_client(
    tmp_path: Path, isolated_env: Path, servers: list[ServerProcess]
) -> None:
    server = ServerProcess(tmp_path / "home", "--workers", "1", env_extra={"MLPILOT_FORWARDED_ALLOW_IPS": "127.0.0.2"})
    servers.append(server)
    server.wait_ready()
    secret = _first_line(server)

    def failed_sign_in(local_address: str, forwarded_for: str) -> None:
        headers = {"Origin": server.url, "X-Forwarded-For": forwarded_for}
        transport = httpx.HTTPTransport(local_address=local_address)
        with httpx.Client(base_url=server.url, headers=headers, transport=transport) as http:
            assert http.post("/login", data={"key": "mlp_notarealkey_" + "x" * 20}).status_code == 401

    failed_sign_in("127.0.0.2", "203.0.113.7")  # the configured proxy: the client it names counts
    failed_sign_in("127.0.0.1", "198.51.100.9")  # trusted by default, not here: its header is ignored
    entries = httpx.get(
        f"{server.url}/api/v1/audit", params={"limit": 100}, headers={"Authorization": f"Bearer {secret}"}
    ).json()
    actors = sorted(entry["actor"] for entry in entries if entry["action"] == "ui.login_failed")
    assert actors == ["client:127.0.0.1", "client:203.0.113.7"]
