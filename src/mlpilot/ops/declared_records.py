"""What a ``deployments:`` section declares, as frozen records checked field by field.

Each record keeps ``where``, its dotted path in the file (``deployments[0].monitors[1]``), so that a
check against the store (an unknown model, a pipeline never registered) can still name the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlpilot.deployments.records import Canary, Shadow, Target
from mlpilot.deployments.specs import Unset
from mlpilot.monitoring.config import MonitorConfig
from mlpilot.ops.declared_lines import Source

__all__ = ["TRIGGER_SOURCES", "Declarations", "DeclaredDeployment", "DeclaredMonitor", "DeclaredTrigger"]

# The key naming what starts a retraining, per `on:` kind.
TRIGGER_SOURCES: Mapping[str, str] = {"alert": "monitor", "schedule": "cron", "dataset": "dataset"}


@dataclass(frozen=True, slots=True)
class DeclaredMonitor:
    name: str
    config: MonitorConfig
    enabled: bool
    where: str


@dataclass(frozen=True, slots=True)
class DeclaredTrigger:
    """A retraining: ``pipeline`` starts on ``kind`` events from ``source`` (a monitor, a cron
    expression or a dataset) with ``params``."""

    pipeline: str
    kind: str
    source: str
    params: Mapping[str, Any]
    where: str

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a trigger (triggers have no name): a changed ``params`` is the same trigger."""
        return (self.pipeline, self.kind, self.source)

    @property
    def spec(self) -> dict[str, str]:
        return {TRIGGER_SOURCES[self.kind]: self.source}


@dataclass(frozen=True, slots=True)
class DeclaredDeployment:
    """A deployment as declared. ``canary``, ``shadow`` and each config option are UNSET when the
    file leaves them out (then apply leaves the stored value alone) and None when it clears them."""

    name: str
    model: str
    target: Target
    where: str
    canary: Canary | Unset | None
    shadow: Shadow | Unset | None
    config: Mapping[str, Any] = field(default_factory=dict)  # declared options only; None clears one
    monitors: tuple[DeclaredMonitor, ...] = ()
    retrain: tuple[DeclaredTrigger, ...] = ()

    @property
    def model_ref(self) -> str:
        return model_ref(self.model, self.target)


def model_ref(model: str, target: Target) -> str:
    return f"{model}@{target.alias}" if target.alias is not None else f"{model}/{target.version}"


@dataclass(frozen=True, slots=True)
class Declarations:
    """A whole file: its project (whose name scopes what apply manages) and its deployments."""

    source: Source
    project: str
    deployments: tuple[DeclaredDeployment, ...]

    @property
    def monitor_names(self) -> frozenset[str]:
        return frozenset(monitor.name for deployment in self.deployments for monitor in deployment.monitors)
