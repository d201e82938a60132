"""Pipelines, pipeline runs and step runs as stored records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Pipeline", "PipelineRun", "RunState", "StepRun", "StepState"]


class RunState(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunState.RUNNING


class StepState(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    CACHED = "CACHED"  # outputs reused from an earlier successful run with the same cache key
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # an upstream step failed, so this one never started


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: int
    name: str
    source: str  # ``path/to/file.py:attribute`` or ``package.module:attribute``
    workdir: str | None
    steps: list[dict[str, Any]]  # the DAG: one entry per step call with its inputs
    created_at: int
    updated_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "workdir": self.workdir,
            "steps": self.steps,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class StepRun:
    id: int
    pipeline_run_id: str
    step: str
    status: StepState
    cache_key: str | None
    cached_from: int | None
    outputs: dict[str, Any] | None
    details: dict[str, Any] | None
    run_id: str | None
    started_at: int | None
    ended_at: int | None
    error: str | None

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step,
            "status": self.status.value,
            "cache_key": self.cache_key,
            "cached_from": self.cached_from,
            "outputs": self.outputs,
            "details": self.details,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class PipelineRun:
    id: str
    pipeline: str
    status: RunState
    params: dict[str, Any]
    trigger: dict[str, Any]
    run_id: str | None
    actor: str
    started_at: int
    ended_at: int | None
    error: str | None
    summary: dict[str, Any] | None
    steps: tuple[StepRun, ...] = field(default=())

    @property
    def duration_ms(self) -> int | None:
        return None if self.ended_at is None else self.ended_at - self.started_at

    def step(self, name: str) -> StepRun:
        for step in self.steps:
            if step.step == name:
                return step
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "params": self.params,
            "trigger": self.trigger,
            "run_id": self.run_id,
            "actor": self.actor,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "summary": self.summary,
            "steps": [step.to_dict() for step in self.steps],
        }
