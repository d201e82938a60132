"""Data and fitted models for the packaging tests: scikit-learn's bundled datasets only (no downloads)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def require_extra(module: str) -> ModuleType:
    """XGBoost and LightGBM are extras: skip without them locally, but CI installs them and must test."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def cancer() -> tuple[pd.DataFrame, pd.Series[Any]]:
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    return frame, target


def iris() -> tuple[pd.DataFrame, pd.Series[Any]]:
    frame, target = load_iris(return_X_y=True, as_frame=True)
    return frame, target


def mixed() -> tuple[pd.DataFrame, pd.Series[Any]]:
    """Iris with a text column derived from the petals, and string labels."""
    frame, target = iris()
    frame = frame.copy()
    frame["petal size"] = pd.cut(frame["petal length (cm)"], [0, 2, 5, 10], labels=["small", "medium", "large"]).astype(
        str
    )
    labels = target.map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame, labels


def logistic() -> tuple[LogisticRegression, pd.DataFrame]:
    frame, target = cancer()
    model = LogisticRegression(max_iter=5000).fit(frame, target)
    return model, frame


def mixed_pipeline() -> tuple[Pipeline, pd.DataFrame]:
    frame, labels = mixed()
    numeric = [column for column in frame.columns if column != "petal size"]
    prepare = ColumnTransformer(
        [("numbers", StandardScaler(), numeric), ("text", OneHotEncoder(handle_unknown="ignore"), ["petal size"])]
    )
    model = Pipeline([("prepare", prepare), ("classify", LogisticRegression(max_iter=1000))]).fit(frame, labels)
    return model, frame
