"""Persisted triggers that start a pipeline: a cron schedule, a new version of a dataset, a
monitor's alert.

Each trigger keeps a cursor (when it last fired, the newest dataset version or alert id it has
seen), so a restarted server neither misses an event nor repeats one. A trigger is claimed with a
compare-and-set on that cursor, so two schedulers (or server replicas) never fire it twice.
While its pipeline is running a trigger waits; the events that arrive meanwhile start one run
afterwards, so a burst of alerts starts a single retraining.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Connection, RowMapping

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.orchestration.stored import pipeline_row
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import (
    alerts,
    dataset_versions,
    datasets,
    monitors,
    pipeline_runs,
    pipeline_triggers,
    pipelines,
)

__all__ = [
    "KINDS",
    "DueTrigger",
    "Trigger",
    "claim_trigger",
    "create_trigger",
    "delete_trigger",
    "due_triggers",
    "list_triggers",
    "next_fire_ms",
    "set_trigger_enabled",
]

KINDS = ("schedule", "dataset", "alert")
_HINT = "List triggers with `mlpilot pipelines triggers`."


@dataclass(frozen=True, slots=True)
class Trigger:
    id: int
    pipeline: str
    kind: str
    spec: dict[str, Any]
    params: dict[str, Any]
    enabled: bool
    cursor: dict[str, Any] | None
    created_at: int
    last_fired_at: int | None

    @property
    def description(self) -> str:
        if self.kind == "schedule":
            return f"cron {self.spec['cron']} (UTC)"
        if self.kind == "dataset":
            return f"new version of dataset {self.spec['dataset']!r}"
        return f"alert of monitor {self.spec['monitor']!r}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "kind": self.kind,
            "spec": self.spec,
            "params": self.params,
            "enabled": self.enabled,
            "cursor": self.cursor,
            "created_at": self.created_at,
            "last_fired_at": self.last_fired_at,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class DueTrigger:
    trigger: Trigger
    cursor: dict[str, Any]  # what the trigger will have seen once it fires
    reason: dict[str, Any]  # recorded as the pipeline run's trigger


def _cron(expression: object) -> CronTrigger:
    if not isinstance(expression, str):
        raise InvalidInput(f"a schedule is a cron expression, got {expression!r}", hint='e.g. "0 3 * * *".')
    try:
        return CronTrigger.from_crontab(expression, timezone=dt.UTC)
    except ValueError as problem:
        raise InvalidInput(
            f"cron expression {expression!r} is not valid: {problem}",
            hint='Five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *" (03:00 UTC daily).',
        ) from None


def next_fire_ms(expression: str, after_ms: int) -> int:
    """The first time the schedule fires strictly after ``after_ms``."""
    start = dt.datetime.fromtimestamp(after_ms / 1000, tz=dt.UTC) + dt.timedelta(milliseconds=1)
    fire = _cron(expression).get_next_fire_time(None, start)
    return int(fire.timestamp() * 1000)


def _to_trigger(row: RowMapping) -> Trigger:
    return Trigger(
        id=row["id"],
        pipeline=row["name"],
        kind=row["kind"],
        spec=dict(row["spec"]),
        params=dict(row["params"]),
        enabled=row["enabled"],
        cursor=row["cursor"],
        created_at=row["created_at"],
        last_fired_at=row["last_fired_at"],
    )


def _select() -> sa.Select[Any]:
    return sa.select(pipeline_triggers, pipelines.c.name).join(
        pipelines, pipelines.c.id == pipeline_triggers.c.pipeline_id
    )


def _latest_dataset_version(conn: Connection, name: str) -> int:
    found = conn.execute(
        sa.select(sa.func.max(dataset_versions.c.version))
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(datasets.c.name == name)
    ).scalar()
    return int(found or 0)


def _latest_alert(conn: Connection, monitor: str) -> int:
    found = conn.execute(
        sa.select(sa.func.max(alerts.c.id))
        .join(monitors, monitors.c.id == alerts.c.monitor_id)
        .where(monitors.c.name == monitor)
    ).scalar()
    return int(found or 0)


def _check_spec(db: Database, kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "schedule":
        _cron(spec.get("cron"))
        return {"cron": spec["cron"]}
    if kind == "dataset":
        name = spec.get("dataset")
        if not isinstance(name, str) or not name:
            raise InvalidInput("a dataset trigger names its dataset", hint="Pass --on-dataset NAME.")
        return {"dataset": name}  # the dataset may not exist yet: its first version fires it
    monitor = spec.get("monitor")
    if not isinstance(monitor, str) or not monitor:
        raise InvalidInput("an alert trigger names its monitor", hint="Pass --on-alert MONITOR.")
    from mlpilot.monitoring.monitors import get_monitor  # monitoring loads pandas; only alert triggers need it

    get_monitor(db, monitor)
    return {"monitor": monitor}


def create_trigger(
    db: Database, pipeline: str, kind: str, spec: Mapping[str, Any], *, params: Mapping[str, Any] | None = None
) -> Trigger:
    """Start ``pipeline`` on ``kind`` events from now on (events before now never fire it)."""
    if kind not in KINDS:
        raise InvalidInput(f"trigger kind {kind!r} is not one of {', '.join(KINDS)}")
    checked = _check_spec(db, kind, spec)
    owner = spec.get("managed_by")
    if owner is not None:
        # Who declared the trigger (`mlpilot apply` writes "PROJECT:DEPLOYMENT"), so that only the
        # triggers a file created are ever deleted for it; triggers have no name or creator otherwise.
        if not isinstance(owner, str) or not 0 < len(owner) <= 250:
            raise InvalidInput("a trigger's managed_by is text of 1 to 250 characters")
        checked["managed_by"] = owner
    when = now_ms()
    with db.write() as conn:
        pipeline_id = pipeline_row(conn, pipeline)["id"]
        cursor: dict[str, Any] = {"time": when}
        if kind == "dataset":
            cursor["version"] = _latest_dataset_version(conn, checked["dataset"])
        elif kind == "alert":
            cursor["alert_id"] = _latest_alert(conn, checked["monitor"])
        result = conn.execute(
            pipeline_triggers.insert().values(
                pipeline_id=pipeline_id,
                kind=kind,
                spec=checked,
                params=dict(params or {}),
                enabled=True,
                cursor=cursor,
                created_at=when,
            )
        )
        new_id = result.inserted_primary_key[0]  # type: ignore[index]
        return _to_trigger(conn.execute(_select().where(pipeline_triggers.c.id == new_id)).mappings().one())


def list_triggers(db: Database, pipeline: str | None = None) -> list[Trigger]:
    query = _select().order_by(pipeline_triggers.c.id)
    with db.read() as conn:
        if pipeline is not None:
            query = query.where(pipeline_triggers.c.pipeline_id == pipeline_row(conn, pipeline)["id"])
        return [_to_trigger(row) for row in conn.execute(query).mappings()]


def _get(conn: Connection, trigger_id: int) -> Trigger:
    row = conn.execute(_select().where(pipeline_triggers.c.id == trigger_id)).mappings().first()
    if row is None:
        raise NotFound(f"trigger {trigger_id} does not exist", hint=_HINT)
    return _to_trigger(row)


def delete_trigger(db: Database, trigger_id: int) -> None:
    with db.write() as conn:
        _get(conn, trigger_id)
        conn.execute(pipeline_triggers.delete().where(pipeline_triggers.c.id == trigger_id))


def set_trigger_enabled(db: Database, trigger_id: int, enabled: bool) -> Trigger:
    with db.write() as conn:
        _get(conn, trigger_id)
        conn.execute(pipeline_triggers.update().where(pipeline_triggers.c.id == trigger_id).values(enabled=enabled))
        return _get(conn, trigger_id)


def _due(conn: Connection, trigger: Trigger, now: int) -> DueTrigger | None:
    cursor = dict(trigger.cursor or {})
    if trigger.kind == "schedule":
        fire = next_fire_ms(trigger.spec["cron"], int(cursor.get("time", trigger.created_at)))
        if fire > now:
            return None
        return DueTrigger(trigger, {"time": now}, {"kind": "schedule", "cron": trigger.spec["cron"], "due_at": fire})
    if trigger.kind == "dataset":
        latest = _latest_dataset_version(conn, trigger.spec["dataset"])
        if latest <= int(cursor.get("version", 0)):
            return None
        reason = {"kind": "dataset", "dataset": trigger.spec["dataset"], "version": latest}
        return DueTrigger(trigger, {"time": now, "version": latest}, reason)
    seen = int(cursor.get("alert_id", 0))
    new = list(
        conn.execute(
            sa.select(alerts.c.id, alerts.c.condition)
            .join(monitors, monitors.c.id == alerts.c.monitor_id)
            .where(monitors.c.name == trigger.spec["monitor"], alerts.c.id > seen)
            .order_by(alerts.c.id)
        )
    )
    if not new:
        return None
    reason = {
        "kind": "alert",
        "monitor": trigger.spec["monitor"],
        "alerts": [row[0] for row in new],
        "conditions": sorted({row[1] for row in new}),
    }
    return DueTrigger(trigger, {"time": now, "alert_id": new[-1][0]}, reason)


def due_triggers(db: Database, now: int | None = None) -> list[DueTrigger]:
    """Enabled triggers with an event to act on whose pipeline is not running now."""
    now = now_ms() if now is None else now
    with db.read() as conn:
        running = {
            row[0]
            for row in conn.execute(
                sa.select(pipeline_runs.c.running_key).where(pipeline_runs.c.running_key.is_not(None))
            )
        }
        rows = conn.execute(_select().where(pipeline_triggers.c.enabled.is_(True)).order_by(pipeline_triggers.c.id))
        found = []
        fired: set[str] = set()
        for row in rows.mappings():
            trigger = _to_trigger(row)
            if trigger.pipeline in running or trigger.pipeline in fired:
                continue
            due = _due(conn, trigger, now)
            if due is not None:
                found.append(due)
                fired.add(trigger.pipeline)  # one run per pipeline per tick, whatever fired it
        return found


def claim_trigger(db: Database, due: DueTrigger, now: int | None = None) -> bool:
    """Advance the trigger's cursor if nobody fired it since it was read; True when this caller won.

    The compare is on ``last_fired_at`` (every firing changes it), since JSON columns cannot be
    compared for equality on every database.
    """
    previous = due.trigger.last_fired_at
    unchanged = (
        pipeline_triggers.c.last_fired_at.is_(None)
        if previous is None
        else pipeline_triggers.c.last_fired_at == previous
    )
    when = now_ms() if now is None else now
    if previous is not None and when <= previous:
        when = previous + 1
    with db.write() as conn:
        result = conn.execute(
            pipeline_triggers.update()
            .where(pipeline_triggers.c.id == due.trigger.id, unchanged)
            .values(cursor=due.cursor, last_fired_at=when)
        )
        return result.rowcount == 1
