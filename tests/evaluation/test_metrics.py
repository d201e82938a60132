"""Offline metrics equal scikit-learn's, and a metric that cannot be computed is absent with a reason."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
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


def test_positive_label_absent_from_a_one_class_window_is_still_the_positive_class() -> None:
    found = classification_metrics([0, 0], [0, 0], positive_label=1)
    assert found.values["accuracy"] == 1.0
    assert "precision" not in found.values and "recall" not in found.values and "f1" not in found.values
    with pytest.raises(InvalidInput, match="positive label 7 is not one of the classes"):
        classification_metrics([0, 1, 2], [0, 1, 2], positive_label=7)  # a typo is refused with several classes too
    several = classification_metrics([0, 1, 2], [0, 1, 1], positive_label=2)
    assert "Ignored" in several.notes["positive_label"]
    assert several.values["recall"] == pytest.approx(skm.recall_score([0, 1, 2], [0, 1, 1], average="macro"))
    assert "Never predicted, so counted as 0: [2]" in several.notes["precision"]


def test_probabilities_as_a_frame_with_missing_and_rounded_rows() -> None:
    y, pred = np.array([0, 1, 1, 0, 1]), np.array([0, 1, 0, 0, 1])
    p = np.array([0.2, 0.9, 0.4, np.nan, 0.7], dtype=np.float32).astype(np.float64)
    proba = pd.DataFrame({"0": 1 - p + 1e-7, "1": p})  # string columns, rows off by rounding
    found = classification_metrics(y, pred, proba)
    keep = ~np.isnan(p)
    assert "Left out 1 rows with missing probabilities" in found.notes["proba"]
    assert found.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y[keep], p[keep]))
    rows = proba.to_numpy()[keep]
    assert found.values["log_loss"] == pytest.approx(skm.log_loss(y[keep], rows / rows.sum(axis=1, keepdims=True)))
    assert "rescaled" in found.notes["log_loss"]
    with pytest.raises(InvalidInput, match=r"outside \[0, 1\]"):
        classification_metrics([0, 1], [0, 1], np.array([[1.5, -0.5], [0.0, 1.0]]), [0, 1])
    with pytest.raises(InvalidInput, match="2 rows but y_true has 3"):
        classification_metrics([0, 1, 1], [0, 1, 1], np.array([[0.5, 0.5], [0.5, 0.5]]), [0, 1])
    unnamed = classification_metrics([0, 1], [0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert "roc_auc" not in unnamed.values and "class of each probability column" in unnamed.notes["roc_auc"]


def test_multiclass_roc_auc_averages_the_classes_it_is_defined_for() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    found = classification_metrics(["a", "b", "a", "b"], ["a", "b", "a", "b"], proba, ["a", "b", "c"])
    assert found.values["roc_auc"] == pytest.approx(1.0)  # "c" has no labels, so no AUC of its own
    assert "over the 2 classes" in found.notes["roc_auc"] and "Left out: ['c']" in found.notes["roc_auc"]
    assert found.values["log_loss"] == pytest.approx(skm.log_loss([0, 1, 0, 1], proba, labels=[0, 1, 2]))


def test_one_column_frames_and_arrays_are_one_value_per_row() -> None:
    found = regression_metrics(pd.DataFrame({"y": [1.0, 2.0, 3.0]}), np.array([[1.0], [2.0], [4.0]]))
    assert found.values["mae"] == pytest.approx(1 / 3)
    with pytest.raises(InvalidInput, match="one-dimensional"):
        regression_metrics(np.zeros((2, 2)), [1.0, 2.0])
