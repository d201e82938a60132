"""Request bodies of the REST API: the server validates them, the remote client builds them.

Values a service cleans itself (param values, tag values) are accepted as any JSON scalar; the
service turns them into strings exactly as on the local transport.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from mlpilot.tracking.metrics import Point, make_point

__all__ = [
    "AliasBody",
    "BatchBody",
    "EndRunBody",
    "ExperimentBody",
    "KeyBody",
    "MetricPoint",
    "MetricsBody",
    "ModelUpdateBody",
    "ParamsBody",
    "ReasonBody",
    "RegisterBody",
    "RunBody",
    "TagsBody",
    "points_of",
]

Scalar = str | int | float | bool | None
# The store's integer columns: ids and version numbers are 32-bit, steps and times 64-bit.
Id32 = Annotated[int, Field(ge=1, le=2**31 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentBody(_Body):
    name: str
    description: str | None = None


class RunBody(_Body):
    experiment_id: Id32
    name: str | None = None
    tags: dict[str, Scalar] | None = None
    parent_run_id: str | None = None
    user: str = Field(description="Who started the run on the client machine.")
    entry_point: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_diff_hash: str | None = None
    git_committed_at: Int64 | None = Field(default=None, description="Epoch ms of the commit's committer time.")
    environment: dict[str, Any] | None = Field(default=None, description="Python, platform and packages.")


class EndRunBody(_Body):
    status: str = "FINISHED"


class ParamsBody(_Body):
    params: dict[str, Scalar]


class TagsBody(_Body):
    tags: dict[str, Scalar]


class MetricPoint(_Body):
    key: str
    value: float = Field(description='A number, or "NaN", "Infinity" or "-Infinity" as a string.')
    step: Int64 = 0
    timestamp: Int64 | None = Field(default=None, description="Epoch ms; the server's clock when absent.")


class MetricsBody(_Body):
    metrics: list[MetricPoint]


def points_of(run_id: str, metrics: list[MetricPoint], when: int) -> list[Point]:
    """The store's points for ``run_id``; a point without a timestamp gets ``when``."""
    make = make_point
    return [
        make(run_id, item.key, item.value, item.step, when if item.timestamp is None else item.timestamp)
        for item in metrics
    ]


class BatchBody(_Body):
    metrics: list[MetricPoint] = Field(default_factory=list)
    params: dict[str, Scalar] | None = None
    tags: dict[str, Scalar] | None = None


class RegisterBody(_Body):
    run_id: str
    artifact_path: str
    description: str | None = None
    tags: dict[str, Scalar] | None = None
    reason: str | None = None


class ModelUpdateBody(_Body):
    """Fields left out are left alone; ``"description": null`` clears the description."""

    description: str | None = None
    tags: dict[str, Scalar] | None = None


class AliasBody(_Body):
    version: Id32
    reason: str | None = None


class ReasonBody(_Body):
    reason: str | None = None


class KeyBody(_Body):
    name: str
    scopes: list[str] | str
