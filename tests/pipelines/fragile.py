"""A challenger that passes the gate but fails live: as accurate as the champion, but each call
takes a quarter of a second, far too slow for clients that send small batches. Only the canary,
watching latency on live traffic, can catch it."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlpilot
from mlpilot.client.models import LoggedModel
from mlpilot.demo.loans import FEATURES, LABEL
from mlpilot.demo.retrain import fetch_loans, split_by_time
from mlpilot.pipelines import evaluate_and_gate, pipeline, roll_out, step


class Sluggish(SkPipeline):
    """Sleeps on every call (think: a feature looked up one row at a time in a remote store)."""

    def predict(self, X: Any, **params: Any) -> np.ndarray:
        time.sleep(0.25)
        return np.asarray(super().predict(X, **params))

    def predict_proba(self, X: Any, **params: Any) -> np.ndarray:
        time.sleep(0.25)
        return np.asarray(super().predict_proba(X, **params))


@step
def train_fragile(train: pd.DataFrame) -> LoggedModel:
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore"), ["region", "purpose"])], remainder=StandardScaler()
    )
    model = Sluggish([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    model.fit(train[FEATURES], train[LABEL])
    return mlpilot.log_model(model, "model", input_example=train[FEATURES].head(5))


@pipeline
def fragile_retrain(watch_seconds: float = 30.0) -> None:
    train, holdout = split_by_time(fetch_loans("loans"))
    decision = evaluate_and_gate(
        train_fragile(train), holdout, label=LABEL, model="loans", requirements=["roc_auc>=0.6"]
    )
    roll_out(
        decision,
        deployment="loans-api",
        window=watch_seconds,
        policy={"min_requests": 5, "poll_interval": 0.5, "max_latency_p99_ms": 150.0},
    )
