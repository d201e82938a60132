"""Any object with a callable ``predict(frame)``, pickled (protocol 5).

Pickle stores an object's class by its import path, not its code: the module defining the class
must be importable wherever the model is loaded (an installed package, or a module on the path).
A class defined in ``__main__`` (a script or notebook) cannot be found from another process, so
``save_pickle`` refuses one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.models.flavors.base import MethodPredictions, load_pickle, owning_distributions, save_pickle

if TYPE_CHECKING:
    from mlpilot.models.descriptor import Descriptor

__all__ = ["PythonFlavor"]


class PythonFlavor(MethodPredictions):
    name = "python"
    library = None

    def matches(self, model: object) -> bool:
        # A class has a callable predict too, but calling it would need an instance.
        return not isinstance(model, type) and callable(getattr(model, "predict", None))

    def save(self, model: object, directory: Path) -> tuple[str, ...]:
        return save_pickle(model, directory)

    def load(self, directory: Path, descriptor: Descriptor) -> object:
        return load_pickle(directory, descriptor)

    def packages(self, model: object) -> dict[str, str]:
        return owning_distributions(model)
