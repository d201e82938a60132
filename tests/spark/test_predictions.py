"""A deployment's prediction log read by Spark: the rows the DuckDB reader gives, and drift of
their inputs against a reference with the pandas path's verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mlpilot.spark
from mlpilot.monitoring import ReferenceProfile, drift
from mlpilot.prediction_log import PredictionLogWriter, read_predictions
from mlpilot.prediction_log.records import PredictionBatch
from mlpilot.spark.predictions import model_inputs
from mlpilot.spark.predictions import read_predictions as spark_predictions

DAY = 86_400_000
START = 1_767_225_600_000  # 2026-01-01


def _batch(rows: int, time_ms: int, seed: int, shift: float = 0.0) -> PredictionBatch:
    rng = np.random.default_rng(seed)
    inputs = pd.DataFrame({"age": rng.normal(40 + shift, 10, rows), "plan": rng.choice(["a", "b"], rows)})
    return PredictionBatch(
        model="churn",
        version=1,
        role="primary",
        inputs=inputs,
        predictions=np.arange(rows) % 2,
        prediction_ids=[f"{seed}-{i}" for i in range(rows)],
        request_ids=[f"req-{seed}"] * rows,
        latency_ms=np.full(rows, 2.0),
        time_ms=time_ms,
    )


def test_the_log_through_spark(spark: Any, tmp_path: Path) -> None:
    root = tmp_path / "predictions"
    with PredictionLogWriter(root, writer_id="test") as writer:
        writer.append("churn-prod", _batch(300, START, seed=1))
        writer.append("churn-prod", _batch(400, START + DAY, seed=2, shift=15.0))
    since, until = START + DAY, START + 2 * DAY
    expected = read_predictions(root, "churn-prod", since=since, until=until)
    log = spark_predictions(spark, root, "churn-prod", since=since, until=until)
    assert log is not None
    assert sorted(log.select("prediction_id").toPandas()["prediction_id"]) == sorted(expected["prediction_id"])
    assert spark_predictions(spark, root, "other") is None

    reference = ReferenceProfile.fit(pd.DataFrame(_batch(2000, START, seed=3).inputs))
    current = expected[["input:age", "input:plan"]].rename(columns=lambda name: name.removeprefix("input:"))
    theirs = drift(reference, current)
    mine = mlpilot.spark.drift(model_inputs(log), reference)
    assert [(f.column, f.verdict, f.statistic) for f in mine.features] == [
        (f.column, f.verdict, f.statistic) for f in theirs.features
    ]
    assert mine["age"].drifted
