"""Tracking benchmark: mlpilot against MLflow, both on SQLite, back to back on this machine.

    bash bench/setup_peers.sh                 # once: MLflow in .bench/mlflow-venv
    .venv/bin/python bench/tracking.py        # full run (a few minutes)
    .venv/bin/python bench/tracking.py --quick

mlpilot is measured in this process on a fresh SQLite file in a temp dir; then
bench/peers/mlflow_tracking.py measures MLflow with the MLflow venv's Python on another fresh
SQLite file in the same temp dir. The load average is recorded before each side. Prints a
Markdown table (medians, ratios, targets) and writes the raw samples to
bench/results/tracking-<date>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

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

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MLFLOW_PYTHON = ROOT / ".bench" / "mlflow-venv" / "bin" / "python"
PEER_SCRIPT = BENCH / "peers" / "mlflow_tracking.py"
RESULTS = BENCH / "results"
PEER_TIMEOUT_S = 1800

PARAMS = {"model": "rf", "lr": 0.1, "depth": 6, "n_estimators": 100}
METRICS = {"acc": 0.9, "loss": 0.1, "f1": 0.8, "precision": 0.85, "recall": 0.75}


@dataclass(frozen=True, slots=True)
class Sizes:
    metric_points: int
    metric_reps: int
    batch_points: int
    batch_size: int
    batch_reps: int
    runs: int
    run_reps: int
    search_runs: int
    search_reps: int


# mlpilot and MLflow log different amounts (MLflow is slow); the comparison is of rates and of
# per-run / per-query times. The search experiment has the same size on both sides.
FULL = {
    "mlpilot": Sizes(100_000, 3, 100_000, 1_000, 3, 300, 3, 10_000, 7),
    "mlflow": Sizes(2_000, 3, 20_000, 1_000, 3, 200, 3, 10_000, 7),
}
QUICK = {
    "mlpilot": Sizes(10_000, 1, 10_000, 1_000, 1, 50, 1, 500, 3),
    "mlflow": Sizes(200, 1, 2_000, 1_000, 1, 20, 1, 500, 3),
}


def log(message: str) -> None:
    print(f"[mlpilot] {message}", file=sys.stderr, flush=True)


# mlpilot side -----------------------------------------------------------------------------------


def measure_mlpilot(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    import mlpilot

    db = workdir / "mlpilot.db"
    results: dict[str, Any] = {"side": "mlpilot", "load_before": load_snapshot()}
    with timed() as schema:
        client = mlpilot.connect(f"sqlite:///{db}", artifact_uri=str(workdir / "mlpilot-artifacts"))
        with client.start_run("warmup") as warm:
            warm.log_metric("warm", 1.0)
    results["schema_setup_s"] = schema.wall
    results["settings"] = {
        "metric_flush_interval": client.settings.metric_flush_interval,
        "metric_flush_size": client.settings.metric_flush_size,
        "env_overrides": sorted(key for key in os.environ if key.startswith("MLPILOT_")),
    }
    log(f"schema + warm-up: {schema.wall:.2f} s")

    try:
        # 1. a loop of single log_metric calls; the flush is timed, so every point is durable.
        n = sizes.metric_points

        def log_metric_rep(rep: int) -> Timer:
            with client.start_run(f"log_metric-{rep}") as run:
                with timed() as timer:
                    for i in range(n):
                        run.log_metric("loss", metric_value(i), step=i)
                    client.flush()
                found = len(client.get_metric_history(run.id, "loss"))
                assert found == n, f"log_metric: expected {n} points, found {found}"
            return timer

        timers = repeat(f"log_metric x {n} (+ flush)", sizes.metric_reps, log_metric_rep, log)
        results["log_metric"] = _throughput(n, timers)

        # 2. log_batch, batch_size metrics per call (synchronous).
        nb, size = sizes.batch_points, sizes.batch_size

        def log_batch_rep(rep: int) -> Timer:
            run_id = client.create_run(f"log_batch-{rep}").id
            with timed() as timer:
                for start in range(0, nb, size):
                    batch = [("loss", metric_value(i), i) for i in range(start, min(start + size, nb))]
                    client.log_batch(run_id, metrics=batch)
            found = len(client.get_metric_history(run_id, "loss"))
            assert found == nb, f"log_batch: expected {nb} points, found {found}"
            client.end_run(run_id)
            return timer

        timers = repeat(f"log_batch {nb} points / {size} per call", sizes.batch_reps, log_batch_rep, log)
        results["log_batch"] = _throughput(nb, timers)

        # 3. run creation: 5 params + 5 metrics each, through the run handle.
        runs = sizes.runs

        def run_rep(rep: int) -> Timer:
            experiment = f"runs-{rep}"
            with timed() as timer:
                for i in range(runs):
                    with client.start_run(experiment, name=f"r{i}") as run:
                        run.log_params({**PARAMS, "seed": i})
                        run.log_metrics(METRICS)
            found = client.search_runs([experiment], max_results=runs + 1)
            assert len(found) == runs, f"run creation: expected {runs} runs, found {len(found)}"
            assert all(len(r.params) == 5 and len(r.metrics) == 5 for r in found)
            return timer

        timers = repeat(f"{runs} runs x (5 params + 5 metrics)", sizes.run_reps, run_rep, log)
        results["run_create"] = _per_run(runs, timers)

        # 4. search over a populated experiment.
        dataset = search_dataset(sizes.search_runs)
        log(f"populating {len(dataset)} runs (create_run + log_batch + end_run) ...")
        started = time.perf_counter()
        with timed() as populate:
            for index, item in enumerate(dataset, 1):
                run_id = client.create_run("search", name=item.name).id
                client.log_batch(run_id, metrics=[(k, v, 0) for k, v in item.metrics.items()], params=item.params)
                client.end_run(run_id)
                if index % 2500 == 0 and index < len(dataset):
                    log(f"  {index} runs, {time.perf_counter() - started:.0f} s")
        results["populate"] = {
            "runs": len(dataset),
            "calls": "create_run + log_batch + end_run",
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
            for rep in range(sizes.search_reps + 1):
                start = time.perf_counter()
                page = client.search_runs(["search"], query.filter, order_by=list(query.order_by), max_results=100)
                elapsed = time.perf_counter() - start
                accs = [r.metrics["acc"] for r in page]
                assert accs == expected, f"search {query.name!r}: wrong runs or order"
                if query.model is not None:
                    assert all(r.params["model"] == query.model for r in page)
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
    finally:
        client.close()
    results["load_after"] = load_snapshot()
    results["db_bytes"] = db.stat().st_size
    return results


def _throughput(points: int, timers: list[Timer]) -> dict[str, Any]:
    return {
        "points": points,
        "wall_s": summarize([t.wall for t in timers]),
        "cpu_s": summarize([t.cpu for t in timers]),
        "points_per_s": summarize([points / t.wall for t in timers]),
    }


def _per_run(runs: int, timers: list[Timer]) -> dict[str, Any]:
    return {
        "runs": runs,
        "wall_s": summarize([t.wall for t in timers]),
        "cpu_s": summarize([t.cpu for t in timers]),
        "ms_per_run": summarize([t.wall / runs * 1000 for t in timers]),
    }


# MLflow side ------------------------------------------------------------------------------------


def measure_mlflow(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    out = workdir / "mlflow.json"
    stderr_path = workdir / "mlflow-stderr.log"
    command = [
        str(MLFLOW_PYTHON),
        str(PEER_SCRIPT),
        "--db",
        str(workdir / "mlflow.db"),
        "--out",
        str(out),
        "--metric-points",
        str(sizes.metric_points),
        "--metric-reps",
        str(sizes.metric_reps),
        "--batch-points",
        str(sizes.batch_points),
        "--batch-size",
        str(sizes.batch_size),
        "--batch-reps",
        str(sizes.batch_reps),
        "--runs",
        str(sizes.runs),
        "--run-reps",
        str(sizes.run_reps),
        "--search-runs",
        str(sizes.search_runs),
        "--search-reps",
        str(sizes.search_reps),
    ]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONUNBUFFERED": "1"}
    load_before = load_snapshot()
    with stderr_path.open("w") as stderr:
        done = subprocess.run(
            command, stdout=sys.stderr, stderr=stderr, env=env, cwd=workdir, timeout=PEER_TIMEOUT_S, check=False
        )
    if done.returncode != 0:
        tail = stderr_path.read_text(errors="replace").splitlines()[-30:]
        raise SystemExit(f"the MLflow side failed (exit {done.returncode}):\n" + "\n".join(tail))
    results: dict[str, Any] = json.loads(out.read_text())
    results["load_before_launch"] = load_before
    return results


# report -----------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    memory_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    os_name = platform.system()
    with contextlib.suppress(OSError):
        os_name = platform.freedesktop_os_release().get("PRETTY_NAME", os_name)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "mlpilot": version("mlpilot"),
        "sqlalchemy": version("sqlalchemy"),
        "filesystem": _filesystem(Path(tempfile.gettempdir())),
        **_git_state(),
    }


def _git_state() -> dict[str, Any]:
    """The commit mlpilot was measured at, and whether src/ had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--", "src")
    return {"mlpilot_commit": git("rev-parse", "--short", "HEAD"), "mlpilot_src_dirty": bool(status)}


