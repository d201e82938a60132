"""Each model version's reference: the profile of the training data it was fitted on, stored once.

The training data is the dataset version the version's run read (the input whose role names
training, else its only input), restricted to the model's signature inputs. When the model can be
loaded, it scores the profile's sample rows, so its outputs (``prediction``, and the class
probabilities of a classifier) have a reference too.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mlpilot.artifacts import ContentStore
from mlpilot.data.frames import from_parquet_bytes, to_parquet_bytes
from mlpilot.data.versions import get_version as get_dataset_version
from mlpilot.data.versions import load_frame
from mlpilot.errors import InvalidInput, MlpilotError, NotFound
from mlpilot.monitoring.profile import ReferenceProfile
from mlpilot.monitoring.reference import fit_column
from mlpilot.registry.loading import load_version
from mlpilot.registry.records import ModelVersion
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import model_versions, reference_profiles, registered_models
from mlpilot.store.upsert import upsert_insert
from mlpilot.tracking.records import DatasetInput
from mlpilot.tracking.runs import get_run

__all__ = [
    "PREDICTION",
    "StoredReference",
    "ensure_reference",
    "fit_after_registration",
    "fit_reference",
    "get_reference",
    "training_input",
]

log = logging.getLogger(__name__)

PREDICTION = "prediction"
PROBA = "proba:"


@dataclass(frozen=True, slots=True)
class StoredReference:
    model: str
    version: int
    dataset: str | None  # "name:version" of the training data, None when given directly
    profile: ReferenceProfile
    task: str | None  # "classification" | "regression" | None (the outputs were not scored)
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "dataset": self.dataset,
            "task": self.task,
            "rows": self.profile.rows,
            "created_at": self.created_at,
            "columns": {name: column.to_dict() for name, column in self.profile.columns.items()},
        }


def training_input(inputs: tuple[DatasetInput, ...]) -> DatasetInput | None:
    for item in inputs:
        if "train" in item.role.lower():
            return item
    return inputs[0] if len(inputs) == 1 else None


def _version_id(db: Database, version: ModelVersion) -> int:
    query = (
        sa.select(model_versions.c.id)
        .join(registered_models, registered_models.c.id == model_versions.c.model_id)
        .where(registered_models.c.name == version.name, model_versions.c.version == version.version)
    )
    with db.read() as conn:
        found = conn.execute(query).scalar()
    if found is None:
        raise NotFound(f"model version {version.uri} does not exist")
    return int(found)


def _with_outputs(profile: ReferenceProfile, model: Any) -> tuple[ReferenceProfile, str | None]:
    """The profile plus the model's outputs on the sample rows; unchanged if it cannot score them."""
    if profile.sample is None or profile.sample.empty:
        return profile, None
    try:
        predicted = np.asarray(model.predict(profile.sample)).reshape(len(profile.sample), -1)[:, 0]
        proba = model.predict_proba(profile.sample) if model.has_predict_proba else None
    except Exception:  # the model's own code may raise anything; its inputs still get a reference
        log.warning("%s cannot score its reference rows, so its outputs get no reference", model, exc_info=True)
        return profile, None
    task = "classification" if proba is not None else "regression"
    series = pd.Series(predicted, name=PREDICTION)
    kind = "categorical" if task == "classification" else "numerical"
    profile = profile.with_column(PREDICTION, fit_column(series, kind, sample=series), series)
    if proba is not None:
        frame = pd.DataFrame(np.asarray(proba))
        classes = getattr(model.raw, "classes_", range(frame.shape[1]))
        for index, label in enumerate(classes):
            column = pd.Series(frame.iloc[:, index].to_numpy(dtype=np.float64), name=f"{PROBA}{label}")
            profile = profile.with_column(str(column.name), fit_column(column, "numerical", sample=column), column)
    return profile, task


