"""What survives when the serving process dies: a child process appends rows, then is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mlpilot.prediction_log import read_predictions

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

FLUSH_SECONDS = 0.5
BATCH_ROWS = 4

# Appends a batch of BATCH_ROWS rows every 10 ms; row k of batch n has input `n` and time = the
# wall clock when the batch was appended. Prints "ready" once the writer exists.
CHILD = """
import signal, sys, time
import numpy as np, pandas as pd
from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter

root, mode, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
writer = PredictionLogWriter(root, flush_seconds=float(sys.argv[4]), flush_rows=1_000_000)
done = 0

def stop(signum, frame):
    writer.close()
    print(done, flush=True)
    sys.exit(0)

if mode == "term":
    signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
limit = int(sys.argv[5]) if len(sys.argv) > 5 else None
while limit is None or done < limit:
    ids = [f"{done:08d}-{row}" for row in range(rows)]
    batch = PredictionBatch(
        model="m", version=1, role="primary", inputs=pd.DataFrame({"n": [done] * rows}),
        predictions=np.zeros(rows), prediction_ids=ids, request_ids=[str(done)] * rows,
        latency_ms=[1.0] * rows, time_ms=time.time_ns() // 1_000_000,
    )
    writer.append("dep", batch)
    done += 1
    time.sleep(0.01)
"""


def start_child(tmp_path: Path, mode: str, *extra: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, "-W", "error", str(script), str(tmp_path / "log"), mode, str(BATCH_ROWS), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line == "ready\n", child.stderr.read() if child.stderr else ""
    return child


def assert_whole_batches_in_order(got: pd.DataFrame) -> int:
    """The rows on disk are whole batches 0..n-1, each once; return n."""
    counts = got.groupby("input:n").size()
    batches = len(counts)
    assert counts.index.tolist() == list(range(batches))
    assert (counts == BATCH_ROWS).all()
    assert got["prediction_id"].is_unique
    return batches


@pytest.mark.slow
def test_sigkill_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    child = start_child(tmp_path, "kill", str(FLUSH_SECONDS))
    time.sleep(2.0)
    killed_ms = time.time_ns() // 1_000_000
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)

    got = read_predictions(tmp_path / "log", "dep")

    batches = assert_whole_batches_in_order(got)
    assert batches > 0
    newest_ms = int(got["time"].max().value // 1_000_000)
    # Everything older than one flush interval (plus time for the flush itself) is on disk.
    assert newest_ms >= killed_ms - FLUSH_SECONDS * 1000 - 300, (killed_ms - newest_ms, batches)
    # What was lost, if anything, is only a torn temporary file, which readers skip.
    leftovers = [path.name for path in (tmp_path / "log").rglob("*") if path.is_file() and path.name.startswith(".")]
    assert all(name.endswith(".parquet.tmp") for name in leftovers)


@pytest.mark.slow
def test_sigterm_with_a_handler_that_closes_loses_nothing(tmp_path: Path) -> None:
    child = start_child(tmp_path, "term", "60")  # the timer never fires: only close() writes
    time.sleep(1.0)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    done = int(out.split()[-1])

    got = read_predictions(tmp_path / "log", "dep")

    batches = assert_whole_batches_in_order(got)
    # The signal may land after an append returned but before the child counted it.
    assert batches in (done, done + 1)
    assert done > 10


def test_an_unclosed_writer_is_flushed_at_interpreter_exit(tmp_path: Path) -> None:
    child = start_child(tmp_path, "exit", "60", "25")
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert assert_whole_batches_in_order(read_predictions(tmp_path / "log", "dep")) == 25
    assert os.path.isdir(tmp_path / "log" / "deployment=dep")
