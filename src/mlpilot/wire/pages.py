"""Pages of the listing routes: one page of records and the token of the next, the shape run search
already has (``{"runs": [...], "next_page_token": ...}``). The server documents and renders them,
the remote client reads them and follows ``next_page_token`` to the end.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from mlpilot.data import DatasetSummary, DatasetVersion
from mlpilot.deployments import Deployment
from mlpilot.registry import ModelVersion, RegisteredModel
from mlpilot.security import ApiKey
from mlpilot.tracking.records import Experiment
from mlpilot.wire.monitors import AlertView, MonitorResultView, MonitorView

__all__ = [
    "AlertPage",
    "ApiKeyPage",
    "DatasetPage",
    "DatasetVersionPage",
    "DeploymentPage",
    "ExperimentPage",
    "Listing",
    "ModelPage",
    "ModelVersionPage",
    "MonitorPage",
    "MonitorResultPage",
]

NextPageToken = Annotated[
    str | None,
    Field(description="Pass it back as `page_token` for the next page; null on the last page."),
]


class Listing(BaseModel):
    """A page of a listing; ``ITEMS`` names the field that holds its records."""

    ITEMS: ClassVar[str]
    next_page_token: NextPageToken = None

    def records(self) -> list[Any]:
        return list(getattr(self, self.ITEMS))


class ExperimentPage(Listing):
    """Experiments, oldest first (by id)."""

    ITEMS = "experiments"
    experiments: list[Experiment]


class ModelPage(Listing):
    """Registered models, by name."""

    ITEMS = "models"
    models: list[RegisteredModel]


class ModelVersionPage(Listing):
    """Versions of one registered model, by number."""

    ITEMS = "versions"
    versions: list[ModelVersion]


class DatasetPage(Listing):
    """Datasets, by name."""

    ITEMS = "datasets"
    datasets: list[DatasetSummary]


class DatasetVersionPage(Listing):
    """Versions of one dataset, by number."""

    ITEMS = "versions"
    versions: list[DatasetVersion]


class ApiKeyPage(Listing):
    """API keys, revoked ones included, oldest first (by creation time, then name)."""

    ITEMS = "keys"
    keys: list[ApiKey]


class DeploymentPage(Listing):
    """Deployments, by name."""

    ITEMS = "deployments"
    deployments: list[Deployment]


class MonitorPage(Listing):
    """Monitors, by name."""

    ITEMS = "monitors"
    monitors: list[MonitorView]


class MonitorResultPage(Listing):
    """One monitor's results, newest first (by id)."""

    ITEMS = "results"
    results: list[MonitorResultView]


class AlertPage(Listing):
    """Alerts, newest first (by id)."""

    ITEMS = "alerts"
    alerts: list[AlertView]
