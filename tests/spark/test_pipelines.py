"""Pipelines on Spark: Spark DataFrames between steps (stored as Parquet by the executors) and
fanned-out candidates trained one configuration per Spark task."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.errors import InvalidInput
from tests.spark.spark_pipeline import spark_flow


@pytest.fixture
def client(tmp_path: Path) -> Any:
    home = tmp_path / "home"
    opened = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    yield opened
    opened.close()


def test_spark_frames_between_steps_and_candidates_as_spark_tasks(spark: Any, client: Client) -> None:
    result = spark_flow.run({"rows": 200}, client=client, executor="spark")
    assert result.succeeded, result.record.error
    engineered = result.output("engineer")
    assert engineered.columns == ["x1", "x2", "label", "x3"]
    assert engineered.count() == 200
    assert [item["C"] for item in result.output("pick")["params"]] == [0.1, 1.0, 10.0]
    runs = [client.get_run(model.run_id) for model in result.output("train")]
    # Each candidate ran in a Spark Python worker, not in this process.
    assert all(int(run.tags["worker_pid"]) != os.getpid() for run in runs)
    assert all(run.metrics["accuracy"] > 0.8 for run in runs)

    again = spark_flow.run({"rows": 200}, client=client, executor="spark")
    assert again.succeeded
    assert again.record.summary is not None
    assert (again.record.summary["executed"], again.record.summary["cached"]) == (0, 7)
    assert again.output("engineer").count() == 200


def test_an_unknown_executor_is_refused(client: Client) -> None:
    with pytest.raises(InvalidInput, match="unknown executor 'dask'"):
        spark_flow.run(client=client, executor="dask")
