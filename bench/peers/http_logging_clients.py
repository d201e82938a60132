"""Concurrent logging clients over HTTP, for mlpilot or MLflow (run by bench/server_logging.py).

    <python> bench/peers/http_logging_clients.py run --tool mlpilot --url http://127.0.0.1:P \\
        --keys-file keys.json --clients 8 --runs 25 --out result.json
    <python> bench/peers/http_logging_clients.py verify --tool mlflow --url http://127.0.0.1:P \\
        --clients 8 --runs 25 --out verify.json

The same file drives both tools, so both sides start, synchronize, time and check their clients
with the same code; it runs with the project venv's Python for mlpilot and with
``.bench/mlflow-venv``'s for MLflow, and imports the tool only inside the functions that use it.
Standard library otherwise.

``run``: the parent makes the experiment and one untimed warm-up run, then starts ``--clients``
processes (multiprocessing, spawn). Each imports its tool, opens its client, looks up the
experiment and logs one untimed warm-up run of the same shape (in another experiment), then waits on
a barrier; the clock runs from the barrier to the last client's last
call. Every client logs ``--runs`` runs; per run: create the run, log 10 params in one call, log
``--batches`` batches of ``--keys x --steps`` metric points (one call each), end the run.
Failed calls are counted, never retried by this script (each tool's own client retries what it
retries; those retries are counted from its logs).

``verify``: reads everything back through the tool's API and checks it against what ``run`` logged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import queue
import statistics
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

EXPERIMENT = "server-logging"
WARMUP_EXPERIMENT = "server-logging-warmup"
OPS = ("create_run", "log_params", "log_batch", "end_run")
SETUP_TIMEOUT_S = 180.0
MAX_MESSAGES = 5


@dataclass(frozen=True, slots=True)
class Workload:
    clients: int
    runs: int  # per client
    params: int  # per run, logged in one call
    batches: int  # metric calls per run
    keys: int  # metric keys per batch
    steps: int  # steps of each key per batch

    @property
    def points_per_batch(self) -> int:
        return self.keys * self.steps

    @property
    def points_per_run(self) -> int:
        return self.batches * self.points_per_batch

    @property
    def total_runs(self) -> int:
        return self.clients * self.runs

    @property
    def last_step(self) -> int:
        return self.batches * self.steps - 1


def run_name(client: int, run: int) -> str:
    return f"c{client}-r{run:04d}"


def param_values(client: int, run: int, count: int) -> dict[str, str]:
    return {f"p{j}": f"{client}.{run}.{j}" for j in range(count)}


def value_at(key_index: int, step: int) -> float:
    """The value of metric ``m<key_index>`` at ``step``: a decaying curve, offset per key."""
    return key_index + 1.0 / (1.0 + step)


def batch_points(work: Workload, batch: int) -> list[tuple[str, float, int]]:
    """(key, value, step) of one batch: every key at steps batch*steps ... batch*steps + steps - 1."""
    first = batch * work.steps
    return [(f"m{k}", value_at(k, step), step) for step in range(first, first + work.steps) for k in range(work.keys)]


# the tools -------------------------------------------------------------------------------------


class MlpilotSide:
    """mlpilot's public client over its remote transport (``mlpilot.connect(url, api_key=...)``)."""

    def __init__(self, url: str, key: str) -> None:
        import mlpilot

        self.client = mlpilot.connect(url, api_key=key)

    def prepare(self, experiment: str) -> None:
        self.client.get_or_create_experiment(experiment)

    def create_run(self, experiment: str, name: str) -> str:
        return self.client.create_run(experiment, name=name).id

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        self.client.log_params(run_id, params)

    def log_batch(self, run_id: str, points: list[tuple[str, float, int]]) -> None:
        self.client.log_batch(run_id, metrics=points)

    def end_run(self, run_id: str) -> None:
        self.client.end_run(run_id)

    def close(self) -> None:
        self.client.flush()
        self.client.close()

    @staticmethod
    def retry_loggers() -> dict[str, str]:
        # HttpSession logs each 429 it waits out before retrying.
        return {"mlpilot.client.http": "rate limited"}

    def runs(self, experiment: str) -> list[dict[str, Any]]:
        found, token = [], None
        while True:
            page = self.client.search_runs([experiment], max_results=1000, page_token=token)
            found.extend(
                {
                    "id": r.id,
                    "name": r.name,
                    "status": str(r.status.value),
                    "params": dict(r.params),
                    "metrics": dict(r.metrics),
                }
                for r in page
            )
            token = page.next_page_token
            if not token:
                return found

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in self.client.get_metric_history(run_id, key)]


