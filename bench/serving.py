"""Model serving benchmark: ``mlpilot serve`` against ``mlflow models serve``, single-row requests under wrk.

    bash bench/setup_peers.sh                          # once: MLflow in .bench/mlflow-venv
    .venv/bin/python bench/serving.py                  # full run: 3 rounds, 7-10 minutes
    .venv/bin/python bench/serving.py --quick          # 1 round of 5 s runs
    .venv/bin/python bench/serving.py --scenarios rf,logging

The same models on both sides, each trained in its own venv with the same code (``train``; the
pickles do not travel between scikit-learn builds): LogisticRegression(max_iter=5000) and
RandomForestClassifier(n_estimators=100, random_state=0) on ``load_breast_cancer(as_frame=True)``,
spaces in the column names replaced by underscores (30 float features).

* mlpilot: logged with ``client.log_model(..., input_example=X.head(5))`` in a store in a temp
  dir, registered as ``cancer-logreg`` / ``cancer-rf`` with the alias ``production``, one key with
  the ``predict`` and ``read`` scopes; served with ``mlpilot --home H serve cancer-<model>@production
  --host 127.0.0.1 --port P --workers N [--no-log]`` (its defaults otherwise: micro-batching,
  prediction logging on). Ready when ``GET /readyz`` answers 200.
* MLflow: ``mlflow.sklearn.save_model(model, path, input_example=X.head(5))`` in
  .bench/mlflow-venv (bench/peers/mlflow_serving_model.py), served with ``mlflow models serve -m
  path --env-manager local --host 127.0.0.1 --port P --workers N`` with the venv's ``bin`` first on
  PATH and ``MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true``. Ready when ``GET /ping`` answers 200.

Every request carries one row, taken in turn from 64 rows of the data set (every 9th); wrk's Lua
script holds the 64 pre-formatted requests. mlpilot gets ``POST /v1/deployments/<name>/predict``
``{"instances": [{col: value, ...}]}`` with its bearer key; MLflow ``POST /invocations``
``{"dataframe_split": {"columns": [...], "data": [[...]]}}`` (the format of the
serving_input_example.json it writes).

Each sample starts a fresh server, sends each of the 64 requests once and checks the predictions
against the model's local ones, warms up with a 2 s wrk run, then measures ``wrk -t2 -cC -dDs
--timeout 10s --latency``, reading mlpilot's ``/metrics`` before and after (average micro-batch
size, server-side latency, prediction log rows) and the server's CPU seconds from /proc; then the
server is stopped (SIGTERM to its process group, SIGKILL after 30 s). The two sides of a scenario
run back to back, their order swapped every round. Prints Markdown tables of medians and ratios
and writes every sample to bench/results/serving-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from peers.mlflow_serving_model import train  # the models both sides serve: one copy of the code
from server_logging import Server, free_port, group_commands, group_members, wait_healthy

from bench_common import load_snapshot, median, venv_versions
from tracking import machine_info

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
MLPILOT_CLI = ROOT / ".venv" / "bin" / "mlpilot"
MLFLOW_VENV = ROOT / ".bench" / "mlflow-venv"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"
PEER_SCRIPT = BENCH / "peers" / "mlflow_serving_model.py"
RESULTS = BENCH / "results"
MODELS = ("logreg", "rf")
ROW_STEP = 9  # every 9th of the 569 rows: 64 request rows
STARTUP_TIMEOUT_S = 180.0
WRK_TIMEOUT = "10s"  # wrk's own default of 2 s would count MLflow's slowest answers as errors


def log(message: str) -> None:
    print(f"[serving] {message}", file=sys.stderr, flush=True)


# scenarios ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    number: int
    key: str
    title: str
    model: str
    connections: int
    workers: int
    sides: tuple[str, str]  # "mlpilot", "mlpilot-nolog" or "mlflow"; the ratio is sides[0] / sides[1]
    min_ratio: float | None = None  # target: sides[0] req/s >= min_ratio x sides[1]
    max_drop: float | None = None  # target: sides[0] req/s >= (1 - max_drop) x sides[1]
    max_p99_ms: float | None = None  # target: sides[0] p99 <= max_p99_ms


SCENARIOS = (
    Scenario(1, "logreg", "logreg, c16, 1 worker each", "logreg", 16, 1, ("mlpilot", "mlflow"), 10.0, None, 25.0),
    Scenario(2, "logreg-w2", "logreg, c16, 2 workers each", "logreg", 16, 2, ("mlpilot", "mlflow"), 5.0),
    Scenario(3, "rf", "RandomForest 100 trees, c32, 1 worker each", "rf", 32, 1, ("mlpilot", "mlflow"), 10.0),
    Scenario(
        4, "logging", "prediction logging on vs --no-log: logreg, c16, 1 worker", "logreg", 16, 1,
        ("mlpilot", "mlpilot-nolog"), None, 0.10,
    ),
)  # fmt: skip

SIDE_NAMES = {"mlpilot": "mlpilot", "mlpilot-nolog": "mlpilot --no-log", "mlflow": "MLflow"}


def pick_scenarios(text: str) -> list[Scenario]:
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    picked = []
    for want in wanted:
        found = [s for s in SCENARIOS if want in (str(s.number), s.key)]
        if not found:
            choices = ", ".join(f"{s.number}|{s.key}" for s in SCENARIOS)
            raise SystemExit(f"unknown scenario {want!r}; pick from {choices}")
        picked += [s for s in found if s not in picked]
    return sorted(picked, key=lambda s: s.number)


# the models --------------------------------------------------------------------------------------


def child_setup(workdir: Path) -> dict[str, Any]:
    """In a fresh process with MLPILOT_HOME set: the request rows, both models logged, registered
    and aliased, and a predict+read key (written to a 0600 file, never printed)."""
    from importlib.metadata import version

    import pandas as pd

    import mlpilot
    from mlpilot.security import keys

    started = time.perf_counter()
    _, features = train("logreg")
    chosen = features.iloc[::ROW_STEP]
    rows = {"columns": list(chosen.columns), "rows": chosen.to_numpy().tolist(), "index": chosen.index.tolist()}
    (workdir / "rows.json").write_text(json.dumps(rows))
    client = mlpilot.connect()
    result: dict[str, Any] = {
        "python": sys.version.split()[0],
        "versions": {
            name: version(name)
            for name in ("mlpilot", "scikit-learn", "numpy", "pandas", "uvicorn", "starlette", "orjson", "pyarrow")
        },
        "models": {},
    }
    for kind in MODELS:
        model, features = train(kind)
        name = f"cancer-{kind}"
        with client.start_run(experiment="bench") as run:
            client.log_model(run.id, model, "model", input_example=features.head(5))
        registered = client.register_model(run.id, "model", name)
        client.set_alias(name, "production", registered.version)
        frame = pd.DataFrame(rows["rows"], columns=rows["columns"])
        result["models"][kind] = {
            "name": name,
            "version": registered.version,
            "predictions": [int(v) for v in model.predict(frame)],
        }
    _, secret = keys.create_key(client.db, "bench", ["predict", "read"], actor="bench")
    key_file = workdir / "key"
    key_file.write_text(secret)
    key_file.chmod(0o600)
    client.close()
    result["setup_s"] = time.perf_counter() - started
    return result


def setup(parent: Path) -> dict[str, Any]:
    """Both stores: mlpilot's in parent/mlpilot (home .mlpilot), MLflow's model folders in parent/mlflow."""
    ours_dir, theirs_dir = parent / "mlpilot", parent / "mlflow"
    ours_dir.mkdir()
    theirs_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    env["MLPILOT_HOME"] = str(ours_dir / ".mlpilot")
    command = [str(PROJECT_PYTHON), str(Path(__file__).resolve()), "--child-setup", str(ours_dir)]
    ours = run_json(command, env, ours_dir, "mlpilot setup")
    log(f"mlpilot: trained, logged, registered and aliased both models in {ours['setup_s']:.1f} s")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPILOT_", "MLFLOW_"))}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    command = [str(MLFLOW_PYTHON), str(PEER_SCRIPT), str(ours_dir / "rows.json"), str(theirs_dir)]
    theirs = run_json(command, env, theirs_dir, "MLflow setup")
    log("MLflow: trained and saved both models in " + ", ".join(
        f"{kind} {info['setup_s']:.1f} s" for kind, info in theirs["models"].items()
    ))  # fmt: skip
    rows = json.loads((ours_dir / "rows.json").read_text())
    for kind in MODELS:
        if not theirs["models"][kind]["columns_match"]:
            raise SystemExit("the MLflow side's columns differ from the mlpilot side's")
        ours["models"][kind]["same_as_mlflow"] = (
            ours["models"][kind]["predictions"] == theirs["models"][kind]["predictions"]
        )
    return {"mlpilot": ours, "mlflow": theirs, "rows": rows, "key": (ours_dir / "key").read_text().strip()}


def run_json(command: list[str], env: dict[str, str], cwd: Path, what: str) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# requests ----------------------------------------------------------------------------------------


def bodies(side: str, rows: dict[str, Any]) -> list[str]:
    columns = rows["columns"]
    made: list[dict[str, Any]]
    if side == "mlflow":
        made = [{"dataframe_split": {"columns": columns, "data": [row]}} for row in rows["rows"]]
    else:
        made = [{"instances": [dict(zip(columns, row, strict=True))]} for row in rows["rows"]]
    return [json.dumps(body, separators=(",", ":")) for body in made]


def lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def write_lua(path: Path, side: str, rows: dict[str, Any], key: str | None) -> None:
    """wrk script: the 64 requests formatted once per thread in init, then sent in turn."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    header_lines = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    body_lines = ",\n".join(f"  {lua_string(body)}" for body in bodies(side, rows))
    path.write_text(
        "-- Written by bench/serving.py: single-row POST bodies, sent in turn.\n"
        f"local bodies = {{\n{body_lines}\n}}\n"
        "local requests = {}\n"
        "local n = 0\n"
        "function init(args)\n"
        "  for i, body in ipairs(bodies) do\n"
        f'    requests[i] = wrk.format("POST", nil, {{{header_lines}}}, body)\n'
        "  end\n"
        "end\n"
        "function request()\n"
        "  n = n % #requests + 1\n"
        "  return requests[n]\n"
        "end\n"
    )
    path.chmod(0o600)  # it holds the key


