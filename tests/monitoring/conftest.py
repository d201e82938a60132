"""Frames with known drift (20 numerical and 5 categorical columns, some shifted), and a deployed
model with a real prediction log and store for monitors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.deployments import record_feedback
from mlpilot.monitoring.runner import MonitorRun, run_monitor
from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter, new_prediction_id

Frames = Callable[..., tuple[pd.DataFrame, pd.DataFrame]]
SHIFTED = {"num_00", "num_01", "cat_0"}  # large shifts every default method sees


def _frame(rows: int, rng: np.random.Generator, shifted: bool) -> pd.DataFrame:
    columns: dict[str, object] = {}
    for i in range(20):
        kind = i % 4
        if kind == 0:
            values = rng.normal(size=rows)
        elif kind == 1:
            values = rng.lognormal(size=rows)
        elif kind == 2:
            values = rng.uniform(size=rows)
        else:
            values = rng.exponential(size=rows)
        if shifted and i == 0:
            values = values + 0.5
        if shifted and i == 1:
            values = np.log(values) * 1.3
            values = np.exp(values)
        columns[f"num_{i:02d}"] = values
    for j, size in enumerate([4, 8, 12, 30, 100]):
        labels = np.array([f"c{k}" for k in range(size)], dtype=object)
        p = np.arange(1, size + 1, dtype=float)
        p /= p.sum()
        if shifted and j == 0:
            p = p[::-1]
        columns[f"cat_{j}"] = labels[rng.choice(size, size=rows, p=p)]
    return pd.DataFrame(columns)


@pytest.fixture
def frames() -> Frames:
    def make(rows: int = 5_000, current_rows: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng = np.random.default_rng(seed)
        return _frame(rows, rng, False), _frame(current_rows or rows, rng, True)

    return make


# --- a deployed model with a prediction log, for monitors -------------------------------------

HOUR = 3_600_000
T0 = 1_790_000_000_000  # a fixed hour boundary keeps windows reproducible
FEATURES = ["tenure", "charges"]


def _data(rows: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    tenure = rng.normal(24, 6, size=rows) + shift
    charges = rng.normal(70, 10, size=rows)
    return pd.DataFrame({"tenure": tenure, "charges": charges})


def _truth(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    score = (frame["tenure"] - 24) / 6 + rng.normal(0, 0.5, size=len(frame))
    return (score > 0).astype(int).to_numpy()


class World:
    def __init__(self, client: Client, root: Path, cache: Path) -> None:
        self.client, self.db, self.content = client, client.db, client.transport.content  # type: ignore[attr-defined]
        self.root, self.cache = str(root), cache
        self.rng = np.random.default_rng(0)
        self.model: LogisticRegression | None = None

    def register(self, with_dataset: bool = True) -> int:
        train = _data(4_000, self.rng)
        self.model = LogisticRegression().fit(train, _truth(train, self.rng))
        with self.client.start_run("monitoring") as run:
            if with_dataset:
                run.log_dataset(train, "churn-train", role="train")
            run.log_model(self.model, "model", input_example=train.head(2))
            run.log_metric("accuracy", 0.9)
        return self.client.register_model(run.id, "model", "churn").version

    def serve(self, hour: int, rows: int, *, shift: float = 0.0, labelled: int = 0, version: int = 1) -> None:
        assert self.model is not None
        frame = _data(rows, self.rng, shift)
        truth = _truth(frame, self.rng)
        ids = [new_prediction_id() for _ in range(rows)]
        writer = PredictionLogWriter(self.root)
        writer.append(
            "churn-api",
            PredictionBatch(
                model="churn",
                version=version,
                role="primary",
                inputs=frame,
                predictions=self.model.predict(frame),
                prediction_ids=ids,
                request_ids=ids,
                latency_ms=np.full(rows, 4.0),
                time_ms=T0 + hour * HOUR + np.arange(rows) * (HOUR // (rows + 1)),
                probabilities=self.model.predict_proba(frame),
                classes=[0, 1],
            ),
        )
        writer.close()
        if labelled:
            pairs = [(ids[i], int(truth[i])) for i in range(labelled)]
            record_feedback(self.db, "churn-api", pairs, known_ids=set, actor="test")

    def run(self, hour: int, name: str = "watch") -> MonitorRun:
        return run_monitor(
            self.db, self.content, name, predictions_root=self.root, cache_root=self.cache, now=T0 + (hour + 1) * HOUR
        )


@pytest.fixture
def world(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[World]:
    client = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    yield World(client, tmp_path / "predictions", tmp_path / "cache")
    client.close()
