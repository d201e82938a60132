"""Many processes logging to one SQLite file, and a process killed mid-logging."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mlpilot

WRITER = textwrap.dedent(
    """
    import sys, mlpilot
    uri, artifacts, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = mlpilot.connect(uri, artifact_uri=artifacts)
    for repeat in range(3):
        with client.start_run("crowd", name=f"p{index}-{repeat}") as run:
            run.log_params({"index": index, "repeat": repeat})
            for step in range(2000):
                run.log_metric("loss", 1.0 / (step + 1), step=step)
            client.log_batch(run.id, metrics=[("acc", index / 10, s) for s in range(200)], tags={"p": index})
            run.log_text(f"process {index}", "who.txt")
    client.close()
    print("done", index)
    """
)


@pytest.mark.slow
def test_eight_processes_lose_nothing_and_never_see_locked(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    artifacts = str(tmp_path / "artifacts")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "MLPILOT_METRIC_FLUSH_INTERVAL": "0.05"}
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), uri, artifacts, str(index)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for index in range(8)
    ]
    outputs = [process.communicate(timeout=240) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "locked" not in err
    with mlpilot.connect(uri, artifact_uri=artifacts) as client:
        runs = list(client.search_runs("crowd", max_results=100))
        assert len(runs) == 24
        assert all(run.status is mlpilot.RunStatus.FINISHED for run in runs)
        for run in runs:
            assert len(client.get_metric_history(run.id, "loss")) == 2000
            assert len(client.get_metric_history(run.id, "acc")) == 200
            assert client.read_artifact(run.id, "who.txt") == f"process {run.params['index']}".encode()


KILLED = textwrap.dedent(
    """
    import sys, mlpilot
    client = mlpilot.connect(sys.argv[1], artifact_uri=sys.argv[2])
    run = client.create_run("killed")
    print(run.id, flush=True)
    step = 0
    while True:
        for _ in range(500):
            client.log_metric(run.id, "x", step, step=step)
            step += 1
        client.flush()
        print(step, flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_keeps_everything_flushed_and_the_database_intact(tmp_path: Path) -> None:
    db_path = tmp_path / "killed.db"
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    process = subprocess.Popen(
        [sys.executable, str(script), f"sqlite:///{db_path}", str(tmp_path / "art")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    flushed = 0
    deadline = time.monotonic() + 60
    while flushed < 20_000 and time.monotonic() < deadline:
        flushed = int(process.stdout.readline())
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    assert flushed >= 20_000

    connection = sqlite3.connect(db_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = connection.execute("SELECT count(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]
    finally:
        connection.close()
    assert stored >= flushed
    with mlpilot.connect(f"sqlite:///{db_path}", artifact_uri=str(tmp_path / "art")) as client:
        assert client.get_run(run_id).status is mlpilot.RunStatus.RUNNING
