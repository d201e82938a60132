"""Domain records of deployments: targets, traffic splits, the resolved traffic, events, feedback."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlpilot.errors import InvalidInput

__all__ = ["Canary", "Deployment", "DeploymentEvent", "FeedbackResult", "Shadow", "Target", "Traffic"]


@dataclass(frozen=True, slots=True)
class Target:
    """What a deployment serves: the version an alias holds (followed as it moves) or a fixed version.

    Exactly one of the two is set; ``str()`` gives ``@production`` or ``3``.
    """

    alias: str | None = None
    version: int | None = None

    def __post_init__(self) -> None:
        if (self.alias is None) == (self.version is None):
            raise InvalidInput("a target is either an alias or a version, not both or neither")

    def __str__(self) -> str:
        return f"@{self.alias}" if self.alias is not None else str(self.version)

    def uri(self, model: str) -> str:
        return f"models:/{model}@{self.alias}" if self.alias is not None else f"models:/{model}/{self.version}"


@dataclass(frozen=True, slots=True)
class Canary:
    """A second target that takes ``weight`` (0 < weight < 1) of the requests; its answers are returned."""

    target: Target
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"target": str(self.target), "weight": self.weight}


@dataclass(frozen=True, slots=True)
class Shadow:
    """A target that also scores ``share`` (0 < share <= 1) of the requests; its answers are only logged."""

    target: Target
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"target": str(self.target), "share": self.share}


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named, stored binding of a registered model's alias or version to a prediction endpoint."""

    name: str
    model: str
    target: Target
    revision: int
    created_by: str
    created_at: int
    updated_at: int
    canary: Canary | None = None
    shadow: Shadow | None = None
    pinned_version: int | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def model_uri(self) -> str:
        return self.target.uri(self.model)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["target"] = str(self.target)
        data["model_uri"] = self.model_uri
        data["canary"] = self.canary.to_dict() if self.canary is not None else None
        data["shadow"] = self.shadow.to_dict() if self.shadow is not None else None
        data["config"] = dict(self.config)
        return data


@dataclass(frozen=True, slots=True)
class Traffic:
    """The versions a deployment serves right now, with the revision they were read at.

    ``canary`` and ``shadow`` are ``(version, weight or share)``; ``pinned`` says a rollback put
    ``primary`` there regardless of the target.
    """

    model: str
    primary: int
    revision: int
    pinned: bool = False
    canary: tuple[int, float] | None = None
    shadow: tuple[int, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "primary": self.primary,
            "revision": self.revision,
            "pinned": self.pinned,
            "canary": {"version": self.canary[0], "weight": self.canary[1]} if self.canary else None,
            "shadow": {"version": self.shadow[0], "share": self.shadow[1]} if self.shadow else None,
        }


@dataclass(frozen=True, slots=True)
class DeploymentEvent:
    """One audited change of a deployment: what, who, when, and the versions and weights involved."""

    id: int
    deployment: str
    action: str
    actor: str
    created_at: int
    details: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["details"] = dict(self.details) if self.details is not None else None
        return data


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    """What a batch of labels did: ``accepted`` new labels, ``updated`` replaced ones (also an earlier
    label of the same batch), and the ids no served prediction has, none of which were stored."""

    accepted: int
    updated: int
    unknown_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "updated": self.updated, "unknown_ids": list(self.unknown_ids)}
