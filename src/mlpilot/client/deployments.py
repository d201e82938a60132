"""Client methods for deployments, mixed into Client: what `mlpilot serve` and the platform
server serve, with canary, shadow, rollback and promotion. Over HTTP, reads need a ``read`` key
and changes a ``deploy`` key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlpilot.deployments import UNSET, Deployment, DeploymentEvent, Traffic
from mlpilot.deployments.specs import Unset

if TYPE_CHECKING:
    from mlpilot.client.transport import Transport

__all__ = ["DeploymentMethods"]

Split = tuple[str | int, float] | Mapping[str, Any]


class DeploymentMethods:
    """Deployment operations; expects the ``transport`` attribute Client provides."""

    transport: Transport

    def create_deployment(
        self,
        name: str,
        model: str,
        *,
        canary: Split | None = None,
        shadow: Split | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """Serve ``model`` (``churn@production`` follows the alias; ``churn/3`` fixes a version) as
        ``name``; ``canary=("challenger", 0.1)`` sends it a tenth of the requests, ``shadow=(5, 0.5)``
        mirrors half of them to version 5 (logged, never returned)."""
        return self.transport.create_deployment(
            name, model, _split(canary, "weight"), _split(shadow, "share"), None if config is None else dict(config)
        )

    def get_deployment(self, name: str) -> Deployment:
        return self.transport.get_deployment(name)

    def list_deployments(self) -> list[Deployment]:
        return self.transport.list_deployments()

    def deployment_traffic(self, name: str) -> Traffic:
        """The versions serving ``name`` right now (aliases resolved, a rollback's pin applied)."""
        return self.transport.deployment_traffic(name)

    def update_deployment(
        self,
        name: str,
        *,
        model: str | Unset = UNSET,
        canary: Split | Unset | None = UNSET,
        shadow: Split | Unset | None = UNSET,
        config: Mapping[str, Any] | Unset | None = UNSET,
    ) -> Deployment:
        """Change only what is given; None removes a canary, a shadow or the config."""
        changes: dict[str, Any] = {}
        if not isinstance(model, Unset):
            changes["model_ref"] = model
        if not isinstance(canary, Unset):
            changes["canary"] = _split(canary, "weight")
        if not isinstance(shadow, Unset):
            changes["shadow"] = _split(shadow, "share")
        if not isinstance(config, Unset):
            changes["config"] = None if config is None else dict(config)
        return self.transport.update_deployment(name, changes)

    def delete_deployment(self, name: str) -> None:
        self.transport.delete_deployment(name)

    def rollback_deployment(self, name: str) -> Deployment:
        """Pin all traffic to the version served before the current one (servers switch within a poll)."""
        return self.transport.rollback_deployment(name)

    def promote_deployment(self, name: str) -> Deployment:
        """Make the canary the primary: all traffic goes to it."""
        return self.transport.promote_deployment(name)

    def deployment_events(self, name: str, limit: int = 100) -> list[DeploymentEvent]:
        return self.transport.deployment_events(name, limit)


def _split(value: Split | None, amount: str) -> dict[str, Any] | None:
    """A canary or shadow as the wire carries it: {"target": ..., "weight" or "share": ...}."""
    if value is None or isinstance(value, Mapping):
        return None if value is None else dict(value)
    target, fraction = value
    return {"target": target, amount: fraction}
