"""MLflow 3's logged models, kept as tags of the run that logged them.

A logged model is a named model folder a run produced (MLflow gives it an id like ``m-…`` and its
own artifact location). mlpilot records each one as a run tag holding its JSON description, and
places its files among the run's artifacts at ``<name>/``, so ``runs:/<run>/<name>`` and
``models:/m-…`` name the same files and no table is added for them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import run_tags
from mlpilot.tracking.artifacts import clean_artifact_path
from mlpilot.tracking.runs import get_run, write_tags

__all__ = [
    "TAG_PREFIX",
    "LoggedModel",
    "create_logged_model",
    "get_logged_model",
    "run_logged_models",
    "update_logged_model",
]

TAG_PREFIX = "mlpilot.logged_model."


@dataclass(frozen=True, slots=True)
class LoggedModel:
    model_id: str
    run_id: str
    experiment_id: int
    name: str
    created_at: int
    updated_at: int
    status: str = "PENDING"
    model_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def artifact_path(self) -> str:
        return self.name

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
                "status": self.status,
                "model_type": self.model_type,
                "tags": dict(self.tags),
                "params": dict(self.params),
            },
            sort_keys=True,
        )


def _from_tag(model_id: str, run_id: str, experiment_id: int, value: str) -> LoggedModel:
    data: dict[str, Any] = json.loads(value)
    return LoggedModel(
        model_id=model_id,
        run_id=run_id,
        experiment_id=experiment_id,
        name=data["name"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        status=data.get("status", "PENDING"),
        model_type=data.get("model_type"),
        tags=data.get("tags", {}),
        params=data.get("params", {}),
    )


def create_logged_model(
    db: Database,
    run_id: str | None,
    name: str | None,
    *,
    model_type: str | None = None,
    tags: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> LoggedModel:
    if not run_id:
        raise InvalidInput(
            "mlpilot keeps a logged model with the run that produced it; this one names no source run",
            hint="Log the model inside mlflow.start_run(), or pass run_id.",
        )
    run = get_run(db, run_id)
    folder = clean_artifact_path(name or "model")
    when = now_ms()
    model = LoggedModel(
        model_id=f"m-{uuid.uuid4().hex}",
        run_id=run.id,
        experiment_id=run.experiment_id,
        name=folder,
        created_at=when,
        updated_at=when,
        model_type=model_type,
        tags=dict(tags or {}),
        params=dict(params or {}),
    )
    _store(db, model)
    return model


def _store(db: Database, model: LoggedModel) -> None:
    with db.write() as conn:
        write_tags(db, conn, model.run_id, {TAG_PREFIX + model.model_id: model.to_json()})


def get_logged_model(db: Database, model_id: str) -> LoggedModel:
    with db.read() as conn:
        row = conn.execute(
            sa.select(run_tags.c.run_id, run_tags.c.value).where(run_tags.c.key == TAG_PREFIX + model_id)
        ).first()
    if row is None:
        raise NotFound(f"logged model {model_id!r} does not exist")
    return _from_tag(model_id, row[0], get_run(db, row[0]).experiment_id, row[1])


def run_logged_models(run_id: str, experiment_id: int, tags: Mapping[str, str]) -> list[LoggedModel]:
    """The logged models among a loaded run's tags, oldest first."""
    found = [
        _from_tag(key.removeprefix(TAG_PREFIX), run_id, experiment_id, value)
        for key, value in tags.items()
        if key.startswith(TAG_PREFIX)
    ]
    return sorted(found, key=lambda model: model.created_at)


def update_logged_model(
    db: Database,
    model_id: str,
    *,
    status: str | None = None,
    tags: Mapping[str, str] | None = None,
    delete_tag: str | None = None,
) -> LoggedModel:
    current = get_logged_model(db, model_id)
    kept = {key: value for key, value in current.tags.items() if key != delete_tag}
    changed = LoggedModel(
        model_id=current.model_id,
        run_id=current.run_id,
        experiment_id=current.experiment_id,
        name=current.name,
        created_at=current.created_at,
        updated_at=now_ms(),
        status=status or current.status,
        model_type=current.model_type,
        tags={**kept, **(tags or {})},
        params=current.params,
    )
    _store(db, changed)
    return changed
