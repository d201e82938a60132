"""Offline metrics of predictions against labels, named as the registry and the monitors name them.

Every number is scikit-learn's own function on the same rows; this module picks the rows and the
classes and turns the cases where scikit-learn would warn or return a placeholder (one class only,
no predicted positives, constant targets) into an absent metric with a sentence in ``notes``.
A metric is never NaN: it is a finite float, or it is missing and ``notes`` says why.

- Classification. Two classes (over labels, predictions and the model's classes) is binary:
  precision, recall and F1 are those of the positive class, ``positive_label`` or by default the
  larger label (scikit-learn's ``pos_label=1`` for 0/1). More classes use the unweighted macro
  average over the classes seen in labels or predictions; a class never predicted counts as 0
  (``zero_division=0``). ROC AUC (one-vs-rest macro for multiclass) and log loss need the model's
  probabilities and the class of each probability column.
- Regression: MAE, RMSE, MAPE (a fraction, over the rows whose true value is not 0) and R².

Labels are matched by their string form when types differ, so ``1``, ``1.0`` and ``"1"`` are one
class: a CSV holdout often reads labels back with another type than the model predicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlpilot.errors import InvalidInput
from mlpilot.evaluation.names import CLASSIFICATION_METRICS, REGRESSION_METRICS

__all__ = ["MetricSet", "classification_metrics", "label_key", "regression_metrics"]

Codes = np.ndarray[Any, np.dtype[np.intp]]


@dataclass(frozen=True, slots=True)
class MetricSet:
    """The metrics that could be computed (finite floats) and, for the others, why not."""

    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    rows: int = 0


def label_key(label: object) -> str:
    if isinstance(label, bool | np.bool_):
        return str(bool(label))
    if isinstance(label, int | float | np.integer | np.floating) and float(label).is_integer():
        return str(int(label))
    return str(label)


def _plain(label: object) -> object:
    return label.item() if isinstance(label, np.generic) else label


def _sorted(labels: Sequence[object]) -> list[object]:
    try:
        return sorted(labels)  # type: ignore[type-var]
    except TypeError:  # numbers mixed with strings
        return sorted(labels, key=label_key)


def _series(values: object, name: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InvalidInput(f"{name} has {values.shape[1]} columns; expected one", hint="Pass one value per row.")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one value per row, got shape {array.shape}", hint="Pass a list or Series.")
    return pd.Series(array)


def _pair(y_true: object, y_pred: object) -> tuple[pd.Series, pd.Series, np.ndarray[Any, Any], dict[str, str]]:
    true, pred = _series(y_true, "the labels"), _series(y_pred, "the predictions")
    if len(true) != len(pred):
        raise InvalidInput(f"{len(true)} labels but {len(pred)} predictions", hint="Pass one prediction per label.")
    keep = (~(true.isna() | pred.isna())).to_numpy()
    notes: dict[str, str] = {}
    if dropped := int((~keep).sum()):
        notes["rows"] = f"Left out {dropped} of {len(true)} rows whose label or prediction is missing."
    return true[keep], pred[keep], keep, notes


def _codes(series: pd.Series, code_of: dict[str, int]) -> Codes:
    # Factorize first so the Python-level key lookup runs once per distinct label, not per row.
    codes, uniques = pd.factorize(series)
    lookup = np.array([code_of[label_key(value)] for value in uniques], dtype=np.intp)
    return lookup[codes] if len(codes) else np.zeros(0, dtype=np.intp)


def classification_metrics(
    y_true: object,
    y_pred: object,
    proba: np.ndarray[Any, Any] | None = None,
    classes: Sequence[object] | None = None,
    *,
    positive_label: object | None = None,
) -> MetricSet:
    """``proba`` holds one column per class, column ``i`` being ``classes[i]`` (a model's ``classes_``)."""
    true, pred, keep, notes = _pair(y_true, y_pred)
    if not len(true):
        return MetricSet({}, {**notes, **dict.fromkeys(CLASSIFICATION_METRICS, "No labelled rows.")}, 0)
    canonical: dict[str, object] = {}
    for label in [*pd.unique(true), *pd.unique(pred), *(classes or [])]:
        canonical.setdefault(label_key(label), _plain(label))
    if positive_label is not None and label_key(positive_label) not in canonical:
        raise InvalidInput(
            f"the positive label {positive_label!r} is not one of the classes {_sorted(list(canonical.values()))}",
            hint="Name one of the classes, or leave the positive label out to use the larger one.",
        )
    ordered = _sorted(list(canonical.values()))
    code_of = {label_key(label): code for code, label in enumerate(ordered)}
    codes_true, codes_pred = _codes(true, code_of), _codes(pred, code_of)
    values = {"accuracy": float(skm.accuracy_score(codes_true, codes_pred))}
    positive: int | None = None
    if len(ordered) <= 2:
        positive = code_of[label_key(positive_label)] if positive_label is not None else len(ordered) - 1
        _binary(values, notes, codes_true, codes_pred, positive)
    else:
        for name, score in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
            values[name] = float(score(codes_true, codes_pred, average="macro", zero_division=0.0))
            notes[name] = "Macro average over the classes seen in labels or predictions."
    if proba is None or classes is None:
        notes["roc_auc"] = notes["log_loss"] = "Needs the model's class probabilities, which it does not give."
    else:
        matrix = np.asarray(proba, dtype=np.float64)[keep]
        columns = [code_of[label_key(label)] for label in classes]
        if matrix.ndim != 2 or matrix.shape[1] != len(columns):
            raise InvalidInput(f"probabilities of shape {matrix.shape} for {len(columns)} classes")
        _roc_auc(values, notes, codes_true, matrix, columns, positive)
        _log_loss(values, notes, codes_true, matrix, columns)
    return MetricSet(values, notes, len(true))


def _binary(values: dict[str, float], notes: dict[str, str], true: Codes, pred: Codes, positive: int) -> None:
    predicted, actual = bool((pred == positive).any()), bool((true == positive).any())
    if predicted:
        values["precision"] = float(skm.precision_score(true, pred, pos_label=positive, zero_division=0.0))
    else:
        notes["precision"] = "Undefined: no row was predicted as the positive class."
    if actual:
        values["recall"] = float(skm.recall_score(true, pred, pos_label=positive, zero_division=0.0))
    else:
        notes["recall"] = "Undefined: no row has the positive class as its label."
    if predicted or actual:
        values["f1"] = float(skm.f1_score(true, pred, pos_label=positive, zero_division=0.0))
    else:
        notes["f1"] = "Undefined: the positive class was neither predicted nor true in any row."


def _roc_auc(
    values: dict[str, float],
    notes: dict[str, str],
    true: Codes,
    matrix: np.ndarray[Any, Any],
    columns: list[int],
    positive: int | None,
) -> None:
    present = set(np.unique(true).tolist())
    if len(present) < 2:
        notes["roc_auc"] = "Undefined: the labels hold a single class."
    elif not present <= set(columns):
        notes["roc_auc"] = "Undefined: some labels are classes the model gives no probability for."
    elif positive is not None:
        values["roc_auc"] = float(skm.roc_auc_score(true == positive, matrix[:, columns.index(positive)]))
    elif present != set(columns):
        notes["roc_auc"] = "Undefined: one-vs-rest needs every class of the model among the labels."
    else:
        order = np.argsort(columns)
        values["roc_auc"] = float(
            skm.roc_auc_score(true, _normalized(matrix)[:, order], multi_class="ovr", labels=sorted(columns))
        )
        notes["roc_auc"] = "One-vs-rest macro average."


def _log_loss(
    values: dict[str, float], notes: dict[str, str], true: Codes, matrix: np.ndarray[Any, Any], columns: list[int]
) -> None:
    if not set(np.unique(true).tolist()) <= set(columns):
        notes["log_loss"] = "Undefined: some labels are classes the model gives no probability for."
    elif len(columns) < 2:
        notes["log_loss"] = "Undefined: it needs probabilities for at least two classes."
    elif not np.allclose(matrix.sum(axis=1), 1, rtol=1e-6, atol=1e-3):
        notes["log_loss"] = "Undefined: the probability rows do not sum to 1."
    else:
        values["log_loss"] = float(skm.log_loss(true, _normalized(matrix), labels=columns))


def _normalized(matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    # scikit-learn warns unless rows sum to 1 within sqrt(eps); float32 models miss that by rounding.
    sums = matrix.sum(axis=1, keepdims=True)
    return matrix / np.where(sums > 0, sums, 1.0)


def regression_metrics(y_true: object, y_pred: object) -> MetricSet:
    true_raw, pred_raw, _, notes = _pair(y_true, y_pred)
    try:
        true = pd.to_numeric(true_raw).to_numpy(dtype=np.float64)
        pred = pd.to_numeric(pred_raw).to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "regression needs numeric labels and predictions",
            hint="Convert the label column to numbers, or evaluate as classification.",
        ) from exc
    if not (np.isfinite(true).all() and np.isfinite(pred).all()):
        raise InvalidInput("the labels or predictions hold an infinite value", hint="Pass finite numbers.")
    if not len(true):
        return MetricSet({}, {**notes, **dict.fromkeys(REGRESSION_METRICS, "No labelled rows.")}, 0)
    values = {
        "mae": float(skm.mean_absolute_error(true, pred)),
        "rmse": float(skm.root_mean_squared_error(true, pred)),
    }
    nonzero = true != 0
    if not nonzero.any():
        notes["mape"] = "Undefined: every true value is 0."
    else:
        values["mape"] = float(skm.mean_absolute_percentage_error(true[nonzero], pred[nonzero]))
        if zeros := int((~nonzero).sum()):
            notes["mape"] = (
                f"A fraction, over the {int(nonzero.sum())} rows whose true value is not 0 ({zeros} left out)."
            )
    if len(true) < 2:
        notes["r2"] = "Undefined: it needs at least 2 rows."
    elif np.ptp(true) == 0:
        notes["r2"] = "Undefined: every true value is the same."
    else:
        values["r2"] = float(skm.r2_score(true, pred))
    return MetricSet({k: v for k, v in values.items() if math.isfinite(v)}, notes, len(true))