def _filesystem(path: Path) -> str:
    """The file system type of the mount holding ``path``."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and str(path.resolve()).startswith(fields[1]) and len(fields[1]) > len(best):
                best, kind = fields[1], f"{fields[2]} ({fields[0]} on {fields[1]})"
    except OSError:
        pass
    return kind


def build_rows(ours: dict[str, Any], theirs: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measurement: medians, the speed-up of mlpilot over MLflow and the target."""
    rows: list[dict[str, Any]] = []

    def rate_row(key: str, label: str, factor: float) -> None:
        a, b = ours[key]["points_per_s"]["median"], theirs[key]["points_per_s"]["median"]
        ratio = a / b
        rows.append(
            {
                "metric": f"{label} (points/s; mlpilot {ours[key]['points']:,} pts, MLflow {theirs[key]['points']:,})",
                "mlpilot": a,
                "mlflow": b,
                "unit": "points/s",
                "speedup": ratio,
                "target": f">= {factor:g}x",
                "passed": ratio >= factor,
            }
        )

    rate_row("log_metric", "single `log_metric` loop", 100)
    rate_row("log_batch", "`log_batch`, 1000 metrics/call", 10)
    a, b = ours["run_create"]["ms_per_run"]["median"], theirs["run_create"]["ms_per_run"]["median"]
    rows.append(
        {
            "metric": "run with 5 params + 5 metrics (ms/run)",
            "mlpilot": a,
            "mlflow": b,
            "unit": "ms",
            "speedup": b / a,
            "target": "report",
            "passed": None,
        }
    )
    a, b = ours["populate"]["ms_per_run"], theirs["populate"]["ms_per_run"]
    rows.append(
        {
            "metric": f"populate {ours['populate']['runs']:,} search runs (ms/run, 1 sample; "
            f"mlpilot {ours['populate']['calls']}, MLflow {theirs['populate']['calls']})",
            "mlpilot": a,
            "mlflow": b,
            "unit": "ms",
            "speedup": b / a,
            "target": "report",
            "passed": None,
        }
    )
    for index, query in enumerate(SEARCH_QUERIES):
        a = ours["search"][query.name]["seconds"]["median"] * 1000
        b = theirs["search"][query.name]["seconds"]["median"] * 1000
        target = index == 0
        rows.append(
            {
                "metric": f"`search_runs` {query.name}, top 100 of {ours['populate']['runs']:,} runs (ms)",
                "mlpilot": a,
                "mlflow": b,
                "unit": "ms",
                "speedup": b / a,
                "target": "mlpilot <= 50 ms" if target else "report",
                "passed": a <= 50 if target else None,
            }
        )
    return rows


