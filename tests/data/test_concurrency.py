"""Several processes logging versions of one dataset at once, on SQLite and on PostgreSQL.

On PostgreSQL the writers really do collide on the next version number, which exercises the
retry on the unique constraint; on SQLite they queue on the write lock.
"""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from mlpilot.artifacts import ContentStore, LocalBackend
from mlpilot.data.versions import list_versions, log_dataset
from mlpilot.store import Database
from tests.data.factories import sample_frame

Logged = list[tuple[int, int, str]]


def _log_in_process(uri: str, artifacts: str, index: int, barrier: Barrier, results: Queue[Any]) -> None:
    """One worker: log the shared frame and its own frames, racing the others. Reports an error
    instead of dying silently, so the test fails at once rather than waiting for a result."""
    try:
        db = Database(uri)
        content = ContentStore(LocalBackend(artifacts))
        barrier.wait(timeout=60)
        logged: Logged = []
        for repeat in range(2):
            shared = log_dataset(db, content, sample_frame(rows=50, seed=0), "shared")
            own = log_dataset(db, content, sample_frame(rows=50, seed=100 + index * 10 + repeat), "shared")
            logged.append((shared.version, own.version, own.content_hash))
        db.dispose()
        results.put((index, logged))
    except BaseException:
        results.put((index, traceback.format_exc()))
        raise


@pytest.mark.slow
def test_concurrent_processes_get_unique_contiguous_versions(db: Database, tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    workers = [
        context.Process(target=_log_in_process, args=(db.uri, str(tmp_path / "artifacts"), index, barrier, results))
        for index in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes: dict[int, Logged | str] = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0, outcomes
    finished = {index: logged for index, logged in outcomes.items() if not isinstance(logged, str)}
    assert len(finished) == 4, outcomes
    versions = list_versions(db, "shared")
    assert [v.version for v in versions] == list(range(1, 10))  # one shared frame + 8 distinct ones
    assert len({v.content_hash for v in versions}) == 9
    shared_versions = {shared for logged in finished.values() for shared, _own, _hash in logged}
    assert len(shared_versions) == 1
    by_hash = {v.content_hash: v.version for v in versions}
    for logged in finished.values():
        for _shared, own, digest in logged:
            assert by_hash[digest] == own
