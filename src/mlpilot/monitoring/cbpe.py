"""Confidence-based performance estimation (CBPE): how well a classifier does on a window whose labels
have not arrived, from its predicted probabilities alone. The idea is NannyML's; this code is ours.

**Estimate.** With ``p`` the calibrated probability that a row is of class k, the row adds ``p``
expected true positives when the model predicted k (``1 - p`` false positives), and ``p`` expected false
negatives when it did not (``1 - p`` true negatives). Precision, recall and F1 follow from these expected
counts; accuracy is the mean calibrated probability of the predicted class. ROC AUC ranks rows by the
model's own (uncalibrated) score, takes the running sum of ``p`` as expected true positives at each
distinct score (rank minus that as false positives) and integrates that ROC curve by trapezoids. The
predicted class is the argmax (two classes: positive when its probability is at least 0.5). Several
classes: one-vs-rest per class, then the macro average.

**Calibration.** ``fit`` learns an isotonic regression per class on a labelled reference (not the
training set, where a model is overconfident): for the positive class when there are two, one-vs-rest
otherwise, with rows renormalised to sum to 1. With ``calibrate=None`` it calibrates only if that lowers
the expected calibration error (10 equal-count bins, mean over classes) on the pooled held-out parts of 10
stratified shuffle splits (test share 0.1, fixed seed); never when the reference ROC AUC exceeds 0.999 or
the reference is too small to split. Calibrators are kept as their thresholds and applied by linear
interpolation (what isotonic regression's predict does), so a fitted estimator is plain JSON.

**Sampling error** (one standard error; the band is ±3·SE). On the reference each metric is a mean of
0/1 contributions over some rows: accuracy over all rows, precision over predicted positives, recall over
actual positives, F1 over rows that are a TP, FP or FN. We keep the population std of those contributions;
for a window, SE = std / sqrt(m), m being that subset's size in the window: all rows, the predicted
positives (observed), the expected positives, the expected TP + FP + FN. ROC AUC uses DeLong's placements:
SE² = var(V+)/m+ + var(V-)/m-, V+ being the share of negatives a positive outranks (ties count half), V- the
share of positives above a negative, m+ and m- the window's expected positives and negatives. A macro
average's SE is the mean of the classes' SEs, a bound that holds however their errors correlate. When
calibrated, SE is multiplied by sqrt(1 + n/n_ref): the calibration was learned from n_ref rows and carries
their noise into the estimate. SE is the noise of finite samples only, not the bias of a broken assumption
(``ASSUMPTIONS``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedShuffleSplit

from mlpilot.errors import InvalidInput
from mlpilot.monitoring.performance import Floats, as_series, finite, label_codes, label_key, plain, sorted_labels

__all__ = ["ASSUMPTIONS", "CBPE", "METRICS", "EstimatedPerformance"]

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
ASSUMPTIONS = (
    "The probabilities are calibrated: on the reference, or by the calibration fitted on it.",
    "No concept drift: the relation between inputs and labels is the same as in the reference.",
    "No shift into unseen regions: the window's inputs lie where the reference had data.",
    "The window is large enough: small windows vary widely, as the ±3 sampling-error band shows.",
)
_FORMAT = "mlpilot.cbpe/1"
_SEED = 20240611
_BINS = 10
Calibrator = tuple[tuple[float, ...], tuple[float, ...]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True, slots=True)
class EstimatedPerformance:
    rows: int
    metrics: dict[str, float | None]
    sampling_error: dict[str, float | None]
    calibrated: bool
    assumptions: tuple[str, ...]
    notes: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "metrics": {name: finite(value) for name, value in self.metrics.items()},
            "sampling_error": {name: finite(value) for name, value in self.sampling_error.items()},
            "calibrated": self.calibrated,
            "assumptions": list(self.assumptions),
            "notes": dict(self.notes),
        }


@dataclass(frozen=True, slots=True)
class CBPE:
    """Fit on a labelled reference (NOT the training set), estimate on unlabelled windows."""

    classes: tuple[object, ...]
    positive: int | None  # index of the positive class when there are two; None for several
    calibrators: tuple[Calibrator, ...]  # one per estimated class, or none when not calibrated
    calibration_note: str
    accuracy_spread: float | None
    spread: tuple[dict[str, float | None], ...]  # per estimated class, see the module docstring
    reference_rows: int

    @property
    def _views(self) -> tuple[int, ...]:
        return tuple(range(len(self.classes))) if self.positive is None else (self.positive,)

    @classmethod
    def fit(
        cls, proba: pd.DataFrame, y_true: object, *, positive_label: object | None = None, calibrate: bool | None = None
    ) -> CBPE:
        classes, raw = _matrix(proba, None)
        labels = as_series(y_true, "y_true")
        if len(labels) != len(raw):
            raise InvalidInput(f"proba has {len(raw)} rows but y_true has {len(labels)}.", hint="Align them by row.")
        keep = labels.notna().to_numpy()
        raw, labels = raw[keep], labels[keep]
        code_of = {label_key(label): code for code, label in enumerate(classes)}
        if unknown := sorted_labels({plain(v) for v in pd.unique(labels) if label_key(v) not in code_of}):
            raise InvalidInput(f"y_true holds labels with no probability column: {unknown}.", hint=f"Add {unknown}.")
        y = label_codes(labels, code_of)
        if missing := [classes[code] for code in np.flatnonzero(np.bincount(y, minlength=len(classes)) == 0)]:
            raise InvalidInput(
                f"The reference labels hold {len(classes) - len(missing)} of the {len(classes)} classes (none is "
                f"{missing}); CBPE learns how probabilities relate to outcomes from labelled rows of every class.",
                hint="Fit on a labelled reference window (not the training set) that contains every class.",
            )
        positive = None
        if len(classes) == 2:
            wanted = sorted_labels(classes)[-1] if positive_label is None else positive_label
            if label_key(wanted) not in code_of:
                raise InvalidInput(f"positive_label {wanted!r} is not a class.", hint=f"Name one of {list(classes)}.")
            positive = code_of[label_key(wanted)]
        elif positive_label is not None:
            raise InvalidInput("positive_label applies to two classes only.", hint="Leave it out for several classes.")
        views = (positive,) if positive is not None else tuple(range(len(classes)))
        calibrators, note = _choose_calibration(raw, y, views, positive, calibrate)
        predicted = _predict(raw, positive)
        spread = tuple(_spread(raw[:, k], y == k, predicted == k) for k in views)
        accuracy = _std((predicted == y).astype(np.float64))
        return cls(classes, positive, calibrators, note, accuracy, spread, len(y))

    def estimate(self, proba: pd.DataFrame) -> EstimatedPerformance:
        _, raw = _matrix(proba, self.classes)
        metrics: dict[str, float | None] = dict.fromkeys(METRICS)
        errors: dict[str, float | None] = dict.fromkeys(METRICS)
        notes = {"calibration": self.calibration_note}
        if len(raw):
            self._estimate(raw, metrics, errors, notes)
        else:
            notes["rows"] = "Empty window: there is nothing to estimate from."
        return EstimatedPerformance(len(raw), metrics, errors, bool(self.calibrators), ASSUMPTIONS, notes)

    def _estimate(
        self, raw: Floats, metrics: dict[str, float | None], errors: dict[str, float | None], notes: dict[str, str]
    ) -> None:
        rows, predicted = len(raw), _predict(raw, self.positive)
        probability = _apply(raw, self.calibrators, self.positive)
        metrics["accuracy"] = float(probability[np.arange(rows), predicted].mean())
        errors["accuracy"] = _se(self.accuracy_spread, rows)
        views = [
            _estimate_class(raw[:, k], probability[:, k], predicted == k, spread)
            for k, spread in zip(self._views, self.spread, strict=True)
        ]
        for name in ("precision", "recall", "f1", "roc_auc"):
            values, ses = [view[0][name] for view in views], [view[1][name] for view in views]
            if self.positive is not None:
                metrics[name], errors[name] = values[0], ses[0]
                if values[0] is None:
                    notes[name] = f"Undefined in this window: {_UNDEFINED[name]}."
                continue
            if undefined := [self.classes[k] for k, value in enumerate(values) if value is None]:
                how = "left out of the average" if name == "roc_auc" else "counted as 0, as realized metrics do"
                notes[name] = f"Undefined for {undefined} ({_UNDEFINED[name]}); {how}."
            kept = [v for v in values if v is not None] if name == "roc_auc" else [v or 0.0 for v in values]
            defined = [se for se in ses if se is not None]
            metrics[name] = float(np.mean(kept)) if kept else None
            errors[name] = sum(defined) / len(kept) if defined else None
        if self.positive is None:
            notes["average"] = f"Macro average over {len(self.classes)} classes, one-vs-rest."
        if self.calibrators:  # the calibration, learned from the reference's rows, carries that sample's noise too
            scale = math.sqrt(1 + rows / self.reference_rows)
            errors.update({name: se * scale for name, se in errors.items() if se is not None})

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "classes": list(self.classes),
            "positive_label": None if self.positive is None else self.classes[self.positive],
            "calibrators": [{"x": list(x), "y": list(y)} for x, y in self.calibrators],
            "calibration_note": self.calibration_note,
            "accuracy_spread": self.accuracy_spread,
            "spread": [dict(spread) for spread in self.spread],
            "reference_rows": self.reference_rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CBPE:
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise InvalidInput("This is not a stored CBPE estimator.", hint=f"Pass what CBPE.to_dict gave ({_FORMAT}).")
        try:
            classes = tuple(data["classes"])
            keys = [label_key(label) for label in classes]
            label = data["positive_label"]
            positive = None if label is None else keys.index(label_key(label))
            calibrators = tuple(
                (tuple(map(float, item["x"])), tuple(map(float, item["y"]))) for item in data["calibrators"]
            )
            spread = tuple({k: None if v is None else float(v) for k, v in item.items()} for item in data["spread"])
            accuracy = None if data["accuracy_spread"] is None else float(data["accuracy_spread"])
            note, reference_rows = str(data["calibration_note"]), int(data["reference_rows"])
            estimator = cls(classes, positive, calibrators, note, accuracy, spread, reference_rows)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"A stored CBPE estimator is malformed: {exc!r}.", hint="Fit it again.") from exc
        shapes_agree = len(spread) == len(estimator._views) and len(calibrators) in (0, len(spread))
        complete = all(set(item) == _SPREAD_KEYS for item in spread) and all(
            len(x) == len(y) > 0 for x, y in calibrators
        )
        if not (shapes_agree and complete and reference_rows > 0):
            raise InvalidInput("A stored CBPE estimator is inconsistent.", hint="Fit it again.")
        return estimator


_SPREAD_KEYS = {"precision", "recall", "f1", "auc_positive", "auc_negative"}
_UNDEFINED = {
    "precision": "no row is predicted as the class",
    "recall": "the calibrated probabilities expect no row of the class",
    "f1": "the class is neither predicted nor expected",
    "roc_auc": "it needs expected rows both of the class and of the others",
}


def _matrix(proba: object, classes: Sequence[object] | None) -> tuple[tuple[object, ...], Floats]:
    """The probabilities as a float matrix with columns in class order, after checking they are ones."""
    if not isinstance(proba, pd.DataFrame):
        raise InvalidInput("proba must be a DataFrame with one column per class.", hint="Use model.predict_proba.")
    columns = [plain(column) for column in proba.columns]
    keys = [label_key(column) for column in columns]
    if len(set(keys)) != len(keys):
        raise InvalidInput(f"proba has two columns for one class: {columns}.", hint="Give each class one column.")
    if any(not isinstance(column, str | int | float) for column in columns):
        raise InvalidInput(f"Class labels must be strings or numbers, got {columns}.", hint="Rename the columns.")
    if classes is None:
        if len(columns) < 2:
            raise InvalidInput("proba needs a column per class, at least two.", hint="Pass predict_proba's output.")
        order = list(range(len(columns)))
    else:
        wanted = [label_key(label) for label in classes]
        missing = [label for label, key in zip(classes, wanted, strict=True) if key not in keys]
        extra = [column for column, key in zip(columns, keys, strict=True) if key not in wanted]
        if missing or extra:
            raise InvalidInput(
                f"proba's columns differ from the fitted classes: missing {missing}, extra {extra}.",
                hint=f"Pass one column per class the estimator was fitted on: {list(classes)}.",
            )
        order = [keys.index(key) for key in wanted]
    try:
        values = proba.to_numpy(dtype=np.float64)[:, order]
    except (TypeError, ValueError) as exc:
        raise InvalidInput("proba holds values that are not numbers.", hint="Pass probabilities in [0, 1].") from exc
    if missing_rows := int(np.isnan(values).any(axis=1).sum()):
        raise InvalidInput(f"proba has missing values in {missing_rows} rows.", hint="Drop or fix those rows.")
    if np.any((values < 0) | (values > 1)):
        raise InvalidInput("proba holds values outside [0, 1].", hint="Pass probabilities, not scores or logits.")
    sums = values.sum(axis=1)
    if len(bad := sums[~np.isclose(sums, 1, rtol=1e-6, atol=1e-3)]):
        raise InvalidInput(
            f"{len(bad)} rows of proba do not sum to 1 (the first sums to {bad[0]:.6g}).",
            hint="Pass a probability for every class, so that each row sums to 1.",
        )
    return tuple(columns[i] for i in order), values


def _predict(raw: Floats, positive: int | None) -> np.ndarray[Any, np.dtype[np.intp]]:
    if positive is None:
        return np.asarray(raw.argmax(axis=1), dtype=np.intp)
    return np.where(raw[:, positive] >= 0.5, positive, 1 - positive)


def _fit_calibrators(raw: Floats, y: np.ndarray[Any, Any], views: Sequence[int]) -> tuple[Calibrator, ...]:
    fitted = []
    for k in views:
        model = IsotonicRegression(out_of_bounds="clip").fit(raw[:, k], (y == k).astype(np.float64))
        fitted.append((tuple(model.X_thresholds_.tolist()), tuple(model.y_thresholds_.tolist())))
    return tuple(fitted)


def _apply(raw: Floats, calibrators: Sequence[Calibrator], positive: int | None) -> Floats:
    if not calibrators:
        return raw
    if positive is not None:
        out = np.empty_like(raw)
        out[:, positive] = np.interp(raw[:, positive], *calibrators[0])
        out[:, 1 - positive] = 1 - out[:, positive]
        return out
    out = np.column_stack([np.interp(raw[:, k], *calibrator) for k, calibrator in enumerate(calibrators)])
    sums = out.sum(axis=1, keepdims=True)
    # Isotonic steps can send every class of a row to 0; such a row keeps the model's own probabilities.
    return np.where(sums > 0, out / np.where(sums > 0, sums, 1.0), raw)


def _choose_calibration(
    raw: Floats, y: np.ndarray[Any, Any], views: Sequence[int], positive: int | None, calibrate: bool | None
) -> tuple[tuple[Calibrator, ...], str]:
    if calibrate is not None:
        said = "Calibrated on the reference" if calibrate else "Not calibrated"
        return (_fit_calibrators(raw, y, views) if calibrate else ()), f"{said}, as the caller asked."
    auc = float(np.mean([skm.roc_auc_score(y == k, raw[:, k]) for k in views]))
    if auc > 0.999:
        return (), f"Not calibrated: the reference ROC AUC is {auc:.4f}; isotonic steps would only overfit."
    classes = raw.shape[1]
    if np.bincount(y, minlength=classes).min() < 2 or math.ceil(0.1 * len(y)) < classes:
        return (), "Not calibrated: the reference is too small to check whether calibration helps."
    before, after, truth = [], [], []
    for train, test in StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=_SEED).split(raw, y):
        before.append(raw[test])
        after.append(_apply(raw[test], _fit_calibrators(raw[train], y[train], views), positive))
        truth.append(y[test])
    labels = np.concatenate(truth)
    error_before = _ece(np.concatenate(before), labels, views)
    error_after = _ece(np.concatenate(after), labels, views)
    change = f"expected calibration error on held-out folds {error_before:.4f} -> {error_after:.4f}"
    if error_after < error_before:
        return _fit_calibrators(raw, y, views), f"Calibrated: {change}."
    return (), f"Not calibrated: {change}."


def _ece(probability: Floats, y: np.ndarray[Any, Any], views: Sequence[int]) -> float:
    errors = []
    for k in views:
        p, hit = probability[:, k], (y == k).astype(np.float64)
        bins = [b for b in np.array_split(np.argsort(p, kind="stable"), _BINS) if len(b)]
        errors.append(sum(len(b) * abs(p[b].mean() - hit[b].mean()) for b in bins) / len(p))
    return float(np.mean(errors))


def _std(values: Floats) -> float | None:
    return float(np.std(values)) if len(values) >= 2 else None


def _se(spread: float | None, size: float) -> float | None:
    return spread / math.sqrt(size) if spread is not None and size > 0 else None


def _spread(score: Floats, actual: Bools, predicted: Bools) -> dict[str, float | None]:
    """Per-row contributions on the reference whose std scales into each metric's sampling error."""
    negatives, positives = np.sort(score[~actual]), np.sort(score[actual])
    above = np.searchsorted(negatives, score[actual], "left") + np.searchsorted(negatives, score[actual], "right")
    below = np.searchsorted(positives, score[~actual], "left") + np.searchsorted(positives, score[~actual], "right")
    return {
        "precision": _std(actual[predicted].astype(np.float64)),
        "recall": _std(predicted[actual].astype(np.float64)),
        "f1": _std((actual & predicted)[actual | predicted].astype(np.float64)),
        "auc_positive": _std(above / (2 * len(negatives))) if len(negatives) else None,
        "auc_negative": _std(1 - below / (2 * len(positives))) if len(positives) else None,
    }


