"""Metrics of predictions against labels, named as the registry and the monitors name them: the
one implementation behind offline evaluation (``evaluate_model``) and live performance
(``monitoring.performance``).

Every number is scikit-learn's own function on the same rows; this module picks the rows and the
classes and turns the cases where scikit-learn would warn or return a placeholder (one class only,
no predicted positives, constant targets) into an absent metric with a sentence in ``notes``.
A metric is never NaN: it is a finite float, or it is missing and ``notes`` says why.

- Classification. At most two classes (over labels, predictions and probability columns) is
  binary: precision, recall and F1 are those of the positive class, ``positive_label`` or by
  default the larger label (scikit-learn's ``pos_label=1`` for 0/1). More classes use the
  unweighted macro average over the classes seen in labels or predictions; a class never predicted
  (or never true) counts as 0 (``zero_division=0``), and the notes name it. ROC AUC (one-vs-rest
  macro average for several classes) and log loss need the class probabilities: a frame with one
  column per class, or an array with the class of each column (a model's ``classes_``).
- Regression: MAE, RMSE, MAPE (a fraction, over the rows whose true value is not 0) and R².

Labels are matched by their string form when types differ, so ``1``, ``1.0``, ``np.int64(1)`` and
``"1"`` are one class: a CSV holdout often reads labels back with another type than the model
predicts, and probability columns come back from JSON or Parquet as strings. Internally every label
becomes its index in the sorted class list, which leaves every metric unchanged and spares
scikit-learn mixed-type arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlpilot.errors import InvalidInput
from mlpilot.evaluation.names import CLASSIFICATION_METRICS, REGRESSION_METRICS

__all__ = [
    "Codes",
    "Floats",
    "MetricSet",
    "as_series",
    "classification_metrics",
    "label_codes",
    "label_key",
    "plain",
    "regression_metrics",
    "sorted_labels",
]

Codes = np.ndarray[Any, np.dtype[np.intp]]
Floats = np.ndarray[Any, np.dtype[np.float64]]
NO_ROWS = "No labelled rows."


@dataclass(frozen=True, slots=True)
class MetricSet:
    """The metrics that could be computed (finite floats) and, for the others, why not."""

    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    rows: int = 0


def label_key(label: object) -> str:
    """The form labels are matched by when they differ in type: 1, 1.0, np.int64(1) and "1" agree."""
    if isinstance(label, bool | np.bool_):
        return str(bool(label))
    if isinstance(label, int | float | np.integer | np.floating) and float(label).is_integer():
        return str(int(label))
    return str(label)


def plain(label: object) -> object:
    """A numpy scalar as the Python value it holds, so labels survive JSON."""
    return label.item() if isinstance(label, np.generic) else label


def sorted_labels(labels: Iterable[object]) -> list[object]:
    unique = list(labels)
    try:
        return sorted(unique)  # type: ignore[type-var]
    except TypeError:  # numbers mixed with strings: order by the matching form instead
        return sorted(unique, key=label_key)


def as_series(values: object, name: str) -> pd.Series:
    """One value per row as a Series: a list, a 1-D array, a Series, or a single column of either."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InvalidInput(f"{name} has {values.shape[1]} columns; expected one", hint="Pass one value per row.")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    # A list keeps each label's own type (numpy would turn [1, "a"] into two strings).
    array = np.asarray(values, dtype=object) if isinstance(values, list | tuple) else np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidInput(
            f"{name} must be one-dimensional (one value per row), got shape {array.shape}",
            hint="Pass a list or Series.",
        )
    return pd.Series(array)


def label_codes(series: pd.Series, code_of: dict[str, int]) -> Codes:
    """Each label's index in the class list, looked up by its matching form (every label must be known)."""
    # Factorize first so the Python-level key lookup runs once per distinct label, not per row.
    codes, uniques = pd.factorize(series)
    lookup = np.array([code_of[label_key(value)] for value in uniques], dtype=np.intp)
    return lookup[codes] if len(codes) else np.zeros(0, dtype=np.intp)


def _pair(y_true: object, y_pred: object) -> tuple[pd.Series, pd.Series, np.ndarray[Any, Any], dict[str, str]]:
    true, pred = as_series(y_true, "y_true"), as_series(y_pred, "y_pred")
    if len(true) != len(pred):
        raise InvalidInput(
            f"y_true has {len(true)} rows but y_pred has {len(pred)}",
            hint="Pass one prediction per label, in the same order.",
        )
    keep = (~(true.isna() | pred.isna())).to_numpy()
    notes: dict[str, str] = {}
    if dropped := int((~keep).sum()):
        notes["rows"] = f"Left out {dropped} of {len(true)} rows whose label or prediction is missing."
    return true[keep], pred[keep], keep, notes


