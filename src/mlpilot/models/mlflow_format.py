"""MLflow model directories (an ``MLmodel`` file beside the flavor's files) read into mlpilot.

``convert_mlflow_dir`` loads the model an MLflow directory holds — scikit-learn (pickle, cloudpickle
or skops, see ``mlflow_skops``), XGBoost, LightGBM, or a plain ``python_function`` model — and
saves it again as an mlpilot model with the signature translated, so it is registered, verified,
served and monitored like any other. The MLflow files themselves are left untouched (callers keep
them beside the converted model so MLflow clients can still load them).

The heavy libraries are imported lazily, only for a model that needs them.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlpilot.errors import InvalidInput, MlpilotError, NotFound
from mlpilot.models.descriptor import Descriptor
from mlpilot.models.mlflow_skops import load_skops
from mlpilot.models.package import save_model
from mlpilot.models.signature import ColumnSpec, Signature

__all__ = [
    "MLMODEL_FILE",
    "SUPPORTED_FLAVORS",
    "MlflowModel",
    "MlflowPythonModel",
    "convert_mlflow_dir",
    "convert_signature",
    "is_mlflow_dir",
    "read_mlmodel",
]

MLMODEL_FILE = "MLmodel"
# In order of preference: a directory with a framework flavor is loaded natively, not through pyfunc.
SUPPORTED_FLAVORS = ("sklearn", "xgboost", "lightgbm", "python_function")

_TYPES = {
    "double": "float",
    "float": "float",
    "integer": "integer",
    "long": "integer",
    "boolean": "boolean",
    "string": "string",
    "datetime": "datetime",
}


@dataclass(frozen=True, slots=True)
class MlflowModel:
    """What an ``MLmodel`` file says: the flavor mlpilot will load, its settings, the signature."""

    flavor: str
    config: Mapping[str, Any]
    signature: Signature | None
    run_id: str | None


def is_mlflow_dir(directory: str | Path) -> bool:
    return (Path(directory) / MLMODEL_FILE).is_file()


def read_mlmodel(directory: str | Path) -> MlflowModel:
    """Parse ``directory/MLmodel``; refuses a missing, broken or unsupported one with one clear line."""
    root = Path(directory)
    path = root / MLMODEL_FILE
    if not root.is_dir():
        raise NotFound(f"{root} is not a folder", hint="Pass the folder of an MLflow model (the one holding MLmodel).")
    if not path.is_file():
        raise InvalidInput(
            f"{root} is not an MLflow model directory: it has no MLmodel file",
            hint="Pass the folder mlflow.<flavor>.save_model wrote, or a run's model artifact folder.",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict) or not data["flavors"]:
        raise InvalidInput(f"{path} is broken: it has no 'flavors' mapping")
    flavors: dict[str, Any] = data["flavors"]
    chosen = next((name for name in SUPPORTED_FLAVORS if _loadable(name, flavors.get(name))), None)
    if chosen is None:
        raise InvalidInput(
            f"{path} has the flavor(s) {', '.join(sorted(flavors))}, none of which mlpilot imports",
            hint="mlpilot imports MLflow models of the sklearn, xgboost, lightgbm and python_function "
            "(a PythonModel) flavors.",
        )
    config = flavors[chosen]
    signature = data.get("signature")
    run_id = data.get("run_id")
    return MlflowModel(
        flavor=chosen,
        config=config if isinstance(config, dict) else {},
        signature=convert_signature(signature) if isinstance(signature, dict) else None,
        run_id=run_id if isinstance(run_id, str) else None,
    )


def _loadable(name: str, config: object) -> bool:
    if not isinstance(config, dict):
        return False
    if name == "python_function":
        # A pyfunc entry that only points at another flavor's loader (mlflow.pytorch…) is that flavor.
        return "python_model" in config or "cloudpickle_version" in config
    return True


def convert_signature(signature: Mapping[str, Any]) -> Signature | None:
    """MLflow's column-based signature as an mlpilot one; None for tensor-based or unnamed inputs.

    MLflow stores ``inputs``/``outputs`` as JSON strings of ``{"name", "type", "required"}``;
    ``required: false`` becomes ``nullable``. A type mlpilot has no portable form for (binary,
    arrays, objects) makes the whole signature unusable, as a partial one would refuse good input.
    """
    inputs = _columns(signature.get("inputs"), unnamed=None)
    if not inputs:
        return None
    outputs = _columns(signature.get("outputs"), unnamed="prediction") or ()
    return Signature(tuple(inputs), tuple(outputs))


def _columns(raw: object, *, unnamed: str | None) -> list[ColumnSpec] | None:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    if not isinstance(raw, list) or not raw:
        return None
    specs: list[ColumnSpec] = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        kind = _TYPES.get(str(item.get("type")))
        name = item.get("name")
        if name is None and unnamed is not None and len(raw) == 1:
            name = unnamed
        if kind is None or not isinstance(name, str) or not name:
            return None
        specs.append(ColumnSpec(name=name, type=kind, nullable=not item.get("required", True)))
    return specs


class MlflowPythonModel:
    """An MLflow ``PythonModel`` behind mlpilot's ``predict(frame)``.

    It keeps MLflow's cloudpickled payload as bytes (a PythonModel class defined in a script
    pickles only by value, which plain pickle cannot do) and unpickles it on first use, so
    loading needs what loading it in MLflow needs: cloudpickle, mlflow and the model's code.
    """

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"payload": self.payload}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.payload = state["payload"]
        self._model = None

    def predict(self, frame: Any) -> Any:
        if self._model is None:
            self._model = _cloudpickle().loads(self.payload)
        method = self._model.predict
        names = list(inspect.signature(method).parameters)
        if names and names[0] == "context":
            return method(None, frame)
        return method(frame)


def _cloudpickle() -> Any:
    try:
        return importlib.import_module("cloudpickle")
    except ImportError as exc:
        raise MlpilotError(
            f"this MLflow python_function model needs cloudpickle ({exc})", hint="pip install mlflow-skinny"
        ) from exc


def _load_native(root: Path, model: MlflowModel) -> object:
    config = model.config
    if model.flavor == "sklearn":
        data = root / str(config.get("pickled_model", "model.pkl"))
        if config.get("serialization_format") == "skops" or data.suffix == ".skops":
            return load_skops(data)
        return _unpickle(data)
    if model.flavor == "xgboost":
        return _load_booster("xgboost", root / str(config.get("data", "model.xgb")), config.get("model_class"))
    if model.flavor == "lightgbm":
        data = root / str(config.get("data", "model.lgb"))
        if data.suffix == ".skops":  # MLflow 3's default for LightGBM's scikit-learn wrappers
            return load_skops(data, extra_packages=("lightgbm",))
        if data.suffix == ".pkl":  # MLflow pickles LightGBM's scikit-learn wrappers
            return _unpickle(data)
        return _load_booster("lightgbm", data, config.get("model_class"))
    payload = root / str(config.get("python_model", "python_model.pkl"))
    wrapped = MlflowPythonModel(_read_bytes(payload))
    return wrapped


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInput(f"the MLflow model is incomplete: {path.name} is missing from {path.parent}")
    return path.read_bytes()


def _unpickle(path: Path) -> object:
    if not path.is_file():
        raise InvalidInput(f"the MLflow model is incomplete: {path.name} is missing from {path.parent}")
    try:
        with open(path, "rb") as handle:
            # Unpickling runs code: this is the user's own model directory, imported on purpose.
            return pickle.load(handle)
    except (ModuleNotFoundError, AttributeError, ImportError) as exc:
        raise MlpilotError(
            f"cannot load the MLflow model in {path.parent}: {exc}",
            hint="Install the packages the model was saved with (see its requirements.txt).",
        ) from exc
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a readable pickle: {exc}") from exc


def _load_booster(library: str, path: Path, model_class: object) -> object:
    if not path.is_file():
        raise InvalidInput(f"the MLflow model is incomplete: {path.name} is missing from {path.parent}")
    try:
        # The one heavy import, made only for a model of that library (like the flavor adapters do).
        module = importlib.import_module(library)
    except ImportError as exc:
        raise MlpilotError(
            f"this model needs {library}, which is not installed here ({exc})",
            hint=f"Install it with: pip install 'mlpilot[{library}]'",
        ) from exc
    class_name = str(model_class or "Booster").rpartition(".")[2]
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise InvalidInput(f"the MLflow model names an unknown {library} class {model_class!r}")
    if class_name == "Booster":
        return cls(model_file=str(path))
    instance = cls()
    instance.load_model(str(path))
    return instance


def convert_mlflow_dir(source: str | Path, destination: str | Path, *, run_id: str | None = None) -> Descriptor:
    """Load the MLflow model in ``source`` and save it as an mlpilot model in ``destination``."""
    root = Path(source)
    model = read_mlmodel(root)
    native = _load_native(root, model)
    return save_model(native, destination, signature=model.signature, run_id=run_id or model.run_id)
