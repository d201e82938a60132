"""One typed Settings object, read at the edge and passed inward.

Precedence, highest first: explicit overrides (CLI flags or keyword arguments), ``MLPILOT_*``
environment variables, the ``[mlpilot]`` table of ``mlpilot.toml`` in the working directory,
then the defaults below.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mlpilot.errors import InvalidInput

__all__ = ["CONFIG_FILE", "Settings", "load_settings"]

CONFIG_FILE = "mlpilot.toml"


class Settings(BaseSettings):
    """Everything mlpilot can be configured with."""

    model_config = SettingsConfigDict(env_prefix="MLPILOT_", extra="forbid", frozen=True)

    home: Path = Field(default=Path(".mlpilot"), description="Folder for the default database and artifacts.")
    tracking_uri: str | None = Field(
        default=None, description="sqlite:///…, postgresql://… or http(s)://…; defaults to the database in home."
    )
    artifact_uri: str | None = Field(
        default=None, description="Local folder or fsspec URL for artifacts; defaults to home/artifacts."
    )
    experiment_name: str = Field(default="Default", description="Experiment used when a run names none.")
    run_id: str | None = Field(default=None, description="Set by `mlpilot run` so a script attaches to its run.")
    metric_flush_interval: float = Field(default=0.5, gt=0, description="Seconds between metric buffer flushes.")
    metric_flush_size: int = Field(default=5000, gt=0, description="Buffered points that force a flush.")
    sqlite_busy_timeout: float = Field(default=60.0, gt=0, description="Seconds a SQLite writer waits for the lock.")
    api_key: SecretStr | None = Field(default=None, description="API key the client sends to an http(s):// server.")
    http_timeout: float = Field(default=60.0, gt=0, description="Seconds the remote client waits for a response.")
    server_host: str = Field(default="127.0.0.1", description="Address `mlpilot server` binds to.")
    server_port: int = Field(default=5050, ge=0, le=65535, description="Port `mlpilot server` listens on.")
    server_workers: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 8),
        ge=1,
        le=64,
        description="Server worker processes (default: one per core, at most 8).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Proxies (comma-separated IP addresses or networks, or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed, for `mlpilot server` and `mlpilot serve`: a request from one of them "
        "counts as coming from the client the header names (sign-in throttle, audit, access log). Empty: none.",
    )
    server_max_body_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest JSON request body the server accepts (else 413)."
    )
    server_max_upload_bytes: int = Field(
        default=1024**3, gt=0, description="Largest artifact or dataset upload the server accepts (else 413)."
    )
    server_max_results: int = Field(
        default=1000,
        gt=0,
        le=50_000,
        description="Most runs one search page returns; ask for more by page token.",
    )
    server_rate_limit: float = Field(
        default=200.0, ge=0, description="Sustained requests per second per API key and worker (0: no limit)."
    )
    server_rate_burst: int = Field(default=400, gt=0, description="Requests a key may send at once above the rate.")
    serve_model: str | None = Field(
        default=None,
        description="The model `mlpilot serve` serves (churn@production); unset: the stored deployments.",
    )
    serve_name: str | None = Field(default=None, description="Deployment name for serve_model (default: the model's).")
    serve_host: str = Field(default="127.0.0.1", description="Address `mlpilot serve` binds to.")
    serve_port: int = Field(default=8080, ge=0, le=65535, description="Port `mlpilot serve` listens on.")
    serve_workers: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 8),
        ge=1,
        le=64,
        description="Prediction worker processes, each with its own copy of the model (default: one per core).",
    )
    serve_max_batch_rows: int = Field(
        default=256, ge=1, le=100_000, description="Most rows the micro-batcher hands the model in one call."
    )
    serve_max_batch_wait_ms: float = Field(
        default=0.0,
        ge=0,
        le=1000,
        description="How long a request may wait for others to join its batch when the model is idle.",
    )
    serve_max_rows: int = Field(
        default=10_000, ge=1, description="Most rows one prediction request may carry (else 413)."
    )
    serve_max_body_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest prediction request body (else 413)."
    )
    serve_poll_seconds: float = Field(
        default=0.5, gt=0, le=60, description="How often each worker checks its deployments for a new version."
    )
    serve_key_cache_seconds: float = Field(
        default=2.0, ge=0, le=300, description="How long a verified key is trusted before it is checked again."
    )
    serve_rate_limit: float = Field(
        default=0.0, ge=0, description="Prediction requests per second per key and worker (0: no limit)."
    )
    serve_rate_burst: int = Field(default=1000, gt=0, description="Prediction requests a key may send at once.")
    serve_log_predictions: bool = Field(default=True, description="Append every prediction to the prediction log.")
    serve_log_probabilities: bool = Field(
        default=True, description="Also compute and log class probabilities for every prediction (classifiers)."
    )
    predictions_uri: str | None = Field(
        default=None, description="Folder of the prediction log; defaults to home/predictions."
    )
    predictions_flush_rows: int = Field(default=10_000, gt=0, description="Logged rows that force a flush.")
    predictions_flush_seconds: float = Field(
        default=2.0, gt=0, le=3600, description="Seconds between prediction log flushes (the loss bound on a crash)."
    )
    monitor_tick_seconds: float = Field(
        default=15.0,
        ge=0,
        le=3600,
        description="How often `mlpilot server` looks for monitors that are due to run (0: never; run them "
        "with `mlpilot monitors run`).",
    )
    monitor_engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="How monitor runs read the prediction log and compute drift: duckdb (this machine) or "
        "spark (needs mlpilot[spark] and Java; see spark_master).",
    )
    spark_master: str | None = Field(
        default=None,
        description="Master URL of the Spark session mlpilot starts for monitors (local[2], spark://…, yarn); "
        "unset: the running session, else local[*].",
    )
    pipeline_tick_seconds: float = Field(
        default=15.0,
        ge=0,
        le=3600,
        description="How often `mlpilot server` looks for pipeline triggers that are due (0: never; fire them "
        "with `mlpilot pipelines tick`).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    def resolved_tracking_uri(self) -> str:
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{(self.home / 'mlpilot.db').resolve()}"

    def resolved_artifact_uri(self) -> str:
        if self.artifact_uri:
            return self.artifact_uri
        return str((self.home / "artifacts").resolve())

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        # uvicorn would skip an entry it cannot parse and so trust less than was meant, silently.
        for entry in (part.strip() for part in value.split(",")):
            if entry in ("", "*"):
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/8)"
                ) from None
        return value

    def as_environment(self) -> dict[str, str]:
        """These settings as ``MLPILOT_*`` variables, locations resolved, the API key left out:
        how worker processes started by uvicorn rebuild exactly the settings of their parent."""
        values = self.model_dump(exclude={"api_key"})
        values["home"] = str(self.home.expanduser().resolve())
        values["tracking_uri"] = self.resolved_tracking_uri()
        values["artifact_uri"] = self.resolved_artifact_uri()
        values["predictions_uri"] = self.resolved_predictions_uri()
        return {f"MLPILOT_{name.upper()}": str(value) for name, value in values.items() if value is not None}

    def resolved_predictions_uri(self) -> str:
        if self.predictions_uri:
            return self.predictions_uri
        return str((self.home / "predictions").resolve())


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the ``[mlpilot]`` table of ``mlpilot.toml`` in the working directory."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._data = _read_toml(Path.cwd() / CONFIG_FILE)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid TOML: {exc}", hint="Fix the file or remove it.") from exc
    table = document.get("mlpilot", {})
    if not isinstance(table, dict):
        raise InvalidInput(f"{path}: [mlpilot] must be a table", hint="Write settings under a [mlpilot] header.")
    return table


def load_settings(**overrides: Any) -> Settings:
    """Build Settings; ``None`` overrides are ignored so unset CLI flags do not mask lower sources."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}" for error in exc.errors()
        )
        raise InvalidInput(
            f"invalid mlpilot settings: {problems}",
            hint="Check MLPILOT_* variables, mlpilot.toml and command-line flags.",
        ) from exc
