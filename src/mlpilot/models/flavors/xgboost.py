"""XGBoost models (the scikit-learn wrappers and plain Boosters) in XGBoost's own JSON format.

No pickle: the native format loads without running code from the file and across XGBoost
versions. XGBoost is an extra, imported here only when an XGBoost model is saved, loaded or used;
``matches`` recognizes its models without importing it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.errors import InvalidInput
from mlpilot.models.flavors.base import distribution_versions, is_instance_of, missing_library, owning_distributions

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.models.descriptor import Descriptor

__all__ = ["XGBoostFlavor"]

MODEL_FILE = "model.json"
INFO_FILE = "model_info.json"
# The classes load rebuilds, by name; a subclass is saved as the first of these it derives from.
_CLASSES = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor", "XGBModel", "Booster")


def _xgboost() -> Any:
    try:
        import xgboost
    except ImportError as exc:
        raise missing_library("xgboost", "xgboost", exc) from exc
    return xgboost


class XGBoostFlavor:
    name = "xgboost"
    library = "xgboost"

    def matches(self, model: object) -> bool:
        return is_instance_of(model, "xgboost", ("XGBModel", "Booster"))

    def save(self, model: object, directory: Path) -> tuple[str, ...]:
        xgb = _xgboost()
        kind = next(cls.__name__ for cls in type(model).__mro__ if cls.__name__ in _CLASSES)
        if isinstance(model, xgb.XGBModel):
            try:
                model.get_booster()
            except (ValueError, AttributeError) as exc:  # sklearn's NotFittedError derives from both
                raise InvalidInput(
                    f"the {type(model).__name__} is not fitted", hint="Call fit(...) before saving the model."
                ) from exc
        model.save_model(directory / MODEL_FILE)  # type: ignore[attr-defined]
        (directory / INFO_FILE).write_text(json.dumps({"class": kind}) + "\n", encoding="utf-8")
        return (MODEL_FILE, INFO_FILE)

    def load(self, directory: Path, descriptor: Descriptor) -> object:
        xgb = _xgboost()
        kind = _read_class(directory / INFO_FILE)
        if kind == "Booster":
            return xgb.Booster(model_file=directory / MODEL_FILE)
        model = getattr(xgb, kind)()
        model.load_model(directory / MODEL_FILE)
        return model

    def packages(self, model: object) -> dict[str, str]:
        return {**owning_distributions(model), **distribution_versions("xgboost")}

    def predict(self, model: object, frame: pd.DataFrame) -> Any:
        xgb = _xgboost()
        if isinstance(model, xgb.Booster):
            # A Booster takes a DMatrix; categorical columns need the flag the wrappers set themselves.
            return model.predict(xgb.DMatrix(frame, enable_categorical=True))
        return model.predict(frame)  # type: ignore[attr-defined]

    def has_predict_proba(self, model: object) -> bool:
        return callable(getattr(model, "predict_proba", None))

    def predict_proba(self, model: object, frame: pd.DataFrame) -> Any:
        return model.predict_proba(frame)  # type: ignore[attr-defined]


def _read_class(path: Path) -> str:
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("class")
    except (OSError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"{path} is missing or unreadable: {exc}") from exc
    if kind not in _CLASSES:
        raise InvalidInput(f"{path} names the unknown XGBoost class {kind!r}; known: {', '.join(_CLASSES)}")
    return str(kind)
