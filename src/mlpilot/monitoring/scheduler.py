"""Run monitors when they are due, in a background thread of the platform server.

With several server workers or replicas each runs a scheduler; a monitor is claimed with a
compare-and-set on its ``last_run_at`` before it runs, so exactly one of them runs it per period.
Alerts go to webhooks through a background sender, so a slow receiver never delays the next run.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import sqlalchemy as sa

from mlpilot.artifacts import ContentStore
from mlpilot.errors import MlpilotError
from mlpilot.monitoring.log_reader import LogReader
from mlpilot.monitoring.monitors import Monitor, due_monitors
from mlpilot.monitoring.runner import MonitorRun, run_monitor
from mlpilot.monitoring.webhooks import WebhookSender
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import monitors

__all__ = ["MonitorScheduler"]

log = logging.getLogger(__name__)


class MonitorScheduler:
    def __init__(
        self,
        db: Database,
        content: ContentStore,
        *,
        predictions_root: str,
        cache_root: Path,
        tick_seconds: float,
        reader: LogReader | None = None,
    ) -> None:
        self.db, self.content = db, content
        self.reader = reader  # how runs read the prediction log (None: DuckDB)
        self.predictions_root, self.cache_root = predictions_root, cache_root
        self.tick_seconds = tick_seconds
        self.sender = WebhookSender()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.tick_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="mlpilot-monitors", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.sender.close(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.tick()
            except Exception:  # the loop must outlive any one bad tick; logged with its traceback
                log.exception("monitor scheduler tick failed; trying again in %s s", self.tick_seconds)

    def _claim(self, monitor: Monitor, now: int) -> bool:
        previous = monitors.c.last_run_at
        condition = previous.is_(None) if monitor.last_run_at is None else previous == monitor.last_run_at
        with self.db.write() as conn:
            claimed = conn.execute(
                monitors.update().where(sa.and_(monitors.c.id == monitor.id, condition)).values(last_run_at=now)
            )
        return bool(claimed.rowcount)

    def tick(self, now: int | None = None) -> list[MonitorRun]:
        """Run every monitor due at ``now`` that no other scheduler claimed first."""
        moment = now_ms() if now is None else now
        runs = []
        for monitor in due_monitors(self.db, moment):
            if self._stop.is_set() or not self._claim(monitor, moment):
                continue
            try:
                runs.append(
                    run_monitor(
                        self.db,
                        self.content,
                        monitor.name,
                        predictions_root=self.predictions_root,
                        cache_root=self.cache_root,
                        now=moment,
                        notify=self.sender.submit,
                        reader=self.reader,
                    )
                )
            except MlpilotError as problem:
                log.warning("monitor %s could not run: %s", monitor.name, problem)
        return runs
