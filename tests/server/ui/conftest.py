"""One server for the UI tests: a SQLite store filled through mlpilot's own client and services,
keys with different scopes, and helpers to sign in over HTTP."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot import deployments as deployment_service
from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.deployments import record_feedback
from mlpilot.deployments.request_counts import MINUTE_MS, RequestCounts, add_request_counts
from mlpilot.monitoring import monitors as monitor_service
from mlpilot.monitoring.runner import run_monitor
from mlpilot.orchestration import runs as pipeline_runs
from mlpilot.orchestration.records import RunState, StepState
from mlpilot.orchestration.stored import save_pipeline
from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter, new_prediction_id
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
    windows: tuple[str, ...]  # the monitor's results' statuses, oldest first
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


def framed(response: httpx.Response, key_name: str) -> None:
    """An HTML page with the signed-in navigation bar, and no traceback."""
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    text = response.text
    assert 'href="/experiments"' in text and 'href="/deployments"' in text
    assert f">{key_name}</span>" in text and "Sign out" in text
    assert "Traceback" not in text and "INTERNAL_ERROR" not in text


def csrf_of(http: httpx.Client, path: str) -> str:
    text = http.get(path).text
    marker = 'name="csrf" value="'
    start = text.index(marker) + len(marker)
    return text[start : text.index('"', start)]


ODD_DATASET = "team/churn?v=1#raw 100%"  # every character a URL gives meaning to
HOUR = 3_600_000
T0 = 1_790_000_000_000  # a fixed hour boundary: the monitor's windows are the same on every run
WINDOW_SHIFTS = (0.0, 0.6, 0.0, 0.6)  # calm, drifted, calm, drifted: alerts open, resolve, open again


def _customers(rows: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"x1": rng.uniform(0, 1, rows) + shift, "x2": rng.uniform(0, 1, rows)})


def _truth(frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    return ((frame["x1"] + rng.normal(0, 0.15, len(frame))) > 0.5).astype(int)


def _fill(client: Client, db: Database) -> tuple[tuple[str, ...], str, LogisticRegression]:
    rng = np.random.default_rng(0)
    frame = _customers(300, rng)
    target = _truth(frame, rng)
    run_ids, models = [], []
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
            models.append(model)
    client.register_dataset(frame.head(20), ODD_DATASET)
    for run_id in run_ids[:2]:
        client.register_model(run_id, "model", "churn")
    client.set_alias("churn", "production", 1)
    client.set_alias("churn", "production", 2)
    deployment_service.create_deployment(db, "churn-api", "churn@production", canary=(1, 0.2), actor="test")
    deployment_service.create_deployment(db, "churn-canary", "churn/1", canary=(2, 0.3), actor="test")
    minute = now_ms() // MINUTE_MS * MINUTE_MS
    add_request_counts(db, {("churn-api", 2, minute - MINUTE_MS): RequestCounts(40, 1, 2)})
    monitor_service.create_monitor(db, "churn-watch", "churn-api", MONITOR_CONFIG, actor="test")
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
    return tuple(run_ids), started.id, models[1]  # churn@production is version 2, run 2's model


MONITOR_CONFIG = {
    "window": "1h",
    "conditions": {"drift_share": 0.7, "features": ["x1"], "performance": {"metric": "accuracy", "max_drop": 0.15}},
}


def _watch(client: Client, db: Database, model: LogisticRegression, root: Path) -> tuple[str, ...]:
    """Real monitor results: serve hourly windows into the prediction log (half of them labelled,
    some with x1 shifted), then run the monitor over each, as its scheduler would."""
    rng = np.random.default_rng(1)
    predictions = root / "predictions"
    for hour, shift in enumerate(WINDOW_SHIFTS):
        rows = 400
        frame = _customers(rows, rng, shift)
        ids = [new_prediction_id() for _ in range(rows)]
        with PredictionLogWriter(predictions) as writer:
            writer.append(
                "churn-api",
                PredictionBatch(
                    model="churn",
                    version=2,
                    role="primary",
                    inputs=frame,
                    predictions=model.predict(frame),
                    prediction_ids=ids,
                    request_ids=ids,
                    latency_ms=np.full(rows, 6.0),
                    time_ms=T0 + hour * HOUR + np.arange(rows) * (HOUR // (rows + 1)),
                    probabilities=model.predict_proba(frame),
                    classes=[0, 1],
                ),
            )
        truth = _truth(frame, rng)
        record_feedback(db, "churn-api", [(ids[i], int(truth[i])) for i in range(200)], known_ids=set, actor="test")
    content = client.transport.content  # type: ignore[attr-defined]
    statuses = []
    for hour in range(len(WINDOW_SHIFTS)):
        done = run_monitor(
            db,
            content,
            "churn-watch",
            predictions_root=str(predictions),
            cache_root=root / "cache",
            now=T0 + (hour + 1) * HOUR,
        )
        statuses.append(done.result.status)
    return tuple(statuses)


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
        run_ids, pipeline_run, production = _fill(client, db)
        windows = _watch(client, db, production, root)
    _, deployer = create_key(db, "deployer", "read,deploy", actor="test")
    _, reader = create_key(db, "reader", "read", actor="test")
    _, predictor = create_key(db, "predictor", "predict", actor="test")
    server.start()
    yield Filled(server, db, run_ids, windows, pipeline_run, deployer, reader, predictor)
    server.stop()
    db.dispose()
