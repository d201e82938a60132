"""Run a monitor once: read its latest window from the prediction log, evaluate it, store the
result, open or resolve alerts, and send the changes to the webhooks.

An alert opens once per condition and stays open, updated by each run that still sees the
condition, until a run sees it clear: one episode, one open and one resolve notification, however
often the monitor runs in between (no storms). A condition a run cannot evaluate (no labels yet)
leaves its alert as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from mlpilot.artifacts import ContentStore
from mlpilot.deployments import read_feedback, resolve_traffic
from mlpilot.deployments.request_counts import MINUTE_MS, read_request_counts
from mlpilot.errors import MlpilotError
from mlpilot.monitoring.evaluate import Evaluation, evaluate_window
from mlpilot.monitoring.log_reader import DuckDBLogReader, LogReader
from mlpilot.monitoring.monitors import Alert, Monitor, MonitorResult, alert_record, get_monitor, list_results
from mlpilot.monitoring.references import ensure_reference
from mlpilot.monitoring.webhooks import Delivery, deliver
from mlpilot.registry.uri import ModelRef
from mlpilot.registry.versions import get_version
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import alerts, monitor_results, monitors

__all__ = ["CALIBRATION_WINDOWS", "MonitorRun", "run_monitor"]

log = logging.getLogger(__name__)

# CBPE calibrates on labelled predictions from this many windows back up to now.
CALIBRATION_WINDOWS = 30
_CALIBRATION_ROWS = 50_000
Notify = Callable[[str, Mapping[str, Any], str | None], None]


@dataclass(frozen=True, slots=True)
class MonitorRun:
    result: MonitorResult
    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "result": self.result.to_dict(),
            "opened": [alert.to_dict() for alert in self.opened],
            "resolved": [alert.to_dict() for alert in self.resolved],
            "deliveries": [delivery.to_dict() for delivery in self.deliveries],
        }


def _calibration(
    reader: LogReader, root: str, monitor: Monitor, version: int, start: int, end: int, labels: pd.DataFrame
) -> pd.DataFrame:
    span = (monitor.config.window.duration_ms or 3_600_000) * CALIBRATION_WINDOWS
    earlier = reader.labelled(
        root,
        monitor.deployment,
        since=start - span,
        until=end,
        version=version,
        ids=set(labels["prediction_id"]),
        limit=_CALIBRATION_ROWS,
    )
    if earlier.empty:
        return earlier.assign(label=pd.Series(dtype=object))
    joined = earlier.merge(labels[["prediction_id", "label"]], on="prediction_id", how="inner")
    return joined.tail(_CALIBRATION_ROWS)


def _evaluate(
    db: Database, content: ContentStore, monitor: Monitor, root: str, cache: Path, end: int, reader: LogReader
) -> Evaluation | str:
    try:
        serving = resolve_traffic(db, monitor.deployment)
        version = get_version(db, ModelRef(serving.model, version=serving.primary))
        reference = ensure_reference(db, content, version, cache)
    except MlpilotError as problem:
        return problem.message
    spec = monitor.config.window
    # Shadow rows are left out: a shadow answers requests already counted once.
    window = reader.window(
        root,
        monitor.deployment,
        since=None if spec.duration_ms is None else end - spec.duration_ms,
        until=end,
        rows=spec.rows,
        version=version.version,
    )
    start = window.start
    span = (monitor.config.window.duration_ms or 3_600_000) * CALIBRATION_WINDOWS
    labels = read_feedback(db, monitor.deployment, since=start - span)
    calibration = _calibration(reader, root, monitor, version.version, start, end, labels)
    minute = start // MINUTE_MS * MINUTE_MS
    counts = read_request_counts(db, monitor.deployment, minute, end)
    try:
        return evaluate_window(
            monitor.config,
            reference,
            window.rows,
            labels,
            calibration,
            dict(version.metrics),
            counts,
            features=window.features,
        )
    except MlpilotError as problem:  # a config that does not fit this version: stored as the run's error
        return problem.message


def _store(db: Database, monitor: Monitor, result: dict[str, Any], start: int | None, end: int) -> None:
    window = result.get("window") or {}
    with db.write() as conn:
        conn.execute(
            monitor_results.insert().values(
                monitor_id=monitor.id,
                window_start=start,
                window_end=end,
                rows=int(window.get("rows") or 0),
                status=result["status"],
                result=result,
                created_at=end,
            )
        )
        conn.execute(monitors.update().where(monitors.c.id == monitor.id).values(last_run_at=end))


def _alert_changes(
    db: Database, monitor: Monitor, conditions: list[dict[str, Any]], stamp: int
) -> tuple[list[Alert], list[Alert]]:
    opened: list[int] = []
    resolved: list[int] = []
    with db.write() as conn:
        for condition in conditions:
            key = f"{monitor.id}:{condition['condition']}"
            current = conn.execute(sa.select(alerts.c.id).where(alerts.c.open_key == key)).scalar()
            if condition["breached"] and current is None:
                inserted = conn.execute(
                    alerts.insert().values(
                        monitor_id=monitor.id,
                        condition=condition["condition"],
                        state="open",
                        open_key=key,
                        value=condition["value"],
                        threshold=condition["threshold"],
                        message=condition["message"],
                        opened_at=stamp,
                        updated_at=stamp,
                        resolved_at=None,
                    )
                )
                opened.append(int((inserted.inserted_primary_key or (0,))[0]))
            elif condition["breached"]:
                conn.execute(
                    alerts.update()
                    .where(alerts.c.id == current)
                    .values(value=condition["value"], message=condition["message"], updated_at=stamp)
                )
            elif current is not None:
                conn.execute(
                    alerts.update()
                    .where(alerts.c.id == current)
                    .values(
                        state="resolved",
                        open_key=None,
                        value=condition["value"],
                        message=condition["message"],
                        updated_at=stamp,
                        resolved_at=stamp,
                    )
                )
                resolved.append(int(current))
        rows = _alert_rows(conn, [*opened, *resolved])
    return [rows[i] for i in opened], [rows[i] for i in resolved]


def _alert_rows(conn: sa.Connection, ids: list[int]) -> dict[int, Alert]:
    if not ids:
        return {}
    query = (
        sa.select(alerts, monitors.c.name.label("monitor_name"), monitors.c.deployment)
        .join(monitors, monitors.c.id == alerts.c.monitor_id)
        .where(alerts.c.id.in_(ids))
    )
    return {row["id"]: alert_record(row) for row in conn.execute(query).mappings()}


def _payload(event: str, alert: Alert, result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "event": event,
        "alert": alert.to_dict(),
        "monitor": alert.monitor,
        "deployment": alert.deployment,
        "model": result.get("model"),
        "version": result.get("version"),
        "window": result.get("window"),
        "status": result.get("status"),
    }


def run_monitor(
    db: Database,
    content: ContentStore,
    name: str,
    *,
    predictions_root: str,
    cache_root: Path,
    now: int | None = None,
    notify: Notify | None = None,
    reader: LogReader | None = None,
) -> MonitorRun:
    """Evaluate monitor ``name`` over the window ending ``now``. Webhooks get each opened and
    resolved alert: through ``notify(url, payload, secret)`` when given (a background sender),
    otherwise delivered here, with retries, before this returns. ``reader`` reads the prediction
    log (default: DuckDB on this machine; the interfaces pass a Spark one when configured)."""
    monitor = get_monitor(db, name)
    end = now_ms() if now is None else now
    chosen = DuckDBLogReader() if reader is None else reader
    evaluated = _evaluate(db, content, monitor, predictions_root, cache_root, end, chosen)
    start: int | None
    if isinstance(evaluated, str):
        result: dict[str, Any] = {"status": "error", "message": evaluated, "conditions": [], "drift": None}
        conditions: list[dict[str, Any]] = []
        start = None
    else:
        result, conditions = evaluated.result, evaluated.result["conditions"]
        start = end - (monitor.config.window.duration_ms or 0) if monitor.config.window.duration_ms else None
    result["monitor"], result["deployment"] = monitor.name, monitor.deployment
    rows = 0 if isinstance(evaluated, str) else (result.get("drift") or {}).get("current_rows", 0)
    result["window"] = {"spec": monitor.config.window.text, "start": start, "end": end, "rows": rows}
    result["created_at"] = end
    _store(db, monitor, result, start, end)
    opened, resolved = _alert_changes(db, monitor, conditions, end)
    deliveries: list[Delivery] = []
    for event, changed in (("alert.opened", opened), ("alert.resolved", resolved)):
        for alert in changed:
            log.warning("monitor %s: %s %s: %s", monitor.name, event, alert.condition, alert.message)
            for url in monitor.config.webhooks:
                payload = _payload(event, alert, result)
                if notify is not None:
                    notify(url, payload, monitor.config.webhook_secret)
                else:
                    deliveries.append(deliver(url, payload, secret=monitor.config.webhook_secret))
    stored = list_results(db, monitor.name, limit=1)[0]
    return MonitorRun(stored, opened, resolved, deliveries)
