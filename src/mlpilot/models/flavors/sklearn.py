"""scikit-learn estimators and Pipelines, pickled (protocol 5).

scikit-learn has no other persistence format; a pickle reads back only with a compatible
scikit-learn version, so the version in use is recorded and a different one is warned about.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.errors import InvalidInput
from mlpilot.models.flavors.base import (
    MethodPredictions,
    distribution_versions,
    is_instance_of,
    load_pickle,
    owning_distributions,
    save_pickle,
)

if TYPE_CHECKING:
    from mlpilot.models.descriptor import Descriptor

__all__ = ["SklearnFlavor"]


class SklearnFlavor(MethodPredictions):
    name = "sklearn"
    library = "scikit-learn"

    def matches(self, model: object) -> bool:
        return is_instance_of(model, "sklearn.base", ("BaseEstimator",)) and callable(getattr(model, "predict", None))

    def save(self, model: object, directory: Path) -> tuple[str, ...]:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(model)
        except NotFittedError as exc:
            raise InvalidInput(
                f"the {type(model).__name__} is not fitted", hint="Call fit(...) before saving the model."
            ) from exc
        return save_pickle(model, directory)

    def load(self, directory: Path, descriptor: Descriptor) -> object:
        return load_pickle(directory, descriptor)

    def packages(self, model: object) -> dict[str, str]:
        return {**owning_distributions(model), **distribution_versions("scikit-learn", "scipy")}
