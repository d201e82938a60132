"""Serving fixtures: registered models in a fresh store, keys per scope, and ``mlpilot serve``'s
app on uvicorn (127.0.0.1, a free port) in a thread of the test process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.config import Settings, load_settings
from mlpilot.security import keys as key_service
from tests.conftest import _free_port


def cancer_frame() -> tuple[pd.DataFrame, pd.Series[Any]]:
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    frame.columns = [name.replace(" ", "_") for name in frame.columns]
    return frame, target


@dataclass
class Store:
    """A store with API keys for every scope that matters to serving."""

    home: Path
    client: Client
    predict_key: str
    read_key: str
    writer_key: str
    deploy_key: str

    def settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "home": self.home,
            "tracking_uri": self.client.tracking_uri,
            "artifact_uri": str(self.home / "artifacts"),
            "serve_poll_seconds": 0.1,
            "predictions_flush_seconds": 0.2,
        }
        return load_settings(**{**base, **overrides})

    def register(self, model: object, frame: pd.DataFrame, name: str, alias: str | None = "production") -> int:
        with self.client.start_run(experiment="serving-tests") as run:
            self.client.log_model(run.id, model, "model", input_example=frame.head(5))
        version = self.client.register_model(run.id, "model", name)
        if alias is not None:
            self.client.set_alias(name, alias, version.version)
        return version.version


@pytest.fixture
def store(tmp_path: Path, isolated_env: Path) -> Iterator[Store]:
    home = tmp_path / "home"
    client = Client(f"sqlite:///{tmp_path / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    secrets = {
        scope: key_service.create_key(client.db, f"{scope}-key", [scope], actor="test")[1]
        for scope in ("predict", "read", "write", "deploy")
    }
    yield Store(home, client, secrets["predict"], secrets["read"], secrets["write"], secrets["deploy"])
    client.close()


@pytest.fixture
def cancer_model(store: Store) -> LogisticRegression:
    frame, target = cancer_frame()
    model = LogisticRegression(max_iter=5000).fit(frame, target)
    store.register(model, frame, "cancer")
    return model


class ServingServer:
    """``create_serving_app(settings)`` on uvicorn in a thread; ``stop()`` shuts it down cleanly
    (the lifespan flushes the prediction log)."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from mlpilot.serving.app import create_serving_app

        self.settings = settings
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_serving_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"mlpilot-serve-{self.port}", daemon=True)

    def start(self) -> ServingServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the serving app did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)

    def http(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
def serve(store: Store) -> Iterator[Any]:
    """``serve(model_uri, **settings)`` starts a serving app; all are stopped after the test."""
    started: list[ServingServer] = []

    def start(model: str | None, **overrides: Any) -> ServingServer:
        server = ServingServer(store.settings(serve_model=model, **overrides)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class ServeProcess:
    """`mlpilot serve` as a child process in its own process group."""

    def __init__(self, store: Store, flush_seconds: float = 2.0, workers: int = 1) -> None:
        self.port = _free_port()
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")},
            **{f"MLPILOT_{key.upper()}": str(value) for key, value in _locations(store).items()},
            "MLPILOT_PREDICTIONS_FLUSH_SECONDS": str(flush_seconds),
            "MLPILOT_PREDICTIONS_FLUSH_ROWS": "1000000",
        }
        command = [
            sys.executable,
            "-m",
            "mlpilot",
            "serve",
            "cancer@production",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        # Output goes to a file, not a pipe nobody drains (a full pipe would stall the server).
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by kill(), after the process ends
        self.process = subprocess.Popen(command, env=env, stdout=self.output, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill(signal.SIGKILL)
                raise RuntimeError(f"mlpilot serve did not become ready:\n{self.log()}")
            time.sleep(0.1)

    def predict_many(self, key: str, count: int) -> list[str]:
        frame, _ = cancer_frame()
        row = frame.head(1).to_dict(orient="records")
        ids: list[str] = []
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}) as http:
            for _ in range(count):
                response = http.post("/v1/deployments/cancer/predict", json={"instances": row})
                assert response.status_code == 200
                ids.extend(response.json()["prediction_ids"])
        return ids

    def kill(self, sig: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=60)
        self.output.close()

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


def _locations(store: Store) -> dict[str, Any]:
    settings = store.settings()
    return {
        "home": settings.home,
        "tracking_uri": settings.resolved_tracking_uri(),
        "artifact_uri": settings.resolved_artifact_uri(),
    }
