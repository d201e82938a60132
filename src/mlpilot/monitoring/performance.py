"""Realized ("live") performance of a model, once the ground-truth labels of its predictions are known.

Every number is scikit-learn's own metric on the same rows; this module decides which rows and which
labels, and turns the cases where scikit-learn would warn or return a placeholder (no predicted
positives, one class only, constant targets) into ``None`` with a sentence in ``notes`` saying why.

Labels are matched by their string form when they differ in type, so ``0``, ``0.0``, ``np.int64(0)``
and ``"0"`` are one class: probability columns often come back from JSON or Parquet as strings
while the labels are integers. Internally every label becomes its index in the sorted class list,
which leaves every metric unchanged and spares scikit-learn mixed-type arrays.

- Classification: at most two classes (over labels, predictions and probability columns) is binary,
  with precision, recall and F1 for ``positive_label`` (default the larger label, scikit-learn's
  ``pos_label=1`` for 0/1). More classes use the macro average, where a class never predicted (or
  never true) counts as 0, as scikit-learn's ``zero_division=0`` does. ROC AUC and log loss need
  ``proba``, a frame with one column per class, aligned row by row with the labels.
- Regression: MAE, RMSE, MAPE (a fraction, over the rows whose true value is not 0) and R².
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlpilot.errors import InvalidInput

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "Performance",
    "classification_performance",
    "regression_performance",
]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
NO_ROWS = "no labelled rows"
Codes = np.ndarray[Any, np.dtype[np.intp]]
Floats = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True, slots=True)
class Performance:
    task: str
    rows: int
    metrics: dict[str, float | None]
    notes: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "rows": self.rows,
            "metrics": {name: finite(value) for name, value in self.metrics.items()},
            "notes": dict(self.notes),
        }


def finite(value: float | None) -> float | None:
    """A plain float, or None for a missing, NaN or infinite value (JSON has none of them)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


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
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    array = np.asarray(values, dtype=object) if isinstance(values, list | tuple) else np.asarray(values)
    if array.ndim != 1:
        raise InvalidInput(f"{name} must be one-dimensional, got shape {array.shape}.", hint="Pass a list or Series.")
    return pd.Series(array)


def _pair(y_true: object, y_pred: object) -> tuple[pd.Series, pd.Series, dict[str, str], pd.Series]:
    true, pred = as_series(y_true, "y_true"), as_series(y_pred, "y_pred")
    if len(true) != len(pred):
        raise InvalidInput(
            f"y_true has {len(true)} rows but y_pred has {len(pred)}.",
            hint="Pass one prediction per label, in the same order.",
        )
    keep = ~(true.isna() | pred.isna())
    notes = {}
    if dropped := int((~keep).sum()):
        notes["rows"] = f"Dropped {dropped} of {len(true)} rows whose label or prediction is missing."
    return true[keep], pred[keep], notes, keep


def label_codes(series: pd.Series, code_of: dict[str, int]) -> Codes:
    """Each label's index in the class list, looked up by its matching form (every label must be known)."""
    codes, uniques = pd.factorize(series)
    lookup = np.array([code_of[label_key(value)] for value in uniques], dtype=np.intp)
    return lookup[codes] if len(codes) else np.zeros(0, dtype=np.intp)


def _probabilities(proba: object, rows: int) -> pd.DataFrame:
    if not isinstance(proba, pd.DataFrame):
        raise InvalidInput("proba must be a DataFrame with one column per class.", hint="Use model.predict_proba.")
    if len(proba) != rows:
        raise InvalidInput(
            f"proba has {len(proba)} rows but y_true has {rows}.", hint="Pass one row of probabilities per label."
        )
    try:
        values = proba.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("proba holds values that are not numbers.", hint="Pass probabilities in [0, 1].") from exc
    if np.any((values < 0) | (values > 1)):
        raise InvalidInput("proba holds values outside [0, 1].", hint="Pass probabilities, not scores or logits.")
    return pd.DataFrame(values, columns=proba.columns)


