"""mlpilot: track, version, register, serve, watch, retrain, gate and roll out models.

import mlpilot
with mlpilot.start_run(experiment="churn") as run:
    run.log_params({"C": 0.5})
    run.log_metric("acc", 0.91)
"""

from typing import TYPE_CHECKING, Any

from mlpilot.client import ActiveRun, Client
from mlpilot.client.fluent import (
    active_run,
    connect,
    end_run,
    get_client,
    get_metric_history,
    get_run,
    load_model,
    log_artifact,
    log_artifacts,
    log_dataset,
    log_dict,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    predictions,
    register_model,
    search_runs,
    set_alias,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from mlpilot.errors import (
    Conflict,
    InactiveRun,
    IntegrityError,
    InvalidInput,
    MlpilotError,
    NotFound,
)
from mlpilot.registry import ModelEvent, ModelVersion, RegisteredModel
from mlpilot.tracking.records import Experiment, Metric, Run, RunPage, RunStatus

if TYPE_CHECKING:
    from mlpilot.models import LoadedModel
    from mlpilot.monitoring import drift

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # LoadedModel and drift need pandas: resolved on first use so `import mlpilot` stays light.
    if name == "LoadedModel":
        from mlpilot.models import LoadedModel

        return LoadedModel
    if name == "drift":
        from mlpilot.monitoring import drift

        return drift
    raise AttributeError(f"module 'mlpilot' has no attribute {name!r}")


__all__ = [
    "ActiveRun",
    "Client",
    "Conflict",
    "Experiment",
    "InactiveRun",
    "IntegrityError",
    "InvalidInput",
    "LoadedModel",
    "Metric",
    "MlpilotError",
    "ModelEvent",
    "ModelVersion",
    "NotFound",
    "RegisteredModel",
    "Run",
    "RunPage",
    "RunStatus",
    "__version__",
    "active_run",
    "connect",
    "drift",
    "end_run",
    "get_client",
    "get_metric_history",
    "get_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "predictions",
    "register_model",
    "search_runs",
    "set_alias",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