def post(url: str, body: str, key: str | None) -> Any:
    request = urllib.request.Request(url, data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def check_predictions(
    url: str, side: str, rows: dict[str, Any], key: str | None, expected: list[int]
) -> dict[str, Any]:
    """Each request once: does the server answer every row as the model does locally?"""
    got: list[Any] = []
    failures: list[str] = []
    for body in bodies(side, rows):
        try:
            answer = post(url, body, key)
            got.append(int(answer["predictions"][0]))
        except Exception as exc:  # recorded: the sample is then not clean
            got.append(None)
            failures.append(f"{type(exc).__name__}: {exc}"[:300])
    return {"requests": len(got), "match": got == expected, "failures": failures[:5], "failed": len(failures)}


# wrk ---------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {"non_2xx": 0, "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    for line in output.splitlines():
        text = line.strip()
        if text.startswith("Requests/sec:"):
            result["requests_per_s"] = float(text.split()[1])
        elif found := re.match(r"(\d+) requests in ([\d.]+\w+), ", text):
            result["requests"] = int(found.group(1))
            result["duration_ms"] = _ms(found.group(2))
        elif found := re.fullmatch(r"(50|75|90|99)%\s+(\S+)", text):
            result[f"p{found.group(1)}_ms"] = _ms(found.group(2))
        elif text.startswith("Latency") and "Stdev" not in text and "Distribution" not in text:
            parts = text.split()
            result["mean_ms"], result["stdev_ms"], result["max_ms"] = _ms(parts[1]), _ms(parts[2]), _ms(parts[3])
        elif text.startswith("Non-2xx or 3xx responses:"):
            result["non_2xx"] = int(text.split(":")[1])
        elif text.startswith("Socket errors:"):
            for name, value in re.findall(r"(connect|read|write|timeout) (\d+)", text):
                result["socket_errors"][name] = int(value)
    return result


@dataclass(frozen=True)
class Pinning:
    """CPU lists (``taskset -c``) for the server's processes and for wrk, so that the load
    generator and the server never take turns on one core (``--pin``)."""

    server: str
    load: str


def pinning_for(workers: int) -> Pinning:
    """The first ``workers`` CPUs for the server, the rest for wrk."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) <= workers:
        raise SystemExit(f"--pin needs more CPUs than server workers: {len(cpus)} CPUs, {workers} workers")
    return Pinning(",".join(map(str, cpus[:workers])), ",".join(map(str, cpus[workers:])))


def pinned(command: list[str], cpus: str | None) -> list[str]:
    return command if cpus is None else ["taskset", "-c", cpus, *command]


def run_wrk(
    url: str, script: Path, connections: int, threads: int, seconds: float, cpus: str | None = None
) -> dict[str, Any]:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", WRK_TIMEOUT, "--latency",
        "-s", str(script), url,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(pinned(command, cpus), capture_output=True, text=True, timeout=seconds + 120, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = parse_wrk(done.stdout)
    # A Lua error makes wrk fall back to GET requests without failing: any sign of one is a problem.
    problems = [line for line in done.stdout.splitlines() if ".lua" in line] + done.stderr.splitlines()
    result.update(
        {
            "command": " ".join([*command[:-3], script.name, url]),
            "exit_code": done.returncode,
            "wrk_cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "problems": problems[:5],
            "stdout": done.stdout,
        }
    )
    if done.returncode != 0 or "requests_per_s" not in result:
        raise RuntimeError(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return result


# servers -----------------------------------------------------------------------------------------


def start_server(
    side: str, scenario: Scenario, parent: Path, sample_dir: Path, gc_site: Path | None, cpus: str | None = None
) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = sample_dir / "server.log"
    address = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(scenario.workers)]
    if side == "mlflow":
        command = [
            str(MLFLOW_VENV / "bin" / "mlflow"),
            "models",
            "serve",
            "-m",
            str(parent / "mlflow" / scenario.model),
        ]
        command += ["--env-manager", "local", *address]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPILOT_", "MLFLOW_"))}
        env.update(
            {
                "PATH": f"{MLFLOW_VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "true",
            }
        )
        cwd, ready = parent / "mlflow", "/ping"
    else:
        home = parent / "mlpilot" / ".mlpilot"
        command = [str(MLPILOT_CLI), "--home", str(home), "serve", f"cancer-{scenario.model}@production", *address]
        if side == "mlpilot-nolog":
            command.append("--no-log")
        # The server runs on its defaults: no MLPILOT_* (or metrics folder) from this shell reaches it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        cwd, ready = parent / "mlpilot", "/readyz"
    if gc_site is not None:
        env["PYTHONPATH"] = str(gc_site)
        env["BENCH_GC_TRACE_DIR"] = str(sample_dir)
    with log_path.open("w") as out:
        process = subprocess.Popen(
            pinned(command, cpus), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
    server = Server(SIDE_NAMES[side], url, process, log_path)
    try:
        server.startup_s = wait_healthy(url + ready, process, STARTUP_TIMEOUT_S)
    except BaseException:
        server.stop()
        raise
    return server


def group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of the live processes of a server's group (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in group_members(pgid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(url: str, key: str) -> dict[str, Any]:
    """mlpilot's /metrics, summed over label sets: batch sizes, server latency, requests, log rows."""
    request = urllib.request.Request(f"{url}/metrics")
    request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    found: dict[str, Any] = {
        "batch_rows": 0.0, "batches": 0.0, "batch_size_le": {}, "latency_le": {}, "latency_sum_s": 0.0,
        "latency_count": 0.0, "requests_by_status": {}, "log_rows": {}, "process_cpu_s": 0.0, "in_flight": 0.0,
        "log_cpu_s": 0.0, "log_flushes": 0.0,
    }  # fmt: skip
    for line in text.splitlines():
        sample = _SAMPLE.match(line)
        if line.startswith("#") or sample is None:
            continue
        name, labels, value = sample.group(1), dict(_LABEL.findall(sample.group(2) or "")), float(sample.group(3))
        if name == "mlpilot_batch_size_sum":
            found["batch_rows"] += value
        elif name == "mlpilot_batch_size_count":
            found["batches"] += value
        elif name == "mlpilot_batch_size_bucket":
            found["batch_size_le"][labels["le"]] = found["batch_size_le"].get(labels["le"], 0.0) + value
        elif name == "mlpilot_request_duration_seconds_bucket" and labels.get("route") == "predict":
            found["latency_le"][labels["le"]] = found["latency_le"].get(labels["le"], 0.0) + value
        elif name == "mlpilot_request_duration_seconds_sum" and labels.get("route") == "predict":
            found["latency_sum_s"] += value
        elif name == "mlpilot_request_duration_seconds_count" and labels.get("route") == "predict":
            found["latency_count"] += value
        elif name == "mlpilot_requests_total" and labels.get("route") == "predict":
            status = labels.get("status", "?")
            found["requests_by_status"][status] = found["requests_by_status"].get(status, 0.0) + value
        elif name == "mlpilot_prediction_log_rows_total":
            outcome = labels.get("outcome", "?")
            found["log_rows"][outcome] = found["log_rows"].get(outcome, 0.0) + value
        elif name == "mlpilot_process_cpu_seconds_total":
            found["process_cpu_s"] += value
        elif name == "mlpilot_prediction_log_cpu_seconds_total":
            found["log_cpu_s"] += value
        elif name == "mlpilot_prediction_log_flush_seconds_count":
            found["log_flushes"] += value
        elif name == "mlpilot_requests_in_flight":
            found["in_flight"] += value
    return found


def metrics_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What happened between two scrapes (the measured wrk run)."""
    delta: dict[str, Any] = {}
    for name, value in after.items():
        if isinstance(value, dict):
            delta[name] = {k: v - before[name].get(k, 0.0) for k, v in value.items()}
        else:
            delta[name] = value - before[name]
    delta["avg_batch_rows"] = delta["batch_rows"] / delta["batches"] if delta["batches"] else float("nan")
    delta["server_p50_le_ms"] = bucket_quantile(delta["latency_le"], 0.50)
    delta["server_p99_le_ms"] = bucket_quantile(delta["latency_le"], 0.99)
    # The log writer's own CPU (its flushes), as a share of the server's: the part of logging's
    # cost that the machine's noise cannot hide, unlike a difference of two throughputs.
    delta["log_cpu_share"] = delta["log_cpu_s"] / delta["process_cpu_s"] if delta["process_cpu_s"] > 0 else None
    return delta


def bucket_quantile(buckets: dict[str, float], quantile: float) -> float | None:
    """The upper bound (ms) of the histogram bucket that holds ``quantile`` of the observations."""
    bounds = sorted((float(le), count) for le, count in buckets.items())
    total = bounds[-1][1] if bounds else 0.0
    if total <= 0:
        return None
    for bound, count in bounds:
        if count >= quantile * total:
            return bound * 1000
    return None


_ACCESS = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3})')
_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b")
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


def server_log_summary(path: Path) -> dict[str, Any]:
    """Statuses in the access log (MLflow's uvicorn logs every request; mlpilot does not by
    default) and errors. An error is an ERROR/CRITICAL line or a traceback: from its header
    through the indented frames to the exception line, chained tracebacks included. One that
    ends in starlette's ClientDisconnect is a request whose connection wrk closed at the end of
    its run while it still sat in the server: counted apart, not as an error."""
    statuses: dict[str, int] = {}
    blocks: list[list[str]] = []
    current: list[str] | None = None
    state = ""  # "header" (an ERROR line), "frames" (inside a traceback), "ended" (exception seen)
    for line in path.read_text(errors="replace").splitlines():
        found = _ACCESS.search(line)
        if found:
            statuses[found.group(1)] = statuses.get(found.group(1), 0) + 1
            current, state = None, ""
            continue
        if line.startswith("Traceback"):
            if current is None or (state == "ended" and not current[-1].startswith(_CHAINED)):
                current = []
                blocks.append(current)
            current.append(line)
            state = "frames"
        elif state == "frames":
            current.append(line)  # type: ignore[union-attr]
            if not line.startswith(" "):
                state = "ended"
        elif state == "ended" and line.startswith(_CHAINED):
            current.append(line)  # type: ignore[union-attr]
        elif state == "ended" and not line.strip():
            continue
        elif _ERROR.search(line):
            current, state = [line], "header"
            blocks.append(current)
        elif state != "header":
            current, state = None, ""
    disconnects = [b for b in blocks if "ClientDisconnect" in b[-1]]
    errors = [" | ".join(line.strip() for line in (b[0], b[-1]))[:400] for b in blocks if b not in disconnects]
    return {
        "statuses": statuses,
        "error_lines": len(errors),
        "error_examples": errors[:5],
        "client_disconnects": len(disconnects),
    }


# With --gc-trace, every server process records its garbage collections (start on the monotonic
# clock, which processes share, generation, pause) through this sitecustomize on PYTHONPATH.
GC_TRACE_SITE = """\
import gc, os, time

_out = os.environ.get("BENCH_GC_TRACE_DIR")
if _out:
    _file = open(os.path.join(_out, f"gc-{os.getpid()}.tsv"), "a", buffering=1)
    _started = [0.0]

    def _trace(phase, info):
        if phase == "start":
            _started[0] = time.monotonic()
        else:
            pause = time.monotonic() - _started[0]
            _file.write(f"{_started[0]:.6f}\\t{info['generation']}\\t{pause * 1000:.3f}\\n")

    gc.callbacks.append(_trace)
"""


def gc_pauses(trace_dir: Path, start: float, end: float) -> dict[str, Any]:
    """The collections that started in [start, end] (the measured wrk run), by generation."""
    pauses: dict[str, list[float]] = {"0": [], "1": [], "2": []}
    for path in trace_dir.glob("gc-*.tsv"):
        for line in path.read_text().splitlines():
            at, generation, pause = line.split("\t")
            if start <= float(at) <= end:
                pauses[generation].append(float(pause))
    return {
        f"gen{generation}": {
            "count": len(values),
            "total_ms": sum(values),
            "max_ms": max(values, default=0.0),
            "over_50ms": sum(1 for v in values if v > 50),
        }
        for generation, values in pauses.items()
    }


def parquet_segments(home: Path) -> set[Path]:
    """The prediction log's Parquet segments: every .parquet file under the home except the
    artifact store and the model cache (so a renamed log folder is still found)."""
    skip = {home / "artifacts", home / "cache"}
    return {p for p in home.rglob("*.parquet") if not any(p.is_relative_to(folder) for folder in skip)}


def logged_rows(home: Path, before: set[Path]) -> dict[str, int]:
    """Rows in the prediction log segments a sample wrote (read from the Parquet footers)."""
    import pyarrow.parquet as pq

    segments = parquet_segments(home) - before
    return {"segments": len(segments), "rows": sum(pq.ParquetFile(p).metadata.num_rows for p in segments)}


# one sample --------------------------------------------------------------------------------------


def sample(
    side: str,
    scenario: Scenario,
    parent: Path,
    setup_info: dict[str, Any],
    seconds: float,
    warmup: float,
    threads: int,
    keep: bool,
    gc_site: Path | None,
    pin: Pinning | None = None,
) -> dict[str, Any]:
    sample_dir = Path(tempfile.mkdtemp(prefix=f"{scenario.key}-{side}-", dir=parent / "samples"))
    ours = side != "mlflow"
    key = setup_info["key"] if ours else None
    rows = setup_info["rows"]
    home = parent / "mlpilot" / ".mlpilot"
    segments_before = parquet_segments(home) if ours else set()
    load = load_snapshot()
    server = start_server(side, scenario, parent, sample_dir, gc_site, pin.server if pin else None)
    path = f"/v1/deployments/cancer-{scenario.model}/predict" if ours else "/invocations"
    url = server.url + path
    script = sample_dir / "requests.lua"
    write_lua(script, side, rows, key)
    result: dict[str, Any] = {
        "scenario": scenario.key,
        "side": side,
        "server": server.kind,
        "model": scenario.model,
        "workers": scenario.workers,
        "connections": scenario.connections,
        "startup_s": server.startup_s,
        "load_at_start": load,
        "pinning": None if pin is None else {"server_cpus": pin.server, "wrk_cpus": pin.load},
    }
    try:
        result["server_commands"] = group_commands(server.pgid)
        expected = setup_info["mlflow" if side == "mlflow" else "mlpilot"]["models"][scenario.model]["predictions"]
        result["check"] = check_predictions(url, side, rows, key, expected)
        result["warmup"] = run_wrk(url, script, scenario.connections, threads, warmup, pin.load if pin else None)
        result["warmup"].pop("stdout")
        before = scrape(server.url, key) if key else None
        cpu_before = group_cpu_s(server.pgid)
        window = time.monotonic()
        result["wrk"] = run_wrk(url, script, scenario.connections, threads, seconds, pin.load if pin else None)
        window_end = time.monotonic()
        result["server_cpu_s"] = group_cpu_s(server.pgid) - cpu_before
        if gc_site is not None:
            result["gc"] = gc_pauses(sample_dir, window, window_end)
        if key and before is not None:
            # Requests wrk left behind when it stopped still finish (or fail) in the server: wait for them.
            deadline = time.monotonic() + 5
            after = scrape(server.url, key)
            while after["in_flight"] > 0 and time.monotonic() < deadline:
                time.sleep(0.1)
                after = scrape(server.url, key)
            result["metrics"] = metrics_delta(before, after)
            result["metrics_total"] = after
    finally:
        result["stop"] = server.stop()
    result["server_log"] = server_log_summary(server.log_path)
    if ours:
        result["prediction_log"] = logged_rows(home, segments_before)
        if "metrics_total" in result:
            # Every 2xx prediction of the sample (check, warm-up, measured run) should be in the log.
            result["prediction_log"]["predict_2xx"] = int(
                sum(n for code, n in result["metrics_total"]["requests_by_status"].items() if code.startswith("2"))
            )
    wrk = result["wrk"]
    result["requests_per_s"] = wrk["requests_per_s"]
    result["p50_ms"] = wrk["p50_ms"]
    result["p99_ms"] = wrk["p99_ms"]
    result["server_cpu_ms_per_request"] = result["server_cpu_s"] / wrk["requests"] * 1000 if wrk["requests"] else None
    result["errors"] = (
        wrk["non_2xx"] + sum(wrk["socket_errors"].values()) + result["warmup"]["non_2xx"] + result["check"]["failed"]
    )
    non_2xx_logged = sum(n for code, n in result["server_log"]["statuses"].items() if not code.startswith("2"))
    if "metrics_total" in result:
        # A request whose client hung up (at the end of a wrk run) is counted as 499 (older
        # mlpilot: a 500 with a ClientDisconnect in the log) in the metrics; nobody receives its
        # answer. Those are recorded (metrics_total) but not counted as errors here.
        by_status = result["metrics_total"]["requests_by_status"]
        disconnect_500s = min(int(by_status.get("500", 0)), result["server_log"]["client_disconnects"])
        result["disconnect_500s"] = disconnect_500s
        result["client_closed_499s"] = int(by_status.get("499", 0))
        non_2xx_logged += (
            sum(int(n) for code, n in by_status.items() if not code.startswith("2"))
            - disconnect_500s
            - result["client_closed_499s"]
        )
    result["server_non_2xx"] = non_2xx_logged
    result["clean"] = bool(
        result["errors"] == 0
        and non_2xx_logged == 0
        and result["check"]["match"]
        and not wrk["problems"]
        and not result["warmup"]["problems"]
        and result["server_log"]["error_lines"] == 0
    )
    if not keep:
        shutil.rmtree(sample_dir, ignore_errors=True)
    return result


# report ------------------------------------------------------------------------------------------


def summarize(samples: list[dict[str, Any]], scenarios: list[Scenario], rounds: int) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for scenario in scenarios:
        sides: dict[str, Any] = {}
        for side in scenario.sides:
            mine = [s for s in samples if s["scenario"] == scenario.key and s["side"] == side]
            batches = [s["metrics"]["avg_batch_rows"] for s in mine if "metrics" in s]
            inside = [s["metrics"]["server_p99_le_ms"] for s in mine if "metrics" in s]
            sides[side] = {
                "server": SIDE_NAMES[side],
                "samples": len(mine),
                "clean_samples": sum(1 for s in mine if s["clean"]),
                "requests_per_s": [s["requests_per_s"] for s in mine],
                "median_requests_per_s": median([s["requests_per_s"] for s in mine]),
                "median_p50_ms": median([s["p50_ms"] for s in mine]),
                "median_p99_ms": median([s["p99_ms"] for s in mine]),
                "p99_ms": [s["p99_ms"] for s in mine],
                "max_ms": [s["wrk"]["max_ms"] for s in mine],
                "median_avg_batch_rows": median(batches) if batches else None,
                "avg_batch_rows": batches,
                "median_server_p99_le_ms": median([v for v in inside if v is not None]) if inside else None,
                "median_server_cpu_ms_per_request": median([s["server_cpu_ms_per_request"] for s in mine]),
                "median_wrk_cpu_s": median([s["wrk"]["wrk_cpu_s"] for s in mine]),
                "median_startup_s": median([s["startup_s"] for s in mine]),
                "errors": sum(s["errors"] for s in mine),
                "server_non_2xx": sum(s["server_non_2xx"] for s in mine),
                "client_disconnects": sum(s["server_log"]["client_disconnects"] for s in mine),
                "prediction_log_rows": [s["prediction_log"]["rows"] for s in mine if "prediction_log" in s],
                "predict_2xx": [s["prediction_log"].get("predict_2xx") for s in mine if "prediction_log" in s],
                "log_cpu_share": [
                    s["metrics"]["log_cpu_share"] for s in mine if s.get("metrics", {}).get("log_cpu_share") is not None
                ],
                "gc_gen2": [
                    {"count": s["gc"]["gen2"]["count"], "max_ms": s["gc"]["gen2"]["max_ms"]} for s in mine if "gc" in s
                ],
                "predictions_match": all(s["check"]["match"] for s in mine),
            }
        first, second = (sides[side] for side in scenario.sides)
        ratio = first["median_requests_per_s"] / second["median_requests_per_s"]
        per_round = []
        for round_ in range(1, rounds + 1):
            mine = [s for s in samples if s["scenario"] == scenario.key and s["round"] == round_]
            pair = [next((s for s in mine if s["side"] == side), None) for side in scenario.sides]
            if pair[0] is not None and pair[1] is not None:
                per_round.append(pair[0]["requests_per_s"] / pair[1]["requests_per_s"])
        clean = first["clean_samples"] == first["samples"] and second["clean_samples"] == second["samples"]
        targets = []
        if scenario.min_ratio is not None:
            targets.append(
                {
                    "what": f"{first['server']} / {second['server']} req/s",
                    "value": ratio,
                    "target": f">= {scenario.min_ratio:g}x",
                    "per_round": per_round,
                    "passed": ratio >= scenario.min_ratio and clean,
                }
            )
        if scenario.max_drop is not None:
            targets.append(
                {
                    "what": "throughput drop with logging on",
                    "value": 1 - ratio,
                    "target": f"<= {scenario.max_drop:.0%}",
                    "per_round": [1 - r for r in per_round],
                    # Each round's pair ran back to back: their ratio is the steadier figure on a
                    # machine whose speed drifts between rounds. Reported; the target uses medians.
                    "median_of_rounds": median([1 - r for r in per_round]) if per_round else None,
                    "passed": 1 - ratio <= scenario.max_drop and clean,
                }
            )
        if scenario.max_p99_ms is not None:
            targets.append(
                {
                    "what": f"{first['server']} p99 ms",
                    "value": first["median_p99_ms"],
                    "target": f"<= {scenario.max_p99_ms:g} ms",
                    "per_round": first["p99_ms"],
                    "passed": first["median_p99_ms"] <= scenario.max_p99_ms and clean,
                }
            )
        summary[scenario.key] = {
            "number": scenario.number,
            "title": scenario.title,
            "sides": sides,
            "ratio": ratio,
            "per_round_ratio": per_round,
            "all_clean": clean,
            "targets": targets,
        }
    return summary


def render(report: dict[str, Any]) -> str:
    summary = report["summary"]
    lines = [
        f"### Serving benchmark, {report['date']}{' (quick)' if report['quick'] else ''}",
        "",
        f"Single-row requests (64 rows of breast-cancer features in turn), `wrk -t{report['threads']} -cC "
        f"-d{report['seconds']:g}s --timeout {WRK_TIMEOUT} --latency` after a {report['warmup_s']:g} s warm-up; "
        f"{report['rounds']} round(s), fresh server per sample, the two sides of a scenario back to back in "
        f"alternating order. {report['machine']['cores']} cores, shared. Medians over rounds."
        + (" Server pinned to its first N CPUs (N = workers), wrk to the others." if report.get("pin") else ""),
        "",
        "| # | scenario | server | req/s | p50 ms | p99 ms | p99 in server (≤ ms) | avg batch rows "
        "| server CPU ms/req | errors | clean |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, scenario in summary.items():
        for side in scenario["sides"].values():
            batch, inside = side["median_avg_batch_rows"], side["median_server_p99_le_ms"]
            lines.append(
                f"| {scenario['number']} | {key} | {side['server']} | {side['median_requests_per_s']:,.0f} "
                f"| {side['median_p50_ms']:.1f} | {side['median_p99_ms']:.1f} "
                f"| {'-' if inside is None else f'{inside:g}'} | {'-' if batch is None else f'{batch:.2f}'} "
                f"| {side['median_server_cpu_ms_per_request']:.2f} "
                f"| {side['errors'] + side['server_non_2xx']} | {side['clean_samples']}/{side['samples']} |"
            )
    lines += [
        "",
        "| # | target | measured (median) | target | per round | result |",
        "|---:|---|---:|---|---|---|",
    ]
    for scenario in summary.values():
        for target in scenario["targets"]:
            if target["what"].endswith("req/s"):
                value, rounds = f"{target['value']:.1f}x", ", ".join(f"{v:.1f}x" for v in target["per_round"])
            elif target["what"].endswith("ms"):
                value, rounds = f"{target['value']:.1f} ms", ", ".join(f"{v:.1f}" for v in target["per_round"])
            else:
                value, rounds = f"{target['value']:.1%}", ", ".join(f"{v:.1%}" for v in target["per_round"])
                if target.get("median_of_rounds") is not None:
                    rounds += f" (median of the rounds: {target['median_of_rounds']:.1%})"
            lines.append(
                f"| {scenario['number']} | {target['what']} | {value} | {target['target']} | {rounds} "
                f"| {'PASS' if target['passed'] else 'FAIL'} |"
            )
    lines += ["", "Samples (req/s, p99 ms; in round order):", ""]
    for key, scenario in summary.items():
        for side in scenario["sides"].values():
            pairs = ", ".join(
                f"{r:,.0f} / {p:.1f}" for r, p in zip(side["requests_per_s"], side["p99_ms"], strict=True)
            )
            lines.append(f"- {key} {side['server']}: {pairs}")
    lines += ["", "Prediction log rows written / 2xx predictions served, per mlpilot sample:", ""]
    for key, scenario in summary.items():
        for side in scenario["sides"].values():
            if side["prediction_log_rows"]:
                logged = zip(side["prediction_log_rows"], side["predict_2xx"], strict=True)
                lines.append(
                    f"- {key} {side['server']}: " + ", ".join(f"{rows:,} / {served:,}" for rows, served in logged)
                )
    shares = [
        (key, side) for key, scenario in summary.items() for side in scenario["sides"].values() if side["log_cpu_share"]
    ]
    if shares:
        lines += ["", "CPU of the prediction log's flushes, as a share of the server's CPU, per sample:", ""]
        for key, side in shares:
            lines.append(
                f"- {key} {side['server']}: median {median(side['log_cpu_share']):.1%} ("
                + ", ".join(f"{v:.1%}" for v in side["log_cpu_share"])
                + ")"
            )
    if report.get("gc_trace"):
        lines += ["", "Generation-2 garbage collections in the server during each measured run (count, longest):", ""]
        for key, scenario in summary.items():
            for side in scenario["sides"].values():
                runs = ", ".join(f"{g['count']} x, {g['max_ms']:.0f} ms" for g in side["gc_gen2"])
                lines.append(f"- {key} {side['server']}: {runs}")
    lines += ["", "Load average (1 min) at the start of each sample:", ""]
    for s in report["samples"]:
        lines.append(f"- round {s['round']} {s['scenario']} {s['server']}: {s['load_at_start']['load_1m']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round of 5 s runs, for a smoke run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, help="length of each measured wrk run (default 10, --quick 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk warm-up per server")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--scenarios",
        default=",".join(s.key for s in SCENARIOS),
        help="comma-separated numbers or names: " + ", ".join(f"{s.number}={s.key}" for s in SCENARIOS),
    )
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/serving-<date>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (stores, models, server logs)")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the server on its first N CPUs (N = workers) and wrk on the others (taskset), so that they "
        "never share a core; needs more CPUs than workers",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails or a sample errs")
    parser.add_argument(
        "--gc-trace",
        action="store_true",
        help="record every garbage collection in the server processes (gc.callbacks via a sitecustomize on "
        "PYTHONPATH) and report the generation-2 pauses during each measured run",
    )
    args = parser.parse_args(argv)

    if not MLFLOW_PYTHON.exists():
        print(
            f"error: the MLflow venv is missing ({MLFLOW_PYTHON}).\nCreate it with: bash bench/setup_peers.sh",
            file=sys.stderr,
        )
        return 2
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    scenarios = pick_scenarios(args.scenarios)
    if args.pin:
        if shutil.which("taskset") is None:
            print("error: --pin needs taskset (apt-get install -y util-linux)", file=sys.stderr)
            return 2
        for scenario in scenarios:
            pinning_for(scenario.workers)  # fails early, naming the shortfall
    rounds = 1 if args.quick else args.rounds
    seconds = args.seconds or (5.0 if args.quick else 10.0)
    started = time.perf_counter()
    machine = machine_info()
    machine["mlflow_venv"] = venv_versions(
        MLFLOW_PYTHON, ("mlflow", "scikit-learn", "uvicorn", "fastapi", "starlette", "pandas")
    )
    machine["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    parent = Path(tempfile.mkdtemp(prefix="mlpilot-bench-serving-"))
    (parent / "samples").mkdir()
    gc_site = None
    if args.gc_trace:
        gc_site = parent / "gc-trace"
        gc_site.mkdir()
        (gc_site / "sitecustomize.py").write_text(GC_TRACE_SITE)
    samples: list[dict[str, Any]] = []
    try:
        log(f"temp dir {parent}; {load_snapshot()['uptime']}")
        setup_info = setup(parent)
        for round_ in range(1, rounds + 1):
            for scenario in scenarios:
                order = scenario.sides if round_ % 2 == 1 else scenario.sides[::-1]
                for side in order:
                    result = sample(
                        side,
                        scenario,
                        parent,
                        setup_info,
                        seconds,
                        args.warmup,
                        args.threads,
                        args.keep,
                        gc_site,
                        pinning_for(scenario.workers) if args.pin else None,
                    )
                    result["round"] = round_
                    samples.append(result)
                    batch = result.get("metrics", {}).get("avg_batch_rows")
                    log(
                        f"round {round_} {scenario.key} {result['server']}: {result['requests_per_s']:,.0f} req/s, "
                        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                        f"max {result['wrk']['max_ms']:.0f} ms"
                        + (f", avg batch {batch:.2f} rows" if batch is not None else "")
                        + f", server CPU {result['server_cpu_ms_per_request']:.2f} ms/req, errors {result['errors']}"
                        + (
                            f", gen2 GC {result['gc']['gen2']['count']} x (max {result['gc']['gen2']['max_ms']:.0f} ms)"
                            if "gc" in result
                            else ""
                        )
                        + ("" if result["clean"] else " (NOT CLEAN)")
                    )
    finally:
        if args.keep:
            log(f"kept {parent}")
        else:
            shutil.rmtree(parent, ignore_errors=True)

    summary = summarize(samples, scenarios, rounds)
    today = date.today().isoformat()
    setup_record = {side: setup_info[side] for side in ("mlpilot", "mlflow")}
    report: dict[str, Any] = {
        "benchmark": "serving",
        "date": today,
        "quick": args.quick,
        "rounds": rounds,
        "seconds": seconds,
        "warmup_s": args.warmup,
        "threads": args.threads,
        "gc_trace": args.gc_trace,
        "pin": args.pin,
        "elapsed_s": time.perf_counter() - started,
        "machine": machine,
        "setup": setup_record,
        "request_rows": {"index": setup_info["rows"]["index"], "columns": setup_info["rows"]["columns"]},
        "example_bodies": {side: bodies(side, setup_info["rows"])[0] for side in ("mlpilot", "mlflow")},
        "order": "per round, the scenarios in order; the two sides of a scenario back to back, "
        "first side first in odd rounds, second side first in even rounds",
        "summary": summary,
        "all_clean": all(s["clean"] for s in samples),
        "all_passed": all(t["passed"] for s in summary.values() for t in s["targets"]),
        "samples": samples,
        "load_end": load_snapshot(),
    }
    out = args.out or RESULTS / f"serving-{today}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(
        f"\nAll samples error-free: {report['all_clean']}. All targets met: {report['all_passed']}. "
        f"Elapsed {report['elapsed_s']:.0f} s."
    )
    print(f"Raw samples: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if args.strict and not (report["all_passed"] and report["all_clean"]) else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child-setup"]:
        print(json.dumps(child_setup(Path(sys.argv[2]))))
        raise SystemExit(0)
    raise SystemExit(main())
