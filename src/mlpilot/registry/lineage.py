"""Where a model version came from, and how two versions differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlpilot.registry.records import ModelVersion
from mlpilot.registry.uri import ModelRef
from mlpilot.registry.versions import get_version
from mlpilot.store import Database
from mlpilot.tracking.records import Run
from mlpilot.tracking.runs import get_run

__all__ = ["Lineage", "VersionComparison", "compare_versions", "lineage"]


@dataclass(frozen=True, slots=True)
class Lineage:
    """A version with the run that produced it: params, metrics, dataset versions and git state."""

    version: ModelVersion
    run: Run

    def to_dict(self) -> dict[str, Any]:
        run = self.run
        return {
            "model": self.version.to_dict(),
            "run": {
                "id": run.id,
                "name": run.name,
                "experiment": run.experiment_name,
                "status": run.status.value,
                "user": run.user,
                "start_time": run.start_time,
                "end_time": run.end_time,
                "entry_point": run.entry_point,
                "git_commit": run.git_commit,
                "git_dirty": run.git_dirty,
                "git_diff_hash": run.git_diff_hash,
                "params": dict(run.params),
                "metrics": run.to_dict()["metrics"],
            },
            "datasets": [item.to_dict() for item in run.inputs],
        }


def lineage(db: Database, ref: ModelRef) -> Lineage:
    version = get_version(db, ref)
    return Lineage(version, get_run(db, version.run_id))


@dataclass(frozen=True, slots=True)
class VersionComparison:
    a: Lineage
    b: Lineage

    @staticmethod
    def _changes(left: dict[str, Any], right: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        return {
            key: (left.get(key), right.get(key)) for key in sorted({*left, *right}) if left.get(key) != right.get(key)
        }

    def metrics(self) -> dict[str, tuple[Any, Any]]:
        return self._changes(self.a.to_dict()["run"]["metrics"], self.b.to_dict()["run"]["metrics"])

    def params(self) -> dict[str, tuple[Any, Any]]:
        return self._changes(dict(self.a.run.params), dict(self.b.run.params))

    def datasets(self) -> dict[str, tuple[Any, Any]]:
        def by_role(item: Lineage) -> dict[str, Any]:
            return {f"{i.role}:{i.dataset}": f"{i.dataset}:{i.version}" for i in item.run.inputs}

        return self._changes(by_role(self.a), by_role(self.b))

    def signature(self) -> dict[str, tuple[Any, Any]]:
        def columns(item: Lineage) -> dict[str, Any]:
            signature = item.version.signature or {}
            return {
                f"{side}.{column.get('name')}": column.get("type")
                for side in ("inputs", "outputs")
                for column in signature.get(side, [])
            }

        return self._changes(columns(self.a), columns(self.b))

    def to_dict(self) -> dict[str, Any]:
        def pairs(changes: dict[str, tuple[Any, Any]]) -> dict[str, dict[str, Any]]:
            return {key: {"a": before, "b": after} for key, (before, after) in changes.items()}

        return {
            "a": self.a.version.uri,
            "b": self.b.version.uri,
            "same_artifact": self.a.version.sha256 == self.b.version.sha256,
            "metrics": pairs(self.metrics()),
            "params": pairs(self.params()),
            "datasets": pairs(self.datasets()),
            "signature": pairs(self.signature()),
        }


def compare_versions(db: Database, a: ModelRef, b: ModelRef) -> VersionComparison:
    return VersionComparison(lineage(db, a), lineage(db, b))
