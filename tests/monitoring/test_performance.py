"""Realized performance equals scikit-learn on the same rows, and says why a metric is missing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.performance import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    classification_performance,
    regression_performance,
)

EXACT = {"abs": 1e-12, "rel": 0}


def _binary(seed: int, rows: int = 500) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 2, rows)
    y = rng.binomial(1, p)
    return y, (p >= 0.5).astype(int), pd.DataFrame({0: 1 - p, 1: p})


def _multiclass(seed: int, rows: int = 600) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    classes = np.array(["setosa", "versicolor", "virginica"])
    proba = rng.dirichlet([1.0, 1.0, 1.0], rows)
    y = classes[[rng.choice(3, p=row) for row in proba]]
    return y, classes[proba.argmax(axis=1)], pd.DataFrame(proba, columns=list(classes))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_equals_sklearn(seed: int) -> None:
    y, pred, proba = _binary(seed)
    result = classification_performance(y, pred, proba)
    assert result.task == "classification" and result.rows == len(y)
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, proba[1]),
        "log_loss": skm.log_loss(y, proba.to_numpy()),
    }
    assert set(result.metrics) == set(CLASSIFICATION_METRICS)
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, **EXACT), name


def test_binary_positive_label_and_string_labels() -> None:
    y, pred, proba = _binary(3)
    names = np.array(["churn", "stay"])
    result = classification_performance(
        pd.Series(names[y]), list(names[pred]), proba.set_axis(["churn", "stay"], axis=1), positive_label="churn"
    )
    yes, predicted = names[y], names[pred]
    assert result.metrics["precision"] == pytest.approx(skm.precision_score(yes, predicted, pos_label="churn"), **EXACT)
    assert result.metrics["recall"] == pytest.approx(skm.recall_score(yes, predicted, pos_label="churn"), **EXACT)
    assert result.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(yes == "churn", proba[0]), **EXACT)
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(yes, proba.to_numpy()), **EXACT)


def test_default_positive_label_is_the_larger_label() -> None:
    y, pred = [2, 2, 5, 5, 5], [2, 5, 5, 5, 2]
    result = classification_performance(y, pred)
    assert result.metrics["precision"] == pytest.approx(skm.precision_score(y, pred, pos_label=5), **EXACT)


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_equals_sklearn(seed: int) -> None:
    y, pred, proba = _multiclass(seed)
    result = classification_performance(y, pred, proba)
    matrix = proba.to_numpy()
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, average="macro"),
        "recall": skm.recall_score(y, pred, average="macro"),
        "f1": skm.f1_score(y, pred, average="macro"),
        "roc_auc": skm.roc_auc_score(y, matrix, multi_class="ovr", labels=list(proba.columns)),
        "log_loss": skm.log_loss(y, matrix, labels=list(proba.columns)),
    }
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, **EXACT), name
    assert "macro" in result.notes["precision"].lower()


def test_multiclass_class_never_predicted_counts_as_zero() -> None:
    y, pred = [0, 1, 2, 2, 1], [0, 0, 2, 2, 0]
    result = classification_performance(y, pred)
    expected = skm.precision_score(y, pred, average="macro", zero_division=0.0)
    assert result.metrics["precision"] == pytest.approx(expected, **EXACT)
    assert "Never predicted" in result.notes["precision"] and "[1]" in result.notes["precision"]


def test_proba_columns_as_strings_match_integer_labels() -> None:
    y, pred, proba = _binary(4)
    as_ints = classification_performance(y, pred, proba)
    as_strings = classification_performance(y, pred, proba.set_axis(["0", "1"], axis=1))
    assert as_strings.metrics == as_ints.metrics
    y3, pred3, proba3 = _multiclass(5)
    codes = {"setosa": 0, "versicolor": 1, "virginica": 2}
    numeric = classification_performance(
        [codes[v] for v in y3], [codes[v] for v in pred3], proba3.set_axis(["0", "1", "2"], axis=1)
    )
    assert numeric.metrics == pytest.approx(classification_performance(y3, pred3, proba3).metrics, **EXACT)


def test_float_labels_with_nulls_match_integer_columns() -> None:
    y = pd.Series([0.0, 1.0, None, 1.0, 0.0, 1.0])
    pred = pd.Series([0, 1, 1, 0, 0, 1])
    proba = pd.DataFrame({"0": [0.8, 0.3, 0.5, 0.6, 0.9, 0.2], "1": [0.2, 0.7, 0.5, 0.4, 0.1, 0.8]})
    result = classification_performance(y, pred, proba)
    keep = y.notna().to_numpy()
    assert result.rows == 5
    assert "Left out 1 of 6 rows" in result.notes["rows"]
    assert result.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y[keep], proba["1"][keep]), **EXACT)
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(y[keep], proba[keep].to_numpy()), **EXACT)


def test_empty_input_gives_no_metrics() -> None:
    for result in (classification_performance([], []), classification_performance([None], [1])):
        assert result.rows == 0
        assert all(value is None for value in result.metrics.values())
        assert all(result.notes[name] == "No labelled rows." for name in CLASSIFICATION_METRICS)
    result = regression_performance([], [])
    assert result.metrics == dict.fromkeys(REGRESSION_METRICS)
    assert result.notes["r2"] == "No labelled rows."


def test_single_class_and_missing_proba_are_explained() -> None:
    proba = pd.DataFrame({0: [0.2, 0.4, 0.7], 1: [0.8, 0.6, 0.3]})
    result = classification_performance([1, 1, 1], [1, 1, 0], proba)
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert result.metrics["roc_auc"] is None and "single class" in result.notes["roc_auc"]
    assert result.metrics["log_loss"] == pytest.approx(
        skm.log_loss([1, 1, 1], proba.to_numpy(), labels=[0, 1]), **EXACT
    )
    without = classification_performance([0, 1, 1], [0, 1, 0])
    assert without.metrics["roc_auc"] is None and without.metrics["log_loss"] is None
    assert "proba" in without.notes["roc_auc"] and "proba" in without.notes["log_loss"]


def test_undefined_precision_and_recall() -> None:
    nothing_predicted = classification_performance([0, 1, 1], [0, 0, 0])
    assert nothing_predicted.metrics["precision"] is None
    assert "predicted as the positive class" in nothing_predicted.notes["precision"]
    assert nothing_predicted.metrics["f1"] == 0.0
    all_negative = classification_performance([0, 0], [0, 0], positive_label=1)
    assert all_negative.metrics["recall"] is None and all_negative.metrics["f1"] is None
    assert all_negative.metrics["accuracy"] == 1.0


def test_log_loss_needs_a_column_for_every_label() -> None:
    proba = pd.DataFrame({"a": [0.7, 0.2, 0.1], "b": [0.3, 0.8, 0.9]})
    result = classification_performance(["a", "b", "c"], ["a", "b", "b"], proba)
    assert result.metrics["log_loss"] is None and "['c']" in result.notes["log_loss"]
    assert result.metrics["roc_auc"] is not None and "2 classes" in result.notes["roc_auc"]


def test_regression_equals_sklearn() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(10, 3, 400)
    pred = y + rng.normal(0, 1, 400)
    result = regression_performance(pd.Series(y), pred)
    assert result.task == "regression" and result.rows == 400
    expected = {
        "mae": skm.mean_absolute_error(y, pred),
        "rmse": skm.root_mean_squared_error(y, pred),
        "mape": skm.mean_absolute_percentage_error(y, pred),
        "r2": skm.r2_score(y, pred),
    }
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, **EXACT), name
    assert result.notes == {}


def test_mape_leaves_out_zero_targets() -> None:
    y, pred = np.array([0.0, 2.0, 4.0, 0.0]), np.array([1.0, 1.0, 5.0, 0.5])
    result = regression_performance(y, pred)
    assert result.metrics["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y[1:3], pred[1:3]), **EXACT)
    assert "2 left out" in result.notes["mape"]
    zeros = regression_performance([0, 0], [1, 2])
    assert zeros.metrics["mape"] is None and "every true value is 0" in zeros.notes["mape"]


def test_r2_needs_two_rows_and_varying_targets() -> None:
    one = regression_performance([1.0], [2.0])
    assert one.metrics["r2"] is None and "at least 2 rows" in one.notes["r2"]
    assert one.metrics["mae"] == 1.0
    constant = regression_performance([3, 3, 3], [1, 2, 3])
    assert constant.metrics["r2"] is None and "the same" in constant.notes["r2"]


def test_mismatched_lengths_name_both() -> None:
    with pytest.raises(InvalidInput, match=r"y_true has 3 rows but y_pred has 2"):
        classification_performance([0, 1, 1], [0, 1])
    with pytest.raises(InvalidInput, match=r"y_true has 1 rows but y_pred has 2"):
        regression_performance([1.0], [1.0, 2.0])
    with pytest.raises(InvalidInput, match=r"proba has 2 rows but y_true has 3"):
        classification_performance([0, 1, 1], [0, 1, 1], pd.DataFrame({0: [0.5, 0.5], 1: [0.5, 0.5]}))


def test_bad_values_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="outside"):
        classification_performance([0, 1], [0, 1], pd.DataFrame({0: [1.5, 0.0], 1: [-0.5, 1.0]}))
    with pytest.raises(InvalidInput, match="not one of the classes"):
        classification_performance([0, 1], [0, 1], positive_label=7)
    with pytest.raises(InvalidInput, match="numeric"):
        regression_performance(["a", "b"], [1, 2])
    with pytest.raises(InvalidInput, match="infinite"):
        regression_performance([1.0, 2.0], [np.inf, 2.0])
    with pytest.raises(InvalidInput, match="one-dimensional"):
        classification_performance(np.zeros((2, 2)), [0, 1])


def test_to_dict_is_plain_json() -> None:
    y, pred, proba = _binary(8)
    for result in (
        classification_performance(y, pred, proba),
        classification_performance([1, 1], [1, 1]),
        regression_performance(np.array([1.0, 2.0]), np.array([1.5, 2.5])),
    ):
        data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert data["metrics"].keys() == result.metrics.keys()
        assert all(value is None or type(value) is float for value in data["metrics"].values())
