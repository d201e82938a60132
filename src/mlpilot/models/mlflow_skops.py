"""scikit-learn models in the skops format, MLflow 3's default for ``mlflow.sklearn.log_model``.

skops rebuilds an object from a description of its parts, without running pickle, but only from the
types it trusts; ``skops.io.get_untrusted_types`` names the others. The trust rule here:

* a type skops trusts by default (built-in containers, NumPy arrays and ufuncs, most estimators);
* plus any **class** it reports whose package is scikit-learn, NumPy or SciPy — and LightGBM for a
  ``lightgbm`` model — and ``collections.OrderedDict``;
* and nothing else: a function (a call target the model could run during ``predict``), a class
  from any other package or from the training script is refused, naming it.

The allow-list the model's own ``MLmodel`` carries (``skops_trusted_types``) is ignored: a crafted
file would list whatever it needs. skops reports the tree structures of forests and gradient
boosting (``sklearn.tree._tree.Tree``) because a crafted one can crash ``predict``; they are
accepted, as anyone who may register a model may already register a pickle, which is worse.
"""

from __future__ import annotations

import importlib
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlpilot.errors import InvalidInput, MlpilotError

__all__ = ["TRUSTED_PACKAGES", "load_skops", "refused_types"]

TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")
_TRUSTED_NAMES = frozenset({"collections.OrderedDict"})


def _skops_io() -> Any:
    try:
        return importlib.import_module("skops.io")
    except ImportError as exc:
        raise MlpilotError(
            f"this MLflow model is saved in the skops format and skops is not installed here ({exc})",
            hint="Install it with: pip install 'mlpilot[mlflow]'",
        ) from exc


def _is_trusted_class(name: str, packages: Sequence[str]) -> bool:
    if name in _TRUSTED_NAMES:
        return True
    if name.partition(".")[0] not in packages:
        return False
    module_name, _, attribute = name.rpartition(".")
    try:
        with warnings.catch_warnings():
            # Importing a deprecated submodule of a trusted package warns; the answer is the same.
            warnings.simplefilter("ignore")
            module = importlib.import_module(module_name)
    except ImportError:
        return False
    return isinstance(getattr(module, attribute, None), type)


def refused_types(reported: Sequence[str], packages: Sequence[str] = TRUSTED_PACKAGES) -> list[str]:
    """The types skops reported as untrusted that the trust rule (module docstring) refuses."""
    return [name for name in reported if not _is_trusted_class(name, packages)]


def load_skops(path: Path, *, extra_packages: Sequence[str] = ()) -> object:
    """Load the skops file at ``path`` under the trust rule; ``extra_packages`` are the flavor's own."""
    if not path.is_file():
        raise InvalidInput(f"the MLflow model is incomplete: {path.name} is missing from {path.parent}")
    skops_io = _skops_io()
    try:
        reported: list[str] = skops_io.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(f"{path} is not a readable skops file: {exc}") from exc
    packages = (*TRUSTED_PACKAGES, *extra_packages)
    refused = refused_types(reported, packages)
    if refused:
        raise InvalidInput(
            f"the skops model in {path.parent} needs types mlpilot does not trust: {', '.join(refused)}",
            hint=f"mlpilot loads skops models made of {', '.join(packages)} classes only. If you trust this "
            "model's code, log it with serialization_format='cloudpickle'.",
        )
    try:
        return skops_io.load(path, trusted=list(reported))
    except (ModuleNotFoundError, AttributeError, ImportError) as exc:
        raise MlpilotError(
            f"cannot load the MLflow model in {path.parent}: {exc}",
            hint="Install the packages the model was saved with (see its requirements.txt).",
        ) from exc
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} is not a readable skops file: {exc}") from exc
