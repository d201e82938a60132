"""Persisted triggers: when each kind is due, how a burst coalesces, and how firing is claimed once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.deployments import create_deployment
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.monitoring.monitors import create_monitor
from mlpilot.orchestration.records import RunState
from mlpilot.orchestration.runs import finish_pipeline_run, list_pipeline_runs, start_pipeline_run
from mlpilot.orchestration.triggers import (
    claim_trigger,
    create_trigger,
    delete_trigger,
    due_triggers,
    list_triggers,
    next_fire_ms,
    set_trigger_enabled,
)
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import alerts

MINUTE = 60_000


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


def test_next_fire_time_follows_the_cron_expression_in_utc() -> None:
    assert next_fire_ms("0 3 * * *", _ms("2026-11-23 02:59:59")) == _ms("2026-11-23 03:00:00")
    assert next_fire_ms("0 3 * * *", _ms("2026-11-23 03:00:00")) == _ms("2026-11-24 03:00:00")
    assert next_fire_ms("*/15 * * * *", _ms("2026-11-23 10:07:00")) == _ms("2026-11-23 10:15:00")


def test_a_schedule_is_due_once_its_next_time_passes_and_then_waits_for_the_next(store: Any) -> None:
    trigger = create_trigger(store.db, "retrain", "schedule", {"cron": "*/5 * * * *"}, params={"rows": 7})
    created = trigger.created_at
    first = next_fire_ms("*/5 * * * *", created)

    assert due_triggers(store.db, first - 1) == []
    (due,) = due_triggers(store.db, first)
    assert due.reason == {"kind": "schedule", "cron": "*/5 * * * *", "due_at": first}
    assert due.trigger.params == {"rows": 7}
    assert claim_trigger(store.db, due, first)
    assert due_triggers(store.db, first + MINUTE) == []
    assert len(due_triggers(store.db, first + 5 * MINUTE)) == 1
    # Ten missed periods (a server that was down) fire one run, not ten.
    (late,) = due_triggers(store.db, first + 50 * MINUTE)
    assert claim_trigger(store.db, late, first + 50 * MINUTE)
    assert due_triggers(store.db, first + 51 * MINUTE) == []


def test_a_dataset_trigger_fires_on_versions_created_after_it(store: Any) -> None:
    store.register_dataset(pd.DataFrame({"x": [1]}), "loans")
    create_trigger(store.db, "retrain", "dataset", {"dataset": "loans"})
    assert due_triggers(store.db) == []

    store.register_dataset(pd.DataFrame({"x": [1]}), "loans")  # same content: same version, nothing new
    assert due_triggers(store.db) == []
    store.register_dataset(pd.DataFrame({"x": [2]}), "loans")
    store.register_dataset(pd.DataFrame({"x": [3]}), "loans")
    (due,) = due_triggers(store.db)
    assert due.reason == {"kind": "dataset", "dataset": "loans", "version": 3}
    assert claim_trigger(store.db, due)
    assert due_triggers(store.db) == []


def _monitor(store: Any) -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    with store.start_run("models") as run:
        run.log_model(LogisticRegression().fit(frame, [0, 1, 0, 1]), "model", input_example=frame)
    store.register_model(run.id, "model", "churn")
    create_deployment(store.db, "churn-api", "churn/1", actor="test")
    create_monitor(store.db, "watch", "churn-api", None, actor="test")


def _alert(store: Any, condition: str) -> int:
    with store.db.write() as conn:
        monitor_id = conn.execute(sa_select_monitor()).scalar_one()
        when = now_ms()
        result = conn.execute(
            alerts.insert().values(
                monitor_id=monitor_id,
                condition=condition,
                state="open",
                open_key=None,
                message=condition,
                opened_at=when,
                updated_at=when,
            )
        )
        return int(result.inserted_primary_key[0])


def sa_select_monitor() -> Any:
    import sqlalchemy as sa

    from mlpilot.store.schema import monitors

    return sa.select(monitors.c.id).where(monitors.c.name == "watch")


def test_a_burst_of_alerts_starts_one_run_and_waits_while_the_pipeline_runs(store: Any) -> None:
    _monitor(store)
    before = _alert(store, "drift_share")
    create_trigger(store.db, "retrain", "alert", {"monitor": "watch"})
    assert due_triggers(store.db) == [], "alerts raised before the trigger existed do not fire it"

    ids = [_alert(store, "drift_share"), _alert(store, "latency_p99_ms"), _alert(store, "drift_share")]
    (due,) = due_triggers(store.db)
    assert due.reason == {
        "kind": "alert",
        "monitor": "watch",
        "alerts": ids,
        "conditions": ["drift_share", "latency_p99_ms"],
    }
    assert before not in due.reason["alerts"]

    running = start_pipeline_run(store.db, "retrain", params={}, trigger=due.reason, actor="test")
    assert claim_trigger(store.db, due)
    later = _alert(store, "drift_share")
    assert due_triggers(store.db) == [], "while the pipeline runs, new alerts wait"
    finish_pipeline_run(store.db, running.id, RunState.SUCCEEDED)
    (after,) = due_triggers(store.db)
    assert after.reason["alerts"] == [later]


def test_a_trigger_is_claimed_by_one_scheduler_only(store: Any) -> None:
    store.register_dataset(pd.DataFrame({"x": [0]}), "loans")
    create_trigger(store.db, "retrain", "dataset", {"dataset": "loans"})
    store.register_dataset(pd.DataFrame({"x": [1]}), "loans")
    (seen_by_a,) = due_triggers(store.db)
    (seen_by_b,) = due_triggers(store.db)
    assert claim_trigger(store.db, seen_by_a)
    assert not claim_trigger(store.db, seen_by_b)


def test_triggers_persist_and_can_be_disabled_and_deleted(store: Any) -> None:
    store.register_dataset(pd.DataFrame({"x": [0]}), "loans")
    made = create_trigger(store.db, "retrain", "dataset", {"dataset": "loans"})
    assert [t.to_dict()["description"] for t in list_triggers(store.db, "retrain")] == [
        "new version of dataset 'loans'"
    ]
    set_trigger_enabled(store.db, made.id, False)
    store.register_dataset(pd.DataFrame({"x": [1]}), "loans")
    assert due_triggers(store.db) == []
    set_trigger_enabled(store.db, made.id, True)
    assert len(due_triggers(store.db)) == 1
    delete_trigger(store.db, made.id)
    assert list_triggers(store.db) == []
    with pytest.raises(NotFound, match="trigger 999 does not exist"):
        delete_trigger(store.db, 999)


@pytest.mark.parametrize(
    ("pipeline", "kind", "spec", "error", "message"),
    [
        (
            "retrain",
            "schedule",
            {"cron": "61 * * * *"},
            InvalidInput,
            "cron expression '61 \\* \\* \\* \\*' is not valid",
        ),
        ("retrain", "schedule", {"cron": "* *"}, InvalidInput, "Wrong number of fields"),
        ("retrain", "weekly", {}, InvalidInput, "trigger kind 'weekly' is not one of"),
        ("retrain", "dataset", {}, InvalidInput, "names its dataset"),
        ("retrain", "alert", {"monitor": "nope"}, NotFound, "monitor 'nope'"),
        ("nope", "dataset", {"dataset": "loans"}, NotFound, "pipeline 'nope' does not exist"),
    ],
)
def test_bad_triggers_are_refused_and_nothing_is_stored(
    store: Any, pipeline: str, kind: str, spec: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        create_trigger(store.db, pipeline, kind, spec)
    assert list_triggers(store.db) == []


def test_a_burst_of_a_hundred_alerts_in_a_minute_starts_one_run(store: Any, tmp_path: Any) -> None:
    from mlpilot.orchestration.scheduler import TriggerScheduler

    _monitor(store)
    create_trigger(store.db, "retrain", "alert", {"monitor": "watch"})
    ids = [_alert(store, "drift_share" if i % 2 else "error_rate") for i in range(100)]
    scheduler = TriggerScheduler(
        store.db,
        tracking_uri=store.tracking_uri,
        artifact_uri=str(tmp_path / "artifacts"),
        home=tmp_path,
        tick_seconds=0,
    )
    launched = [scheduler.tick() for _ in range(5)]  # five ticks while the burst is handled
    scheduler.wait(timeout=120)
    assert [len(batch) for batch in launched] == [1, 0, 0, 0, 0]
    assert launched[0][0].reason["alerts"] == ids
    assert launched[0][0].process.returncode == 0, launched[0][0].log_path.read_text()
    runs = list_pipeline_runs(store.db, "retrain")
    assert len(runs) == 1 and runs[0].trigger["alerts"] == ids
    assert scheduler.tick() == []