def classification_performance(
    y_true: object, y_pred: object, proba: pd.DataFrame | None = None, *, positive_label: object | None = None
) -> Performance:
    true, pred, notes, keep = _pair(y_true, y_pred)
    metrics: dict[str, float | None] = dict.fromkeys(CLASSIFICATION_METRICS)
    frame = None if proba is None else _probabilities(proba, len(keep))[keep.to_numpy()]
    if not len(true):
        return Performance("classification", 0, metrics, {**notes, **dict.fromkeys(metrics, NO_ROWS)})
    canonical: dict[str, object] = {}
    columns = [] if frame is None else list(frame.columns)
    for label in [*pd.unique(true), *pd.unique(pred), *columns]:
        canonical.setdefault(label_key(label), plain(label))
    if positive_label is not None and label_key(positive_label) not in canonical:
        if len(canonical) == 2:
            raise InvalidInput(
                f"positive_label {positive_label!r} is not one of the classes {sorted_labels(canonical.values())}.",
                hint="Name one of the two classes, or leave positive_label out to use the larger one.",
            )
        if len(canonical) < 2:  # a window may hold only negatives; the positive class still exists
            canonical[label_key(positive_label)] = plain(positive_label)
    classes = sorted_labels(canonical.values())
    code_of = {label_key(label): code for code, label in enumerate(classes)}
    codes_true, codes_pred = label_codes(true, code_of), label_codes(pred, code_of)
    metrics["accuracy"] = float(skm.accuracy_score(codes_true, codes_pred))
    positive = None
    if len(classes) <= 2:
        positive = code_of[label_key(positive_label)] if positive_label is not None else len(classes) - 1
        _binary_counts(metrics, notes, codes_true, codes_pred, positive)
    else:
        if positive_label is not None:
            notes["positive_label"] = f"Ignored: there are {len(classes)} classes, so metrics are macro averages."
        _macro_counts(metrics, notes, codes_true, codes_pred, classes)
    matrix, proba_codes = None, []
    if frame is not None and len(columns):
        proba_codes = [code_of[label_key(column)] for column in columns]
        if len(set(proba_codes)) != len(proba_codes):
            raise InvalidInput(f"proba has two columns for one class: {columns}.", hint="Give each class one column.")
        rows = frame.notna().all(axis=1).to_numpy()
        if not rows.all():
            notes["proba"] = f"Left out {int((~rows).sum())} rows with missing probabilities from roc_auc and log_loss."
        order = np.argsort(proba_codes)
        matrix, codes_true = frame.to_numpy()[rows][:, order], codes_true[rows]
        proba_codes = sorted(proba_codes)
        if len(classes) == 2 and len(proba_codes) == 1:  # one column of a binary model implies the other
            column = matrix[:, 0]
            matrix = np.column_stack([1 - column, column] if proba_codes[0] else [column, 1 - column])
            proba_codes = [0, 1]
    if matrix is None:
        notes["roc_auc"] = notes["log_loss"] = "Needs the predicted probabilities (proba), which were not given."
        return Performance("classification", len(true), metrics, notes)
    _roc_auc(metrics, notes, codes_true, matrix, proba_codes, positive)
    _log_loss(metrics, notes, codes_true, matrix, proba_codes, classes)
    return Performance("classification", len(true), metrics, notes)


def _binary_counts(metrics: dict[str, float | None], notes: dict[str, str], true: Codes, pred: Codes, pos: int) -> None:
    predicted, actual = int((pred == pos).sum()), int((true == pos).sum())
    hits = int(((pred == pos) & (true == pos)).sum())
    if predicted:
        metrics["precision"] = float(skm.precision_score(true, pred, pos_label=pos, zero_division=0.0))
    else:
        notes["precision"] = "Undefined: no row was predicted as the positive class."
    if actual:
        metrics["recall"] = float(skm.recall_score(true, pred, pos_label=pos, zero_division=0.0))
    else:
        notes["recall"] = "Undefined: no row has the positive class as its label."
    if predicted + actual - hits:
        metrics["f1"] = float(skm.f1_score(true, pred, pos_label=pos, zero_division=0.0))
    else:
        notes["f1"] = "Undefined: the positive class was neither predicted nor true in any row."


def _macro_counts(
    metrics: dict[str, float | None], notes: dict[str, str], true: Codes, pred: Codes, classes: list[object]
) -> None:
    present = np.union1d(true, pred)
    for name, score in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        metrics[name] = float(score(true, pred, average="macro", zero_division=0.0))
        notes[name] = f"Macro average over the {len(present)} classes seen in y_true or y_pred."
    if never := [classes[code] for code in np.setdiff1d(present, pred)]:
        notes["precision"] += f" Never predicted, so counted as 0: {never}."
    if absent := [classes[code] for code in np.setdiff1d(present, true)]:
        notes["recall"] += f" Never a true label, so counted as 0: {absent}."


