"""Dataset versions from Spark DataFrames, without bringing the rows to the driver.

``log_dataset(df, "churn")`` hashes the rows on the executors (``mlpilot.spark.hashing``); if the
dataset already has a version with that hash, that version is returned and nothing is written.
Otherwise the executors write the rows as Parquet parts into a folder under the artifact store
(``<artifact root>/spark-datasets/<name>/<hash>``, or ``path=``), the profile is computed from
that folder by Spark aggregations, and the version records a small manifest naming the folder
and its parts. ``load_dataset`` reads any version back as a Spark DataFrame; the pandas client's
``load_dataset`` reads a Spark-written version too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.data.folders import FolderManifest, list_parts, parse_manifest
from mlpilot.data.records import DatasetVersion, json_safe
from mlpilot.data.versions import (
    check_dataset_name,
    check_role,
    find_by_hash,
    get_version,
    insert_version,
    link_to_run,
)
from mlpilot.errors import InvalidInput
from mlpilot.spark.hashing import spark_content_hash
from mlpilot.spark.profiling import build_schema, profile

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from mlpilot.artifacts import ContentStore
    from mlpilot.client import Client
    from mlpilot.store import Database

__all__ = ["load_dataset", "log_dataset", "spark_uri"]

_FOLDER = "spark-datasets"


def _stores(client: Client | None) -> tuple[Database, ContentStore, str]:
    from mlpilot.client.fluent import get_client
    from mlpilot.client.local import LocalTransport

    chosen = client if client is not None else get_client()
    transport = chosen.transport
    if not isinstance(transport, LocalTransport):
        raise InvalidInput(
            "Spark dataset versions are logged with a client connected to the database directly",
            hint="Connect with mlpilot.connect('postgresql://…', artifact_uri='s3://…') on the Spark driver.",
        )
    return transport.db, transport.content, chosen.settings.resolved_artifact_uri()


def spark_uri(artifact_root: str) -> str:
    """The artifact root as Hadoop names it: absolute local paths, s3a:// for S3."""
    if artifact_root.startswith("s3://"):
        return "s3a://" + artifact_root.removeprefix("s3://")
    if "://" in artifact_root:
        return artifact_root
    return Path(artifact_root).expanduser().resolve().as_uri()


def log_dataset(
    df: DataFrame,
    name: str,
    *,
    client: Client | None = None,
    run_id: str | None = None,
    role: str = "input",
    path: str | None = None,
) -> DatasetVersion:
    """Version ``df`` as dataset ``name`` (the same rows give the same version, in any order);
    with ``run_id``, record that the run read it as ``role``."""
    from pyspark.sql import DataFrame

    if not isinstance(df, DataFrame):
        raise InvalidInput(f"mlpilot.spark.log_dataset takes a Spark DataFrame, not {type(df).__name__}")
    check_dataset_name(name)
    if run_id is not None:
        check_role(role)
    if not df.columns:
        raise InvalidInput("the data has no columns", hint="Log a frame with at least one column.")
    db, content, artifact_root = _stores(client)
    digest, rows = spark_content_hash(df)
    version = find_by_hash(db, name, digest)
    if version is None:
        folder = path or f"{spark_uri(artifact_root).rstrip('/')}/{_FOLDER}/{name}/{digest}"
        df.write.mode("overwrite").parquet(folder)
        stored = df.sparkSession.read.parquet(folder)
        manifest = FolderManifest(folder, list_parts(folder), rows)
        blob = content.put_bytes(manifest.to_bytes())
        values = {
            "content_hash": digest,
            "rows": rows,
            "schema": json_safe(build_schema(df)),
            "profile": json_safe(profile(stored)),
            "storage_sha256": blob.sha256,
            "size": manifest.size,
            "source": folder,
        }
        version = insert_version(db, name, values)
    if run_id is not None:
        link_to_run(db, run_id, version.id, role)
    return version


def load_dataset(
    name: str, version: int | None = None, *, spark: SparkSession | None = None, client: Client | None = None
) -> DataFrame:
    """A dataset version (the latest when None) as a Spark DataFrame, read by the executors."""
    from mlpilot.spark.session import get_spark

    db, content, artifact_root = _stores(client)
    found = get_version(db, name, version)
    session = spark or get_spark()
    manifest = parse_manifest(content.read_bytes(found.storage_sha256))
    if manifest is not None:
        return session.read.parquet(manifest.uri)
    # A version logged from pandas is one Parquet blob in the content store, readable in place.
    blob = f"{spark_uri(artifact_root).rstrip('/')}/{content.key(found.storage_sha256)}"
    if "://" not in artifact_root and not os.path.exists(
        os.path.join(artifact_root, content.key(found.storage_sha256))
    ):
        raise InvalidInput(f"the stored copy of {found.ref} is not in {artifact_root}")
    return session.read.parquet(blob)
