"""Pipelines benchmark (issue 7): the overhead of re-running an unchanged 5-step pipeline (every
step a cache hit), and four candidates on two cores in the process pool against one after another.

    .venv/bin/python bench/pipelines.py [--rounds 3] [--quick]

Every sample uses a fresh SQLite store in a temporary folder. Writes results/pipelines-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipelines_flow import five_steps, four_candidates

import mlpilot
from bench_common import load_snapshot, median

RESULTS = Path(__file__).resolve().parent / "results"


def _client(folder: Path) -> mlpilot.Client:
    return mlpilot.connect(f"sqlite:///{folder / 'mlpilot.db'}", artifact_uri=str(folder / "artifacts"))


def rerun_overhead(rounds: int, rows: int) -> dict[str, object]:
    first, again = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            client = _client(Path(scratch))
            started = time.perf_counter()
            cold = five_steps.run({"rows": rows}, client=client)
            first.append(time.perf_counter() - started)
            for _ in range(5):
                started = time.perf_counter()
                warm = five_steps.run({"rows": rows}, client=client)
                again.append(time.perf_counter() - started)
                assert {s.status.value for s in warm.record.steps} == {"CACHED"}, warm.record.steps
            assert cold.succeeded
            client.close()
    return {"first_run_s": first, "rerun_s": again, "rerun_median_s": median(again), "first_median_s": median(first)}


def fan_out(rounds: int, rows: int, trees: int) -> dict[str, object]:
    pooled, serial = [], []
    for round_ in range(rounds):
        order = [("pool", 2), ("serial", 1)] if round_ % 2 == 0 else [("serial", 1), ("pool", 2)]
        for label, workers in order:
            with tempfile.TemporaryDirectory() as scratch:
                client = _client(Path(scratch))
                started = time.perf_counter()
                result = four_candidates.run({"rows": rows, "rounds": trees}, client=client, workers=workers)
                took = time.perf_counter() - started
                assert result.succeeded, result.record.error
                (pooled if label == "pool" else serial).append(took)
                client.close()
    return {
        "pool_s": pooled,
        "serial_s": serial,
        "pool_median_s": median(pooled),
        "serial_median_s": median(serial),
        "speedup": median(serial) / median(pooled),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small data, one round (a smoke test)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_before": load_snapshot(),
        "rerun": rerun_overhead(rounds, 2_000 if args.quick else 20_000),
        "fan_out": fan_out(rounds, 4_000 if args.quick else 40_000, 10 if args.quick else 60),
        "load_after": load_snapshot(),
    }
    rerun, fan = report["rerun"], report["fan_out"]
    print(f"re-run of an unchanged 5-step pipeline: median {rerun['rerun_median_s']:.3f} s", end=" ")
    print(f"(first run {rerun['first_median_s']:.1f} s)")
    print(
        f"four candidates: pool of 2 {fan['pool_median_s']:.1f} s, one after another {fan['serial_median_s']:.1f} s, "
        f"{fan['speedup']:.2f}x"
    )
    RESULTS.mkdir(exist_ok=True)
    name = f"pipelines-{dt.date.today().isoformat()}{'-quick' if args.quick else ''}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    main()