def _number(value: float, unit: str) -> str:
    if unit == "points/s":
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


def render(report: dict[str, Any]) -> str:
    machine, ours, theirs = report["machine"], report["mlpilot"], report["mlflow"]
    lines = [
        f"### Tracking benchmark, {report['date']}{' (quick)' if report['quick'] else ''}",
        "",
        "| metric | mlpilot median | MLflow median | mlpilot vs MLflow | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in report["rows"]:
        result = "n/a" if row["passed"] is None else ("PASS" if row["passed"] else "**FAIL**")
        lines.append(
            f"| {row['metric']} | {_number(row['mlpilot'], row['unit'])} | {_number(row['mlflow'], row['unit'])} "
            f"| {row['speedup']:,.1f}x faster | {row['target']} | {result} |"
        )
    ol, tl = ours["load_before"], theirs["load_before_launch"]
    reps = report["sizes"]["mlpilot"]
    lines += [
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']}, "
        f"kernel {machine['kernel']}, temp dir on {machine['filesystem']}.",
        f"Versions: Python {machine['python']}, mlpilot {machine['mlpilot']} at {machine['mlpilot_commit']}"
        f"{' + uncommitted src changes' if machine['mlpilot_src_dirty'] else ''} (SQLAlchemy {machine['sqlalchemy']}), "
        f"MLflow {theirs['versions']['mlflow']} (SQLAlchemy {theirs['versions']['sqlalchemy']}), "
        f"SQLite {machine['sqlite']} (MLflow venv: {theirs['versions']['sqlite']}).",
        f"Load average (1/5/15 min) before mlpilot: {ol['load_1m']:.2f} / {ol['load_5m']:.2f} / {ol['load_15m']:.2f}; "
        f"before MLflow: {tl['load_1m']:.2f} / {tl['load_5m']:.2f} / {tl['load_15m']:.2f}; "
        f"after MLflow: {theirs['load_after']['load_1m']:.2f}.",
        f"Both sides ran back to back in one invocation ({report['elapsed_s']:.0f} s in all), "
        "each on a fresh SQLite file in the same temp dir. Repetitions: "
        f"log_metric {reps['metric_reps']}, log_batch {reps['batch_reps']}, run creation {reps['run_reps']} "
        f"(mlpilot {ours['run_create']['runs']} runs each, MLflow {theirs['run_create']['runs']}), "
        f"search {reps['search_reps']} after 1 warm-up.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (under a minute)")
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/tracking-<date>[-quick].json)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with both SQLite files")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)

    if not MLFLOW_PYTHON.exists():
        print(
            f"error: the MLflow venv is missing ({MLFLOW_PYTHON}).\nCreate it first with: bash bench/setup_peers.sh",
            file=sys.stderr,
        )
        return 2

    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    machine = machine_info()  # before the runs: the git state of the code this process imports
    workdir = Path(tempfile.mkdtemp(prefix="mlpilot-bench-tracking-"))
    try:
        log(f"workdir {workdir}; load before: {load_snapshot()['uptime']}")
        ours = measure_mlpilot(workdir, sizes["mlpilot"])
        log(f"mlpilot side done; load before MLflow: {load_snapshot()['uptime']}")
        theirs = measure_mlflow(workdir, sizes["mlflow"])
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    today = date.today().isoformat()
    report: dict[str, Any] = {
        "benchmark": "tracking",
        "date": today,
        "quick": args.quick,
        "elapsed_s": time.perf_counter() - started,
        "machine": machine,
        "sizes": {side: vars_of(value) for side, value in sizes.items()},
        "rows": build_rows(ours, theirs),
        "mlpilot": ours,
        "mlflow": theirs,
    }
    out = args.out or RESULTS / f"tracking-{today}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(f"\nRaw samples: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    failed = [row["metric"] for row in report["rows"] if row["passed"] is False]
    return 1 if failed and args.strict else 0


def vars_of(sizes: Sizes) -> dict[str, int]:
    return {name: getattr(sizes, name) for name in Sizes.__slots__}


if __name__ == "__main__":
    raise SystemExit(main())
