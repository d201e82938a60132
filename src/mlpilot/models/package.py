"""Save a model into a folder (model files + descriptor) and load it back, verified.

Saving writes the flavor's files first and the descriptor last, so a folder holding a descriptor
is a complete model. Loading checks the folder's sha256 against the one recorded when the model
was logged *before* reading any file: pickle-based flavors run code while loading, so a changed
folder is refused rather than opened.
"""

from __future__ import annotations

import logging
import math
import platform
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mlpilot.errors import IntegrityError, InvalidInput, NotFound
from mlpilot.models.descriptor import FORMAT_VERSION, Descriptor, read_descriptor, write_descriptor
from mlpilot.models.flavors.base import Flavor, distribution_versions
from mlpilot.models.flavors.registry import flavor_for, get_flavor
from mlpilot.models.frames import ModelInput, as_frame, json_records
from mlpilot.models.hashing import model_sha256
from mlpilot.models.loaded import LoadedModel
from mlpilot.models.signature import Signature, infer_signature
from mlpilot.store.clock import now_ms

__all__ = ["EXAMPLE_ROWS", "load_model_dir", "save_model"]

logger = logging.getLogger(__name__)

EXAMPLE_ROWS = 5
_COMMON_PACKAGES = ("mlpilot", "numpy", "pandas")


def save_model(
    model: object,
    directory: str | Path,
    *,
    input_example: ModelInput | None = None,
    signature: Signature | Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    run_id: str | None = None,
    flavor: str | None = None,
) -> Descriptor:
    """Write ``model`` into ``directory`` (created if missing, must be empty) and return its descriptor.

    Without a ``signature``, one is inferred from ``input_example`` and the model's predictions on
    it; the first rows of the example are kept in the descriptor.
    """
    chosen = _choose_flavor(model, flavor)
    example = None if input_example is None else as_frame(input_example)
    signature_dict = _signature_dict(chosen, model, signature, example)
    root = _empty_folder(Path(directory))
    try:
        files = chosen.save(model, root)
        descriptor = Descriptor(
            format_version=FORMAT_VERSION,
            flavor=chosen.name,
            loader=type(chosen).__module__,
            model_files=tuple(files),
            python=platform.python_version(),
            packages={**distribution_versions(*_COMMON_PACKAGES), **chosen.packages(model)},
            signature=signature_dict,
            input_example=None if example is None else json_records(example.head(EXAMPLE_ROWS)),
            metrics=_finite_metrics(metrics or {}),
            run_id=run_id,
            created_at=now_ms(),
        )
        write_descriptor(root, descriptor)
    except BaseException:
        # Leave no half-written model behind: the folder was empty when we started.
        for child in root.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        raise
    return descriptor


def load_model_dir(
    directory: str | Path, *, expected_sha256: str | None = None, name: str | None = None
) -> LoadedModel:
    """Load the model saved in ``directory``.

    With ``expected_sha256`` (the hash recorded when the model was logged) the folder is verified
    first and a mismatch raises ``IntegrityError``; without it the folder is trusted as it is.
    ``name`` (a model URI, say) is how errors refer to the model; the folder path by default.
    """
    root = Path(directory)
    label = name or str(root)
    if not root.is_dir():
        raise NotFound(f"model {label}: the folder {root} does not exist")
    if expected_sha256 is not None:
        actual = model_sha256(root)
        if actual != expected_sha256.lower():
            raise IntegrityError(
                f"model {label} does not match the sha256 recorded when it was logged "
                f"(expected {expected_sha256}, found {actual}); refusing to load it",
                hint="Its files were changed or removed after logging. Loading runs code from them, so restore "
                "the original files or log the model again.",
            )
    descriptor = read_descriptor(root)
    missing = [file for file in descriptor.model_files if not (root / file).is_file()]
    if missing:
        raise IntegrityError(
            f"model {label} is incomplete: {', '.join(missing)} listed in its descriptor is missing",
            hint="Restore the missing files or log the model again.",
        )
    chosen = get_flavor(descriptor.flavor)
    _warn_on_version_drift(descriptor, chosen, label)
    return LoadedModel(descriptor, chosen, chosen.load(root, descriptor), source=label)


def _choose_flavor(model: object, name: str | None) -> Flavor:
    if name is None:
        return flavor_for(model)
    chosen = get_flavor(name)
    if not chosen.matches(model):
        raise InvalidInput(f"the {name} flavor cannot save a {type(model).__qualname__}")
    return chosen


def _signature_dict(
    chosen: Flavor, model: object, given: Signature | Mapping[str, Any] | None, example: pd.DataFrame | None
) -> dict[str, Any] | None:
    if isinstance(given, Signature):
        return given.to_dict()
    if given is not None:
        # Round-trip through Signature so a malformed mapping fails now (InvalidInput), not at load time.
        return Signature.from_dict(given).to_dict()
    if example is None:
        return None
    sample = example.head(EXAMPLE_ROWS)
    try:
        output = chosen.predict(model, sample)
    except Exception as exc:  # user code may raise anything: say where it failed
        raise InvalidInput(
            f"the model's predict failed on the input example: {type(exc).__name__}: {exc}",
            hint="Pass an input example with the columns and types the model was trained on.",
        ) from exc
    return infer_signature(example, output).to_dict()


def _empty_folder(root: Path) -> Path:
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InvalidInput(
            f"cannot save a model into {root}: it is not an empty folder",
            hint="Every file in a model folder is part of the model and of its sha256; use a new folder.",
        )
    root.mkdir(parents=True, exist_ok=True)
    return root


def _finite_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    # JSON has no NaN or infinity; a metric that is not a number says nothing about the model anyway.
    values: dict[str, float] = {}
    for key, value in metrics.items():
        number = float(value)
        if math.isfinite(number):
            values[str(key)] = number
    return values


def _warn_on_version_drift(descriptor: Descriptor, chosen: Flavor, label: str) -> None:
    library = chosen.library
    if library is None or library not in descriptor.packages:
        return
    saved = descriptor.packages[library]
    installed = distribution_versions(library).get(library)
    if installed != saved:
        logger.warning(
            "model %s was saved with %s %s but %s is installed; predictions may differ or loading may fail",
            label,
            library,
            saved,
            installed or "none",
        )
