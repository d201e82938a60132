"""The module-level API over the default client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlpilot
from mlpilot import Conflict, RunStatus


@pytest.fixture
def default_store(isolated_env: Path, tmp_path: Path) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path / 'fluent.db'}"
    mlpilot.set_tracking_uri(uri, artifact_uri=str(tmp_path / "art"))
    yield uri
    while (handle := mlpilot.active_run()) is not None:
        handle.end()
    mlpilot.set_tracking_uri(None)


def test_module_functions_log_to_the_active_run(default_store: str) -> None:
    with mlpilot.start_run(experiment="fluent", name="f") as run:
        mlpilot.log_param("C", 1)
        mlpilot.log_params({"model": "rf"})
        mlpilot.log_metric("acc", 0.5)
        mlpilot.log_metrics({"f1": 0.4}, step=1)
        mlpilot.set_tag("team", "x")
        mlpilot.set_tags({"stage": "dev"})
        mlpilot.log_dict({"a": 1}, "cfg.json")
        assert mlpilot.active_run() is run
    assert mlpilot.active_run() is None
    stored = mlpilot.get_run(run.id)
    assert stored.params == {"C": "1", "model": "rf"}
    assert stored.metrics == {"acc": 0.5, "f1": 0.4}
    assert stored.tags == {"team": "x", "stage": "dev"}
    assert [r.id for r in mlpilot.search_runs("fluent", "metrics.acc = 0.5")] == [run.id]
    assert len(mlpilot.get_metric_history(run.id, "acc")) == 1


def test_nested_runs_need_to_be_asked_for(default_store: str) -> None:
    with mlpilot.start_run(experiment="fluent") as parent:
        with pytest.raises(Conflict, match="nested=True"):
            mlpilot.start_run()
        with mlpilot.start_run(nested=True) as child:
            mlpilot.log_metric("fold", 1.0)
        assert mlpilot.active_run() is parent
    assert mlpilot.get_run(child.id).parent_run_id == parent.id
    assert mlpilot.get_run(child.id).metrics == {"fold": 1.0}


def test_logging_without_an_active_run_is_an_error(default_store: str) -> None:
    with pytest.raises(Conflict, match="start_run"):
        mlpilot.log_metric("acc", 1.0)


def test_attach_to_a_run_by_id_leaves_ending_it_to_its_owner(default_store: str, tmp_path: Path) -> None:
    client = mlpilot.get_client()
    created = client.create_run("fluent", name="owned-by-runner")
    with mlpilot.start_run(run_id=created.id) as attached:
        mlpilot.log_metric("acc", 0.7)
    assert attached.id == created.id
    stored = mlpilot.get_run(created.id)
    assert stored.status is RunStatus.RUNNING
    assert stored.metrics == {"acc": 0.7}
    client.end_run(created.id)
    with pytest.raises(mlpilot.InactiveRun):
        mlpilot.start_run(run_id=created.id)


def test_attach_from_environment(default_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created = mlpilot.get_client().create_run("fluent")
    monkeypatch.setenv("MLPILOT_TRACKING_URI", default_store)
    monkeypatch.setenv("MLPILOT_ARTIFACT_URI", str(tmp_path / "art"))
    monkeypatch.setenv("MLPILOT_RUN_ID", created.id)
    mlpilot.set_tracking_uri(None)
    with mlpilot.start_run() as run:
        mlpilot.log_param("from_env", True)
    assert run.id == created.id
    assert mlpilot.get_run(created.id).params == {"from_env": "True"}


SIGTERMED = """
import sys, time, mlpilot
mlpilot.set_tracking_uri(sys.argv[1], artifact_uri=sys.argv[2])
with mlpilot.start_run(experiment="term") as run:
    print(run.id, flush=True)
    step = 0
    while True:
        mlpilot.log_metric("x", step, step=step)
        if step == 1000:
            print("ready", flush=True)
        step += 1
        time.sleep(0.0001)
"""


def test_sigterm_flushes_buffered_metrics_and_ends_the_run_killed(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'term.db'}"
    script = tmp_path / "term.py"
    script.write_text(SIGTERMED)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")}
    env["MLPILOT_METRIC_FLUSH_INTERVAL"] = "60"  # nothing reaches the store unless the exit path flushes
    with subprocess.Popen(
        [sys.executable, str(script), uri, str(tmp_path / "art")], stdout=subprocess.PIPE, text=True, env=env
    ) as process:
        assert process.stdout is not None
        run_id = process.stdout.readline().strip()
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
    with mlpilot.connect(uri, artifact_uri=str(tmp_path / "art")) as client:
        assert client.get_run(run_id).status is RunStatus.KILLED
        assert len(client.get_metric_history(run_id, "x")) > 1000
