"""Request bodies of the deployment routes (``/api/v1/deployments``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DeploymentBody", "DeploymentUpdateBody", "SplitBody"]


class SplitBody(BaseModel):
    """A canary (``weight``) or shadow (``share``) target: an alias name or a version number."""

    model_config = ConfigDict(extra="forbid")

    target: str | int = Field(description="An alias (`challenger`) or a version number.")
    weight: float | None = Field(default=None, description="Canary: share of requests, between 0 and 1.")
    share: float | None = Field(default=None, description="Shadow: share mirrored, above 0, at most 1.")

    def as_split(self, amount: str) -> dict[str, Any]:
        return {"target": self.target, amount: getattr(self, amount)}


class DeploymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    model: str = Field(max_length=600, description="`churn@production` follows the alias; `churn/3` fixes a version.")
    canary: SplitBody | None = None
    shadow: SplitBody | None = None
    config: dict[str, Any] | None = Field(default=None, description="max_batch_size, max_batch_wait_ms.")


class DeploymentUpdateBody(BaseModel):
    """Only the fields present change; ``null`` removes a canary, a shadow or the config."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, max_length=600)
    canary: SplitBody | None = None
    shadow: SplitBody | None = None
    config: dict[str, Any] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent, as ``update_deployment`` keywords (a null model changes nothing: a
        deployment always serves something)."""
        found: dict[str, Any] = {}
        for field in self.model_fields_set:
            value = getattr(self, field)
            if field == "model":
                if value is not None:
                    found["model_ref"] = value
            elif field in ("canary", "shadow") and value is not None:
                found[field] = value.as_split("weight" if field == "canary" else "share")
            else:
                found[field] = value
        return found
