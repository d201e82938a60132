"""Domain records of the model registry."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelEvent", "ModelVersion", "RegisteredModel", "VersionStatus"]


class VersionStatus(enum.StrEnum):
    READY = "READY"
    ARCHIVED = "ARCHIVED"


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """Version N of a registered model: a run's model artifact, its hash and what it scored."""

    name: str
    version: int
    run_id: str
    artifact_path: str
    flavor: str
    sha256: str
    status: VersionStatus
    created_by: str
    created_at: int
    updated_at: int
    signature: Mapping[str, Any] | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def source(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = self.status.value
        data["metrics"] = dict(self.metrics)
        data["tags"] = dict(self.tags)
        data["aliases"] = list(self.aliases)
        data["signature"] = dict(self.signature) if self.signature is not None else None
        data["uri"] = self.uri
        return data


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    created_at: int
    updated_at: int
    latest_version: int | None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["tags"] = dict(self.tags)
        data["aliases"] = dict(self.aliases)
        return data


@dataclass(frozen=True, slots=True)
class ModelEvent:
    """One audited change: what, to which version or alias, who, when, why."""

    id: int
    name: str
    action: str
    actor: str
    created_at: int
    version: int | None = None
    alias: str | None = None
    from_version: int | None = None
    reason: str | None = None
    details: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["details"] = dict(self.details) if self.details is not None else None
        return data
