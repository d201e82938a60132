"""The whole loop, end to end, on the embedded default store:

1. six stable months of loans become dataset ``loans``; the retraining pipeline trains three
   candidates, gates the best (no champion yet) and deploys it as ``loans@production``;
2. the platform server serves it; a key that may predict; a monitor on the deployment and a
   trigger that runs the pipeline when the monitor alerts;
3. the downturn: drifted applications arrive as traffic (with their outcomes as feedback) and the
   newest months are added to ``loans``;
4. the monitor alerts, the server starts the pipeline, which trains on recent months, gates the
   winner against the champion, canaries it on live traffic and promotes it;
5. a summary: runs, versions, drift scores, accuracy before and after, DORA figures.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.demo.loans import LABEL, history
from mlpilot.demo.retrain import retrain
from mlpilot.demo.traffic import Traffic
from mlpilot.errors import MlpilotError
from mlpilot.evaluation import evaluate_model
from mlpilot.monitoring.monitors import create_monitor, list_alerts, list_results
from mlpilot.ops.dora import dora_metrics
from mlpilot.orchestration.runs import list_pipeline_runs
from mlpilot.orchestration.triggers import create_trigger
from mlpilot.security.keys import create_key

__all__ = ["DemoOptions", "run_demo"]

log = logging.getLogger(__name__)
T = TypeVar("T")
MARKER = ".mlpilot-demo"
ROWS_PER_MONTH = 1500
DEPLOYMENT = "loans-api"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    home: Path
    serve: bool = False
    timeout: float = 240.0  # seconds to wait for the alert-triggered retraining
    say: Callable[[str], None] = print


def _fresh(home: Path) -> None:
    """Start from an empty folder; only a folder an earlier demo made is ever emptied."""
    if home.exists() and any(home.iterdir()):
        if not (home / MARKER).exists():
            raise MlpilotError(f"{home} is not empty and was not made by the demo; refusing to clear it")
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by `mlpilot demo`; cleared by the next one\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(what: str, check: Callable[[], T | None], timeout: float, poll: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(poll)
    raise MlpilotError(f"the demo waited {timeout:.0f} s for {what}; see the server log")


def _start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("MLPILOT_")},
        "MLPILOT_HOME": str(home),
        "MLPILOT_MONITOR_TICK_SECONDS": "1",
        "MLPILOT_PIPELINE_TICK_SECONDS": "1",
        "MLPILOT_PREDICTIONS_FLUSH_SECONDS": "1",
    }
    command = [sys.executable, "-m", "mlpilot", "server", "--port", str(port), "--workers", "1"]
    with (home / "server.log").open("wb") as log_file:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=1):
            return True
    except OSError:
        return False


def _accuracy(client: Client, version: int, frame: Any) -> float:
    return float(evaluate_model(client.load_model(f"models:/loans/{version}"), frame, LABEL).metrics["accuracy"])


def run_demo(options: DemoOptions) -> dict[str, Any]:
    say, home = options.say, options.home.resolve()
    started = time.monotonic()
    _fresh(home)
    settings = load_settings(home=home)
    client = Client(settings=settings)
    db = client.db

    say("1. Six stable months of loan applications → dataset 'loans'; the pipeline trains, gates, deploys")
    client.register_dataset(history(1, 6, ROWS_PER_MONTH), "loans")
    first = retrain.run({"deployment": DEPLOYMENT}, client=client)
    if not first.succeeded:
        raise MlpilotError(f"the first pipeline run failed: {first.record.error}")
    outcome = first.output("roll_out")
    say(f"   pipeline run {first.record.id[:8]}: {outcome['action']} loans v{outcome['version']} as {DEPLOYMENT}")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    say(f"2. The platform server at {url}; a monitor on {DEPLOYMENT}; retrain when it alerts")
    server = _start_server(home, port)
    traffic: Traffic | None = None
    try:
        _wait("the server", lambda: _ready(url), 60)
        _, key = create_key(db, f"demo-traffic-{int(time.time())}", "predict,write", actor="demo")
        create_monitor(
            db,
            "loans-watch",
            DEPLOYMENT,
            {"window": "rows:600", "schedule_seconds": 10, "conditions": {"drift_share": 0.3}},
            actor="demo",
        )
        create_trigger(db, "retrain", "alert", {"monitor": "loans-watch"}, params={"deployment": DEPLOYMENT})

        say("3. The downturn: months 7-10 arrive as traffic (with outcomes as feedback), months 7-9 as data")
        traffic = Traffic(url, key, DEPLOYMENT)
        for month in (7, 8, 9, 10):
            traffic.send(history(month, month, 400, seed=7))
        traffic.start()
        client.register_dataset(history(1, 9, ROWS_PER_MONTH), "loans")

        alert = _wait("the monitor's alert", lambda: next(iter(list_alerts(db, monitor="loans-watch")), None), 90)
        say(f"4. Alert: {alert.message}")
        run = _wait(
            "the retraining pipeline to start",
            lambda: next((r for r in list_pipeline_runs(db, "retrain") if r.trigger.get("kind") == "alert"), None),
            60,
        )
        say(f"   the server started pipeline run {run.id[:8]}; it gates the winner and canaries it on live traffic")
        done = _wait(
            "the retraining pipeline to finish",
            lambda: next((r for r in list_pipeline_runs(db, "retrain") if r.id == run.id and r.ended_at), None),
            options.timeout,
            poll=1.0,
        )
        return _summary(client, options, done, traffic, url, started, alert)
    finally:
        if traffic is not None:
            traffic.stop()
        if options.serve:
            say(f"The server keeps running at {url} (pid {server.pid}); stop it with: kill {server.pid}")
        else:
            server.terminate()
            server.wait(30)


def _summary(
    client: Client, options: DemoOptions, run: Any, traffic: Traffic, url: str, started: float, alert: Any
) -> dict[str, Any]:
    say, db = options.say, client.db
    if run.status.value != "SUCCEEDED":
        raise MlpilotError(f"the retraining pipeline failed: {run.error}")
    gate_step = run.step("gate").outputs["output"]
    roll = run.step("roll_out").outputs["output"]
    decision, rollout = gate_step.get("value", {}), roll.get("value", {})
    recent = history(10, 10, 2000, seed=11)
    before = _accuracy(client, 1, recent)
    after = _accuracy(client, int(rollout["version"]), recent) if rollout.get("version") else before
    latest = next(iter(list_results(db, "loans-watch")), None)
    drifted = {}
    if latest is not None:
        for feature in latest.result.get("drift", {}).get("features", []):
            if feature.get("drifted"):
                drifted[feature["column"]] = feature.get("score", feature.get("statistic"))
    report = dora_metrics(db).metrics.to_dict()
    say("5. Summary")
    say(f"   pipeline runs: {len(list_pipeline_runs(db, 'retrain'))}; tracked runs: {len(client.search_runs())}")
    say(f"   versions of 'loans': {[v.version for v in client.list_model_versions('loans')]}")
    say(f"   alert that started the retraining: {alert.condition}")
    say(f"   drifted features: {', '.join(f'{k} ({v:.3g})' for k, v in drifted.items() if v is not None) or 'n/a'}")
    say(f"   gate: {decision.get('verdict')} ({'; '.join(decision.get('reasons', []))})")
    say(f"   rollout: {rollout.get('action')} v{rollout.get('version')} ({'; '.join(rollout.get('reasons', []))})")
    say(f"   accuracy on month 10: champion v1 {before:.3f} → v{rollout.get('version')} {after:.3f}")
    say(f"   traffic: {traffic.sent} rows served, by version {traffic.versions}, {traffic.failed} failed requests")
    for error in traffic.errors:
        say(f"   a failed request: {error}")
    for name, figure in report.items():
        band = figure.get("band", {})
        say(f"   DORA {name.replace('_', ' ')}: {_figure(figure)} ({band.get('level', 'n/a')})")
    say(f"Done in {time.monotonic() - started:.0f} s. The server was at {url}.")
    return {"pipeline_run": run.id, "rollout": rollout, "accuracy_before": before, "accuracy_after": after}


def _figure(figure: dict[str, Any]) -> str:
    if "per_day" in figure:
        return f"{figure['count']} deployments"
    if "rate" in figure:
        return "n/a" if figure["rate"] is None else f"{figure['rate']:.0%}"
    median = figure.get("median_ms")
    return "n/a" if median is None else f"{median / 60_000:.1f} min"
