"""Domain records of experiment tracking: immutable, plain data."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

__all__ = ["DatasetInput", "Experiment", "Metric", "Run", "RunPage", "RunStatus"]


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True, slots=True)
class Experiment:
    id: int
    name: str
    created_at: int
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history. ``timestamp`` is epoch milliseconds."""

    key: str
    value: float
    step: int = 0
    timestamp: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": _json_float(self.value), "step": self.step, "timestamp": self.timestamp}


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset version a run read, and the role it played (train, test, …)."""

    dataset: str
    version: int
    role: str
    content_hash: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    experiment_id: int
    experiment_name: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    parent_run_id: str | None = None
    entry_point: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_diff_hash: str | None = None
    git_committed_at: int | None = None  # epoch ms of the commit: where DORA's lead time starts
    environment_hash: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetInput, ...] = ()

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = self.status.value
        data["params"] = dict(self.params)
        data["metrics"] = {key: _json_float(value) for key, value in self.metrics.items()}
        data["tags"] = dict(self.tags)
        data["inputs"] = [item.to_dict() for item in self.inputs]
        return data


@dataclass(frozen=True, slots=True)
class RunPage(Sequence[Run]):
    """One page of search results; pass ``next_page_token`` back to get the next."""

    runs: tuple[Run, ...]
    next_page_token: str | None = None

    @overload
    def __getitem__(self, index: int) -> Run: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Run]: ...
    def __getitem__(self, index: int | slice) -> Run | Sequence[Run]:
        return self.runs[index]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)


def _json_float(value: float) -> float | str:
    """JSON has no NaN or infinity; spell them as strings so output stays valid JSON."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value
