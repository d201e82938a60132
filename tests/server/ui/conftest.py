"""One server for the UI tests: a SQLite store filled through mlpilot's own client and services,
keys with different scopes, and helpers to sign in over HTTP."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot import deployments as deployment_service
from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.deployments.request_counts import MINUTE_MS, RequestCounts, add_request_counts
from mlpilot.monitoring import monitors as monitor_service
from mlpilot.orchestration import runs as pipeline_runs
from mlpilot.orchestration.records import RunState, StepState
from mlpilot.orchestration.stored import save_pipeline
from mlpilot.security.keys import create_key
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from tests.conftest import LiveServer


@dataclass(frozen=True)
class Filled:
    """What the UI tests can point at, and the keys to sign in with."""

    server: LiveServer
    db: Database
    run_ids: tuple[str, ...]
    pipeline_run: str
    deployer_key: str
    reader_key: str
    predict_key: str

    @property
    def url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def sign_in(url: str, key: str) -> Iterator[httpx.Client]:
    """An HTTP client holding a session cookie, as a browser would after the login form."""
    with httpx.Client(base_url=url, headers={"Origin": url}) as http:
        response = http.post("/login", data={"key": key, "next": "/runs"})
        assert response.status_code == 303, response.text
        yield http


def csrf_of(http: httpx.Client, path: str) -> str:
    text = http.get(path).text
    marker = 'name="csrf" value="'
    start = text.index(marker) + len(marker)
    return text[start : text.index('"', start)]


def _fill(client: Client, db: Database) -> tuple[tuple[str, ...], str]:
    frame = pd.DataFrame({"x1": [0.1, 0.4, 0.35, 0.8, 0.9, 0.05], "x2": [1.0, 0.2, 0.5, 0.1, 0.3, 0.9]})
    target = pd.Series([0, 1, 0, 1, 1, 0])
    run_ids = []
    for c in (0.1, 1.0, 10.0):
        with client.start_run(experiment="churn", name=f"lr-c{c}") as run:
            client.log_params(run.id, {"C": c, "model": "logreg"})
            for step in range(4):
                client.log_metrics(run.id, {"loss": 1 / (step + 1 + c), "accuracy": 0.6 + 0.05 * step}, step=step)
            client.log_text(run.id, f"C={c}\n", "notes/readme.txt")
            client.log_dataset(run.id, frame.assign(y=target * (1 if c < 5 else -1)), "customers", role="train")
            model = LogisticRegression(C=c).fit(frame, target)
            client.log_model(run.id, model, "model", input_example=frame.head(2))
            run_ids.append(run.id)
    for run_id in run_ids[:2]:
        client.register_model(run_id, "model", "churn")
    client.set_alias("churn", "production", 1)
    client.set_alias("churn", "production", 2)
    deployment_service.create_deployment(db, "churn-api", "churn@production", canary=(1, 0.2), actor="test")
    deployment_service.create_deployment(db, "churn-canary", "churn/1", canary=(2, 0.3), actor="test")
    minute = now_ms() // MINUTE_MS * MINUTE_MS
    add_request_counts(db, {("churn-api", 2, minute - MINUTE_MS): RequestCounts(40, 1, 2)})
    monitor_service.create_monitor(db, "churn-watch", "churn-api", actor="test")
    steps = [
        {"name": "fetch", "inputs": {}},
        {"name": "train", "inputs": {"data": "fetch.output"}},
        {"name": "gate", "inputs": {"model": "train.output"}},
    ]
    save_pipeline(db, "retrain", source="pipeline.py:retrain", workdir=None, steps=steps)
    started = pipeline_runs.start_pipeline_run(db, "retrain", params={}, trigger={"kind": "manual"}, actor="test")
    for name, state in (("fetch", StepState.CACHED), ("train", StepState.SUCCEEDED), ("gate", StepState.FAILED)):
        step = pipeline_runs.start_step_run(db, started.id, name, cache_key=None, run_id=None)
        pipeline_runs.finish_step_run(db, step, state, error="gate refused" if state is StepState.FAILED else None)
    pipeline_runs.finish_pipeline_run(db, started.id, RunState.FAILED, error="gate refused")
    return tuple(run_ids), started.id


def _project_with_a_commit(folder: Path) -> Path:
    """A git repository with one commit, so the runs made in it carry a commit for the lineage
    graph wherever the tests themselves run (a clean clone, an unpacked archive)."""
    folder.mkdir()
    (folder / "train.py").write_text("print('train')\n")
    identity = ["-c", "user.name=mlpilot tests", "-c", "user.email=tests@example.com"]
    for command in (["init", "-q"], ["add", "train.py"], [*identity, "commit", "-q", "-m", "train"]):
        subprocess.run(["git", *command], cwd=folder, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return folder


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    root = tmp_path_factory.mktemp("ui")
    uri = f"sqlite:///{root / 'mlpilot.db'}"
    server = LiveServer(
        uri,
        str(root / "artifacts"),
        root / "home",
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
    )
    db = Database(uri)
    project = _project_with_a_commit(root / "project")
    with (
        contextlib.chdir(project),
        Client(uri, str(root / "artifacts"), settings=load_settings(home=root / "client-home")) as client,
    ):
        run_ids, pipeline_run = _fill(client, db)
    _, deployer = create_key(db, "deployer", "read,deploy", actor="test")
    _, reader = create_key(db, "reader", "read", actor="test")
    _, predictor = create_key(db, "predictor", "predict", actor="test")
    server.start()
    yield Filled(server, db, run_ids, pipeline_run, deployer, reader, predictor)
    server.stop()
    db.dispose()
