"""Client methods for monitors, mixed into Client: declare what to watch on a deployment, run it,
read its results and alerts, and fit or read a model version's reference profile.

Over HTTP, reads need a ``read`` key, monitor changes and runs a ``deploy`` key, fitting a
reference a ``write`` key. Locally, a run reads this machine's prediction log (``predictions_uri``,
where ``mlpilot serve`` writes); through a server, the server's. Either way webhooks are delivered
before ``run_monitor`` returns. A webhook secret is shown as ``"***"`` in everything a server
returns; sending a config back with ``"***"`` keeps the stored secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from mlpilot.deployments.specs import UNSET, Unset
from mlpilot.errors import InvalidInput
from mlpilot.registry import ModelRef, parse_model_uri

if TYPE_CHECKING:
    from mlpilot.client.transport import Transport
    from mlpilot.monitoring.config import MonitorConfig
    from mlpilot.monitoring.monitors import Monitor

__all__ = ["MonitorMethods"]

Config: TypeAlias = "Mapping[str, Any] | MonitorConfig"
_STATES = ("open", "resolved")
_REF_HINT = "Name a registered version: NAME/VERSION, NAME@ALIAS or NAME/latest, with or without 'models:/'."


class MonitorMethods:
    """Monitor, alert and reference operations; expects the ``transport`` attribute Client provides."""

    transport: Transport

    def create_monitor(
        self, name: str, deployment: str, config: Config | None = None, *, enabled: bool = True
    ) -> Monitor:
        """Watch ``deployment``'s predictions: drift against the training reference, live and
        estimated performance, latency; ``config`` says the window, methods, conditions and webhooks
        (e.g. ``{"window": "1h", "conditions": {"drift_share": 0.3}}``); every field is optional."""
        return self.transport.create_monitor(name, deployment, _config(config), bool(enabled))

    def get_monitor(self, name: str) -> Monitor:
        return self.transport.get_monitor(name)

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        """Every monitor by name, or only those of ``deployment``."""
        return self.transport.list_monitors(deployment)

    def update_monitor(
        self, name: str, *, config: Config | Unset | None = UNSET, enabled: bool | None = None
    ) -> Monitor:
        """Change only what is given: ``config`` replaces the whole config (None: the defaults),
        ``enabled`` switches scheduled runs on or off."""
        changes: dict[str, Any] = {}
        if not isinstance(config, Unset):
            changes["config"] = _config(config)
        if enabled is not None:
            changes["enabled"] = bool(enabled)
        return self.transport.update_monitor(name, changes)

    def delete_monitor(self, name: str) -> None:
        """The monitor with its results and alerts."""
        self.transport.delete_monitor(name)

    def run_monitor(self, name: str) -> dict[str, Any]:
        """Evaluate the window ending now: ``{"result", "opened", "resolved", "deliveries"}``."""
        return self.transport.run_monitor(name)

    def monitor_results(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` results of monitor ``name``, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit must be a whole number of at least 1, got {limit!r}")
        return [result.to_dict() for result in self.transport.monitor_results(name, limit)]

    def alerts(
        self, monitor: str | None = None, deployment: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """Alerts newest first, of one monitor or one deployment's monitors, open or resolved."""
        if state is not None and state not in _STATES:
            raise InvalidInput(f"alert state must be 'open' or 'resolved', not {state!r}")
        return [alert.to_dict() for alert in self.transport.list_alerts(monitor, deployment, state)]

    def fit_reference(self, model_ref: str) -> dict[str, Any]:
        """Fit (or refit) the reference profile of ``churn/3`` or ``churn@production`` from the
        training dataset its run logged; the model scores the sample rows, so its outputs get a
        reference too."""
        return self.transport.fit_reference(_model_ref(model_ref))

    def get_reference(self, model_ref: str) -> dict[str, Any]:
        """The stored reference profile of ``churn/3`` or ``churn@production`` (NotFound until fitted)."""
        return self.transport.get_reference(_model_ref(model_ref))


def _config(config: Config | None) -> dict[str, Any] | None:
    """A config as the wire carries it: a plain mapping (a MonitorConfig with its secret)."""
    if config is None:
        return None
    if isinstance(config, Mapping):
        return dict(config)
    if not hasattr(config, "to_dict"):  # MonitorConfig is not imported here: it would load pandas
        raise InvalidInput(f"a monitor config must be a mapping or a MonitorConfig, not {type(config).__name__}")
    return config.to_dict()


def _model_ref(model_ref: str) -> ModelRef:
    """``churn/3``, ``churn@production``, ``churn/latest`` or their ``models:/`` forms."""
    if not isinstance(model_ref, str):
        raise InvalidInput(f"a model reference must be a string, got {type(model_ref).__name__}", hint=_REF_HINT)
    parsed = parse_model_uri(model_ref if model_ref.startswith(("models:/", "runs:/")) else f"models:/{model_ref}")
    if not isinstance(parsed, ModelRef):
        raise InvalidInput(f"{model_ref!r} names a run's model, not a registered version", hint=_REF_HINT)
    return parsed
