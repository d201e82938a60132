"""``current()``: inside a running step, which pipeline run, step and trigger it belongs to."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlpilot.errors import Conflict

__all__ = ["StepContext", "current", "entered"]


@dataclass(frozen=True, slots=True)
class StepContext:
    pipeline: str
    pipeline_run_id: str
    step: str  # the instance's name, e.g. "train[2]"
    run_id: str  # the step's tracked run
    params: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] = field(default_factory=dict)  # {"kind": "manual" | "schedule" | "dataset" | "alert", …}


_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar("mlpilot_step", default=None)


def current() -> StepContext:
    found = _current.get()
    if found is None:
        raise Conflict("no pipeline step is running here", hint="Call current() inside a @step run by a pipeline.")
    return found


@contextlib.contextmanager
def entered(context: StepContext) -> Iterator[StepContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
