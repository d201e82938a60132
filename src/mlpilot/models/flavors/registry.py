"""Flavor lookup: by name when loading, by matching the model when saving."""

from __future__ import annotations

from mlpilot.errors import InvalidInput
from mlpilot.models.flavors.base import Flavor
from mlpilot.models.flavors.lightgbm import LightGBMFlavor
from mlpilot.models.flavors.python import PythonFlavor
from mlpilot.models.flavors.sklearn import SklearnFlavor
from mlpilot.models.flavors.sparkml import SparkMLFlavor
from mlpilot.models.flavors.xgboost import XGBoostFlavor

__all__ = ["flavor_for", "get_flavor", "known_flavors"]

# Most specific first: XGBoost's and LightGBM's wrappers are scikit-learn estimators too, and must
# get their native formats; anything left with a predict method is a generic Python model.
_MATCH_ORDER: tuple[Flavor, ...] = (
    XGBoostFlavor(),
    LightGBMFlavor(),
    SparkMLFlavor(),
    SklearnFlavor(),
    PythonFlavor(),
)
_BY_NAME: dict[str, Flavor] = {flavor.name: flavor for flavor in _MATCH_ORDER}


def known_flavors() -> tuple[str, ...]:
    return tuple(sorted(_BY_NAME))


def get_flavor(name: str) -> Flavor:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InvalidInput(
            f"unknown model flavor {name!r}; known flavors: {', '.join(known_flavors())}",
            hint="Leave the flavor out to have mlpilot pick it from the model.",
        ) from None


def flavor_for(model: object) -> Flavor:
    """The flavor that saves ``model``; refuses an object it could not predict with."""
    for flavor in _MATCH_ORDER:
        if flavor.matches(model):
            return flavor
    cls = type(model)
    raise InvalidInput(
        f"cannot package a {cls.__module__}.{cls.__qualname__}: it has no predict method",
        hint="Pass a fitted scikit-learn, XGBoost or LightGBM model, or any object with predict(frame).",
    )
