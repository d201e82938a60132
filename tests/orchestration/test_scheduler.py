"""Firing triggers for real: a child ``mlpilot pipelines run`` per due trigger, from a tick, the
CLI and the server's own scheduler thread."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlpilot.orchestration.runs import list_pipeline_runs
from mlpilot.orchestration.scheduler import TriggerScheduler
from mlpilot.orchestration.triggers import create_trigger, list_triggers
from tests.conftest import LiveServer


def _scheduler(store: Any, tmp_path: Path) -> TriggerScheduler:
    return TriggerScheduler(
        store.db,
        tracking_uri=store.tracking_uri,
        artifact_uri=str(tmp_path / "artifacts"),
        home=tmp_path / "home",
        tick_seconds=0,
    )


def test_a_new_dataset_version_starts_the_pipeline_in_a_child_process(store: Any, tmp_path: Path) -> None:
    store.register_dataset(pd.DataFrame({"x": [0]}), "loans")
    trigger = create_trigger(store.db, "retrain", "dataset", {"dataset": "loans"}, params={"rows": 4})
    scheduler = _scheduler(store, tmp_path)
    assert scheduler.tick() == []

    store.register_dataset(pd.DataFrame({"x": [1]}), "loans")
    (launched,) = scheduler.tick()
    assert scheduler.tick() == [], "claimed: the next tick does not fire it again"
    scheduler.wait(timeout=120)

    assert launched.process.returncode == 0, launched.log_path.read_text()
    (run,) = list_pipeline_runs(store.db, "retrain")
    assert run.status.value == "SUCCEEDED" and run.params == {"rows": 4}
    assert run.trigger == {"kind": "dataset", "dataset": "loans", "version": 2, "trigger_id": trigger.id}
    assert run.step("total").outputs is not None and run.step("total").outputs["output"]["value"] == 6.0
    assert list_triggers(store.db)[0].last_fired_at is not None


@pytest.mark.parametrize("store_uri", ["sqlite"], indirect=True)
def test_the_server_fires_due_triggers_on_its_own(store: Any, tmp_path: Path) -> None:
    create_trigger(store.db, "retrain", "schedule", {"cron": "* * * * *"})
    server = LiveServer(
        store.tracking_uri,
        str(tmp_path / "artifacts"),
        tmp_path / "server-home",
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0.2,
    ).start()
    try:
        # The schedule fires at the next whole minute after the trigger was created.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            runs = list_pipeline_runs(store.db, "retrain")
            if runs and runs[0].status.value != "RUNNING":
                break
            time.sleep(0.5)
    finally:
        server.stop()
    (run,) = list_pipeline_runs(store.db, "retrain")
    assert run.status.value == "SUCCEEDED" and run.trigger["kind"] == "schedule"
