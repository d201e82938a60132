"""MLflow model folders in a run's artifacts, registered as real mlpilot versions.

An MLflow client logs a model as a folder of run artifacts holding an ``MLmodel`` file. To
register it, its files are read back from the artifact store, converted by
``mlpilot.models.mlflow_format`` and the converted model is added to the same run, inside the MLflow
folder, at ``<folder>/mlpilot_model``; that path is what the version points at, so it is hashed,
verified, served and monitored like any mlpilot model, while MLflow clients keep loading the
untouched MLflow files around it.

The converted files are added even when the run has ended: MLflow clients register models after
their runs finish, and the conversion is derived from files the run already logged, not new data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlpilot.artifacts import Blob, ContentStore
from mlpilot.errors import Conflict, InvalidInput
from mlpilot.models.descriptor import DESCRIPTOR_FILE
from mlpilot.models.mlflow_format import MLMODEL_FILE, convert_mlflow_dir
from mlpilot.registry.records import ModelVersion
from mlpilot.registry.versions import check_model_name, register_model
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import artifacts, registered_model_tags, registered_models
from mlpilot.store.upsert import upsert_insert
from mlpilot.tracking.artifacts import clean_artifact_path, list_artifacts
from mlpilot.tracking.runs import clean_tags, get_run

__all__ = ["CONVERTED_DIR", "create_registered_model", "mlflow_folder_of", "register_mlflow_model"]

CONVERTED_DIR = "mlpilot_model"


def mlflow_folder_of(artifact_path: str) -> str | None:
    """The MLflow folder a version's ``artifact_path`` was converted from; None for a native model."""
    parent, _, leaf = artifact_path.rpartition("/")
    return parent if leaf == CONVERTED_DIR and parent else None


def register_mlflow_model(
    db: Database,
    content: ContentStore,
    run_id: str,
    folder: str,
    name: str,
    *,
    actor: str,
    tags: Mapping[str, object] | None = None,
    description: str | None = None,
) -> ModelVersion:
    """Register the MLflow model the run logged at ``folder`` as the next version of ``name``."""
    check_model_name(name)
    path = clean_artifact_path(folder)
    get_run(db, run_id)
    entries = list_artifacts(db, run_id, path)
    names = {entry.path for entry in entries}
    if f"{path}/{MLMODEL_FILE}" not in names:
        raise InvalidInput(
            f"run {run_id} has no MLflow model at {path!r} (no {path}/{MLMODEL_FILE})",
            hint="Log the model with mlflow.<flavor>.log_model first; the source must be its folder.",
        )
    converted = f"{path}/{CONVERTED_DIR}"
    if f"{converted}/{DESCRIPTOR_FILE}" not in names:
        with tempfile.TemporaryDirectory(prefix="mlpilot-mlflow-") as scratch:
            source, target = Path(scratch) / "mlflow", Path(scratch) / "mlpilot"
            for entry in entries:
                relative = entry.path[len(path) + 1 :]
                if relative.startswith(f"{CONVERTED_DIR}/"):
                    continue
                (source / relative).parent.mkdir(parents=True, exist_ok=True)
                content.download(entry.sha256, source / relative)
            convert_mlflow_dir(source, target, run_id=run_id)
            blobs = {
                f"{converted}/{file.relative_to(target).as_posix()}": content.put_file(file)
                for file in sorted(target.rglob("*"))
                if file.is_file()
            }
        _add_artifacts(db, run_id, blobs)
    return register_model(db, content, run_id, converted, name, actor=actor, tags=tags, description=description)


def _add_artifacts(db: Database, run_id: str, blobs: Mapping[str, Blob]) -> None:
    created = now_ms()
    rows = [
        {"run_id": run_id, "path": path, "size": blob.size, "sha256": blob.sha256, "created_at": created}
        for path, blob in blobs.items()
    ]
    insert = upsert_insert(db.dialect, artifacts)
    with db.write() as conn:
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["run_id", "path"],
                set_={"size": insert.excluded.size, "sha256": insert.excluded.sha256, "created_at": created},
            ),
            rows,
        )


def create_registered_model(
    db: Database, name: str, *, description: str | None = None, tags: Mapping[str, object] | None = None
) -> None:
    """A registered model with no version yet (MLflow creates the name first, then versions)."""
    check_model_name(name)
    clean = clean_tags(tags or {})
    when = now_ms()
    with db.write() as conn:
        inserted = conn.execute(
            upsert_insert(db.dialect, registered_models)
            .values(name=name, description=description, last_version=0, created_at=when, updated_at=when)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(registered_models.c.id)
        ).scalar()
        if inserted is None:
            raise Conflict(f"registered model {name!r} already exists", hint="Register a new version of it instead.")
        if clean:
            conn.execute(
                registered_model_tags.insert(), [{"model_id": inserted, "key": k, "value": v} for k, v in clean.items()]
            )
