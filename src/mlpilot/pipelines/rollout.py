"""The ready-made "roll out" step: register the gate's winner, give it the challenger alias, send
it a canary share of the deployment's traffic, watch it, then promote it to production or roll
the canary back, all recorded as registry and deployment events.

A first model (no deployment yet) has no live traffic to be compared with: it becomes production
and the deployment is created following that alias. Never cached: it acts on the live system.
"""

from __future__ import annotations

from typing import Any

from mlpilot.client import fluent
from mlpilot.deployments import create_deployment, get_deployment
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.monitoring.canary import start_canary, watch_canary
from mlpilot.monitoring.canary_policy import CanaryPolicy
from mlpilot.pipelines.context import current
from mlpilot.pipelines.step import step

__all__ = ["roll_out"]


def _cause(trigger: dict[str, Any]) -> str:
    """Why this promotion happens, for DORA: planned, unless an alert started the pipeline."""
    if trigger.get("kind") != "alert":
        return "planned"
    conditions = [str(condition) for condition in trigger.get("conditions", [])]
    serving_trouble = any(c.startswith(("error_rate", "latency")) for c in conditions)
    return "incident" if serving_trouble else "drift"


def _roll_out(
    decision: dict[str, Any],
    deployment: str,
    canary_weight: float = 0.2,
    window: float = 600.0,
    policy: dict[str, Any] | None = None,
    challenger: str = "challenger",
    production: str = "production",
) -> dict[str, Any]:
    """Act on ``decision`` (the gate step's output) for ``deployment``."""
    if not isinstance(decision, dict) or "passed" not in decision or "candidate" not in decision:
        raise InvalidInput("roll_out takes the output of the evaluate_and_gate step")
    checked = CanaryPolicy(**{"window": window, **(policy or {})})  # a bad policy fails before any change
    if not decision["passed"]:
        return {"action": "none", "reasons": decision.get("reasons", []), "deployment": deployment}
    context = current()
    client = fluent.get_client()
    db = client.db
    actor = f"pipeline:{context.pipeline}"
    model = decision["model"]
    winner = decision["candidate"]
    reason = f"pipeline {context.pipeline} run {context.pipeline_run_id}: " + "; ".join(decision.get("reasons", []))
    version = client.register_model(winner["run_id"], winner["artifact_path"], model, reason=reason[:1000]).version
    client.set_alias(model, challenger, version, reason="passed the gate")
    fluent.log_metric("registered_version", version)
    try:
        get_deployment(db, deployment)
    except NotFound:
        client.set_alias(model, production, version, reason="first model: nothing to compare a canary with")
        create_deployment(db, deployment, f"{model}@{production}", actor=actor)
        return {"action": "deployed", "version": version, "deployment": deployment}
    start_canary(db, deployment, model, challenger, canary_weight, actor=actor)
    outcome = watch_canary(
        db,
        client.settings.resolved_predictions_uri(),
        deployment,
        checked,
        actor=actor,
        cause=_cause(context.trigger),
        context={"pipeline": context.pipeline, "pipeline_run": context.pipeline_run_id, "version": version},
    )
    fluent.set_tag("rollout", outcome.action)
    return {
        "action": outcome.action,
        "version": version,
        "deployment": deployment,
        "reasons": list(outcome.verdict.reasons),
        "polls": outcome.polls,
    }


roll_out = step(cache=False, name="roll_out")(_roll_out)
