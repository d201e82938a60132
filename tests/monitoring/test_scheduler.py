"""The server's scheduler runs due monitors once per period, even with several schedulers."""

from __future__ import annotations

from pathlib import Path

from mlpilot.deployments import create_deployment
from mlpilot.monitoring.monitors import create_monitor, list_results, update_monitor
from mlpilot.monitoring.scheduler import MonitorScheduler
from tests.conftest import Receiver
from tests.monitoring.conftest import HOUR, T0, World


def _scheduler(world: World, tick: float = 0.0) -> MonitorScheduler:
    return MonitorScheduler(
        world.db, world.content, predictions_root=world.root, cache_root=Path(world.cache), tick_seconds=tick
    )


def test_due_monitors_run_once_per_period_across_schedulers(world: World, receiver: Receiver) -> None:
    world.register()
    create_deployment(world.db, "churn-api", "churn/1", actor="test")
    config = {
        "window": "1h",
        "schedule_seconds": 600,
        "conditions": {"features": ["tenure"]},
        "webhooks": [receiver.url],
    }
    create_monitor(world.db, "watch", "churn-api", config, actor="test")
    create_monitor(world.db, "paused", "churn-api", config, actor="test")
    update_monitor(world.db, "paused", enabled=False)
    world.serve(0, 600, shift=12.0)
    first, second = _scheduler(world), _scheduler(world)
    try:
        now = T0 + HOUR
        assert [run.result.monitor for run in first.tick(now)] == ["watch"]
        assert second.tick(now) == []  # already run in this period
        assert first.tick(now + 300_000) == []  # not due for another five minutes
        assert [run.result.monitor for run in second.tick(now + 600_000)] == ["watch"]
    finally:
        first.stop()
        second.stop()
    assert len(list_results(world.db, "watch")) == 2
    assert list_results(world.db, "paused") == []
    # The alerts opened on the first run reached the webhook through the background sender, once.
    assert sorted((body["event"], body["alert"]["condition"]) for body in receiver.received) == [
        ("alert.opened", "drift_share"),
        ("alert.opened", "feature_drift:tenure"),
    ]


def test_the_background_thread_starts_and_stops(world: World) -> None:
    scheduler = _scheduler(world, tick=0.05)
    scheduler.start()
    scheduler.stop()
    assert scheduler._thread is not None and not scheduler._thread.is_alive()
