"""Request bodies and response shapes of the monitor routes (``/api/v1/monitors``, ``/api/v1/alerts``
and a model version's ``/reference``).

A monitor's ``config`` travels as a plain object and is checked by the monitoring service field by
field, so a mistake in it is a 400 that names the field (``monitor config field window: …``) rather
than a schema error. Responses are the records' ``to_dict()`` forms, described here for the OpenAPI
document; a webhook secret only ever leaves the server as its mask, ``"***"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    pass

__all__ = [
    "AlertView",
    "DeliveryView",
    "MonitorBody",
    "MonitorConfigView",
    "MonitorResultView",
    "MonitorRunView",
    "MonitorUpdateBody",
    "MonitorView",
    "ReferenceView",
]

_CONFIG = (
    "What the monitor watches and when it alerts: window, features, method(s), threshold(s), "
    "correction, min_rows, drift_share, schedule_seconds, conditions, webhooks, webhook_secret. "
    "Every field is optional; a mistake is a 400 naming the field."
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MonitorBody(_Body):
    name: str = Field(max_length=100, description="1-100 letters, digits, '.', '_' or '-'.")
    deployment: str = Field(max_length=100, description="The deployment whose prediction log it watches.")
    config: dict[str, Any] | None = Field(default=None, description=_CONFIG)
    enabled: bool = Field(default=True, description="Whether the scheduler runs it.")


class MonitorUpdateBody(_Body):
    """Only the fields present change. A ``config`` replaces the whole config (``null``: the
    defaults); a webhook secret sent back as its mask ``"***"`` keeps the stored one."""

    config: dict[str, Any] | None = Field(default=None, description=_CONFIG)
    enabled: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent, as ``update_monitor`` keywords (a null ``enabled`` changes nothing)."""
        found: dict[str, Any] = {}
        if "config" in self.model_fields_set:
            found["config"] = self.config
        if self.enabled is not None:
            found["enabled"] = self.enabled
        return found


# responses ---------------------------------------------------------------------------------------


class PerformanceDropView(BaseModel):
    metric: str
    max_drop: float


class ConditionsView(BaseModel):
    drift_share: float | None = Field(description="Alert when at least this share of columns drift.")
    features: list[str] = Field(description="Alert when any of these drifts.")
    performance: PerformanceDropView | None
    latency_p99_ms: float | None


class MonitorConfigView(BaseModel):
    window: str
    features: list[str] | None
    method: str | None
    methods: dict[str, str]
    threshold: float | None
    thresholds: dict[str, float]
    correction: str | None
    min_rows: int
    drift_share: float
    schedule_seconds: int
    conditions: ConditionsView
    webhooks: list[str]
    webhook_secret: Literal["***"] | None = Field(description='"***" when a secret is set: it is never shown.')


class MonitorView(BaseModel):
    """A monitor (``Monitor.to_dict()``)."""

    name: str
    deployment: str
    config: MonitorConfigView
    enabled: bool
    created_by: str
    created_at: int
    updated_at: int
    last_run_at: int | None


class WindowView(BaseModel):
    spec: str
    start: int | None
    end: int
    rows: int


class MonitorResultView(BaseModel):
    """One run's result (``MonitorResult.to_dict()``): these fields, and, once evaluated, ``model``,
    ``version``, ``reference``, ``drift``, ``performance``, ``latency_ms`` and ``conditions``."""

    model_config = ConfigDict(extra="allow")

    id: int
    monitor: str
    deployment: str
    status: Literal["ok", "alert", "not_enough_data", "error"]
    message: str | None = None
    window: WindowView
    created_at: int


class AlertView(BaseModel):
    """An alert (``Alert.to_dict()``): one per condition and episode, open until a run sees it clear."""

    id: int
    monitor: str
    deployment: str
    condition: str
    state: Literal["open", "resolved"]
    value: float | None
    threshold: float | None
    message: str
    opened_at: int
    updated_at: int
    resolved_at: int | None


class DeliveryView(BaseModel):
    url: str
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None
    elapsed_seconds: float
    delivery_id: str


class MonitorRunView(BaseModel):
    """A run (``MonitorRun.to_dict()``): its stored result, the alerts it opened and resolved, and
    the webhook deliveries it made."""

    result: MonitorResultView
    opened: list[AlertView]
    resolved: list[AlertView]
    deliveries: list[DeliveryView]


class ReferenceView(BaseModel):
    """A model version's reference profile (``StoredReference.to_dict()``)."""

    model: str
    version: int
    dataset: str | None = Field(description='The training data, "name:version"; null when given directly.')
    task: Literal["classification", "regression"] | None = Field(description="null: its outputs were not scored.")
    rows: int
    created_at: int
    columns: dict[str, dict[str, Any]] = Field(description="Each column's fitted summary.")
