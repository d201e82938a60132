"""Model packaging: save a model with its descriptor, signature and input example into a folder,
and load it back — verified against its sha256 — as one uniform ``LoadedModel``.

Flavors: scikit-learn (pickle), XGBoost and LightGBM (their native formats; extras), and any
Python object with ``predict(frame)`` (pickle). Loading a pickle runs code from the file: load
only folders whose sha256 matches the one recorded when the model was logged.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlpilot.models.descriptor import DESCRIPTOR_FILE, FORMAT_VERSION, Descriptor, read_descriptor
from mlpilot.models.flavors import flavor_for, get_flavor, known_flavors
from mlpilot.models.hashing import model_sha256, tree_hash_from_entries

if TYPE_CHECKING:
    from mlpilot.models.loaded import LoadedModel
    from mlpilot.models.package import load_model_dir, save_model
    from mlpilot.models.signature import Signature, SignatureError, infer_signature, validate

# These need pandas; they are imported on first use so that `import mlpilot` and the CLI do not pay
# for pandas when they only track runs or read the registry.
_LAZY = {
    "LoadedModel": "mlpilot.models.loaded",
    "load_model_dir": "mlpilot.models.package",
    "save_model": "mlpilot.models.package",
    "Signature": "mlpilot.models.signature",
    "SignatureError": "mlpilot.models.signature",
    "infer_signature": "mlpilot.models.signature",
    "validate": "mlpilot.models.signature",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlpilot.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DESCRIPTOR_FILE",
    "FORMAT_VERSION",
    "Descriptor",
    "LoadedModel",
    "Signature",
    "SignatureError",
    "flavor_for",
    "get_flavor",
    "infer_signature",
    "known_flavors",
    "load_model_dir",
    "model_sha256",
    "read_descriptor",
    "save_model",
    "tree_hash_from_entries",
    "validate",
]
