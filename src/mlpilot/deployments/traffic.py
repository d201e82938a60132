"""The versions a deployment serves now: the read every serving worker repeats about twice a second.

It costs at most two queries: the deployment row (with its model's name), then the versions of
the aliases it follows, if any. Comparing the result with the last one (revision and versions)
tells a worker whether to reload, including when an alias it follows moved.
"""

from __future__ import annotations

from mlpilot.deployments.records import Target, Traffic
from mlpilot.deployments.stored import alias_versions, deployment_row, target_of
from mlpilot.errors import Conflict
from mlpilot.store import Database

__all__ = ["resolve_traffic"]


def resolve_traffic(db: Database, name: str) -> Traffic:
    """Primary (the pinned version if a rollback set one, else the target's), canary and shadow versions.

    NotFound if the deployment does not exist; Conflict if an alias it follows was deleted, so the
    runtime keeps serving what it loaded and reports itself not ready.
    """
    with db.read() as conn:
        row = deployment_row(conn, name)
        model, pinned = row["model"], row["pinned_version"]
        targets = {
            "primary": None if pinned is not None else target_of(row),
            "canary": target_of(row, "canary_"),
            "shadow": target_of(row, "shadow_"),
        }
        held = alias_versions(
            conn, row["model_id"], [t.alias for t in targets.values() if t is not None and t.alias is not None]
        )

    def version(role: str) -> int | None:
        target = targets[role]
        if target is None:
            return None
        if target.version is not None:
            return target.version
        assert target.alias is not None
        if target.alias not in held:
            raise _alias_gone(name, model, role, target)
        return held[target.alias]

    primary = pinned if pinned is not None else version("primary")
    assert primary is not None
    canary, shadow = version("canary"), version("shadow")
    return Traffic(
        model=model,
        primary=primary,
        revision=row["revision"],
        pinned=pinned is not None,
        canary=(canary, row["canary_weight"]) if canary is not None else None,
        shadow=(shadow, row["shadow_share"]) if shadow is not None else None,
    )


def _alias_gone(name: str, model: str, role: str, target: Target) -> Conflict:
    return Conflict(
        f"deployment {name!r} follows {target.uri(model)} as its {role} target, but that alias no longer exists",
        hint=f"Set the alias again (`mlpilot models alias {model} {target.alias} VERSION`) "
        "or point the deployment at another target.",
    )
