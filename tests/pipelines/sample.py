"""Pipelines the engine tests run: importable, so the process pool's workers find the steps."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mlpilot
from mlpilot.pipelines import ModelOutput, pipeline, step

CALLS: list[str] = []  # in-process steps append here, so tests can see what really ran


@step
def make_data(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    CALLS.append("make_data")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows)})
    frame["label"] = (frame["x1"] + 0.5 * frame["x2"] + rng.normal(scale=0.3, size=rows) > 0).astype(int)
    return frame


@step(outputs=("train", "test"))
def split(data: pd.DataFrame, test_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    CALLS.append("split")
    cut = int(len(data) * (1 - test_share))
    return data.iloc[:cut].reset_index(drop=True), data.iloc[cut:].reset_index(drop=True)


@step
def train(train: pd.DataFrame, C: float = 1.0) -> LogisticRegression:
    model = LogisticRegression(C=C).fit(train[["x1", "x2"]], train["label"])
    mlpilot.log_metric("train_accuracy", float(model.score(train[["x1", "x2"]], train["label"])))
    mlpilot.set_tag("worker_pid", os.getpid())
    return model


@step
def pick(models: list[ModelOutput], test: pd.DataFrame) -> dict[str, object]:
    CALLS.append("pick")
    scores = []
    for candidate in models:
        predicted = candidate.load().predict(test[["x1", "x2"]])
        scores.append(float((np.asarray(predicted) == test["label"].to_numpy()).mean()))
    best = int(np.argmax(scores))
    mlpilot.log_metric("best_accuracy", scores[best])
    return {"best": best, "params": models[best].params, "scores": scores}


@pipeline
def candidates(rows: int = 400, seed: int = 0) -> None:
    data = make_data(rows=rows, seed=seed)
    train_part, test_part = split(data)
    models = train.map(train_part, grid={"C": [0.01, 1.0]})
    pick(models, test_part)


@step
def explode(data: pd.DataFrame) -> pd.DataFrame:
    raise RuntimeError("the data source is down")


@pipeline
def broken(rows: int = 50) -> None:
    data = make_data(rows=rows)
    exploded = explode(data)
    split(exploded)


@step(cache=False)
def fetch(rows: int = 40) -> pd.DataFrame:
    """Stands for "read the latest data": never cached, so a change in the source is always seen."""
    CALLS.append("fetch")
    return pd.DataFrame({"x1": [float(i % 7) for i in range(rows)], "label": [i % 2 for i in range(rows)]})


@step
def count(data: pd.DataFrame) -> int:
    CALLS.append("count")
    return len(data)


@pipeline
def latest(rows: int = 40) -> None:
    count(fetch(rows=rows))


@pipeline
def one_candidate(rows: int = 60) -> None:
    train_part, _ = split(make_data(rows=rows))
    train.map(train_part, params=[{"C": 1.0}])


@pipeline
def needs_rows(rows: int) -> None:
    make_data(rows=rows)
