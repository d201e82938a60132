"""The MLflow side of the tracking benchmark (run by bench/tracking.py inside .bench/mlflow-venv).

    .bench/mlflow-venv/bin/python bench/peers/mlflow_tracking.py --db /tmp/x/mlflow.db --out /tmp/x/mlflow.json

Measures, on a SQLite store, in-process:
  * a loop of single ``mlflow.log_metric`` calls (each is synchronous: durable when it returns);
  * ``MlflowClient.log_batch`` with ``--batch-size`` metrics per call;
  * run creation with 5 params and 5 metrics through the fluent API (ms/run);
  * populating ``--search-runs`` runs (``create_run`` + ``log_batch`` + ``set_terminated``) and
    timing ``MlflowClient.search_runs`` over them (1 warm-up, then ``--search-reps`` repetitions).

Writes a JSON file with every raw sample. Only the standard library and MLflow are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mlflow
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from bench_common import (
    SEARCH_QUERIES,
    Timer,
    expected_top,
    load_snapshot,
    metric_value,
    repeat,
    search_dataset,
    summarize,
    timed,
)


def log(message: str) -> None:
    print(f"[mlflow] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="SQLite file to create (must not exist)")
    parser.add_argument("--out", type=Path, required=True, help="JSON results file")
    parser.add_argument("--metric-points", type=int, default=2_000, help="points per log_metric repetition")
    parser.add_argument("--metric-reps", type=int, default=3)
    parser.add_argument("--batch-points", type=int, default=20_000, help="points per log_batch repetition")
    parser.add_argument("--batch-size", type=int, default=1_000, help="metrics per log_batch call")
    parser.add_argument("--batch-reps", type=int, default=3)
    parser.add_argument("--runs", type=int, default=200, help="runs per run-creation repetition")
    parser.add_argument("--run-reps", type=int, default=3)
    parser.add_argument("--search-runs", type=int, default=10_000, help="runs in the searched experiment")
    parser.add_argument("--search-reps", type=int, default=7)
    args = parser.parse_args(argv)

    uri = f"sqlite:///{args.db.resolve()}"
    artifacts = (args.db.parent / "mlflow-artifacts").resolve().as_uri()
    load_before = load_snapshot()

    # Warm-up: the first use creates the schema through alembic migrations; not timed.
    with timed() as schema:
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        warm = client.create_experiment("warmup", artifact_location=f"{artifacts}/warmup")
        with mlflow.start_run(experiment_id=warm):
            mlflow.log_metric("warm", 1.0)
    log(f"schema + warm-up: {schema.wall:.2f} s")

    def new_experiment(name: str) -> str:
        return str(client.create_experiment(name, artifact_location=f"{artifacts}/{name}"))

    results: dict[str, Any] = {
        "side": "mlflow",
        "load_before": load_before,
        "versions": {
            "mlflow": version("mlflow"),
            "sqlalchemy": version("sqlalchemy"),
            "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version,
        },
        "sizes": {k: v for k, v in vars(args).items() if k not in ("db", "out")},
        "schema_setup_s": schema.wall,
    }

    # 1. a loop of single log_metric calls.
    n = args.metric_points

    def log_metric_rep(rep: int) -> Timer:
        experiment = new_experiment(f"log_metric-{rep}")
        with mlflow.start_run(experiment_id=experiment) as run, timed() as timer:
            for i in range(n):
                mlflow.log_metric("loss", metric_value(i), step=i)
        history = client.get_metric_history(run.info.run_id, "loss")
        assert len(history) == n, f"log_metric: expected {n} points, found {len(history)}"
        return timer

    timers = repeat(f"log_metric x {n}", args.metric_reps, log_metric_rep, log)
    results["log_metric"] = _throughput(n, timers)

    # 2. log_batch, batch-size metrics per call.
    nb, size = args.batch_points, args.batch_size

    def log_batch_rep(rep: int) -> Timer:
        experiment = new_experiment(f"log_batch-{rep}")
        run_id = client.create_run(experiment).info.run_id
        with timed() as timer:
            for start in range(0, nb, size):
                now = int(time.time() * 1000)
                batch = [Metric("loss", metric_value(i), now, i) for i in range(start, min(start + size, nb))]
                client.log_batch(run_id, metrics=batch)
        history = client.get_metric_history(run_id, "loss")
        assert len(history) == nb, f"log_batch: expected {nb} points, found {len(history)}"
        client.set_terminated(run_id)
        return timer

    timers = repeat(f"log_batch {nb} points / {size} per call", args.batch_reps, log_batch_rep, log)
    results["log_batch"] = _throughput(nb, timers)

    # 3. run creation: 5 params + 5 metrics each, fluent API.
    runs = args.runs

    def run_rep(rep: int) -> Timer:
        experiment = new_experiment(f"runs-{rep}")
        with timed() as timer:
            for i in range(runs):
                with mlflow.start_run(experiment_id=experiment, run_name=f"r{i}"):
                    mlflow.log_params({"model": "rf", "lr": 0.1, "depth": 6, "n_estimators": 100, "seed": i})
                    mlflow.log_metrics({"acc": 0.9, "loss": 0.1, "f1": 0.8, "precision": 0.85, "recall": 0.75})
        found = client.search_runs([experiment], max_results=runs + 1)
        assert len(found) == runs, f"run creation: expected {runs} runs, found {len(found)}"
        assert all(len(r.data.params) == 5 and len(r.data.metrics) == 5 for r in found)
        return timer

    timers = repeat(f"{runs} runs x (5 params + 5 metrics)", args.run_reps, run_rep, log)
    results["run_create"] = {
        "runs": runs,
        "wall_s": summarize([t.wall for t in timers]),
        "cpu_s": summarize([t.cpu for t in timers]),
        "ms_per_run": summarize([t.wall / runs * 1000 for t in timers]),
    }

    # 4. search over a populated experiment.
    dataset = search_dataset(args.search_runs)
    experiment = new_experiment("search")
    # create_run + log_batch only: set_terminated would add a third transaction per run (about 20 %
    # more populate time) and the run status plays no part in the searches.
    log(f"populating {len(dataset)} runs (create_run + log_batch) ...")
    started = time.perf_counter()
    with timed() as populate:
        for index, item in enumerate(dataset, 1):
            run_id = client.create_run(experiment, run_name=item.name).info.run_id
            now = int(time.time() * 1000)
            client.log_batch(
                run_id,
                metrics=[Metric(key, value, now, 0) for key, value in item.metrics.items()],
                params=[Param(key, value) for key, value in item.params.items()],
            )
            if index % 2500 == 0 and index < len(dataset):
                log(f"  {index} runs, {time.perf_counter() - started:.0f} s")
    results["populate"] = {
        "runs": len(dataset),
        "calls": "create_run + log_batch",
        "wall_s": populate.wall,
        "cpu_s": populate.cpu,
        "ms_per_run": populate.wall / len(dataset) * 1000,
    }
    log(f"populated in {populate.wall:.1f} s ({populate.wall / len(dataset) * 1000:.2f} ms/run)")

    searches: dict[str, Any] = {}
    for query in SEARCH_QUERIES:
        expected = expected_top(dataset, query, 100)
        samples: list[float] = []
        warmup = 0.0
        for rep in range(args.search_reps + 1):
            start = time.perf_counter()
            page = client.search_runs(
                experiment_ids=[experiment],
                filter_string=query.filter or "",
                order_by=list(query.order_by),
                max_results=100,
            )
            elapsed = time.perf_counter() - start
            accs = [r.data.metrics["acc"] for r in page]
            assert accs == expected, f"search {query.name!r}: wrong runs or order"
            if query.model is not None:
                assert all(r.data.params["model"] == query.model for r in page)
            if rep == 0:
                warmup = elapsed
            else:
                samples.append(elapsed)
        searches[query.name] = {
            "filter": query.filter,
            "order_by": list(query.order_by),
            "returned": len(expected),
            "warmup_s": warmup,
            "seconds": summarize(samples),
        }
        log(f"search {query.name!r}: median {searches[query.name]['seconds']['median'] * 1000:.1f} ms")
    results["search"] = searches
    results["load_after"] = load_snapshot()
    results["db_bytes"] = args.db.stat().st_size

    args.out.write_text(json.dumps(results, indent=2))
    log(f"wrote {args.out}")
    return 0


def _throughput(points: int, timers: list[Timer]) -> dict[str, Any]:
    return {
        "points": points,
        "wall_s": summarize([t.wall for t in timers]),
        "cpu_s": summarize([t.cpu for t in timers]),
        "points_per_s": summarize([points / t.wall for t in timers]),
    }


if __name__ == "__main__":
    raise SystemExit(main())
