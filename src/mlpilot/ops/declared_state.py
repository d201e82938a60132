"""The stored side of a declaration: what exists now, which of it a file manages, and the checks
that need the store (does the model, alias, version or pipeline exist?).

Ownership. Apply marks what it creates so that it never deletes what someone made by hand: a
deployment or monitor it creates has ``created_by`` ``"<user> (mlpilot apply: <project>)"``, a
trigger it creates has ``managed_by: "<project>:<deployment>"`` in its spec. The project is the
file's ``name:`` (by default its folder's name), so two projects applying to one store never
delete each other's deployments.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlpilot.deployments import Canary, Deployment, Shadow, Target, list_deployments
from mlpilot.deployments.stored import version_for_use
from mlpilot.errors import Conflict, NotFound
from mlpilot.monitoring.monitors import Monitor, list_monitors
from mlpilot.ops.declared_lines import Problem
from mlpilot.ops.declared_records import Declarations, DeclaredDeployment
from mlpilot.orchestration.stored import get_pipeline
from mlpilot.orchestration.triggers import Trigger, list_triggers
from mlpilot.store import Database

__all__ = ["Stored", "applied_by", "check_against_store", "owns", "read_stored", "trigger_owner"]

_MARK = "mlpilot apply"


def applied_by(user: str, project: str) -> str:
    """The actor of every change apply makes: who ran it, and for which project."""
    return f"{user} ({_MARK}: {project})"


def owns(created_by: str, project: str) -> bool:
    return created_by.endswith(f"({_MARK}: {project})")


def trigger_owner(project: str, deployment: str) -> str:
    return f"{project}:{deployment}"


@dataclass(frozen=True, slots=True)
class Stored:
    deployments: dict[str, Deployment]
    monitors: dict[str, Monitor]
    triggers: tuple[Trigger, ...]

    def owned_triggers(self, project: str) -> dict[str, list[Trigger]]:
        """The triggers apply created for ``project``, by the deployment that declared them."""
        found: dict[str, list[Trigger]] = {}
        for trigger in self.triggers:
            owner = trigger.spec.get("managed_by")
            if isinstance(owner, str) and owner.startswith(f"{project}:"):
                found.setdefault(owner.removeprefix(f"{project}:"), []).append(trigger)
        return found

    def owned_monitors(self, project: str, deployment: str) -> list[Monitor]:
        return [m for m in self.monitors.values() if m.deployment == deployment and owns(m.created_by, project)]


def read_stored(db: Database) -> Stored:
    return Stored(
        {deployment.name: deployment for deployment in list_deployments(db)},
        {monitor.name: monitor for monitor in list_monitors(db)},
        tuple(list_triggers(db)),
    )


def check_against_store(db: Database, declared: Declarations, stored: Stored) -> list[Problem]:
    """Every problem only the store can show, for every entry: nothing is changed until none is left."""
    source = declared.source
    problems: list[Problem] = []
    pipelines: dict[str, Problem | None] = {}
    with db.read() as conn:
        for entry in declared.deployments:
            for path, target in _targets(entry):
                try:
                    version_for_use(conn, entry.model, target, "_")
                except (NotFound, Conflict) as refused:
                    problems.append(source.problem(path, refused.message.removeprefix("_: "), refused.hint))
            current = stored.deployments.get(entry.name)
            if current is not None and current.model != entry.model:
                problems.append(
                    source.problem(
                        f"{entry.where}.model",
                        f"deployment {entry.name!r} serves model {current.model!r}; a deployment serves one model"
                        " for life",
                        f"Declare {entry.model!r} under another name, or delete {entry.name!r} first.",
                    )
                )
    for entry in declared.deployments:
        for monitor in entry.monitors:
            other = stored.monitors.get(monitor.name)
            if other is not None and other.deployment != entry.name:
                problems.append(
                    source.problem(
                        f"{monitor.where}.name",
                        f"monitor {monitor.name!r} already watches deployment {other.deployment!r}",
                        "Monitor names are unique across deployments; pick another name.",
                    )
                )
        for trigger in entry.retrain:
            if trigger.pipeline not in pipelines:
                pipelines[trigger.pipeline] = _pipeline_problem(db, declared, trigger.pipeline, trigger.where)
            found = pipelines[trigger.pipeline]
            if found is not None:
                problems.append(source.problem(f"{trigger.where}.pipeline", found.message, found.hint))
            if trigger.kind == "alert" and trigger.source not in declared.monitor_names | set(stored.monitors):
                problems.append(
                    source.problem(
                        f"{trigger.where}.monitor",
                        f"monitor {trigger.source!r} is neither declared in this file nor stored",
                        "Declare it under `monitors:` of a deployment, or name an existing monitor.",
                    )
                )
    return problems


def _targets(entry: DeclaredDeployment) -> list[tuple[str, Target]]:
    found = [(f"{entry.where}.model", entry.target)]
    for field, split in (("canary", entry.canary), ("shadow", entry.shadow)):
        if isinstance(split, Canary | Shadow):
            found.append((f"{entry.where}.{field}", split.target))
    return found


def _pipeline_problem(db: Database, declared: Declarations, name: str, where: str) -> Problem | None:
    try:
        get_pipeline(db, name)
    except NotFound as missing:
        hint = f"Record it first: `mlpilot pipelines register FILE.py:{name}` (or run it once)."
        return declared.source.problem(where, missing.message, hint)
    return None
