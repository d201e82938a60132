"""Offline metrics equal scikit-learn's, and a metric that cannot be computed is absent with a reason."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlpilot.errors import InvalidInput
from mlpilot.evaluation import (
    CLASSIFICATION_METRICS,
    classification_metrics,
    is_lower_better,
    regression_metrics,
)


def test_binary_metrics_equal_sklearn() -> None:
    x, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(x[:400], y[:400])
    pred, proba = model.predict(x[400:]), model.predict_proba(x[400:])
    found = classification_metrics(y[400:], pred, proba, list(model.classes_))
    assert found.rows == len(y) - 400
    assert found.values == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y[400:], pred),
            "precision": skm.precision_score(y[400:], pred),
            "recall": skm.recall_score(y[400:], pred),
            "f1": skm.f1_score(y[400:], pred),
            "roc_auc": skm.roc_auc_score(y[400:], proba[:, 1]),
            "log_loss": skm.log_loss(y[400:], proba),
        },
        rel=1e-12,
    )


def test_positive_label_picks_the_class_scored() -> None:
    true, pred = ["no", "yes", "yes", "no", "yes"], ["no", "yes", "no", "no", "no"]
    default = classification_metrics(true, pred)  # "yes" is the larger label
    assert default.values["recall"] == pytest.approx(skm.recall_score(true, pred, pos_label="yes"))
    flipped = classification_metrics(true, pred, positive_label="no")
    assert flipped.values["recall"] == pytest.approx(skm.recall_score(true, pred, pos_label="no"))
    with pytest.raises(InvalidInput, match="positive label 'maybe'"):
        classification_metrics(true, pred, positive_label="maybe")


def test_multiclass_metrics_are_macro_averages_equal_to_sklearn() -> None:
    x, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    model = LogisticRegression(max_iter=5000).fit(x[:100], y[:100])
    pred, proba = model.predict(x[100:]), model.predict_proba(x[100:])
    found = classification_metrics(y[100:], pred, proba, list(model.classes_))
    assert found.values == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y[100:], pred),
            "precision": skm.precision_score(y[100:], pred, average="macro", zero_division=0),
            "recall": skm.recall_score(y[100:], pred, average="macro", zero_division=0),
            "f1": skm.f1_score(y[100:], pred, average="macro", zero_division=0),
            "roc_auc": skm.roc_auc_score(y[100:], proba, multi_class="ovr"),
            "log_loss": skm.log_loss(y[100:], proba),
        },
        rel=1e-9,
    )
    assert "Macro" in found.notes["f1"] and "One-vs-rest" in found.notes["roc_auc"]


def test_one_class_in_labels_leaves_roc_auc_out_with_a_reason() -> None:
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    found = classification_metrics([1, 1, 1], [1, 0, 1], proba, [0, 1])
    assert "roc_auc" not in found.values and "single class" in found.notes["roc_auc"]
    assert found.values["log_loss"] == pytest.approx(skm.log_loss([1, 1, 1], proba, labels=[0, 1]))
    assert all(math.isfinite(value) for value in found.values.values())


def test_undefined_precision_and_missing_probabilities_are_explained() -> None:
    found = classification_metrics([0, 1, 0], [0, 0, 0])
    assert "precision" not in found.values and "no row was predicted" in found.notes["precision"]
    assert found.values["recall"] == 0.0
    for name in ("roc_auc", "log_loss"):
        assert name not in found.values and "probabilities" in found.notes[name]
    assert set(found.values) | set(found.notes) >= set(CLASSIFICATION_METRICS)


def test_labels_match_predictions_across_types_and_missing_rows_are_left_out() -> None:
    found = classification_metrics(["1", "0", None, "1"], [1, 0, 1, 0])
    assert found.rows == 3
    assert found.values["accuracy"] == pytest.approx(2 / 3)
    assert "Left out 1" in found.notes["rows"]


def test_regression_metrics_equal_sklearn() -> None:
    x, y = load_diabetes(return_X_y=True)
    pred = LinearRegression().fit(x[:300], y[:300]).predict(x[300:])
    found = regression_metrics(y[300:], pred)
    assert found.values == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y[300:], pred),
            "rmse": skm.root_mean_squared_error(y[300:], pred),
            "mape": skm.mean_absolute_percentage_error(y[300:], pred),
            "r2": skm.r2_score(y[300:], pred),
        },
        rel=1e-12,
    )


def test_regression_edge_cases_are_absent_not_nan() -> None:
    zeros = regression_metrics([0.0, 0.0], [1.0, 2.0])
    assert "mape" not in zeros.values and "every true value is 0" in zeros.notes["mape"]
    assert "r2" not in zeros.values and "same" in zeros.notes["r2"]
    some = regression_metrics([0.0, 2.0, 4.0], [1.0, 1.0, 4.0])
    assert some.values["mape"] == pytest.approx(skm.mean_absolute_percentage_error([2.0, 4.0], [1.0, 4.0]))
    assert "1 left out" in some.notes["mape"]
    with pytest.raises(InvalidInput, match="numeric"):
        regression_metrics(["a", "b"], [1.0, 2.0])


def test_lower_is_better_names() -> None:
    assert all(is_lower_better(name) for name in ("log_loss", "mae", "rmse", "mape", "val_loss", "squared_error"))
    assert not any(is_lower_better(name) for name in ("accuracy", "f1", "roc_auc", "r2", "precision"))
