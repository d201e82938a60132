"""Batch scoring of a pandas frame: the input columns plus the model's predictions.

The one definition of what a scored batch looks like: ``mlpilot predict`` (pandas engine) scores
a whole file with it, and the Spark engine scores each Arrow batch of each task with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlpilot.errors import InvalidInput, PredictionFailed

if TYPE_CHECKING:
    from mlpilot.models.loaded import LoadedModel

__all__ = ["PROBA_PREFIX", "class_labels", "label_type", "proba_columns", "score_frame"]

PROBA_PREFIX = "proba_"


def class_labels(model: LoadedModel) -> list[str] | None:
    """A classifier's class labels as text (the order of its probability columns), else None."""
    if not model.has_predict_proba:
        return None
    classes = getattr(model.raw, "classes_", None)
    if classes is None:
        classes = getattr(model.raw, "classes", None)
    return None if classes is None else [str(label) for label in np.asarray(classes).tolist()]


def proba_columns(model: LoadedModel) -> list[str]:
    labels = class_labels(model)
    if labels is None:
        raise InvalidInput(
            f"the {model.flavor} model {model.source} gives no class probabilities",
            hint="Only classifiers with predict_proba and known classes do; score without proba.",
        )
    return [f"{PROBA_PREFIX}{label}" for label in labels]


def score_frame(
    model: LoadedModel, frame: pd.DataFrame, *, prediction_col: str = "prediction", proba: bool = False
) -> pd.DataFrame:
    """``frame`` with a prediction column (and ``proba_<class>`` columns with ``proba``); only the
    signature's columns reach the model, checked and converted as a served request's are."""
    names = proba_columns(model) if proba else []
    clashing = [name for name in (prediction_col, *names) if name in frame.columns]
    if clashing:
        raise InvalidInput(
            f"the input already has the column(s) {', '.join(clashing)}",
            hint="Drop or rename them, or choose another prediction column name.",
        )
    if len(frame) == 0:
        # Models refuse zero rows, and an empty partition is no reason to fail a Spark task.
        return frame.assign(**{name: pd.Series([], dtype=object) for name in (prediction_col, *names)})
    inputs = model.signature.input_names() if model.signature is not None else None
    features = frame if inputs is None else _inputs(frame, inputs)
    try:
        predicted = np.asarray(model.predict(features))
        probabilities = np.asarray(model.predict_proba(features)) if proba else None
    except InvalidInput:
        raise
    except Exception as exc:  # the model's own code may raise anything
        raise PredictionFailed(
            f"model {model.source} failed on a batch of {len(frame)} rows: {type(exc).__name__}"
        ) from exc
    out = frame.copy(deep=False)
    out[prediction_col] = predicted.reshape(len(frame), -1)[:, 0] if predicted.ndim > 1 else predicted
    if probabilities is not None:
        for index, name in enumerate(names):
            out[name] = probabilities[:, index].astype(np.float64)
    return out


def _inputs(frame: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    # Missing columns stay for validation to name; extra ones (ids, labels) are not the model's.
    present = [name for name in inputs if name in frame.columns]
    return frame[present] if len(present) == len(inputs) else frame


def label_type(model: LoadedModel) -> str | None:
    """The signature type of the predictions: from the signature, else a classifier's labels."""
    outputs = model.signature.outputs if model.signature is not None else ()
    if len(outputs) == 1:
        return outputs[0].type
    classes: Any = getattr(model.raw, "classes_", None)
    if classes is None:
        return None
    return {"i": "integer", "u": "integer", "b": "boolean", "f": "float"}.get(np.asarray(classes).dtype.kind, "string")
