"""Fire due triggers: each starts its pipeline as a child process (``mlpilot pipelines run``), so a
pipeline's code, imports and memory never live in the server, and a crash in it stays its own.

The platform server runs a ``TriggerScheduler`` thread; ``mlpilot pipelines tick`` fires what is
due once, for setups without a server (cron, CI). Children write their output to
``HOME/pipelines/logs``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mlpilot.orchestration.stored import get_pipeline
from mlpilot.orchestration.triggers import DueTrigger, claim_trigger, due_triggers
from mlpilot.store import Database
from mlpilot.store.clock import now_ms

__all__ = ["Launched", "TriggerScheduler", "launch_command"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Launched:
    trigger_id: int
    pipeline: str
    reason: dict[str, object]
    process: subprocess.Popen[bytes]
    log_path: Path


def launch_command(source: str, due: DueTrigger, *, tracking_uri: str, artifact_uri: str, home: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "mlpilot",
        "--tracking-uri",
        tracking_uri,
        "--artifact-uri",
        artifact_uri,
        "--home",
        str(home),
        "pipelines",
        "run",
        source,
        "--trigger",
        json.dumps({**due.reason, "trigger_id": due.trigger.id}, sort_keys=True),
    ]
    for key, value in sorted(due.trigger.params.items()):
        command += ["-P", f"{key}={value}"]
    return command


class TriggerScheduler:
    def __init__(self, db: Database, *, tracking_uri: str, artifact_uri: str, home: Path, tick_seconds: float) -> None:
        self.db = db
        self.tracking_uri, self.artifact_uri, self.home = tracking_uri, artifact_uri, home
        self.tick_seconds = tick_seconds
        self.children: list[Launched] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.tick_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="mlpilot-triggers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop firing; pipeline runs already started finish on their own."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.tick()
            except Exception:  # the loop must outlive any one bad tick; logged with its traceback
                log.exception("trigger scheduler tick failed; trying again in %s s", self.tick_seconds)

    def _reap(self) -> None:
        still = []
        for child in self.children:
            code = child.process.poll()
            if code is None:
                still.append(child)
            elif code != 0:
                log.warning(
                    "pipeline %s (trigger %d) exited %d; see %s", child.pipeline, child.trigger_id, code, child.log_path
                )
        self.children = still

    def tick(self, now: int | None = None) -> list[Launched]:
        """Start every due trigger's pipeline that this scheduler claims first."""
        self._reap()
        moment = now_ms() if now is None else now
        started = []
        busy = {child.pipeline for child in self.children}
        for due in due_triggers(self.db, moment):
            if due.trigger.pipeline in busy or not claim_trigger(self.db, due, moment):
                continue  # still starting from an earlier tick, or another scheduler fired it
            started.append(self._launch(due))
        self.children.extend(started)
        return started

    def _launch(self, due: DueTrigger) -> Launched:
        pipeline = get_pipeline(self.db, due.trigger.pipeline)
        logs = self.home / "pipelines" / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{pipeline.name}-{time.strftime('%Y%m%dT%H%M%S')}-{due.trigger.id}.log"
        command = launch_command(
            pipeline.source, due, tracking_uri=self.tracking_uri, artifact_uri=self.artifact_uri, home=self.home
        )
        workdir = Path(pipeline.workdir) if pipeline.workdir and Path(pipeline.workdir).is_dir() else self.home
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=workdir, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        # A waiter per child collects its exit status as soon as it ends, whoever asks later.
        threading.Thread(target=process.wait, name=f"mlpilot-pipeline-{process.pid}", daemon=True).start()
        log.info("trigger %d started pipeline %s (pid %d): %s", due.trigger.id, pipeline.name, process.pid, due.reason)
        return Launched(due.trigger.id, pipeline.name, due.reason, process, log_path)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the pipeline runs this scheduler started (``mlpilot pipelines tick --wait``, tests)."""
        for child in self.children:
            child.process.wait(timeout)
        self._reap()
