"""Platform server benchmark (issue 4): 8 concurrent logging clients over HTTP, mlpilot against MLflow.

    bash bench/setup_peers.sh                     # once: MLflow in .bench/mlflow-venv
    .venv/bin/python bench/server_logging.py      # full run: 3 rounds, about 6 minutes
    .venv/bin/python bench/server_logging.py --quick

Every sample starts a fresh server on a fresh SQLite store in its own temp dir, on 127.0.0.1 and
a free port, with the tool's defaults:

* ``mlpilot --home <dir> server --host 127.0.0.1 --port P --workers N``, for each N in
  ``--workers`` (default: mlpilot's own default of one worker per core, then 1). Its default
  rate limit (200 req/s per key and worker) stays on: every client gets its own key (scopes
  read,write), created with the bootstrap admin key that the server prints on first start;
* ``mlflow server --backend-store-uri sqlite:///<dir>/mlflow.db --host 127.0.0.1 --port P``
  (MLflow's default: 4 uvicorn workers plus its job runner), with the MLflow venv's ``bin`` first
  on PATH (it execs ``uvicorn`` by name) and ``MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true``.

Then ``bench/peers/http_logging_clients.py`` runs the same client workload against it, with the
project venv's Python for mlpilot and the MLflow venv's for MLflow, reads everything back through
the tool's API (``verify``), and the server is stopped (SIGTERM to its process group, SIGKILL after
30 s). Finally the SQLite file is counted directly. A round runs one sample of each server; the
order rotates from round to round. Prints a Markdown table of medians and the ratio to MLflow and
writes every sample to bench/results/server-logging-<date>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import IO, Any

from bench_common import load_snapshot, venv_versions
from tracking import machine_info

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MLPILOT_CLI = ROOT / ".venv" / "bin" / "mlpilot"
MLFLOW_VENV = ROOT / ".bench" / "mlflow-venv"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"
DRIVER = BENCH / "peers" / "http_logging_clients.py"
RESULTS = BENCH / "results"
STARTUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
EXPERIMENT = "server-logging"
TARGET = 5.0
# HTTP requests per run. mlpilot: POST /experiments (exist_ok; the client resolves the experiment
# name on every create_run), POST /runs, /params, 5 x /batch, /end. MLflow: runs/create,
# runs/log-batch (params), 5 x runs/log-batch (metrics), runs/update.
REQUESTS_PER_RUN = {"mlpilot": 9, "mlflow": 8}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# servers -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 30.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds until ``url`` answers 200; raises if the process exits or the time runs out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


class Server:
    """A server we started in its own session: its pid is the process group to signal."""

    def __init__(self, kind: str, url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.kind = kind
        self.url = url
        self.process = process
        self.log_path = log_path
        self.startup_s = 0.0
        self.keys: dict[str, Any] = {}

    @property
    def pgid(self) -> int:
        return self.process.pid

    def stop(self) -> dict[str, Any]:
        """SIGTERM to the group, SIGKILL after STOP_TIMEOUT_S; returns how it went."""
        started = time.perf_counter()
        killed = False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            killed = True
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while group_members(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if group_members(self.pgid):
            killed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_S)
        left = group_members(self.pgid)
        return {"stop_s": time.perf_counter() - started, "sigkill": killed, "left_running": left}


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def _drain(stream: IO[bytes], lines: queue.Queue[str], copy: Path) -> None:
    with copy.open("a") as out:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            lines.put(line)
            # The bootstrap secret is not copied into the log file.
            out.write(("<bootstrap key>" if line.startswith("mlp_") else line) + "\n")
            out.flush()


def start_mlpilot(workdir: Path, workers: int, clients: int) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    home = workdir / "mlpilot-home"
    log_path = workdir / "server.log"
    command = [
        str(MLPILOT_CLI),
        "--home",
        str(home),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # The server runs on its defaults: no MLPILOT_* from this shell reaches it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    with log_path.open("w") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
    server = Server(f"mlpilot --workers {workers}", url, process, log_path)
    try:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_drain, args=(process.stdout, lines, workdir / "server.stdout"), daemon=True).start()
        started = time.perf_counter()
        admin = None
        while admin is None:
            remaining = STARTUP_TIMEOUT_S - (time.perf_counter() - started)
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError("mlpilot server printed no bootstrap key")
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=min(remaining, 1.0)).strip()
                if line.startswith("mlp_"):
                    admin = line
        server.startup_s = (time.perf_counter() - started) + wait_healthy(f"{url}/healthz", process, STARTUP_TIMEOUT_S)
        client_keys = []
        for i in range(clients):
            created = http_json(
                "POST", f"{url}/api/v1/keys", {"name": f"bench-client-{i}", "scopes": "read,write"}, token=admin
            )
            client_keys.append(created["secret"])
        server.keys = {"admin": admin, "clients": client_keys}
    except BaseException:
        server.stop()
        raise
    return server


def start_mlflow(workdir: Path) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    command = [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {
        **os.environ,
        "PATH": f"{MLFLOW_VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
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
    server = Server("MLflow (default: 4 workers)", url, process, log_path)
    try:
        server.startup_s = wait_healthy(f"{url}/health", process, STARTUP_TIMEOUT_S)
    except BaseException:
        server.stop()
        raise
    return server


# one sample --------------------------------------------------------------------------------------


def drive(
    server: Server, python: Path, mode: str, tool: str, workdir: Path, sizes: dict[str, int], timeout: float
) -> dict[str, Any]:
    out = workdir / f"{mode}.json"
    command = [str(python), str(DRIVER), mode, "--tool", tool, "--url", server.url, "--out", str(out)]
    command += [f"--{name}={value}" for name, value in sizes.items()]
    if server.keys:
        keys_file = workdir / "keys.json"
        keys_file.write_text(json.dumps(server.keys))
        keys_file.chmod(0o600)
        command += ["--keys-file", str(keys_file)]
    if mode == "run":
        command += ["--server-pgid", str(server.pgid), "--timeout", str(timeout)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONUNBUFFERED": "1"})
    stderr_path = workdir / f"{mode}-stderr.log"
    with stderr_path.open("w") as stderr:
        done = subprocess.run(
            command, stdout=stderr, stderr=stderr, env=env, cwd=workdir, timeout=timeout + 300, check=False
        )
    if not out.exists():
        tail = "\n".join(stderr_path.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{mode} for {server.kind} failed (exit {done.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["exit_code"] = done.returncode
    return result


def server_log_summary(path: Path) -> dict[str, Any]:
    """Statuses in the access log (MLflow logs every request; mlpilot does not by default) and
    error lines."""
    statuses: dict[str, int] = {}
    errors: list[str] = []
    access = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3})')
    for line in path.read_text(errors="replace").splitlines():
        found = access.search(line)
        if found:
            statuses[found.group(1)] = statuses.get(found.group(1), 0) + 1
        elif re.search(r"\b(ERROR|Traceback|CRITICAL)\b", line):
            errors.append(line[:300])
    return {"statuses": statuses, "error_lines": len(errors), "error_examples": errors[:5]}


def count_store(kind: str, workdir: Path) -> dict[str, int]:
    """Rows of the benchmark experiment, counted in the SQLite file after the server stopped."""
    if kind == "mlflow":
        db = workdir / "mlflow.db"
        run_ids = (
            "SELECT run_uuid FROM runs WHERE experiment_id = (SELECT experiment_id FROM experiments WHERE name = ?)"
        )
        queries = {
            "runs": f"SELECT count(*) FROM ({run_ids})",
            "finished_runs": f"SELECT count(*) FROM runs WHERE status = 'FINISHED' AND run_uuid IN ({run_ids})",
            "params": f"SELECT count(*) FROM params WHERE run_uuid IN ({run_ids})",
            "metric_points": f"SELECT count(*) FROM metrics WHERE run_uuid IN ({run_ids})",
        }
    else:
        db = workdir / "mlpilot-home" / "mlpilot.db"
        run_ids = "SELECT id FROM runs WHERE experiment_id = (SELECT id FROM experiments WHERE name = ?)"
        queries = {
            "runs": f"SELECT count(*) FROM ({run_ids})",
            "finished_runs": f"SELECT count(*) FROM runs WHERE status = 'FINISHED' AND id IN ({run_ids})",
            "params": f"SELECT count(*) FROM params WHERE run_id IN ({run_ids})",
            "metric_points": f"SELECT count(*) FROM metrics WHERE run_id IN ({run_ids})",
        }
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        result = {name: int(conn.execute(sql, (EXPERIMENT,)).fetchone()[0]) for name, sql in queries.items()}
    result["db_bytes"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return result


def group_commands(pgid: int) -> list[str]:
    """The command lines of a server's processes, to record what actually ran."""
    commands = []
    for pid in group_members(pgid):
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            commands.append(raw.replace(b"\0", b" ").decode(errors="replace").strip()[:300])
    return sorted(commands)


