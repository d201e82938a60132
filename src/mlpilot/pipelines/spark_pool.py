"""Fanned-out step instances as Spark tasks: one configuration per task, on whatever cluster the
session runs (``local[2]`` in tests). Each task loads the pipeline's code, connects to the same
store and runs the instance exactly as a process-pool worker would (``execute.run_in_worker``), so
its tracked run, outputs and failures are recorded the same way."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Sequence

from mlpilot.pipelines.execute import Task, TaskResult, init_worker, run_in_worker

__all__ = ["SparkPool"]

# What this Python worker was initialized for: a reused worker skips loading and connecting again.
_initialized: tuple[str, str, str | None] | None = None


def _run(source: str, tracking_uri: str, artifact_uri: str | None, payload: bytes) -> bytes:
    global _initialized
    wanted = (source, tracking_uri, artifact_uri)
    if _initialized != wanted:
        init_worker(*wanted)
        _initialized = wanted
    # The task unpickles only now, after init_worker loaded the module its step lives in.
    task: Task = pickle.loads(payload)
    return pickle.dumps(run_in_worker(task), protocol=pickle.HIGHEST_PROTOCOL)


class SparkPool:
    def __init__(self, *, source: str, tracking_uri: str, artifact_uri: str | None) -> None:
        self._args = (source, tracking_uri, artifact_uri)

    def warm(self) -> None:
        from mlpilot.spark.session import get_spark

        get_spark()

    def map(self, tasks: Sequence[Task]) -> list[TaskResult]:
        from mlpilot.spark.tasks import run_each

        payloads = [pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL) for task in tasks]
        results = run_each(payloads, functools.partial(_run, *self._args))
        return [pickle.loads(result) for result in results]

    def close(self) -> None:
        """The Spark session outlives the pipeline run: it is the caller's (or spark-submit's)."""
