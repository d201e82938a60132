from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpilot.client import Client


@pytest.fixture(scope="session")
def breast_cancer() -> tuple[pd.DataFrame, pd.Series]:
    data = load_breast_cancer(as_frame=True)
    return data.data, data.target


@pytest.fixture
def logged(client: Client, breast_cancer: tuple[pd.DataFrame, pd.Series]) -> Any:
    """A factory: train a small model in a new run and log it; returns (run id, frame)."""

    def make(c: float = 1.0, *, experiment: str = "reg", name: str = "model") -> str:
        frame, target = breast_cancer
        with client.start_run(experiment) as run:
            run.log_params({"C": c})
            run.log_dataset(frame.head(200), name="cancer", role="train")
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c)).fit(frame.head(200), target.head(200))
            run.log_metric("acc", float(model.score(frame.tail(100), target.tail(100))))
            run.log_model(model, name, input_example=frame.head(3))
        return run.id

    return make