def sample(kind: str, workers: int, parent: Path, sizes: dict[str, int], timeout: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-w{workers}-", dir=parent))
    load = load_snapshot()
    if kind == "mlpilot":
        server = start_mlpilot(workdir, workers, sizes["clients"])
        python = ROOT / ".venv" / "bin" / "python"
    else:
        server = start_mlflow(workdir)
        python = MLFLOW_PYTHON
    commands = group_commands(server.pgid)
    log(f"{server.kind}: up in {server.startup_s:.1f} s at {server.url} ({len(commands)} processes)")
    try:
        result = drive(server, python, "run", kind, workdir, sizes, timeout)
        if result.get("ok"):
            result["verify"] = drive(server, python, "verify", kind, workdir, sizes, timeout)
    finally:
        stopped = server.stop()
    result.update(
        {
            "server": server.kind,
            "kind": kind,
            "workers": workers,
            "startup_s": server.startup_s,
            "server_commands": commands,
            "stop": stopped,
            "load_at_start": load,
            "server_log": server_log_summary(server.log_path),
        }
    )
    if result.get("ok"):
        result["store"] = count_store(kind, workdir)
        result["complete"] = _complete(result, sizes)
    return result


def _complete(result: dict[str, Any], sizes: dict[str, int]) -> bool:
    runs = sizes["clients"] * sizes["runs"]
    store = result["store"]
    return bool(
        result["verify"]["ok"]
        and store["runs"] == runs
        and store["finished_runs"] == runs
        and store["params"] == runs * sizes["params"]
        and store["metric_points"] == runs * sizes["batches"] * sizes["keys"] * sizes["steps"]
        and result["error_total"] == 0
    )


# report ------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize_config(samples: list[dict[str, Any]]) -> dict[str, Any]:
    good = [s for s in samples if s.get("ok")]
    per_run = REQUESTS_PER_RUN[samples[0]["kind"]]
    return {
        "server": samples[0]["server"],
        "samples": len(samples),
        "ok_samples": len(good),
        "complete_samples": sum(1 for s in good if s.get("complete")),
        "wall_s": [round(s["wall_s"], 3) for s in good],
        "points_per_s": [round(s["points_per_s"], 1) for s in good],
        "runs_per_s": [round(s["runs_per_s"], 2) for s in good],
        "median_wall_s": median([s["wall_s"] for s in good]),
        "median_points_per_s": median([s["points_per_s"] for s in good]),
        "median_runs_per_s": median([s["runs_per_s"] for s in good]),
        "requests_per_run": per_run,
        "median_requests_per_s": median([s["runs_per_s"] * per_run for s in good]),
        "median_client_warmup_run_s": median([median(s["client_warmup_run_s"]) for s in good]),
        "median_server_cpu_s": median([s["server_cpu_s"] for s in good]),
        "median_client_cpu_s": median([s["client_cpu_s"] for s in good]),
        "median_server_cpu_ms_per_run": median([s["server_cpu_s"] / s["runs"] * 1000 for s in good]),
        "median_client_cpu_ms_per_run": median([s["client_cpu_s"] / s["runs"] * 1000 for s in good]),
        "median_log_batch_p50_ms": median([s["latency_ms"]["log_batch"]["p50"] for s in good]),
        "median_log_batch_p99_ms": median([s["latency_ms"]["log_batch"]["p99"] for s in good]),
        "median_startup_s": median([s["startup_s"] for s in samples]),
        "errors": sum(s.get("error_total", 0) for s in good) + (len(samples) - len(good)),
        "retries": sum(s.get("retries", 0) for s in good),
        "server_non_2xx": sum(
            n for s in samples for code, n in s["server_log"]["statuses"].items() if not code.startswith("2")
        ),
        "server_error_lines": sum(s["server_log"]["error_lines"] for s in samples),
        "server_processes": max((s.get("server_processes", 0) for s in good), default=0),
        "server_rss_mib": median([s["server_rss_mib"] for s in good]),
    }


def render(report: dict[str, Any]) -> str:
    configs, ratios = report["configs"], report["ratios"]
    sizes = report["sizes"]
    runs = sizes["clients"] * sizes["runs"]
    points = runs * sizes["batches"] * sizes["keys"] * sizes["steps"]
    lines = [
        f"### Server logging benchmark, {report['date']}{' (quick)' if report['quick'] else ''}",
        "",
        f"{sizes['clients']} client processes x {sizes['runs']} runs = {runs:,} runs, {points:,} metric points "
        f"per sample; {report['rounds']} rounds, fresh server and store per sample.",
        "",
        "| server | wall s (median) | metric points/s | runs/s | HTTP requests/s | vs MLflow | server CPU ms/run "
        "| client CPU ms/run | `log_batch` p50 / p99 ms | errors | complete |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for name, config in configs.items():
        ratio = ratios.get(name)
        lines.append(
            f"| {config['server']} | {config['median_wall_s']:.2f} | {config['median_points_per_s']:,.0f} "
            f"| {config['median_runs_per_s']:.1f} | {config['median_requests_per_s']:,.0f} "
            f"| {'1.0x' if ratio is None else f'{ratio:.2f}x'} "
            f"| {config['median_server_cpu_ms_per_run']:.1f} | {config['median_client_cpu_ms_per_run']:.1f} "
            f"| {config['median_log_batch_p50_ms']:.1f} / {config['median_log_batch_p99_ms']:.1f} "
            f"| {config['errors']} | {config['complete_samples']}/{config['samples']} |"
        )
    lines += ["", "Samples (wall s, in round order):", ""]
    for config in configs.values():
        lines.append(f"- {config['server']}: {', '.join(f'{v:.2f}' for v in config['wall_s'])}")
    lines += ["", "Load average (1/5/15 min) at the start of each sample:", ""]
    for s in report["samples"]:
        load = s["load_at_start"]
        lines.append(
            f"- round {s['round']} {s['server']}: {load['load_1m']:.2f} / {load['load_5m']:.2f} / "
            f"{load['load_15m']:.2f}"
        )
    head = report["headline"]
    lines += [
        "",
        f"Headline (defaults on both sides: mlpilot one worker per core = {head['workers']}, MLflow 4): "
        f"{head['ratio']:.2f}x MLflow's metric-point throughput; target >= {TARGET:g}x: "
        f"{'PASS' if head['passed'] else 'FAIL'}.",
        f"Per-round ratios (mlpilot --workers {head['workers']} / MLflow): "
        f"{', '.join(f'{r:.2f}' for r in head['per_round'])}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round at small sizes, for a smoke run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=16, help="runs per client")
    parser.add_argument(
        "--workers",
        default=f"{min(os.cpu_count() or 1, 8)},1",
        help="mlpilot worker counts to measure; the first is the headline (default: its own default, then 1)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one sample's clients may take")
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/server-logging-<date>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (stores and server logs)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the 5x target fails or a sample errs")
    args = parser.parse_args(argv)

    if not MLFLOW_PYTHON.exists():
        print(
            f"error: the MLflow venv is missing ({MLFLOW_PYTHON}).\nCreate it with: bash bench/setup_peers.sh",
            file=sys.stderr,
        )
        return 2
    rounds = 1 if args.quick else args.rounds
    sizes = {
        "clients": args.clients,
        "runs": 3 if args.quick else args.runs,
        "params": 10,
        "batches": 5,
        "keys": 10,
        "steps": 20,
    }
    workers = [int(w) for w in args.workers.split(",") if w]
    configs = [("mlpilot", w) for w in workers] + [("mlflow", 4)]
    started = time.perf_counter()
    machine = machine_info()
    machine["mlflow_venv"] = venv_versions(
        MLFLOW_PYTHON, ("mlflow", "sqlalchemy", "uvicorn", "fastapi", "starlette", "flask")
    )
    parent = Path(tempfile.mkdtemp(prefix="mlpilot-bench-server-"))
    samples: list[dict[str, Any]] = []
    try:
        log(f"temp dir {parent}; {load_snapshot()['uptime']}")
        for round_ in range(rounds):
            shift = round_ % len(configs)
            for kind, count in configs[shift:] + configs[:shift]:
                result = sample(kind, count, parent, sizes, args.timeout)
                result["round"] = round_ + 1
                samples.append(result)
                if result.get("ok"):
                    log(
                        f"round {round_ + 1} {result['server']}: {result['wall_s']:.2f} s, "
                        f"{result['points_per_s']:,.0f} points/s, {result['runs_per_s']:.1f} runs/s, "
                        f"errors {result['error_total']}, retries {result['retries']}, "
                        f"server CPU {result['server_cpu_s']:.1f} s, client CPU {result['client_cpu_s']:.1f} s, "
                        f"complete {result['complete']}"
                    )
                else:
                    log(f"round {round_ + 1} {result['server']}: FAILED {result}")
    finally:
        if args.keep:
            log(f"kept {parent}")
        else:
            shutil.rmtree(parent, ignore_errors=True)

    names = {("mlpilot", w): f"mlpilot-w{w}" for w in workers} | {("mlflow", 4): "mlflow"}
    by_config: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        by_config.setdefault(names[(s["kind"], s["workers"])], []).append(s)
    summaries = {name: summarize_config(group) for name, group in by_config.items()}
    base = summaries["mlflow"]["median_points_per_s"]
    ratios = {name: s["median_points_per_s"] / base for name, s in summaries.items() if name != "mlflow"}
    headline_name = f"mlpilot-w{workers[0]}"
    per_round = []
    for round_ in range(1, rounds + 1):
        ours = [s for s in by_config[headline_name] if s["round"] == round_ and s.get("ok")]
        theirs = [s for s in by_config["mlflow"] if s["round"] == round_ and s.get("ok")]
        if ours and theirs:
            per_round.append(ours[0]["points_per_s"] / theirs[0]["points_per_s"])
    all_clean = all(s.get("ok") and s.get("complete") for s in samples)
    today = date.today().isoformat()
    report: dict[str, Any] = {
        "benchmark": "server-logging",
        "date": today,
        "quick": args.quick,
        "rounds": rounds,
        "elapsed_s": time.perf_counter() - started,
        "machine": machine,
        "sizes": sizes,
        "configs": summaries,
        "ratios": ratios,
        "headline": {
            "mlpilot": headline_name,
            "workers": workers[0],
            "ratio": ratios[headline_name],
            "target": TARGET,
            "passed": ratios[headline_name] >= TARGET and all_clean,
            "per_round": per_round,
        },
        "all_samples_clean": all_clean,
        "samples": samples,
        "load_end": load_snapshot(),
    }
    out = args.out or RESULTS / f"server-logging-{today}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(f"\nAll samples error-free and complete: {all_clean}. Elapsed {report['elapsed_s']:.0f} s.")
    print(f"Raw samples: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if args.strict and not report["headline"]["passed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
