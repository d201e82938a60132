"""The process pool fanned-out steps run in: spawned processes (each imports the pipeline's
module, so nothing is inherited by accident), started on first need, or ahead of it: the engine
warms the pool as soon as a step before a fan-out actually runs, so the workers' start-up (a
couple of seconds of imports) overlaps that step instead of delaying the candidates."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from mlpilot.pipelines.execute import Task, TaskResult, init_worker, run_in_worker

__all__ = ["WorkerPool"]


def _ready() -> None:
    """A task that only makes a worker start (its initializer loads the pipeline and connects)."""


class WorkerPool:
    def __init__(self, size: int, *, source: str, tracking_uri: str, artifact_uri: str | None) -> None:
        self.size = size
        self._initargs = (source, tracking_uri, artifact_uri)
        self._pool: ProcessPoolExecutor | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=self._initargs,
            )
        return self._pool

    def warm(self) -> None:
        if self._pool is None:
            pool = self._started()
            for _ in range(self.size):
                pool.submit(_ready)

    def map(self, tasks: Sequence[Task]) -> list[TaskResult]:
        return list(self._started().map(run_in_worker, tasks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
