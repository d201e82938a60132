"""Monitors as stored records: declared per deployment, listed, changed, deleted; their results
and alerts read back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from mlpilot.deployments import get_deployment
from mlpilot.errors import Conflict, InvalidInput, NotFound
from mlpilot.monitoring.config import SECRET_MASK, MonitorConfig
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import alerts, monitor_results, monitors

__all__ = [
    "Alert",
    "Monitor",
    "MonitorResult",
    "check_monitor_name",
    "create_monitor",
    "delete_monitor",
    "due_monitors",
    "get_monitor",
    "list_alerts",
    "list_monitors",
    "list_results",
    "update_monitor",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
LIST_HINT = "List monitors with `mlpilot monitors list`."
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Monitor:
    id: int
    name: str
    deployment: str
    config: MonitorConfig
    enabled: bool
    created_by: str
    created_at: int
    updated_at: int
    last_run_at: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "deployment": self.deployment,
            "config": self.config.to_dict(secrets=False),
            "enabled": self.enabled,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_run_at": self.last_run_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Monitor:
        """The record ``to_dict`` (or the REST API) wrote. That form carries no database id (0 here),
        and a webhook secret only as its mask ``"***"``."""
        return cls(
            id=int(data.get("id") or 0),
            name=str(data["name"]),
            deployment=str(data["deployment"]),
            config=MonitorConfig.from_dict(data.get("config")),
            enabled=bool(data["enabled"]),
            created_by=str(data["created_by"]),
            created_at=int(data["created_at"]),
            updated_at=int(data["updated_at"]),
            last_run_at=None if data.get("last_run_at") is None else int(data["last_run_at"]),
        )


@dataclass(frozen=True, slots=True)
class MonitorResult:
    id: int
    monitor: str
    deployment: str
    window_start: int | None
    window_end: int | None
    rows: int
    status: str
    result: Mapping[str, Any]
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result,
            "id": self.id,
            "monitor": self.monitor,
            "deployment": self.deployment,
            "status": self.status,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorResult:
        """The record ``to_dict`` (or the REST API) wrote: the stored result with its id alongside."""
        result = {key: value for key, value in data.items() if key != "id"}
        window = result.get("window") or {}
        return cls(
            id=int(data["id"]),
            monitor=str(data["monitor"]),
            deployment=str(data["deployment"]),
            window_start=None if window.get("start") is None else int(window["start"]),
            window_end=None if window.get("end") is None else int(window["end"]),
            rows=int(window.get("rows") or 0),
            status=str(data["status"]),
            result=result,
            created_at=int(data["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    monitor: str
    deployment: str
    condition: str
    state: str  # "open" | "resolved"
    value: float | None
    threshold: float | None
    message: str
    opened_at: int
    updated_at: int
    resolved_at: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "monitor": self.monitor,
            "deployment": self.deployment,
            "condition": self.condition,
            "state": self.state,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "resolved_at": self.resolved_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        """The record ``to_dict`` (or the REST API) wrote."""
        return cls(
            id=int(data["id"]),
            monitor=str(data["monitor"]),
            deployment=str(data["deployment"]),
            condition=str(data["condition"]),
            state=str(data["state"]),
            value=None if data.get("value") is None else float(data["value"]),
            threshold=None if data.get("threshold") is None else float(data["threshold"]),
            message=str(data["message"]),
            opened_at=int(data["opened_at"]),
            updated_at=int(data["updated_at"]),
            resolved_at=None if data.get("resolved_at") is None else int(data["resolved_at"]),
        )


def check_monitor_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"monitor name {name!r} is not valid",
            hint="Use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )
    return name


def _record(row: RowMapping) -> Monitor:
    return Monitor(
        id=row["id"],
        name=row["name"],
        deployment=row["deployment"],
        config=MonitorConfig.from_dict(row["config"]),
        enabled=bool(row["enabled"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_run_at=row["last_run_at"],
    )


def _config(config: MonitorConfig | Mapping[str, Any] | None, stored: MonitorConfig | None = None) -> MonitorConfig:
    """The config checked, its webhook secret given as the mask ``"***"`` (as every read shows it)
    replaced by the ``stored`` one: a config read, edited and sent back keeps its secret. With
    nothing stored, the mask is refused: it is never a real secret."""
    if isinstance(config, MonitorConfig):
        return config
    if isinstance(config, Mapping) and config.get("webhook_secret") == SECRET_MASK:
        if stored is None or stored.webhook_secret is None:
            raise InvalidInput(
                f"monitor config field webhook_secret: {SECRET_MASK!r} is the mask of a stored secret, not a secret",
                hint="Give the secret itself, or leave webhook_secret out.",
            )
        config = {**config, "webhook_secret": stored.webhook_secret}
    return MonitorConfig.from_dict(config)


def create_monitor(
    db: Database,
    name: str,
    deployment: str,
    config: MonitorConfig | Mapping[str, Any] | None = None,
    *,
    actor: str,
    enabled: bool = True,
) -> Monitor:
    check_monitor_name(name)
    checked = _config(config)
    get_deployment(db, deployment)  # NotFound names the deployment
    stamp = now_ms()
    with db.write() as conn:
        if conn.execute(sa.select(monitors.c.id).where(monitors.c.name == name)).first() is not None:
            raise Conflict(f"monitor {name!r} already exists", hint="Change it with `mlpilot monitors update`.")
        conn.execute(
            monitors.insert().values(
                name=name,
                deployment=deployment,
                config=checked.to_dict(),
                enabled=enabled,
                created_by=actor,
                created_at=stamp,
                updated_at=stamp,
                last_run_at=None,
            )
        )
    return get_monitor(db, name)


def get_monitor(db: Database, name: str) -> Monitor:
    with db.read() as conn:
        row = conn.execute(sa.select(monitors).where(monitors.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"monitor {name!r} does not exist", hint=LIST_HINT)
    return _record(row)


def list_monitors(
    db: Database, *, deployment: str | None = None, limit: int | None = None, after: str | None = None
) -> list[Monitor]:
    query = sa.select(monitors).order_by(monitors.c.name)
    if deployment is not None:
        query = query.where(monitors.c.deployment == deployment)
    if after is not None:
        query = query.where(monitors.c.name > after)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as conn:
        return [_record(row) for row in conn.execute(query).mappings()]


def update_monitor(
    db: Database,
    name: str,
    *,
    config: MonitorConfig | Mapping[str, Any] | None = _UNSET,
    enabled: bool | None = None,
) -> Monitor:
    stored = get_monitor(db, name)  # NotFound before anything is written
    values: dict[str, Any] = {"updated_at": now_ms()}
    if config is not _UNSET:
        values["config"] = _config(config, stored.config).to_dict()
    if enabled is not None:
        values["enabled"] = bool(enabled)
    with db.write() as conn:
        done = conn.execute(monitors.update().where(monitors.c.name == name).values(**values))
    if not done.rowcount:
        raise NotFound(f"monitor {name!r} does not exist", hint=LIST_HINT)
    return get_monitor(db, name)


def delete_monitor(db: Database, name: str) -> None:
    monitor = get_monitor(db, name)
    with db.write() as conn:
        # Explicitly, since SQLite enforces ON DELETE CASCADE only with foreign keys switched on.
        conn.execute(alerts.delete().where(alerts.c.monitor_id == monitor.id))
        conn.execute(monitor_results.delete().where(monitor_results.c.monitor_id == monitor.id))
        conn.execute(monitors.delete().where(monitors.c.id == monitor.id))


def due_monitors(db: Database, now: int) -> list[Monitor]:
    """Enabled monitors whose schedule says they should run by ``now``."""
    return [
        monitor
        for monitor in list_monitors(db)
        if monitor.enabled
        and (monitor.last_run_at is None or monitor.last_run_at + monitor.config.schedule_seconds * 1000 <= now)
    ]


def list_results(
    db: Database, name: str, *, limit: int | None = None, before: int | None = None
) -> list[MonitorResult]:
    """Newest first; ``before`` (a result id) pages back in time."""
    monitor = get_monitor(db, name)
    query = (
        sa.select(monitor_results)
        .where(monitor_results.c.monitor_id == monitor.id)
        .order_by(monitor_results.c.id.desc())
    )
    if before is not None:
        query = query.where(monitor_results.c.id < before)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        MonitorResult(
            id=row["id"],
            monitor=monitor.name,
            deployment=monitor.deployment,
            window_start=row["window_start"],
            window_end=row["window_end"],
            rows=row["rows"],
            status=row["status"],
            result=row["result"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


def list_alerts(
    db: Database,
    *,
    monitor: str | None = None,
    deployment: str | None = None,
    state: str | None = None,
    limit: int | None = None,
    before: int | None = None,
) -> list[Alert]:
    """Newest first, optionally of one monitor or deployment and in one state."""
    if state is not None and state not in ("open", "resolved"):
        raise InvalidInput(f"alert state must be 'open' or 'resolved', not {state!r}")
    query = (
        sa.select(alerts, monitors.c.name.label("monitor_name"), monitors.c.deployment)
        .join(monitors, monitors.c.id == alerts.c.monitor_id)
        .order_by(alerts.c.id.desc())
    )
    if monitor is not None:
        get_monitor(db, monitor)
        query = query.where(monitors.c.name == monitor)
    if deployment is not None:
        query = query.where(monitors.c.deployment == deployment)
    if state is not None:
        query = query.where(alerts.c.state == state)
    if before is not None:
        query = query.where(alerts.c.id < before)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as conn:
        return [alert_record(row) for row in conn.execute(query).mappings()]


def alert_record(row: RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        monitor=row["monitor_name"],
        deployment=row["deployment"],
        condition=row["condition"],
        state=row["state"],
        value=row["value"],
        threshold=row["threshold"],
        message=row["message"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
    )
