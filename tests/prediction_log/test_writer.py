"""The writer: when it flushes, what it does under concurrency, and how it survives failed writes."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.prediction_log import FlushReport, PredictionLogWriter, read_predictions
from tests.prediction_log.factories import T0, make_batch


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def segment_count(root: Path) -> int:
    return len(list(root.rglob("*.parquet")))


def test_a_full_buffer_wakes_the_background_thread(root: Path) -> None:
    with PredictionLogWriter(root, flush_rows=100, flush_seconds=60) as writer:
        writer.append("churn", make_batch(60))
        time.sleep(0.2)
        assert writer.rows_written == 0  # under flush_rows, the 60 s timer has not fired
        writer.append("churn", make_batch(60))
        wait_for(lambda: writer.rows_written == 120)
        assert writer.buffered_rows == 0
        assert len(read_predictions(root, "churn")) == 120


def test_the_background_thread_flushes_on_its_timer(root: Path) -> None:
    with PredictionLogWriter(root, flush_rows=1_000_000, flush_seconds=0.1) as writer:
        writer.append("churn", make_batch(3))
        assert writer.buffered_rows == 3
        wait_for(lambda: writer.rows_written == 3, timeout=5)
        writer.append("churn", make_batch(2))
        wait_for(lambda: writer.rows_written == 5, timeout=5)
    assert segment_count(root) == 2


def test_close_writes_what_is_buffered_and_is_idempotent(root: Path) -> None:
    writer = PredictionLogWriter(root, flush_rows=1000, flush_seconds=60)
    writer.append("churn", make_batch(5))
    writer.append("churn", make_batch(5))
    assert writer.rows_written == 0
    writer.close()
    writer.close()
    assert writer.rows_written == 10
    assert writer.buffered_rows == 0
    assert segment_count(root) == 1
    assert not any(t.name == "mlpilot-prediction-log" and t.is_alive() for t in threading.enumerate())


def test_a_batch_appended_after_close_is_written_at_once(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = PredictionLogWriter(root)
    writer.close()
    writer.append("churn", make_batch(2))
    assert writer.rows_written == 2
    assert "after close" in caplog.text


def test_flush_returns_the_rows_it_wrote(root: Path) -> None:
    with PredictionLogWriter(root, flush_seconds=60) as writer:
        assert writer.flush() == 0
        writer.append("a", make_batch(2))
        writer.append("b", make_batch(3))
        assert writer.flush() == 5
        assert writer.flush() == 0
    assert segment_count(root) == 2


def test_four_times_flush_rows_makes_the_caller_write(root: Path) -> None:
    with PredictionLogWriter(root, flush_rows=10, flush_seconds=60) as writer:
        writer.append("churn", make_batch(40))
        assert writer.rows_written == 40  # written before append returned


def test_concurrent_appends_lose_and_duplicate_nothing(root: Path) -> None:
    threads, batches, rows = 8, 150, 4
    with PredictionLogWriter(root, flush_rows=300, flush_seconds=0.05) as writer:

        def produce(worker: int) -> None:
            for index in range(batches):
                ids = [f"w{worker}-b{index}-r{row}" for row in range(rows)]
                writer.append("churn", make_batch(rows, prediction_ids=ids, time_ms=T0 + index))

        workers = [threading.Thread(target=produce, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    got = read_predictions(root, "churn", columns=["prediction_id"])["prediction_id"]
    expected = {f"w{w}-b{b}-r{r}" for w in range(threads) for b in range(batches) for r in range(rows)}
    assert len(got) == len(expected)
    assert set(got) == expected
    assert writer.rows_written == len(expected)
    assert segment_count(root) > 1


def test_segments_are_named_by_time_writer_and_sequence(root: Path) -> None:
    with PredictionLogWriter(root, writer_id="host/1 two", flush_seconds=60) as writer:
        assert writer.writer_id == "host_1_two"
        writer.append("churn", make_batch(1))
        writer.flush()
        writer.append("churn", make_batch(1))
    names = sorted(path.name for path in root.rglob("*.parquet"))
    assert len(names) == 2
    for name in names:
        stamp, rest = name.split("-", 1)
        assert abs(int(stamp) - time.time() * 1000) < 60_000
        assert rest.startswith("host_1_two-") and rest.endswith(".parquet")
    assert not list(root.rglob(".*"))  # no temporary file left behind
    default = PredictionLogWriter(root)
    assert default.writer_id.endswith(f"-{os.getpid()}")
    default.close()


def test_a_failed_flush_keeps_the_rows_and_retries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # chmod does not stop root, so the log folder is put under a regular file instead.
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    root = blocker / "predictions"
    with PredictionLogWriter(root, flush_rows=1000, flush_seconds=60) as writer:
        writer.append("churn", make_batch(5))
        with caplog.at_level(logging.ERROR, logger="mlpilot.prediction_log"):
            assert writer.flush() == 0  # logged, not raised
        assert "could not write 5 rows" in caplog.text
        assert writer.buffered_rows == 5
        assert writer.rows_written == 0
        writer.append("churn", make_batch(3))
        assert writer.flush() == 0
        assert writer.buffered_rows == 8

        blocker.unlink()
        assert writer.flush() == 8
        assert writer.buffered_rows == 0
        assert writer.dropped_rows == 0
    got = read_predictions(root, "churn")
    assert len(got) == 8
    assert got["prediction_id"].is_unique
    assert len(list(root.rglob("*.parquet"))) == 1  # the retried rows went out as one segment


def test_past_the_bound_the_oldest_unwritten_rows_are_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    root = blocker / "predictions"
    batches = [make_batch(10, time_ms=T0 + index) for index in range(3)]
    with PredictionLogWriter(root, flush_rows=10, flush_seconds=60, max_buffered_rows=25) as writer:
        for batch in batches:
            writer.append("churn", batch)
            writer.flush()
        assert writer.dropped_rows == 5
        assert writer.buffered_rows == 25
        assert "dropped the 5 oldest" in caplog.text
        blocker.unlink()
        writer.flush()  # or the background thread, woken by the full buffer, got there first
        assert writer.rows_written == 25
    kept = set(read_predictions(root, "churn")["prediction_id"])
    assert kept == set(batches[0].prediction_ids[5:]) | set(batches[1].prediction_ids) | set(batches[2].prediction_ids)


def test_a_batch_that_cannot_be_stored_does_not_hold_back_the_others(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mixed = pd.DataFrame({"x": [1.0, 2.0], "odd": np.array([1, "two"], dtype=object)})
    with PredictionLogWriter(root, flush_seconds=60) as writer:
        writer.append("churn", make_batch(inputs=mixed))
        writer.append("churn", make_batch(3))
        writer.append("churn", make_batch(inputs=mixed.assign(odd=["a", "b"])))
        assert writer.flush() == 5
        assert writer.dropped_rows == 2
        assert writer.buffered_rows == 0
    assert "dropped 2 rows of deployment 'churn' that cannot be stored" in caplog.text
    assert len(read_predictions(root, "churn")) == 5


def test_each_flush_reports_rows_written_and_dropped_and_its_cost(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    reports: list[FlushReport] = []
    mixed = pd.DataFrame({"x": [1.0, 2.0], "odd": np.array([1, "two"], dtype=object)})
    with PredictionLogWriter(root, flush_seconds=60, on_flush=reports.append) as writer:
        assert writer.flush() == 0
        assert reports == []  # nothing to do is not a flush
        writer.append("churn", make_batch(3))
        writer.append("churn", make_batch(inputs=mixed))
        writer.flush()
        writer.append("churn", make_batch(4))
    assert [(report.written, report.dropped) for report in reports] == [(3, 2), (4, 0)]
    assert all(report.seconds > 0 and report.cpu_seconds >= 0 for report in reports)


def test_a_failing_on_flush_callback_loses_no_rows(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(report: FlushReport) -> None:
        raise RuntimeError("metrics are down")

    with PredictionLogWriter(root, flush_seconds=60, on_flush=broken) as writer:
        writer.append("churn", make_batch(3))
        assert writer.flush() == 3
        assert writer.buffered_rows == 0
    assert "on_flush callback failed" in caplog.text
    assert len(read_predictions(root, "churn")) == 3


@pytest.mark.parametrize("name", ["", "../up", "a/b", "with space", "x" * 101, 7])
def test_bad_deployment_names_are_rejected(root: Path, name: object) -> None:
    with PredictionLogWriter(root) as writer, pytest.raises(InvalidInput, match="deployment name"):
        writer.append(name, make_batch(1))  # type: ignore[arg-type]
    assert not root.exists()


def test_bad_settings_are_rejected(root: Path) -> None:
    with pytest.raises(InvalidInput, match="flush_rows"):
        PredictionLogWriter(root, flush_rows=0)
    with pytest.raises(InvalidInput, match="flush_seconds"):
        PredictionLogWriter(root, flush_seconds=0)
    with pytest.raises(InvalidInput, match="max_buffered_rows"):
        PredictionLogWriter(root, flush_rows=100, max_buffered_rows=10)


def test_writers_never_collide_on_a_name(root: Path) -> None:
    first = PredictionLogWriter(root, writer_id="same", flush_seconds=60)
    second = PredictionLogWriter(root, writer_id="same", flush_seconds=60)
    for _ in range(20):
        first.append("churn", make_batch(1))
        second.append("churn", make_batch(1))
        first.flush()
        second.flush()
    first.close()
    second.close()
    assert len(read_predictions(root, "churn")) == 40


def test_close_from_a_signal_handler_that_interrupted_append_is_deferred(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = PredictionLogWriter(root, flush_seconds=60)
    writer.append("churn", make_batch(2))
    # A handler that interrupts append() runs on the thread that holds the buffer lock.
    writer._lock.acquire()
    try:
        writer.close()  # must return rather than wait for itself
    finally:
        writer._lock.release()
    assert "closing when it returns" in caplog.text
    assert writer.rows_written == 0
    writer.append("churn", make_batch(1))  # the interrupted append returns
    assert writer.rows_written == 3
    writer.close()
