"""Web UI benchmark (issue 9): the runs page over 10,000 runs, server time per request.

    .venv/bin/python bench/ui_runs.py            # 10,000 runs, 30 requests per case
    .venv/bin/python bench/ui_runs.py --runs 2000 --repeats 10

Fills a fresh SQLite store (in a temp dir) with ``--runs`` runs in one experiment, each with 4
params and 4 metrics, through mlpilot's tracking services (one batch per run, as a client's
``log_batch`` writes them). Then starts the platform server on 127.0.0.1 (a free port, in this
process), signs in with a read key and asks for the runs page as the UI does: newest first, sorted
by a metric, filtered by a metric and a param, sorted by a param, and a deep page. The server time
is the ``Server-Timing`` header each UI page carries (from routing the request to the rendered
HTML); the loopback round trip is recorded too. Prints a Markdown table of medians and p95s and
writes every sample to bench/results/ui-runs-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import uvicorn

from mlpilot.config import load_settings
from mlpilot.security.keys import create_key
from mlpilot.server import create_app
from mlpilot.server.state import open_state
from mlpilot.store.clock import now_ms
from mlpilot.tracking import batch as batch_service
from mlpilot.tracking import runs as run_service
from mlpilot.tracking.environment import GitState
from mlpilot.tracking.experiments import create_experiment
from mlpilot.tracking.metrics import make_point

RESULTS = Path(__file__).parent / "results"
_FILTER = "metrics.accuracy+>+0.9+and+params.model+%3D+'rf'"
CASES = {
    "newest first (page 1)": "/runs?experiment=bench",
    "sorted by a metric": "/runs?experiment=bench&order=metrics.accuracy+desc",
    "filtered by a metric and a param": f"/runs?experiment=bench&filter={_FILTER}",
    "sorted by a param": "/runs?experiment=bench&order=params.max_depth",
    "page 100 (rows 4,951-5,000)": "/runs?experiment=bench&order=metrics.loss&page=100",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fill(settings_home: Path, runs: int) -> tuple[float, str]:
    settings = load_settings(home=settings_home)
    state = open_state(settings)
    experiment = create_experiment(state.db, "bench")
    rng = random.Random(7)
    started = time.perf_counter()
    for index in range(runs):
        run = run_service.create_run(
            state.db,
            experiment.id,
            run_service.RunOrigin("bench", None, GitState(None, None, None, None), None),
            name=f"run-{index}",
        )
        when = now_ms()
        points = [make_point(run.id, key, rng.random(), 0, when) for key in ("accuracy", "loss", "f1", "roc_auc")]
        params = {
            "model": rng.choice(["rf", "logreg", "gbm"]),
            "max_depth": rng.randint(2, 12),
            "lr": rng.choice([0.01, 0.1, 0.3]),
            "seed": index,
        }
        batch_service.log_batch(state.db, run.id, points, params, {})
        run_service.end_run(state.db, run.id)
    seconds = time.perf_counter() - started
    _, key = create_key(state.db, "bench-reader", "read", actor="bench")
    state.close()
    return seconds, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        fill_seconds, key = fill(home, args.runs)
        settings = load_settings(home=home, monitor_tick_seconds=0, pipeline_tick_seconds=0, server_rate_limit=0)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        samples: dict[str, dict[str, list[float]]] = {}
        with httpx.Client(base_url=url, headers={"Origin": url}) as http:
            assert http.post("/login", data={"key": key}).status_code == 303
            for name, path in CASES.items():
                http.get(path)  # warm-up: the first request of a query plan
                server_ms: list[float] = []
                round_trip_ms: list[float] = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    response = http.get(path)
                    round_trip_ms.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                    server_ms.append(float(response.headers["server-timing"].split("dur=")[1]))
                samples[name] = {"server_ms": server_ms, "round_trip_ms": round_trip_ms}
        server.should_exit = True
        thread.join()
    print(
        f"{args.runs:,} runs x 4 params x 4 metrics, filled in {fill_seconds:.0f} s; "
        f"{args.repeats} requests per case; load {os.getloadavg()[0]:.1f}\n"
    )
    print("| runs page | server time, median | p95 | round trip, median |")
    print("|---|---:|---:|---:|")
    for name, measured in samples.items():
        server_ms = measured["server_ms"]
        p95 = statistics.quantiles(server_ms, n=20)[-1]
        print(
            f"| {name} | **{statistics.median(server_ms):.0f} ms** | {p95:.0f} ms | "
            f"{statistics.median(measured['round_trip_ms']):.0f} ms |"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ui-runs-{date.today().isoformat()}.json"
    out.write_text(
        json.dumps(
            {
                "runs": args.runs,
                "repeats": args.repeats,
                "fill_seconds": fill_seconds,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "cores": os.cpu_count(),
                "samples": samples,
            },
            indent=1,
        )
    )
    print(f"\nsamples: {out}")


if __name__ == "__main__":
    main()
