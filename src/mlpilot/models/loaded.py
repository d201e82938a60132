"""``LoadedModel``: one object with the same ``predict``/``predict_proba`` whatever the flavor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from mlpilot.errors import InvalidInput
from mlpilot.models.frames import ModelInput, as_frame
from mlpilot.models.signature import Signature
from mlpilot.models.signature import validate as validate_frame

if TYPE_CHECKING:
    from mlpilot.models.descriptor import Descriptor
    from mlpilot.models.flavors.base import Flavor

__all__ = ["LoadedModel", "Prediction"]

Prediction: TypeAlias = "np.ndarray[Any, Any] | pd.Series[Any] | pd.DataFrame"


class LoadedModel:
    """A model read back from its folder.

    ``raw`` is the object the flavor loaded (an estimator, a Booster, your own class…); ``predict``
    and ``predict_proba`` take a DataFrame or a list of record dicts, check it against the signature
    when the model has one, and return what the model returns (lists become numpy arrays).
    """

    __slots__ = ("_flavor", "descriptor", "raw", "signature", "source")

    def __init__(self, descriptor: Descriptor, flavor: Flavor, raw: object, *, source: str) -> None:
        self.descriptor = descriptor
        self.raw = raw
        self.source = source
        self._flavor = flavor
        self.signature = _signature(descriptor, source)

    def __repr__(self) -> str:
        return f"LoadedModel(flavor={self.flavor!r}, source={self.source!r}, raw={type(self.raw).__name__})"

    @property
    def flavor(self) -> str:
        return self._flavor.name

    @property
    def has_predict_proba(self) -> bool:
        return self._flavor.has_predict_proba(self.raw)

    def predict(self, frame: ModelInput, *, validate: bool = True) -> Prediction:
        return _as_prediction(self._flavor.predict(self.raw, self._prepare(frame, validate)))

    def predict_proba(self, frame: ModelInput, *, validate: bool = True) -> Prediction:
        if not self.has_predict_proba:
            raise InvalidInput(
                f"the {self.flavor} model {self.source} ({type(self.raw).__name__}) has no predict_proba",
                hint="Only classifiers give class probabilities; call predict instead.",
            )
        return _as_prediction(self._flavor.predict_proba(self.raw, self._prepare(frame, validate)))

    def _prepare(self, data: ModelInput, validate: bool) -> pd.DataFrame:
        frame = as_frame(data)
        if validate and self.signature is not None:
            return validate_frame(frame, self.signature)
        return frame


def _as_prediction(result: object) -> Prediction:
    if isinstance(result, np.ndarray | pd.Series | pd.DataFrame):
        return result
    return np.asarray(result)


def _signature(descriptor: Descriptor, source: str) -> Signature | None:
    if descriptor.signature is None:
        return None
    try:
        return Signature.from_dict(descriptor.signature)
    except InvalidInput as exc:
        raise InvalidInput(f"the signature in the descriptor of {source} is invalid: {exc.message}") from exc