def _roc_auc(
    metrics: dict[str, float | None],
    notes: dict[str, str],
    true: Codes,
    matrix: Floats,
    proba_codes: list[int],
    positive: int | None,
) -> None:
    if len(np.unique(true)) < 2:
        notes["roc_auc"] = "Undefined: y_true holds a single class."
    elif positive is not None:
        column = matrix[:, proba_codes.index(positive)]
        metrics["roc_auc"] = float(skm.roc_auc_score(true == positive, column))
    elif set(proba_codes) == set(true.tolist()) and np.allclose(1, matrix.sum(axis=1)):
        metrics["roc_auc"] = float(skm.roc_auc_score(true, matrix, multi_class="ovr", labels=proba_codes))
        notes["roc_auc"] = "One-vs-rest macro average."
    else:
        scored = [i for i, code in enumerate(proba_codes) if code in set(true.tolist())]
        if not scored:
            notes["roc_auc"] = "Undefined: no class in y_true has a probability column."
            return
        metrics["roc_auc"] = float(np.mean([skm.roc_auc_score(true == proba_codes[i], matrix[:, i]) for i in scored]))
        notes["roc_auc"] = f"One-vs-rest macro average over the {len(scored)} classes with labels and probabilities."


def _log_loss(
    metrics: dict[str, float | None],
    notes: dict[str, str],
    true: Codes,
    matrix: Floats,
    proba_codes: list[int],
    classes: list[object],
) -> None:
    if unknown := [classes[code] for code in np.setdiff1d(true, proba_codes)]:
        notes["log_loss"] = f"Undefined: these labels in y_true have no probability column: {unknown}."
        return
    if len(proba_codes) < 2:
        notes["log_loss"] = "Undefined: it needs probabilities for at least two classes."
        return
    sums = matrix.sum(axis=1)
    # scikit-learn warns (and our suite fails) unless rows sum to 1 within sqrt(eps); rows off by rounding
    # are rescaled, rows that are plainly not a distribution make the metric undefined.
    if not np.allclose(sums, 1, rtol=math.sqrt(np.finfo(np.float64).eps), atol=1e-8):
        if not np.allclose(sums, 1, rtol=1e-6, atol=1e-3):
            notes["log_loss"] = "Undefined: the probability rows do not sum to 1 (is a class column missing?)."
            return
        matrix = matrix / sums[:, None]
        notes["log_loss"] = "Probability rows were rescaled to sum to exactly 1."
    metrics["log_loss"] = float(skm.log_loss(true, matrix, labels=proba_codes))


def regression_performance(y_true: object, y_pred: object) -> Performance:
    true_raw, pred_raw, notes, _ = _pair(y_true, y_pred)
    metrics: dict[str, float | None] = dict.fromkeys(REGRESSION_METRICS)
    try:
        true = pd.to_numeric(true_raw).to_numpy(dtype=np.float64)
        pred = pd.to_numeric(pred_raw).to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "Regression needs numeric y_true and y_pred.", hint="Convert the values to numbers."
        ) from exc
    if not (np.isfinite(true).all() and np.isfinite(pred).all()):
        raise InvalidInput("y_true or y_pred holds an infinite value.", hint="Pass finite numbers (or null to skip).")
    if not len(true):
        return Performance("regression", 0, metrics, {**notes, **dict.fromkeys(metrics, NO_ROWS)})
    metrics["mae"] = float(skm.mean_absolute_error(true, pred))
    metrics["rmse"] = float(skm.root_mean_squared_error(true, pred))
    nonzero = true != 0
    if not nonzero.any():
        notes["mape"] = "Undefined: every true value is 0."
    else:
        metrics["mape"] = float(skm.mean_absolute_percentage_error(true[nonzero], pred[nonzero]))
        if zeros := int((~nonzero).sum()):
            notes["mape"] = (
                f"A fraction, over the {int(nonzero.sum())} rows whose true value is not 0 ({zeros} left out)."
            )
    if len(true) < 2:
        notes["r2"] = "Undefined: it needs at least 2 rows."
    elif np.ptp(true) == 0:
        notes["r2"] = "Undefined: every true value is the same."
    else:
        metrics["r2"] = float(skm.r2_score(true, pred))
    return Performance("regression", len(true), metrics, notes)
