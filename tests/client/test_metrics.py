"""Metric histories, batches, NaN and infinity, and the buffered write path."""

from __future__ import annotations

import math

import pytest

import mlpilot
from mlpilot import InvalidInput, Metric


def test_history_keeps_every_point_in_step_order(client: mlpilot.Client) -> None:
    with client.start_run("m") as run:
        for step in range(2500):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
    history = client.get_metric_history(run.id, "loss")
    assert [point.step for point in history] == list(range(2500))
    assert history[10].value == pytest.approx(1 / 11)
    assert client.get_run(run.id).metrics["loss"] == pytest.approx(1 / 2500)


def test_latest_value_is_the_highest_step_not_the_last_logged(client: mlpilot.Client) -> None:
    with client.start_run("m") as run:
        run.log_metric("acc", 0.9, step=10, timestamp=1000)
        run.log_metric("acc", 0.1, step=2, timestamp=2000)
    assert client.get_run(run.id).metrics["acc"] == 0.9


def test_nan_and_infinity_are_stored_as_such(client: mlpilot.Client) -> None:
    with client.start_run("m") as run:
        run.log_metric("nan", float("nan"))
        run.log_metric("inf", float("inf"), step=1)
        run.log_metric("ninf", float("-inf"), step=2)
    stored = client.get_run(run.id)
    assert math.isnan(stored.metrics["nan"])
    assert stored.metrics["inf"] == math.inf
    assert stored.metrics["ninf"] == -math.inf
    assert math.isnan(client.get_metric_history(run.id, "nan")[0].value)
    # NaN never matches a comparison, infinity does.
    assert len(client.search_runs("m", "metrics.nan > 0")) == 0
    assert len(client.search_runs("m", "metrics.inf > 1e300")) == 1


def test_log_batch_accepts_records_tuples_and_mappings(client: mlpilot.Client) -> None:
    run = client.create_run("batch")
    client.log_batch(
        run.id,
        metrics=[Metric("a", 1.0, 0, 5), ("a", 2.0, 1), ("b", 3.0), {"key": "c", "value": 4, "step": 2}],
        params={"lr": 0.1},
        tags={"kind": "batch"},
    )
    stored = client.get_run(run.id)
    assert stored.metrics == {"a": 2.0, "b": 3.0, "c": 4.0}
    assert stored.params == {"lr": "0.1"}
    assert stored.tags == {"kind": "batch"}
    first = client.get_metric_history(run.id, "a")[0]
    assert (first.step, first.timestamp) == (0, 5)


def test_log_batch_rejects_bad_points_and_writes_nothing(client: mlpilot.Client) -> None:
    run = client.create_run("batch")
    with pytest.raises(InvalidInput):
        client.log_batch(run.id, metrics=[("ok", 1.0), ("bad", "x")])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="'key'"):
        client.log_batch(run.id, metrics=[{"value": 1.0}])
    with pytest.raises(InvalidInput):
        client.log_batch(run.id, metrics=[object()])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="step"):
        client.log_batch(run.id, metrics=[("a", 1.0, "first")])  # type: ignore[list-item]
    assert client.get_metric_history(run.id, "ok") == []


def test_buffered_points_are_durable_after_flush(client: mlpilot.Client, store_uri: str) -> None:
    run = client.create_run("buffer")
    for step in range(10_000):
        client.log_metric(run.id, "x", step, step=step)
    client.flush()
    reader = mlpilot.connect(store_uri)
    try:
        assert len(reader.get_metric_history(run.id, "x")) == 10_000
    finally:
        reader.close()


def test_buffered_write_to_a_run_ended_elsewhere_is_reported(client: mlpilot.Client, store_uri: str) -> None:
    run = client.create_run("buffer")
    client.log_metric(run.id, "x", 1.0)
    client.flush()
    other = mlpilot.connect(store_uri)
    try:
        other.end_run(run.id)
    finally:
        other.close()
    client.log_metric(run.id, "x", 2.0)  # the client still believes the run is running
    with pytest.raises(mlpilot.InactiveRun):
        client.flush()


def test_log_batch_is_all_or_nothing(client: mlpilot.Client) -> None:
    run = client.create_run("batch")
    client.log_params(run.id, {"C": 1})
    with pytest.raises(mlpilot.Conflict):
        client.log_batch(run.id, metrics=[("acc", 0.5)], params={"C": 2}, tags={"t": "x"})
    stored = client.get_run(run.id)
    assert stored.metrics == {} and stored.tags == {} and stored.params == {"C": "1"}


def test_large_batches_cross_the_multi_row_insert_boundaries(client: mlpilot.Client) -> None:
    run = client.create_run("batch")
    for size in (1, 99, 100, 101, 250):
        client.log_batch(run.id, metrics=[(f"k{size}", float(i), i) for i in range(size)])
        history = client.get_metric_history(run.id, f"k{size}")
        assert [p.step for p in history] == list(range(size))
        assert client.get_run(run.id).metrics[f"k{size}"] == size - 1
