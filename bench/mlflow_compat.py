"""MLflow compatibility benchmark (issue 10): the same mlflow-client logging workload against
mlpilot's server and against ``mlflow server``, side by side in one run.

    bash bench/setup_peers.sh mlflow                 # once: MLflow in .bench/mlflow-venv
    .venv/bin/python bench/mlflow_compat.py          # 3 rounds, a few minutes
    .venv/bin/python bench/mlflow_compat.py --quick  # 1 round, fewer runs

Each sample starts a fresh server on a fresh SQLite store in its own temp dir (127.0.0.1, a free
port) and runs ``bench/peers/mlflow_client_workload.py`` — the MLflow client (3.17 on both sides)
pointed at it with ``MLFLOW_TRACKING_URI`` (and ``MLFLOW_TRACKING_TOKEN``, an mlpilot key with
scopes read,write, for mlpilot):

* ``mlpilot server --workers 2`` (its default of one worker per core on this machine). Its per-key
  rate limit is switched off (``MLPILOT_SERVER_RATE_LIMIT=0``): one client logging metric by metric
  sends more than the default 200 requests a second, and the point here is speed, not throttling;
* ``mlflow server --backend-store-uri sqlite:///… --serve-artifacts`` on its defaults (4 uvicorn
  workers and its job runner), the MLflow venv's ``bin`` first on PATH.

The order of the two alternates from round to round. Prints medians and the ratio, and writes
every sample to bench/results/mlflow-compat-<date>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from server_logging import (
    MLFLOW_VENV,
    MLPILOT_CLI,
    STARTUP_TIMEOUT_S,
    Server,
    _drain,
    free_port,
    http_json,
    wait_healthy,
)

from tracking import machine_info

BENCH = Path(__file__).resolve().parent
DRIVER = BENCH / "peers" / "mlflow_client_workload.py"
RESULTS = BENCH / "results"
PHASES = ("create_run", "params", "log_metric", "log_batch", "tags", "artifact", "end_run")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def start_mlpilot(workdir: Path) -> tuple[Server, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(MLPILOT_CLI), "--home", str(workdir / "home"), "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    env["MLPILOT_SERVER_RATE_LIMIT"] = "0"
    log_path = workdir / "server.log"
    with log_path.open("w") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
    server = Server("mlpilot --workers 2", url, process, log_path)
    try:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_drain, args=(process.stdout, lines, workdir / "server.stdout"), daemon=True).start()
        started = time.perf_counter()
        admin = None
        while admin is None:
            if time.perf_counter() - started > STARTUP_TIMEOUT_S or process.poll() is not None:
                raise RuntimeError("mlpilot server printed no bootstrap key")
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=1.0).strip()
                admin = line if line.startswith("mlp_") else None
        server.startup_s = (time.perf_counter() - started) + wait_healthy(f"{url}/healthz", process, STARTUP_TIMEOUT_S)
        key = http_json("POST", f"{url}/api/v1/keys", {"name": "bench", "scopes": "read,write"}, token=admin)
    except BaseException:
        server.stop()
        raise
    return server, str(key["secret"])


def start_mlflow(workdir: Path) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
    ]
    command += ["--serve-artifacts", "--host", "127.0.0.1", "--port", str(port)]
    env = {
        **os.environ,
        "PATH": f"{MLFLOW_VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    log_path = workdir / "server.log"
    with log_path.open("w") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    server = Server("mlflow server (4 workers)", url, process, log_path)
    try:
        server.startup_s = wait_healthy(f"{url}/health", process, STARTUP_TIMEOUT_S)
    except BaseException:
        server.stop()
        raise
    return server


def sample(kind: str, sizes: dict[str, int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"compat-{kind}-") as scratch:
        workdir = Path(scratch)
        token = None
        if kind == "mlpilot":
            server, token = start_mlpilot(workdir)
            python = sys.executable
        else:
            server = start_mlflow(workdir)
            python = str(MLFLOW_VENV / "bin" / "python")
        try:
            env = {**os.environ, "MLFLOW_TRACKING_URI": server.url, "MLFLOW_DISABLE_TELEMETRY": "true"}
            env["DO_NOT_TRACK"] = "true"
            if token is not None:
                env["MLFLOW_TRACKING_TOKEN"] = token
            out = workdir / "result.json"
            command = [python, str(DRIVER), "--out", str(out)]
            command += [f"--{name}={value}" for name, value in sizes.items()]
            subprocess.run(command, check=True, env=env, cwd=workdir, stdout=subprocess.DEVNULL, timeout=1800)
            result: dict[str, Any] = json.loads(out.read_text())
        finally:
            stopped = server.stop()
        result.update({"server": server.kind, "startup_s": server.startup_s, "stop": stopped})
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    sizes = {"runs": 5, "metrics": 50, "batch": 500} if args.quick else {"runs": 10, "metrics": 100, "batch": 500}
    samples: dict[str, list[dict[str, Any]]] = {"mlpilot": [], "mlflow": []}
    for index in range(rounds):
        order = ("mlpilot", "mlflow") if index % 2 == 0 else ("mlflow", "mlpilot")
        for kind in order:
            log(f"round {index + 1}/{rounds}: {kind}")
            samples[kind].append(sample(kind, sizes))
            log(f"  total {samples[kind][-1]['total_s']:.2f} s")
    medians = {
        kind: {
            "total_s": statistics.median(item["total_s"] for item in items),
            **{phase: statistics.median(item["phases_s"][phase] for item in items) for phase in PHASES},
        }
        for kind, items in samples.items()
    }
    ratio = medians["mlflow"]["total_s"] / medians["mlpilot"]["total_s"]
    report = {
        "benchmark": "mlflow-compat",
        "date": date.today().isoformat(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_info(),
        "load_average_at_start": os.getloadavg(),
        "sizes": sizes,
        "medians": medians,
        "mlflow_over_mlpilot": ratio,
        "samples": samples,
    }
    RESULTS.mkdir(exist_ok=True)
    out = args.out or RESULTS / f"mlflow-compat-{date.today().isoformat()}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("| phase | mlpilot s | mlflow server s | ratio |")
    print("|---|---|---|---|")
    for phase in ("total_s", *PHASES):
        ours, theirs = medians["mlpilot"][phase], medians["mlflow"][phase]
        print(f"| {phase} | {ours:.3f} | {theirs:.3f} | {theirs / ours if ours else float('nan'):.1f}x |")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
