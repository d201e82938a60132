"""A pipeline whose steps pass Spark DataFrames and whose candidates train as Spark tasks:
importable, so the Spark workers find its steps."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mlpilot
from mlpilot.pipelines import ModelOutput, pipeline, step


@step
def load(rows: int = 300) -> Any:
    from mlpilot.spark import get_spark

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows)})
    frame["label"] = (frame["x1"] + 0.5 * frame["x2"] > 0).astype(int)
    return get_spark().createDataFrame(frame)


@step
def engineer(data: Any) -> Any:
    from pyspark.sql import functions as sf

    return data.withColumn("x3", sf.col("x1") * sf.col("x2"))


@step
def collect(data: Any) -> pd.DataFrame:
    return data.toPandas().sort_values(["x1", "x2"]).reset_index(drop=True)


@step
def train(data: pd.DataFrame, C: float = 1.0) -> LogisticRegression:
    features = data[["x1", "x2", "x3"]]
    model = LogisticRegression(C=C).fit(features, data["label"])
    mlpilot.log_metric("accuracy", float(model.score(features, data["label"])))
    mlpilot.set_tag("worker_pid", os.getpid())
    return model


@step
def pick(models: list[ModelOutput]) -> dict[str, Any]:
    return {"params": [model.params for model in models]}


@pipeline
def spark_flow(rows: int = 300) -> None:
    data = engineer(load(rows=rows))
    models = train.map(collect(data), grid={"C": [0.1, 1.0, 10.0]})
    pick(models)