class MlflowSide:
    """``MlflowClient(tracking_uri=url)``: create_run, log_batch(params), log_batch(metrics), set_terminated."""

    def __init__(self, url: str, key: str | None) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=url)
        self.experiment_ids: dict[str, str] = {}

    def prepare(self, experiment: str) -> None:
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_ids[experiment] = (
            found.experiment_id if found is not None else self.client.create_experiment(experiment)
        )

    def create_run(self, experiment: str, name: str) -> str:
        return str(self.client.create_run(self.experiment_ids[experiment], run_name=name).info.run_id)

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        self.client.log_batch(run_id, params=[Param(key, value) for key, value in params.items()])

    def log_batch(self, run_id: str, points: list[tuple[str, float, int]]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(run_id, metrics=[Metric(key, value, now, step) for key, value, step in points])

    def end_run(self, run_id: str) -> None:
        self.client.set_terminated(run_id)

    def close(self) -> None:
        pass

    @staticmethod
    def retry_loggers() -> dict[str, str]:
        # MLflow's REST client retries 429/5xx through urllib3's Retry, which logs every increment.
        return {"urllib3.util.retry": "Incremented Retry"}

    def runs(self, experiment: str) -> list[dict[str, Any]]:
        found, token = [], None
        while True:
            page = self.client.search_runs([self.experiment_ids[experiment]], max_results=1000, page_token=token)
            found.extend(
                {
                    "id": r.info.run_id,
                    "name": r.info.run_name,
                    "status": r.info.status,
                    "params": dict(r.data.params),
                    "metrics": dict(r.data.metrics),
                }
                for r in page
            )
            token = page.token
            if not token:
                return found

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in self.client.get_metric_history(run_id, key)]


def open_side(tool: str, url: str, key: str | None) -> MlpilotSide | MlflowSide:
    if tool == "mlpilot":
        if key is None:
            raise SystemExit("mlpilot needs an API key (--keys-file)")
        return MlpilotSide(url, key)
    return MlflowSide(url, key)


