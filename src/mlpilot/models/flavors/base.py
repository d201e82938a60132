"""The flavor protocol, and the behaviour most flavors share: predict by calling the model's own
``predict``/``predict_proba``, and pickle for formats without a native one."""

from __future__ import annotations

import importlib.metadata
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mlpilot.errors import InvalidInput, MlpilotError

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.models.descriptor import Descriptor

__all__ = [
    "Flavor",
    "MethodPredictions",
    "distribution_versions",
    "is_instance_of",
    "load_pickle",
    "missing_library",
    "owning_distributions",
    "save_pickle",
]

PICKLE_FILE = "model.pkl"


class Flavor(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def library(self) -> str | None:
        """The distribution whose version must match at load time (None: no single one)."""
        ...

    def matches(self, model: object) -> bool:
        """Whether this flavor can save ``model``; must not import an extra to find out."""
        ...

    def save(self, model: object, directory: Path) -> tuple[str, ...]:
        """Write the model's files into ``directory``; returns their paths relative to it."""
        ...

    def load(self, directory: Path, descriptor: Descriptor) -> object:
        """The object ``save`` wrote, read back from ``directory``."""
        ...

    def packages(self, model: object) -> dict[str, str]:
        """Distribution name → installed version of what loading this model will need."""
        ...

    def predict(self, model: object, frame: pd.DataFrame) -> Any: ...

    def has_predict_proba(self, model: object) -> bool: ...

    def predict_proba(self, model: object, frame: pd.DataFrame) -> Any: ...


class MethodPredictions:
    """Predict through the model's own methods: right for every model with a sklearn-style API."""

    def predict(self, model: object, frame: pd.DataFrame) -> Any:
        return model.predict(frame)  # type: ignore[attr-defined]

    def has_predict_proba(self, model: object) -> bool:
        # getattr with a default: sklearn hides predict_proba behind available_if (a Pipeline whose
        # last step lacks it, an SVC without probability=True) by raising AttributeError.
        return callable(getattr(model, "predict_proba", None))

    def predict_proba(self, model: object, frame: pd.DataFrame) -> Any:
        return model.predict_proba(frame)  # type: ignore[attr-defined]


def is_instance_of(model: object, module: str, names: tuple[str, ...]) -> bool:
    """``isinstance`` against classes of ``module`` without importing it.

    If the module was never imported, no object of its classes can exist in this process, so the
    answer is False and the (heavy, maybe absent) library stays unimported.
    """
    loaded = sys.modules.get(module)
    if loaded is None:
        return False
    classes = tuple(getattr(loaded, name) for name in names if isinstance(getattr(loaded, name, None), type))
    return bool(classes) and isinstance(model, classes)


def distribution_versions(*names: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def owning_distributions(model: object) -> dict[str, str]:
    """Installed distributions providing the modules of the model's class hierarchy (its own
    package, for a model class defined in a third-party or in-house package)."""
    roots = {cls.__module__.partition(".")[0] for cls in type(model).__mro__}
    mapping = importlib.metadata.packages_distributions()
    names = sorted({dist for root in roots for dist in mapping.get(root, ())})
    return distribution_versions(*names)


def missing_library(library: str, extra: str, exc: ImportError) -> MlpilotError:
    return MlpilotError(
        f"this model needs {library}, which is not installed here ({exc})",
        hint=f"Install it with: pip install 'mlpilot[{extra}]'",
    )


def save_pickle(model: object, directory: Path) -> tuple[str, ...]:
    cls = type(model)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        # Pickle would succeed, but no other process (a server, a batch job) could find the class.
        raise InvalidInput(
            f"the model class {cls.__qualname__} is defined in {cls.__module__}, which no other process can "
            "import, so the saved model could not be loaded",
            hint="Move the class into a module (a .py file on the path or in a package) and import it from there.",
        )
    try:
        payload = pickle.dumps(model, protocol=5)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise InvalidInput(
            f"cannot pickle the {type(model).__qualname__} model: {exc}",
            hint="Define the model's class at the top level of an importable module, and keep no open "
            "files, locks or lambdas in its attributes.",
        ) from exc
    (directory / PICKLE_FILE).write_bytes(payload)
    return (PICKLE_FILE,)


def load_pickle(directory: Path, descriptor: Descriptor) -> object:
    """Unpickle the model file. This runs code from the file: callers load only verified folders."""
    path = directory / PICKLE_FILE
    try:
        with open(path, "rb") as handle:
            # Unpickling runs code; package.load_model_dir verifies the folder's sha256 before this.
            return pickle.load(handle)
    except (ModuleNotFoundError, AttributeError) as exc:
        # Pickle names classes by import path: the code that defined the model must be importable.
        raise MlpilotError(
            f"cannot load the {descriptor.flavor} model in {directory}: {exc}",
            hint="Install the package (or put the module on PYTHONPATH) that defines the model's class, "
            "with the versions listed under 'packages' in the descriptor.",
        ) from exc
    except (pickle.UnpicklingError, EOFError) as exc:
        raise InvalidInput(f"{path} is not a readable pickle: {exc}") from exc
