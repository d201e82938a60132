"""Evaluate a loaded model on a labelled frame: predict, then score with ``evaluation.metrics``.

The features are the columns of the model's signature when it has one (so a holdout file may carry
ids, the label and other extras), otherwise every column but the label. Rows without a label are
left out before predicting. The task is inferred when not given: a model with class probabilities
or class labels, or a scikit-learn classifier, is a classifier; a scikit-learn regressor, or
labels with fractional values, is a regression; non-numeric labels are classes. Anything still
ambiguous is refused with a hint to name the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpilot.errors import InvalidInput, MlpilotError, PredictionFailed
from mlpilot.evaluation.metrics import MetricSet, classification_metrics, regression_metrics

if TYPE_CHECKING:
    from mlpilot.models.loaded import LoadedModel

__all__ = ["TASKS", "Evaluation", "Task", "evaluate_model", "features_of", "infer_task"]

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a model scored on a labelled frame; ``notes`` says why a metric is absent (or how it was
    averaged), ``rows`` is the number of labelled rows scored."""

    task: Task
    rows: int
    metrics: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "task": self.task,
            "rows": self.rows,
            "metrics": dict(self.metrics),
            "notes": dict(self.notes),
        }


def evaluate_model(
    model: LoadedModel,
    frame: pd.DataFrame,
    label: str,
    task: Task | None = None,
    *,
    positive_label: object | None = None,
) -> Evaluation:
    if label not in frame.columns:
        raise InvalidInput(
            f"the data has no label column {label!r} (columns: {', '.join(map(str, frame.columns))})",
            hint="Name the column that holds the true values (--label).",
        )
    if task is not None and task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}", hint="Use 'classification' or 'regression'.")
    labelled = frame[frame[label].notna()].reset_index(drop=True)
    if labelled.empty:
        raise InvalidInput(f"no row of the data has a value in its label column {label!r}", hint="Check the file.")
    features = features_of(model, labelled, label)
    y_true = labelled[label]
    y_pred = _one_column(_call(model, "predict", features), model)
    resolved = task or infer_task(model, y_true, y_pred)
    if resolved == "regression":
        scored = regression_metrics(y_true, y_pred)
    else:
        proba, classes = _probabilities(model, features)
        scored = classification_metrics(y_true, y_pred, proba, classes, positive_label=positive_label)
    return _evaluation(resolved, scored, model.source)


def features_of(model: LoadedModel, frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """The columns ``model`` reads from ``frame``: its signature's inputs, or all but ``label``."""
    if model.signature is None:
        return frame.drop(columns=[label])
    names = model.signature.input_names()
    if missing := [name for name in names if name not in frame.columns]:
        raise InvalidInput(
            f"the data lacks the columns {', '.join(map(repr, missing))} that {model.source} reads",
            hint="Evaluate on data with every input column of the model's signature.",
        )
    if label in names:
        raise InvalidInput(
            f"the label column {label!r} is an input of {model.source}", hint="Name the column the model predicts."
        )
    return frame[names]


def infer_task(model: LoadedModel, y_true: pd.Series, y_pred: object) -> Task:
    raw = model.raw
    if model.has_predict_proba or _classes(raw) is not None:
        return "classification"
    if hasattr(raw, "__sklearn_tags__"):
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(raw):
            return "classification"
        if is_regressor(raw):
            return "regression"
    if not ptypes.is_numeric_dtype(y_true) or ptypes.is_bool_dtype(y_true):
        return "classification"
    predictions = pd.Series(np.asarray(y_pred).ravel())
    for values in (y_true, predictions):
        if ptypes.is_float_dtype(values) and not np.all(np.mod(values.dropna().to_numpy(dtype=float), 1) == 0):
            return "regression"
    raise InvalidInput(
        f"cannot tell whether {model.source} is a classifier or a regressor: it gives no class "
        "probabilities and its labels and predictions are whole numbers",
        hint="Name the task: task='classification' or 'regression' (--task on the command line).",
    )


def _evaluation(task: Task, scored: MetricSet, source: str) -> Evaluation:
    return Evaluation(task, scored.rows, dict(scored.values), dict(scored.notes), source)


def _call(model: LoadedModel, method: str, features: pd.DataFrame) -> Any:
    try:
        return getattr(model, method)(features)
    except MlpilotError:
        raise
    except Exception as exc:  # a user model may raise anything; say which model failed
        raise PredictionFailed(
            f"{model.source} raised {type(exc).__name__} in {method}: {exc}",
            hint="Check that the data has the columns and types the model was trained on.",
        ) from exc


def _one_column(prediction: object, model: LoadedModel) -> pd.Series:
    if isinstance(prediction, pd.DataFrame):
        if prediction.shape[1] != 1:
            raise InvalidInput(f"{model.source} predicts {prediction.shape[1]} columns; only one can be evaluated")
        return prediction.iloc[:, 0].reset_index(drop=True)
    array = np.asarray(prediction)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidInput(f"{model.source} predicts an array of shape {array.shape}; only one value per row works")
    return pd.Series(array)


def _classes(raw: object) -> Sequence[object] | None:
    # scikit-learn and XGBoost estimators expose classes_; mlpilot's LightGBM wrapper, classes.
    for attribute in ("classes_", "classes"):
        found = getattr(raw, attribute, None)
        if found is not None and not callable(found):
            return cast(Sequence[object], np.asarray(found).tolist())
    return None


def _probabilities(
    model: LoadedModel, features: pd.DataFrame
) -> tuple[np.ndarray[Any, Any] | None, list[object] | None]:
    if not model.has_predict_proba:
        return None, None
    proba = _call(model, "predict_proba", features)
    if isinstance(proba, pd.DataFrame):
        return proba.to_numpy(dtype=np.float64), list(proba.columns)
    classes = _classes(model.raw)
    return np.asarray(proba, dtype=np.float64), None if classes is None else list(classes)
