"""Helpers shared by both sides of the side-by-side benchmarks.

Standard library only: ``bench/peers/*.py`` import this module from inside the peer venv (where
mlpilot is not installed), so that both sides time the same way and log the same data.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MODELS",
    "SEARCH_QUERIES",
    "SearchQuery",
    "SearchRun",
    "Timer",
    "expected_top",
    "load_snapshot",
    "median",
    "metric_value",
    "repeat",
    "search_dataset",
    "summarize",
    "timed",
]

MODELS = ("rf", "lr", "xgb", "svm")


@dataclass(frozen=True, slots=True)
class SearchRun:
    """One run of the search experiment: 5 params and 5 metrics, identical on both sides."""

    name: str
    params: dict[str, str]
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search both sides run; ``filter`` is in the common MLflow/mlpilot filter syntax."""

    name: str
    filter: str | None
    order_by: tuple[str, ...]
    model: str | None  # the params.model the filter requires, for verification
    min_acc: float | None  # the metrics.acc lower bound of the filter, for verification


SEARCH_QUERIES = (
    SearchQuery("acc > 0.5, order by acc desc", "metrics.acc > 0.5", ("metrics.acc DESC",), None, 0.5),
    SearchQuery("no filter, order by acc desc", None, ("metrics.acc DESC",), None, None),
    SearchQuery(
        "acc > 0.5 and model = 'rf', order by acc desc",
        "metrics.acc > 0.5 and params.model = 'rf'",
        ("metrics.acc DESC",),
        "rf",
        0.5,
    ),
)


def metric_value(i: int) -> float:
    """The value logged at step ``i`` of the throughput tests: a decaying loss."""
    return 1.0 / (1.0 + i)


def search_dataset(count: int, seed: int = 42) -> list[SearchRun]:
    """``count`` runs with params model/lr/depth/n_estimators/seed and metrics acc/loss/f1/precision/recall."""
    rng = random.Random(seed)
    runs = []
    for i in range(count):
        params = {
            "model": MODELS[i % len(MODELS)],
            "lr": str(rng.choice((0.001, 0.01, 0.1))),
            "depth": str(rng.randint(2, 12)),
            "n_estimators": str(rng.choice((50, 100, 200, 400))),
            "seed": str(i),
        }
        metrics = {key: rng.random() for key in ("acc", "loss", "f1", "precision", "recall")}
        runs.append(SearchRun(f"run-{i:05d}", params, metrics))
    return runs


def expected_top(runs: list[SearchRun], query: SearchQuery, limit: int) -> list[float]:
    """The acc values, best first, that a correct search must return."""
    matching = [
        run.metrics["acc"]
        for run in runs
        if (query.min_acc is None or run.metrics["acc"] > query.min_acc)
        and (query.model is None or run.params["model"] == query.model)
    ]
    return sorted(matching, reverse=True)[:limit]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(samples: list[float]) -> dict[str, Any]:
    """Median, min, max and the raw samples (seconds)."""
    return {
        "median": median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": [round(value, 6) for value in samples],
    }


class Timer:
    """Wall and CPU seconds of a block (CPU of the whole process, background threads included)."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    timer = Timer()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timer
    finally:
        timer.wall = time.perf_counter() - wall
        timer.cpu = time.process_time() - cpu


def load_snapshot() -> dict[str, Any]:
    """Load averages and the ``uptime`` line, for judging how noisy the machine was."""
    one, five, fifteen = os.getloadavg()
    try:
        line = subprocess.run(["uptime"], capture_output=True, text=True, check=False, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        line = ""
    return {"load_1m": one, "load_5m": five, "load_15m": fifteen, "uptime": line, "at": time.time()}


def repeat(label: str, reps: int, body: Callable[[int], Timer], log: Callable[[str], None]) -> list[Timer]:
    """Run ``body(rep)`` ``reps`` times, logging each sample."""
    timers = []
    for rep in range(reps):
        timer = body(rep)
        log(f"{label} rep {rep + 1}/{reps}: {timer.wall:.3f} s wall, {timer.cpu:.3f} s cpu")
        timers.append(timer)
    return timers


def venv_versions(python: Path, packages: Sequence[str]) -> dict[str, str]:
    """Installed versions of ``packages`` in the venv of ``python``, with Python's and SQLite's."""
    code = (
        "import json, sqlite3, sys; from importlib.metadata import version as v; "
        f"print(json.dumps({{n: v(n) for n in {tuple(packages)!r}}}"
        " | {'python': sys.version.split()[0], 'sqlite': sqlite3.sqlite_version}))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, str] = json.loads(done.stdout)
    return result
