"""Step outputs as artifacts of the step's tracked run, and back.

DataFrames are Parquet (Spark DataFrames too, written by the executors as a folder of parts beside
the artifact store: ``mlpilot.spark.outputs``); models go through their flavors (``log_model``), so any output model can
be registered and served as it is; JSON-able values are JSON; anything else is pickled (read back
only from this store, so it is as trusted as the code that wrote it). Every output carries a
content hash, which is what the cache keys of the steps after it are built from.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlpilot.client.models import LoggedModel
from mlpilot.data.hashing import content_hash
from mlpilot.errors import InvalidInput
from mlpilot.models.flavors import flavor_for

if TYPE_CHECKING:
    from mlpilot.client import Client
    from mlpilot.models import LoadedModel

__all__ = ["ModelOutput", "load_output", "save_output"]

_INLINE_JSON = 4096  # small JSON outputs are also kept in the step run, so `pipelines show` can print them


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """A model a step returned, logged in that step's run: register it, or ``load()`` it to predict."""

    run_id: str
    artifact_path: str
    flavor: str
    sha256: str
    params: dict[str, Any] = field(default_factory=dict)  # the producing step instance's parameters

    @property
    def uri(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"

    def load(self) -> LoadedModel:
        from mlpilot.client.fluent import get_client

        return get_client().load_model(self.uri)


def _json_text(value: object) -> str | None:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _is_spark_frame(value: object) -> bool:
    # By class name, so that PySpark (an extra) is imported only when a step really returned one.
    return any(cls.__module__.startswith("pyspark.sql") and cls.__name__ == "DataFrame" for cls in type(value).__mro__)


def _is_model(value: object) -> bool:
    if isinstance(value, pd.DataFrame | pd.Series) or not hasattr(value, "predict"):
        return False
    try:
        flavor_for(value)
    except InvalidInput:
        return False
    return True


def save_output(client: Client, run_id: str, name: str, value: object, params: dict[str, Any]) -> dict[str, Any]:
    """Store ``value`` in run ``run_id`` under ``outputs/``; the reference to read it back."""
    base = f"outputs/{name}"
    if _is_spark_frame(value):
        from mlpilot.spark.outputs import save_spark_output

        return save_spark_output(client, run_id, name, value)
    if isinstance(value, pd.DataFrame):
        with tempfile.TemporaryDirectory(prefix="mlpilot-step-") as scratch:
            path = Path(scratch) / f"{name}.parquet"
            value.to_parquet(path, index=not isinstance(value.index, pd.RangeIndex))
            entry = client.log_artifact(run_id, path, "outputs")
        return {
            "kind": "dataframe",
            "run_id": run_id,
            "path": entry.path,
            "sha256": entry.sha256,
            "hash": content_hash(value),
            "rows": len(value),
            "columns": len(value.columns),
        }
    if isinstance(value, LoggedModel | ModelOutput):
        return _model_ref(value.run_id, value.artifact_path, value.flavor, value.sha256, params)
    if _is_model(value):
        logged = client.log_model(run_id, value, base)
        return _model_ref(logged.run_id, logged.artifact_path, logged.flavor, logged.sha256, params)
    text = _json_text(value)
    if text is not None:
        entry = client.log_bytes(run_id, text.encode(), f"{base}.json")
        ref: dict[str, Any] = {"kind": "json", "run_id": run_id, "path": entry.path, "sha256": entry.sha256}
        ref["hash"] = entry.sha256
        if len(text) <= _INLINE_JSON:
            ref["value"] = value
        return ref
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    entry = client.log_bytes(run_id, data, f"{base}.pkl")
    return {"kind": "pickle", "run_id": run_id, "path": entry.path, "sha256": entry.sha256, "hash": entry.sha256}


def _model_ref(run_id: str, path: str, flavor: str, sha256: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "model",
        "run_id": run_id,
        "path": path,
        "flavor": flavor,
        "sha256": sha256,
        "hash": sha256,
        "params": params,
    }


def load_output(client: Client, ref: dict[str, Any]) -> Any:
    kind = ref["kind"]
    if kind == "model":
        return ModelOutput(ref["run_id"], ref["path"], ref["flavor"], ref["sha256"], dict(ref.get("params") or {}))
    if kind == "json" and "value" in ref:
        return ref["value"]
    if kind == "spark_dataframe":
        from mlpilot.spark.outputs import load_spark_output

        return load_spark_output(client, ref)
    with tempfile.TemporaryDirectory(prefix="mlpilot-step-") as scratch:
        local = client.download_artifacts(ref["run_id"], ref["path"], scratch)
        if kind == "dataframe":
            return pd.read_parquet(local)
        data = local.read_bytes()  # download_artifacts has checked it against its sha256
    if kind == "json":
        return json.loads(data)
    # Pickles are written by a step of this store and read back by the same pipeline's steps.
    return pickle.loads(data)