def _matrix(proba: object, columns: int, rows: int) -> Floats:
    try:
        matrix = (
            proba.to_numpy(dtype=np.float64) if isinstance(proba, pd.DataFrame) else np.asarray(proba, dtype=np.float64)
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput("proba holds values that are not numbers", hint="Pass probabilities in [0, 1].") from exc
    if matrix.ndim != 2 or matrix.shape[1] != columns:
        raise InvalidInput(f"proba has shape {matrix.shape} for {columns} classes", hint="Pass one column per class.")
    if len(matrix) != rows:
        raise InvalidInput(
            f"proba has {len(matrix)} rows but y_true has {rows}", hint="Pass one row of probabilities per label."
        )
    if np.any((matrix < 0) | (matrix > 1)):
        raise InvalidInput("proba holds values outside [0, 1]", hint="Pass probabilities, not scores or logits.")
    return matrix


def classification_metrics(
    y_true: object,
    y_pred: object,
    proba: object | None = None,
    classes: Sequence[object] | None = None,
    *,
    positive_label: object | None = None,
) -> MetricSet:
    """``proba`` holds one column per class, aligned row by row with the labels: a DataFrame whose
    columns are the classes, or an array whose column ``i`` is ``classes[i]`` (a model's ``classes_``)."""
    true, pred, keep, notes = _pair(y_true, y_pred)
    if isinstance(proba, pd.DataFrame) and classes is None:
        classes = list(proba.columns)
    columns = [] if classes is None else list(classes)
    matrix = None if proba is None or not columns else _matrix(proba, len(columns), len(keep))
    if not len(true):
        return MetricSet({}, {**notes, **dict.fromkeys(CLASSIFICATION_METRICS, NO_ROWS)}, 0)
    canonical: dict[str, object] = {}
    for label in [*pd.unique(true), *pd.unique(pred), *columns]:
        canonical.setdefault(label_key(label), plain(label))
    if positive_label is not None and label_key(positive_label) not in canonical:
        if len(canonical) >= 2:
            raise InvalidInput(
                f"the positive label {positive_label!r} is not one of the classes {sorted_labels(canonical.values())}",
                hint="Name one of the classes, or leave the positive label out to use the larger one.",
            )
        canonical[label_key(positive_label)] = plain(positive_label)  # only negatives here; the class still exists
    ordered = sorted_labels(canonical.values())
    code_of = {label_key(label): code for code, label in enumerate(ordered)}
    codes_true, codes_pred = label_codes(true, code_of), label_codes(pred, code_of)
    values = {"accuracy": float(skm.accuracy_score(codes_true, codes_pred))}
    positive: int | None = None
    if len(ordered) <= 2:
        positive = code_of[label_key(positive_label)] if positive_label is not None else len(ordered) - 1
        _binary(values, notes, codes_true, codes_pred, positive)
    else:
        if positive_label is not None:
            notes["positive_label"] = (
                f"Ignored: there are {len(ordered)} classes, so precision, recall and F1 are macro averages."
            )
        _macro(values, notes, codes_true, codes_pred, ordered)
    if matrix is None:
        notes["roc_auc"] = notes["log_loss"] = (
            "Needs the class probabilities (proba), which were not given."
            if proba is None or isinstance(proba, pd.DataFrame)
            else "Needs the class of each probability column (classes), which was not given."
        )
        return MetricSet(values, notes, len(true))
    proba_codes = [code_of[label_key(label)] for label in columns]
    if len(set(proba_codes)) != len(proba_codes):
        raise InvalidInput(f"proba has two columns for one class: {columns}", hint="Give each class one column.")
    matrix = matrix[keep]
    rows = ~np.isnan(matrix).any(axis=1)
    if not rows.any():
        notes["roc_auc"] = notes["log_loss"] = "Undefined: every row's probabilities are missing."
        return MetricSet(values, notes, len(true))
    if not rows.all():
        notes["proba"] = f"Left out {int((~rows).sum())} rows with missing probabilities from roc_auc and log_loss."
    order = np.argsort(proba_codes)
    matrix, scored = matrix[rows][:, order], codes_true[rows]
    proba_codes = sorted(proba_codes)
    if len(ordered) == 2 and len(proba_codes) == 1:  # one column of a binary model implies the other
        column = matrix[:, 0]
        matrix = np.column_stack([1 - column, column] if proba_codes[0] else [column, 1 - column])
        proba_codes = [0, 1]
    _roc_auc(values, notes, scored, matrix, proba_codes, positive, ordered)
    _log_loss(values, notes, scored, matrix, proba_codes, ordered)
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


def _macro(values: dict[str, float], notes: dict[str, str], true: Codes, pred: Codes, classes: list[object]) -> None:
    present = np.union1d(true, pred)
    for name, score in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        values[name] = float(score(true, pred, average="macro", zero_division=0.0))
        notes[name] = f"Macro average over the {len(present)} classes seen in the labels or predictions."
    if never := [classes[code] for code in np.setdiff1d(present, pred)]:
        notes["precision"] += f" Never predicted, so counted as 0: {never}."
    if absent := [classes[code] for code in np.setdiff1d(present, true)]:
        notes["recall"] += f" Never a true label, so counted as 0: {absent}."


def _roc_auc(
    values: dict[str, float],
    notes: dict[str, str],
    true: Codes,
    matrix: Floats,
    proba_codes: list[int],
    positive: int | None,
    classes: list[object],
) -> None:
    labelled = set(np.unique(true).tolist())
    if len(labelled) < 2:
        notes["roc_auc"] = "Undefined: the labels hold a single class."
    elif positive is not None:
        values["roc_auc"] = float(skm.roc_auc_score(true == positive, matrix[:, proba_codes.index(positive)]))
    elif set(proba_codes) == labelled and np.allclose(1, matrix.sum(axis=1)):
        values["roc_auc"] = float(skm.roc_auc_score(true, matrix, multi_class="ovr", labels=proba_codes))
        notes["roc_auc"] = "One-vs-rest macro average."
    else:
        # The same macro average scikit-learn takes, over the classes it is defined for: scikit-learn
        # refuses the whole metric when a class lacks labels or a column, or rows do not sum to 1.
        scored = [i for i, code in enumerate(proba_codes) if code in labelled]
        if not scored:
            notes["roc_auc"] = "Undefined: no class in the labels has a probability column."
            return
        values["roc_auc"] = float(np.mean([skm.roc_auc_score(true == proba_codes[i], matrix[:, i]) for i in scored]))
        notes["roc_auc"] = (
            f"One-vs-rest macro average over the {len(scored)} classes with both labels and probabilities."
        )
        skipped = sorted(labelled.union(proba_codes) - {proba_codes[i] for i in scored})
        if skipped:
            notes["roc_auc"] += f" Left out: {[classes[code] for code in skipped]}."


def _log_loss(
    values: dict[str, float],
    notes: dict[str, str],
    true: Codes,
    matrix: Floats,
    proba_codes: list[int],
    classes: list[object],
) -> None:
    if unknown := [classes[code] for code in np.setdiff1d(true, proba_codes)]:
        notes["log_loss"] = f"Undefined: these labels have no probability column: {unknown}."
        return
    if len(proba_codes) < 2:
        notes["log_loss"] = "Undefined: it needs probabilities for at least two classes."
        return
    sums = matrix.sum(axis=1)
    # scikit-learn warns unless rows sum to 1 within sqrt(eps); rows off by rounding (float32 models)
    # are rescaled, and said so; rows that are plainly not a distribution make the metric undefined.
    if not np.allclose(sums, 1, rtol=math.sqrt(np.finfo(np.float64).eps), atol=1e-8):
        if not np.allclose(sums, 1, rtol=1e-6, atol=1e-3):
            notes["log_loss"] = "Undefined: the probability rows do not sum to 1 (is a class column missing?)."
            return
        matrix = matrix / sums[:, None]
        notes["log_loss"] = "Probability rows were rescaled to sum to exactly 1."
    values["log_loss"] = float(skm.log_loss(true, matrix, labels=proba_codes))


def regression_metrics(y_true: object, y_pred: object) -> MetricSet:
    true_raw, pred_raw, _, notes = _pair(y_true, y_pred)
    try:
        true = pd.to_numeric(true_raw).to_numpy(dtype=np.float64)
        pred = pd.to_numeric(pred_raw).to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "regression needs numeric y_true and y_pred",
            hint="Convert the label column to numbers, or evaluate as classification.",
        ) from exc
    if not (np.isfinite(true).all() and np.isfinite(pred).all()):
        raise InvalidInput("y_true or y_pred holds an infinite value", hint="Pass finite numbers (or null to skip).")
    if not len(true):
        return MetricSet({}, {**notes, **dict.fromkeys(REGRESSION_METRICS, NO_ROWS)}, 0)
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
