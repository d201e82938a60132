"""The demo's retraining pipeline: fetch the latest loans, split by time, train three candidates
at once, evaluate them and the champion on the newest month, gate, canary, promote or roll back.

    mlpilot pipelines run mlpilot.demo.retrain:retrain
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlpilot
from mlpilot.client.models import LoggedModel
from mlpilot.demo.loans import FEATURES, LABEL
from mlpilot.pipelines import evaluate_and_gate, pipeline, roll_out, step

__all__ = ["retrain"]

CATEGORICAL = ["region", "purpose"]


@step(cache=False)
def fetch_loans(dataset: str = "loans") -> pd.DataFrame:
    """The dataset's newest version. Never cached; the steps after it are cached on its content."""
    client = mlpilot.get_client()
    mlpilot.set_tag("dataset_version", client.get_dataset(dataset).version)
    frame: pd.DataFrame = client.load_dataset(dataset)
    return frame


@step(outputs=("train", "holdout"))
def split_by_time(loans: pd.DataFrame, train_months: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out the newest month; train on the ``train_months`` before it (recent data wins under drift)."""
    last = int(loans["month"].max())
    holdout = loans[loans["month"] == last]
    train = loans[(loans["month"] < last) & (loans["month"] >= last - train_months)]
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


@step
def train_candidate(train: pd.DataFrame, algorithm: str = "logreg", c: float = 1.0) -> LoggedModel:
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder=StandardScaler()
    )
    estimator: Any
    if algorithm == "logreg":
        estimator = LogisticRegression(C=c, max_iter=1000)
    elif algorithm == "boosting":
        estimator = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, random_state=0)
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}: use 'logreg' or 'boosting'")
    model = SkPipeline([("encode", encode), ("classify", estimator)]).fit(train[FEATURES], train[LABEL])
    auc = roc_auc_score(train[LABEL], model.predict_proba(train[FEATURES])[:, 1])
    mlpilot.log_metric("train_roc_auc", float(auc))
    return mlpilot.log_model(model, "model", input_example=train[FEATURES].head(5))


@pipeline
def retrain(
    dataset: str = "loans",
    model: str = "loans",
    deployment: str = "loans-api",
    canary_weight: float = 0.3,
    watch_seconds: float = 25.0,
    min_requests: int = 15,
) -> None:
    loans = fetch_loans(dataset)
    train, holdout = split_by_time(loans)
    candidates = train_candidate.map(
        train,
        params=[{"algorithm": "logreg", "c": 0.1}, {"algorithm": "logreg", "c": 1.0}, {"algorithm": "boosting"}],
    )
    decision = evaluate_and_gate(
        candidates, holdout, label=LABEL, model=model, requirements=["roc_auc>=0.7", "roc_auc>=+0.01"]
    )
    roll_out(
        decision,
        deployment=deployment,
        canary_weight=canary_weight,
        window=watch_seconds,
        # On a busy machine the canary's share of traffic may need longer than the window to reach
        # min_requests: keep watching rather than roll back a good model for want of data.
        policy={
            "min_requests": min_requests,
            "max_window": watch_seconds * 4,
            "poll_interval": 2.0,
            "max_latency_p99_ratio": 5.0,
        },
    )
