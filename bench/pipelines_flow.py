"""The pipelines the pipelines benchmark runs; a module of its own, so the process pool's workers
import it (and not the benchmark script)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from mlpilot.pipelines import ModelOutput, pipeline, step


@step
def generate(rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 20)), columns=[f"x{i}" for i in range(20)])
    frame["label"] = (frame["x0"] + frame["x1"] * frame["x2"] + rng.normal(size=rows) > 0).astype(int)
    return frame


@step
def clean(data: pd.DataFrame) -> pd.DataFrame:
    return data.dropna().reset_index(drop=True)


@step(outputs=("train", "test"))
def split(data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = len(data) * 4 // 5
    return data.iloc[:cut].reset_index(drop=True), data.iloc[cut:].reset_index(drop=True)


@step
def train(train: pd.DataFrame, depth: int = 3, rounds: int = 20) -> GradientBoostingClassifier:
    # Single-threaded on purpose: the pool, not the estimator, is what uses the cores here.
    model = GradientBoostingClassifier(max_depth=depth, n_estimators=rounds, random_state=0)
    return model.fit(train.drop(columns="label"), train["label"])


@step
def evaluate(models: list[ModelOutput], test: pd.DataFrame) -> list[float]:
    features = test.drop(columns="label")
    return [float(roc_auc_score(test["label"], m.load().predict_proba(features)[:, 1])) for m in models]


@pipeline
def five_steps(rows: int = 20_000) -> None:
    """generate → clean → split → train → evaluate: the re-run overhead case."""
    train_part, test_part = split(clean(generate(rows)))
    evaluate(train.map(train_part, params=[{"depth": 3}]), test_part)


@pipeline
def four_candidates(rows: int = 40_000, rounds: int = 60) -> None:
    """Four candidates trained from the same data: the fan-out case."""
    train_part, test_part = split(generate(rows))
    models = train.map(train_part, grid={"depth": [3, 3, 3, 3]}, rounds=rounds)
    evaluate(models, test_part)
