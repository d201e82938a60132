"""Deployments: named bindings of a registered model's alias or version to a prediction endpoint,
with canary and shadow traffic, rollback and promotion, an audit trail, and ground-truth feedback."""

from mlpilot.deployments.events import deployment_events
from mlpilot.deployments.feedback import read_feedback, record_feedback
from mlpilot.deployments.lifecycle import (
    create_deployment,
    delete_deployment,
    get_deployment,
    list_deployments,
    update_deployment,
)
from mlpilot.deployments.records import (
    Canary,
    Deployment,
    DeploymentEvent,
    FeedbackResult,
    Shadow,
    Target,
    Traffic,
)
from mlpilot.deployments.rollout import promote_deployment, rollback_deployment
from mlpilot.deployments.specs import CONFIG_OPTIONS, UNSET
from mlpilot.deployments.traffic import resolve_traffic

__all__ = [
    "CONFIG_OPTIONS",
    "UNSET",
    "Canary",
    "Deployment",
    "DeploymentEvent",
    "FeedbackResult",
    "Shadow",
    "Target",
    "Traffic",
    "create_deployment",
    "delete_deployment",
    "deployment_events",
    "get_deployment",
    "list_deployments",
    "promote_deployment",
    "read_feedback",
    "record_feedback",
    "resolve_traffic",
    "rollback_deployment",
    "update_deployment",
]
