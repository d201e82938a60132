"""Spark DataFrames as pipeline step outputs: the executors write the rows as Parquet beside the
artifact store, the step's run keeps a manifest of the folder, and the next step reads the folder
back as a Spark DataFrame in its own session. The rows never pass through the driver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlpilot.data.folders import FolderManifest, list_parts, parse_manifest
from mlpilot.errors import IntegrityError, InvalidInput
from mlpilot.spark.datasets import spark_uri
from mlpilot.spark.hashing import spark_content_hash

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from mlpilot.client import Client

__all__ = ["KIND", "load_spark_output", "save_spark_output"]

KIND = "spark_dataframe"
_FOLDER = "spark-outputs"


def save_spark_output(client: Client, run_id: str, name: str, value: object) -> dict[str, Any]:
    from pyspark.sql import DataFrame

    if not isinstance(value, DataFrame):
        raise InvalidInput(f"output {name!r} is a {type(value).__name__}, not a Spark DataFrame")
    digest, rows = spark_content_hash(value)
    folder = f"{spark_uri(client.settings.resolved_artifact_uri()).rstrip('/')}/{_FOLDER}/{run_id}/{name}"
    value.write.mode("overwrite").parquet(folder)
    manifest = FolderManifest(folder, list_parts(folder), rows)
    entry = client.log_bytes(run_id, manifest.to_bytes(), f"outputs/{name}.spark.json")
    return {
        "kind": KIND,
        "run_id": run_id,
        "path": entry.path,
        "sha256": entry.sha256,
        "hash": digest,
        "rows": rows,
        "columns": len(value.columns),
    }


def load_spark_output(client: Client, ref: dict[str, Any]) -> DataFrame:
    from mlpilot.spark.session import get_spark

    manifest = parse_manifest(client.read_artifact(ref["run_id"], ref["path"]))
    if manifest is None:
        raise IntegrityError(f"output {ref['path']} of run {ref['run_id']} is not a Spark output manifest")
    return get_spark().read.parquet(manifest.uri)