class CountingHandler(logging.Handler):
    """Counts log records whose message contains ``needle`` (the tools' retry messages)."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.DEBUG)
        self.needle = needle
        self.count = 0
        self.examples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.needle in message:
            self.count += 1
            if len(self.examples) < MAX_MESSAGES:
                self.examples.append(message[:300])


def count_retries(side: MlpilotSide | MlflowSide) -> list[CountingHandler]:
    handlers = []
    for name, needle in side.retry_loggers().items():
        handler = CountingHandler(needle)
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(handler)
        handlers.append(handler)
    return handlers


# one client process ------------------------------------------------------------------------------


def log_one_run(
    side: MlpilotSide | MlflowSide,
    work: Workload,
    experiment: str,
    client: int,
    run: int,
    latencies: dict[str, list[float]],
    errors: dict[str, int],
    messages: list[str],
) -> int:
    """Log one run; returns the metric points the tool accepted. Failed calls are counted."""

    def call(op: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            result = fn(*args)
        except Exception as exc:
            errors[op] += 1
            if len(messages) < MAX_MESSAGES:
                messages.append(f"{op}: {type(exc).__name__}: {str(exc)[:300]}")
            return False
        latencies[op].append(time.perf_counter() - started)
        return True if result is None else result

    run_id = call("create_run", side.create_run, experiment, run_name(client, run))
    if run_id is False:
        return 0
    call("log_params", side.log_params, run_id, param_values(client, run, work.params))
    points = 0
    for batch in range(work.batches):
        if call("log_batch", side.log_batch, run_id, batch_points(work, batch)):
            points += work.points_per_batch
    call("end_run", side.end_run, run_id)
    return points


def client_main(tool: str, url: str, key: str | None, work: Workload, index: int, barrier: Any, results: Any) -> None:
    """One client process: set up, wait for the others, log its runs, report."""
    latencies: dict[str, list[float]] = {op: [] for op in OPS}
    errors = dict.fromkeys(OPS, 0)
    messages: list[str] = []
    try:
        side = open_side(tool, url, key)
        retries = count_retries(side)
        side.prepare(EXPERIMENT)  # also opens the connection
        side.prepare(WARMUP_EXPERIMENT)
        # One untimed run of the same shape: the client's first-run costs (mlpilot captures the
        # installed packages once per process) stay out of the timed throughput; reported apart.
        warm_errors = dict.fromkeys(OPS, 0)
        warm_started = time.perf_counter()
        log_one_run(side, work, WARMUP_EXPERIMENT, index + 1, 0, {op: [] for op in OPS}, warm_errors, messages)
        warmup_s = time.perf_counter() - warm_started
        if any(warm_errors.values()):
            raise RuntimeError(f"the client's warm-up run failed: {messages}")
    except Exception:
        barrier.abort()
        results.put({"client": index, "fatal": traceback.format_exc()})
        return
    try:
        barrier.wait(SETUP_TIMEOUT_S)
    except threading.BrokenBarrierError:
        results.put({"client": index, "fatal": "another client failed to set up (barrier broken)"})
        return
    start, cpu = time.monotonic(), time.process_time()
    points = runs = 0
    for run in range(work.runs):
        points += log_one_run(side, work, EXPERIMENT, index, run, latencies, errors, messages)
        runs += 1
    try:
        side.close()
    except Exception as exc:
        errors["end_run"] += 1
        messages.append(f"close: {type(exc).__name__}: {exc}")
    end, cpu = time.monotonic(), time.process_time() - cpu
    results.put(
        {
            "client": index,
            "start": start,
            "end": end,
            "cpu_s": cpu,
            "warmup_run_s": warmup_s,
            "runs": runs,
            "points": points,
            "errors": errors,
            "messages": messages,
            "retries": sum(h.count for h in retries),
            "retry_examples": [e for h in retries for e in h.examples],
            "latency_ms": {op: [round(v * 1000, 3) for v in values] for op, values in latencies.items()},
        }
    )


# server processes --------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def group_usage(pgid: int | None) -> dict[str, float]:
    """CPU seconds (own + reaped children) and summed RSS of the processes in a process group."""
    if pgid is None:
        return {"cpu_s": float("nan"), "rss_mib": float("nan"), "processes": 0}
    cpu = rss = 0.0
    count = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) != pgid:  # fields[0] is the state; [1] ppid, [2] pgrp
            continue
        count += 1
        cpu += sum(int(v) for v in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime
        rss += int(fields[21]) * page
    return {"cpu_s": cpu, "rss_mib": rss / 2**20, "processes": count}


# modes -------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_mode(args: argparse.Namespace, work: Workload) -> dict[str, Any]:
    keys: list[str | None] = [None] * work.clients
    admin: str | None = None
    if args.keys_file is not None:
        stored = json.loads(Path(args.keys_file).read_text())
        keys, admin = stored["clients"], stored["admin"]
        if len(keys) < work.clients:
            raise SystemExit(f"{args.keys_file} holds {len(keys)} client keys; {work.clients} needed")

    # Untimed: the experiment, and one run of the same shape in another experiment, so the
    # server has handled every route once (lazy imports, caches) before the clock starts.
    with_warmup = time.perf_counter()
    side = open_side(args.tool, args.url, admin)
    side.prepare(EXPERIMENT)
    side.prepare(WARMUP_EXPERIMENT)
    latencies: dict[str, list[float]] = {op: [] for op in OPS}
    errors = dict.fromkeys(OPS, 0)
    messages: list[str] = []
    log_one_run(side, work, WARMUP_EXPERIMENT, 0, 0, latencies, errors, messages)
    side.close()
    if any(errors.values()):
        raise SystemExit(f"the warm-up run failed: {messages}")
    warmup_s = time.perf_counter() - with_warmup

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(work.clients + 1)
    results = context.Queue()
    processes = [
        context.Process(target=client_main, args=(args.tool, args.url, keys[i], work, i, barrier, results), daemon=True)
        for i in range(work.clients)
    ]
    spawned = time.perf_counter()
    for process in processes:
        process.start()
    reports: list[dict[str, Any]] = []
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed; it reports why
        barrier.wait(SETUP_TIMEOUT_S)
    setup_s = time.perf_counter() - spawned
    server_before = group_usage(args.server_pgid)
    load_before = os.getloadavg()
    deadline = time.monotonic() + args.timeout
    while len(reports) < work.clients:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            reports.append(results.get(timeout=min(remaining, 5.0)))
        except queue.Empty:
            if all(not p.is_alive() for p in processes) and results.empty():
                break
            continue
    server_after = group_usage(args.server_pgid)
    load_after = os.getloadavg()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():  # one of ours, by pid
            process.kill()
            process.join(timeout=10)

    fatal = [r for r in reports if "fatal" in r]
    done = [r for r in reports if "fatal" not in r]
    if fatal or len(done) < work.clients:
        return {
            "ok": False,
            "fatal": [r["fatal"] for r in fatal],
            "reported": len(done),
            "expected": work.clients,
        }
    wall = max(r["end"] for r in done) - min(r["start"] for r in done)
    all_latencies = {op: [v for r in done for v in r["latency_ms"][op]] for op in OPS}
    points = sum(r["points"] for r in done)
    runs = sum(r["runs"] for r in done)
    requests = {op: len(values) for op, values in all_latencies.items()}
    error_counts = {op: sum(r["errors"][op] for r in done) for op in OPS}
    return {
        "ok": True,
        "tool": args.tool,
        "workload": work_dict(work),
        "warmup_s": warmup_s,
        "client_setup_s": setup_s,
        "client_warmup_run_s": sorted(r["warmup_run_s"] for r in done),
        "wall_s": wall,
        "start_skew_s": max(r["start"] for r in done) - min(r["start"] for r in done),
        "client_wall_s": sorted(r["end"] - r["start"] for r in done),
        "runs": runs,
        "points": points,
        "runs_per_s": runs / wall,
        "points_per_s": points / wall,
        "successful_calls": requests,
        "errors": error_counts,
        "error_total": sum(error_counts.values()),
        "error_messages": [m for r in done for m in r["messages"]][:20],
        "retries": sum(r["retries"] for r in done),
        "retry_examples": [e for r in done for e in r["retry_examples"]][:10],
        "client_cpu_s": sum(r["cpu_s"] for r in done),
        "server_cpu_s": server_after["cpu_s"] - server_before["cpu_s"],
        "server_processes": server_after["processes"],
        "server_rss_mib": server_after["rss_mib"],
        "load_before": load_before,
        "load_after": load_after,
        "latency_ms": {
            op: {
                "p50": percentile(values, 0.5),
                "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99),
                "max": max(values) if values else float("nan"),
                "mean": statistics.fmean(values) if values else float("nan"),
            }
            for op, values in all_latencies.items()
        },
    }


def work_dict(work: Workload) -> dict[str, int]:
    return {name: getattr(work, name) for name in Workload.__slots__}


def verify_mode(args: argparse.Namespace, work: Workload) -> dict[str, Any]:
    """Every run is there, FINISHED, with its params and latest metrics; sampled histories complete."""
    admin = json.loads(Path(args.keys_file).read_text())["admin"] if args.keys_file else None
    side = open_side(args.tool, args.url, admin)
    side.prepare(EXPERIMENT)
    started = time.perf_counter()
    runs = side.runs(EXPERIMENT)
    problems: list[str] = []
    expected_names = {run_name(c, r) for c in range(work.clients) for r in range(work.runs)}
    names = [r["name"] for r in runs]
    if len(runs) != work.total_runs or set(names) != expected_names:
        problems.append(f"{len(runs)} runs found ({len(set(names))} distinct names), {work.total_runs} expected")
    latest = {f"m{k}": value_at(k, work.last_step) for k in range(work.keys)}
    for found in runs:
        client, run = (int(part[1:]) for part in found["name"].split("-"))
        if found["status"] != "FINISHED":
            problems.append(f"{found['name']}: status {found['status']}")
        if found["params"] != param_values(client, run, work.params):
            problems.append(f"{found['name']}: params differ ({len(found['params'])} found)")
        if found["metrics"] != latest:
            problems.append(f"{found['name']}: latest metrics differ ({len(found['metrics'])} keys)")
    # Full histories of one run per client (the last one each logged), every key.
    sampled = 0
    by_name = {r["name"]: r["id"] for r in runs}
    expected_history = {
        f"m{k}": [(step, value_at(k, step)) for step in range(work.last_step + 1)] for k in range(work.keys)
    }
    for client in range(work.clients):
        run_id = by_name.get(run_name(client, work.runs - 1))
        if run_id is None:
            continue
        for key, expected in expected_history.items():
            history = sorted(side.history(run_id, key))
            sampled += len(history)
            if history != expected:
                problems.append(f"{run_name(client, work.runs - 1)} {key}: {len(history)} points, wrong history")
    side.close()
    return {
        "ok": not problems,
        "runs_found": len(runs),
        "runs_expected": work.total_runs,
        "history_points_checked": sampled,
        "problems": problems[:20],
        "problem_count": len(problems),
        "seconds": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("run", "verify"))
    parser.add_argument("--tool", choices=("mlpilot", "mlflow"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--keys-file", help="JSON {admin: key, clients: [key, ...]} (mlpilot)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=25, help="runs per client")
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--server-pgid", type=int, help="process group of the server, for its CPU time")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the clients")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    work = Workload(args.clients, args.runs, args.params, args.batches, args.keys, args.steps)
    result = run_mode(args, work) if args.mode == "run" else verify_mode(args, work)
    result["python"] = sys.version.split()[0]
    args.out.write_text(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
