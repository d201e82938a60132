"""The model registry: named models, numbered versions, aliases, an audit trail and lineage."""

from mlpilot.registry.records import ModelEvent, ModelVersion, RegisteredModel, VersionStatus
from mlpilot.registry.uri import ModelRef, RunModelRef, parse_model_uri, version_ref

__all__ = [
    "ModelEvent",
    "ModelRef",
    "ModelVersion",
    "RegisteredModel",
    "RunModelRef",
    "VersionStatus",
    "parse_model_uri",
    "version_ref",
]