def _estimate_class(
    score: Floats, p: Floats, predicted: Bools, spread: Mapping[str, float | None]
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Expected precision, recall, F1 and ROC AUC of one class against the rest, with their standard errors."""
    tp = float(p[predicted].sum())
    fp, fn = float(predicted.sum()) - tp, float(p[~predicted].sum())
    expected = float(p.sum())
    metrics = {
        "precision": tp / (tp + fp) if predicted.any() else None,
        "recall": tp / expected if expected > 0 else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else None,
        "roc_auc": _expected_auc(score, p),
    }
    auc_pos, auc_neg = spread["auc_positive"], spread["auc_negative"]
    negatives = len(p) - expected
    errors = {
        "precision": _se(spread["precision"], float(predicted.sum())),
        "recall": _se(spread["recall"], expected),
        "f1": _se(spread["f1"], tp + fp + fn),
        "roc_auc": math.sqrt(auc_pos**2 / expected + auc_neg**2 / negatives)
        if auc_pos is not None and auc_neg is not None and expected > 0 and negatives > 0
        else None,
    }
    return metrics, errors


def _expected_auc(score: Floats, p: Floats) -> float | None:
    order = np.argsort(-score, kind="stable")
    ranked = score[order]
    tp = np.cumsum(p[order])
    fp = np.arange(1, len(p) + 1) - tp
    # Rows with equal scores share one threshold, as in the realized ROC curve.
    last = np.r_[np.flatnonzero(np.diff(ranked)), len(p) - 1]
    tp, fp = tp[last], fp[last]
    if tp[-1] <= 0 or fp[-1] <= 0:
        return None
    return float(np.trapezoid(np.r_[0.0, tp / tp[-1]], np.r_[0.0, fp / fp[-1]]))
