"""LightGBM models (the scikit-learn wrappers and plain Boosters) in LightGBM's own text format.

No pickle: the text format loads without running code from the file and across LightGBM versions.
It holds the trees, feature names and pandas categories but not a classifier's class labels, so
those are saved beside it and ``LightGBMModel`` rebuilds the wrapper's ``predict`` (labels) and
``predict_proba`` from the Booster's probabilities, exactly as ``LGBMClassifier`` computes them.
LightGBM is an extra, imported here only when a LightGBM model is saved, loaded or used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.errors import InvalidInput
from mlpilot.models.flavors.base import (
    MethodPredictions,
    distribution_versions,
    is_instance_of,
    missing_library,
    owning_distributions,
)

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.models.descriptor import Descriptor

__all__ = ["LightGBMFlavor", "LightGBMModel"]

MODEL_FILE = "model.txt"
INFO_FILE = "model_info.json"
_CLASSES = ("LGBMClassifier", "LGBMRegressor", "LGBMRanker", "LGBMModel", "Booster")


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:
        raise missing_library("lightgbm", "lightgbm", exc) from exc
    return lightgbm


@dataclass(frozen=True, slots=True)
class LightGBMModel:
    """A loaded LightGBM model: the Booster, the class it was saved from and, for a classifier, its
    class labels (``classes[i]`` is the label of probability column ``i``)."""

    booster: Any
    kind: str
    classes: np.ndarray[Any, Any] | None = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        if self.classes is None:
            return np.asarray(self.booster.predict(frame))
        return np.asarray(self.classes[np.argmax(self.predict_proba(frame), axis=1)])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        if self.classes is None:
            raise InvalidInput(f"a LightGBM {self.kind} has no predict_proba; only classifiers do")
        scores = np.asarray(self.booster.predict(frame))
        # A binary booster returns P(class 1) only; the wrapper stacks [1 - p, p].
        return np.vstack((1.0 - scores, scores)).T if scores.ndim == 1 else scores


class LightGBMFlavor(MethodPredictions):
    name = "lightgbm"
    library = "lightgbm"

    def matches(self, model: object) -> bool:
        return is_instance_of(model, "lightgbm", ("LGBMModel", "Booster"))

    def save(self, model: object, directory: Path) -> tuple[str, ...]:
        lgb = _lightgbm()
        kind = next(cls.__name__ for cls in type(model).__mro__ if cls.__name__ in _CLASSES)
        info: dict[str, Any] = {"class": kind}
        booster = model
        if isinstance(model, lgb.LGBMModel):
            try:
                booster = model.booster_
            except (ValueError, AttributeError) as exc:  # LightGBM's NotFittedError derives from both
                raise InvalidInput(
                    f"the {type(model).__name__} is not fitted", hint="Call fit(...) before saving the model."
                ) from exc
            if isinstance(model, lgb.LGBMClassifier):
                info["classes"] = _json_labels(model.classes_)
        booster.save_model(directory / MODEL_FILE)  # type: ignore[attr-defined]
        (directory / INFO_FILE).write_text(json.dumps(info) + "\n", encoding="utf-8")
        return (MODEL_FILE, INFO_FILE)

    def load(self, directory: Path, descriptor: Descriptor) -> object:
        lgb = _lightgbm()
        info = _read_info(directory / INFO_FILE)
        booster = lgb.Booster(model_file=directory / MODEL_FILE)
        classes = info.get("classes")
        return LightGBMModel(booster, info["class"], None if classes is None else np.asarray(classes))

    def packages(self, model: object) -> dict[str, str]:
        return {**owning_distributions(model), **distribution_versions("lightgbm")}

    def has_predict_proba(self, model: object) -> bool:
        return isinstance(model, LightGBMModel) and model.classes is not None


def _json_labels(classes: Any) -> list[Any]:
    labels = np.asarray(classes).tolist()
    try:
        json.dumps(labels, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"the classifier's class labels cannot be saved as JSON: {exc}",
            hint="Use string, integer or boolean labels.",
        ) from exc
    return list(labels)


def _read_info(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path} is missing or unreadable: {exc}") from exc
    if not isinstance(info, dict) or info.get("class") not in _CLASSES:
        raise InvalidInput(f"{path} does not name a known LightGBM class ({', '.join(_CLASSES)})")
    if info.get("classes") is not None and not isinstance(info["classes"], list):
        raise InvalidInput(f"{path} has an invalid 'classes' list")
    return info