def fit_reference(
    db: Database,
    content: ContentStore,
    version: ModelVersion,
    *,
    cache_root: Path | None = None,
    frame: pd.DataFrame | None = None,
) -> StoredReference:
    """Fit and store (replacing any earlier one) the reference of ``version``: from ``frame`` when
    given, otherwise from the training dataset its run read."""
    dataset_label, dataset_id = None, None
    if frame is None:
        run = get_run(db, version.run_id)
        chosen = training_input(run.inputs)
        if chosen is None:
            raise NotFound(
                f"run {version.run_id} that produced {version.uri} logged no training dataset to use as its reference",
                hint="Log the training data with mlpilot.log_dataset(frame, name, role='train') in the run, "
                "or give the reference data directly.",
            )
        dataset = get_dataset_version(db, chosen.dataset, chosen.version)
        frame, dataset_label, dataset_id = load_frame(content, dataset), dataset.ref, dataset.id
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InvalidInput(f"the reference data for {version.uri} is empty", hint="Give a DataFrame with rows.")
    names = [str(column) for column in frame.columns]
    if version.signature and version.signature.get("inputs"):
        wanted = [str(spec["name"]) for spec in version.signature["inputs"]]
        missing = [name for name in wanted if name not in frame.columns]
        if missing:
            raise InvalidInput(
                f"the reference data for {version.uri} lacks the model's input column(s) {', '.join(missing)}",
                hint="Give data with every column of the model's signature.",
            )
        names = wanted
    profile = ReferenceProfile.fit(frame, columns=names)
    task = None
    if cache_root is not None:
        profile, task = _with_outputs(profile, load_version(db, content, version, cache_root))
    sample_sha = content.put_bytes(to_parquet_bytes(profile.sample)).sha256 if profile.sample is not None else None
    created = now_ms()
    values = {
        "model_version_id": _version_id(db, version),
        "dataset_version_id": dataset_id,
        "rows": profile.rows,
        "profile": {**profile.to_dict(), "task": task, "dataset": dataset_label},
        "sample_sha256": sample_sha,
        "created_at": created,
    }
    with db.write() as conn:
        statement = upsert_insert(db.dialect, reference_profiles).values(**values)
        conn.execute(statement.on_conflict_do_update(index_elements=["model_version_id"], set_=values))
    return StoredReference(version.name, version.version, dataset_label, profile, task, created)


def fit_after_registration(db: Database, content: ContentStore, version: ModelVersion) -> StoredReference | None:
    """Fit the reference of a version just registered, when its run read training data. A failure
    is logged, never raised: the registration stands, and a monitor fits the reference later."""
    try:
        if training_input(get_run(db, version.run_id).inputs) is None:
            return None
        # The model is fetched into a scratch folder, not the model cache: registering must not
        # leave a verified copy behind that a later load would trust instead of the stored blobs.
        with tempfile.TemporaryDirectory(prefix="mlpilot-reference-") as scratch:
            return fit_reference(db, content, version, cache_root=Path(scratch))
    except MlpilotError as problem:
        log.warning("no reference profile for %s yet: %s", version.uri, problem)
        return None
    except Exception:  # whatever the data holds, the registration it follows must stand
        log.warning("no reference profile for %s: fitting it failed", version.uri, exc_info=True)
        return None


def get_reference(db: Database, content: ContentStore, version: ModelVersion) -> StoredReference:
    query = sa.select(reference_profiles).where(reference_profiles.c.model_version_id == _version_id(db, version))
    with db.read() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(
            f"{version.uri} has no reference profile yet",
            hint=f"Fit one with `mlpilot monitors reference {version.name}/{version.version}`.",
        )
    data = dict(row["profile"])
    sample = from_parquet_bytes(content.read_bytes(row["sample_sha256"])) if row["sample_sha256"] else pd.DataFrame()
    profile = ReferenceProfile.from_dict(data, sample)
    return StoredReference(
        version.name, version.version, data.get("dataset"), profile, data.get("task"), row["created_at"]
    )


def ensure_reference(db: Database, content: ContentStore, version: ModelVersion, cache_root: Path) -> StoredReference:
    """The stored reference of ``version``, fitted now if it has none yet."""
    try:
        return get_reference(db, content, version)
    except NotFound:
        return fit_reference(db, content, version, cache_root=cache_root)
