"""Creating, reading, changing and deleting deployments; every change is one transaction with its events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from mlpilot.deployments.events import record_event
from mlpilot.deployments.records import Canary, Deployment, Shadow, Target
from mlpilot.deployments.specs import (
    UNSET,
    CanaryLike,
    ShadowLike,
    Unset,
    canary_of,
    check_config,
    check_deployment_name,
    check_distinct,
    parse_model_ref,
    shadow_of,
)
from mlpilot.deployments.stored import (
    canary_values,
    change_row,
    deployment_row,
    find_row,
    list_rows,
    shadow_values,
    target_values,
    to_record,
    version_for_use,
    version_now,
)
from mlpilot.errors import Conflict
from mlpilot.registry.lookup import model_row
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import deployments

__all__ = ["create_deployment", "delete_deployment", "get_deployment", "list_deployments", "update_deployment"]


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f"deployment {name!r} already exists",
        hint=f"Change it with `mlpilot deployments update {name}`, or pick another name.",
    )


def create_deployment(
    db: Database,
    name: str,
    model_ref: str,
    *,
    canary: CanaryLike | None = None,
    shadow: ShadowLike | None = None,
    config: Mapping[str, Any] | None = None,
    actor: str,
) -> Deployment:
    """Serve ``model_ref`` (``churn@production`` follows the alias, ``churn/3`` fixes a version) as ``name``."""
    check_deployment_name(name)
    model, target = parse_model_ref(model_ref)
    canary_spec, shadow_spec, settings = canary_of(canary), shadow_of(shadow), check_config(config)
    check_distinct(target, canary_spec, shadow_spec)
    when = now_ms()
    try:
        with db.write() as conn:
            if find_row(conn, name) is not None:
                raise _duplicate(name)
            version = version_for_use(conn, model, target, "model_ref")
            model_id = model_row(conn, model)["id"]
            split = _put_in_service(conn, model, canary_spec, shadow_spec)
            conn.execute(
                deployments.insert().values(
                    name=name,
                    model_id=model_id,
                    **target_values(target),
                    **canary_values(canary_spec),
                    **shadow_values(shadow_spec),
                    pinned_version=None,
                    config=settings,
                    revision=1,
                    created_by=actor,
                    created_at=when,
                    updated_at=when,
                )
            )
            record_event(
                conn,
                name,
                "created",
                actor,
                when,
                model=model,
                target=str(target),
                to_version=version,
                **split,
                config=settings,
                revision=1,
            )
            return to_record(deployment_row(conn, name))
    except sa_exc.IntegrityError as exc:
        # PostgreSQL: a concurrent create took the name between our check and our insert.
        raise _duplicate(name) from exc


def _put_in_service(conn: Connection, model: str, canary: Canary | None, shadow: Shadow | None) -> dict[str, Any]:
    """Check that the canary and shadow targets can be served; their details for the event."""
    details: dict[str, Any] = {}
    if canary is not None:
        version = version_for_use(conn, model, canary.target, "canary target")
        details["canary"] = {**canary.to_dict(), "version": version}
    if shadow is not None:
        version = version_for_use(conn, model, shadow.target, "shadow target")
        details["shadow"] = {**shadow.to_dict(), "version": version}
    return details


def get_deployment(db: Database, name: str) -> Deployment:
    with db.read() as conn:
        return to_record(deployment_row(conn, name))


def list_deployments(db: Database, *, limit: int | None = None, after: str | None = None) -> list[Deployment]:
    """By name; with ``after`` (a name), only those after it; at most ``limit``."""
    with db.read() as conn:
        return [to_record(row) for row in list_rows(conn, limit=limit, after=after)]


def update_deployment(
    db: Database,
    name: str,
    *,
    model_ref: str | Unset = UNSET,
    canary: CanaryLike | Unset | None = UNSET,
    shadow: ShadowLike | Unset | None = UNSET,
    config: Mapping[str, Any] | Unset | None = UNSET,
    actor: str,
) -> Deployment:
    """Change what is given (None removes a canary, a shadow or the config); the rest stays.

    Giving ``model_ref`` releases a rollback's pin, even when it names the current target. A
    deployment serves one model for life: another model is a new deployment. A call that changes
    nothing records nothing and keeps the revision.
    """
    new_ref = parse_model_ref(model_ref) if not isinstance(model_ref, Unset) else None
    new_canary = canary_of(canary) if not isinstance(canary, Unset) else UNSET
    new_shadow = shadow_of(shadow) if not isinstance(shadow, Unset) else UNSET
    new_config = check_config(config) if not isinstance(config, Unset) else UNSET
    when = now_ms()
    with db.write() as conn:
        row = deployment_row(conn, name, lock=True)
        current = to_record(row)
        target = current.target if new_ref is None else _same_model(current, *new_ref)
        final_canary = current.canary if isinstance(new_canary, Unset) else new_canary
        final_shadow = current.shadow if isinstance(new_shadow, Unset) else new_shadow
        check_distinct(target, final_canary, final_shadow)
        values: dict[str, Any] = {}
        changes: list[tuple[str, dict[str, Any]]] = []
        if new_ref is not None and (target != current.target or current.pinned_version is not None):
            served = current.pinned_version or version_now(conn, row["model_id"], current.target)
            version = version_for_use(conn, current.model, target, "model_ref")
            values.update(target_values(target), pinned_version=None)
            moved = {"from_target": str(current.target), "to_target": str(target)}
            changes.append(("updated", {**moved, "from_version": served, "to_version": version}))
        if final_canary != current.canary:
            values.update(canary_values(final_canary))
            changes.append(_split_change(conn, current, "canary", current.canary, final_canary))
        if final_shadow != current.shadow:
            values.update(shadow_values(final_shadow))
            changes.append(_split_change(conn, current, "shadow", current.shadow, final_shadow))
        if not isinstance(new_config, Unset) and new_config != dict(current.config):
            values["config"] = new_config
            changes.append(("config_set", {"from": dict(current.config), "to": new_config}))
        if not changes:
            return current
        revision = change_row(conn, row, values, when)
        for action, details in changes:
            record_event(conn, name, action, actor, when, **details, revision=revision)
        return to_record(deployment_row(conn, name))


def _same_model(current: Deployment, model: str, target: Target) -> Target:
    if model != current.model:
        raise Conflict(
            f"deployment {current.name!r} serves model {current.model!r}, not {model!r}",
            hint=f"Create a new deployment for {model!r}; its predictions, feedback and monitors are its own.",
        )
    return target


def _split_change(
    conn: Connection, current: Deployment, field: str, before: Canary | Shadow | None, after: Canary | Shadow | None
) -> tuple[str, dict[str, Any]]:
    if after is None:
        assert before is not None
        return f"{field}_cleared", before.to_dict()
    version = version_for_use(conn, current.model, after.target, f"{field} target")
    details = {**after.to_dict(), "version": version}
    if before is not None:
        details["from"] = before.to_dict()
    return f"{field}_set", details


def delete_deployment(db: Database, name: str, *, actor: str) -> None:
    """Stop serving ``name``. Its events and feedback stay, keyed by name, for audits and monitors."""
    when = now_ms()
    with db.write() as conn:
        row = deployment_row(conn, name, lock=True)
        current = to_record(row)
        served = current.pinned_version or version_now(conn, row["model_id"], current.target)
        conn.execute(deployments.delete().where(deployments.c.id == row["id"]))
        record_event(
            conn,
            name,
            "deleted",
            actor,
            when,
            model=current.model,
            target=str(current.target),
            from_version=served,
            revision=row["revision"],
        )
