"""What every prediction handler shares in one worker: stores, keys, limits, the fleet, the log.

``ServingRuntime.start`` loads every deployment before the worker takes traffic and starts the
poll loop; ``stop`` lets queued requests finish, then flushes the prediction log.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from mlpilot.artifacts import ContentStore, open_backend
from mlpilot.config import Settings
from mlpilot.errors import InvalidInput, MlpilotError
from mlpilot.models.cache import model_cache_root
from mlpilot.monitoring.gauges import monitoring_exposition
from mlpilot.prediction_log import PredictionLogWriter
from mlpilot.registry import parse_model_uri, version_ref
from mlpilot.registry import versions as version_service
from mlpilot.registry.loading import load_version
from mlpilot.registry.uri import ModelRef
from mlpilot.security.key_cache import KeyCache
from mlpilot.security.rate_limit import RateLimiter
from mlpilot.serving.fleet import Binding, Fleet
from mlpilot.serving.metrics import ServingMetrics
from mlpilot.serving.tally import FLUSH_SECONDS, RequestTally
from mlpilot.serving.version import LoadedVersion
from mlpilot.store import Database, ensure_schema

if TYPE_CHECKING:
    from mlpilot.models import LoadedModel

__all__ = ["ServingRuntime", "single_model_source", "stored_deployments_source"]

log = logging.getLogger(__name__)

BindingSource = Callable[[], Mapping[str, Binding]]


class ServingRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        content: ContentStore | None = None,
        stored_deployments: bool = False,
    ) -> None:
        """``stored_deployments`` (the platform server) serves every stored deployment whatever
        ``serve_model`` says; otherwise ``serve_model`` is served alone when it is set."""
        self.settings = settings
        self._owns_db = db is None
        self.db = (
            db
            if db is not None
            else Database(settings.resolved_tracking_uri(), busy_timeout=settings.sqlite_busy_timeout)
        )
        if self._owns_db:
            ensure_schema(self.db)
        self.content = content if content is not None else ContentStore(open_backend(settings.resolved_artifact_uri()))
        self.keys = KeyCache(self.db, settings.serve_key_cache_seconds)
        self.limiter = RateLimiter(settings.serve_rate_limit, settings.serve_rate_burst)
        self.metrics = ServingMetrics()
        self.tally = RequestTally(self.db)
        self.predictions_root = settings.resolved_predictions_uri()
        self.log: PredictionLogWriter | None = (
            PredictionLogWriter(
                self.predictions_root,
                flush_rows=settings.predictions_flush_rows,
                flush_seconds=settings.predictions_flush_seconds,
                on_flush=self.metrics.log_flushed,
            )
            if settings.serve_log_predictions
            else None
        )
        self.standalone = settings.serve_model is not None and not stored_deployments
        source = (
            single_model_source(self.db, settings.serve_model, settings.serve_name)
            if self.standalone and settings.serve_model is not None
            else stored_deployments_source(self.db)
        )
        self.fleet = Fleet(
            source, self._load, self._make_version, self.metrics, settings.serve_poll_seconds, self._configure
        )
        self._poller: asyncio.Task[None] | None = None
        self._counter: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.background: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        # Serving hands scikit-learn a checked matrix in the fitted column order (LoadedVersion);
        # its warning that the matrix has no column names is then noise, once per request.
        warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)
        await self.fleet.refresh()
        _settle_heap()
        self._poller = asyncio.get_running_loop().create_task(self.fleet.run(self._stopping))
        self._counter = asyncio.get_running_loop().create_task(self._store_counts())

    async def _store_counts(self) -> None:
        """Every few seconds, and once more on the way out, add the request counts to the store."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), FLUSH_SECONDS)
            counts = self.tally.take()
            if counts and not await asyncio.to_thread(self.tally.write, counts):
                self.tally.restore(counts)
            if self._stopping.is_set():
                return

    async def stop(self) -> None:
        if self._poller is not None:
            self._stopping.set()
            await self._poller
        if self._counter is not None:
            self._stopping.set()
            await self._counter
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        await self.fleet.close()
        if self.log is not None:
            await asyncio.to_thread(self.log.close)
        if self._owns_db:
            self.db.dispose()
        gc.unfreeze()  # hand the heap back to the collector (matters when the process lives on)

    def render_metrics(self) -> bytes:
        """Serving metrics, then the gauges of the latest monitor results (of this deployment alone
        when serving one model)."""
        served = list(self.fleet.endpoints) if self.standalone else None
        try:
            gauges = monitoring_exposition(self.db, served)
        except SQLAlchemyError as unreachable:
            # The serving metrics matter most when the database is the thing that is down.
            log.warning("monitoring gauges left out of /metrics: %s", unreachable)
            gauges = b""
        return self.metrics.render() + gauges

    def _load(self, model: str, version: int) -> LoadedModel:
        record = version_service.get_version(self.db, version_ref(model, version))
        return load_version(self.db, self.content, record, model_cache_root(self.settings.home))

    def _make_version(self, deployment: str, model_name: str, version: int, model: LoadedModel) -> LoadedVersion:
        return LoadedVersion(
            deployment,
            model_name,
            version,
            model,
            max_batch_rows=self.settings.serve_max_batch_rows,
            max_wait=self.settings.serve_max_batch_wait_ms / 1000.0,
            log_writer=self.log,
            log_probabilities=self.settings.serve_log_probabilities,
            metrics=self.metrics,
        )

    def _configure(self, loaded: LoadedVersion, config: Mapping[str, float]) -> None:
        """A deployment's overrides, or the server's settings for what it leaves out."""
        loaded.batcher.max_rows = int(config.get("max_batch_size", self.settings.serve_max_batch_rows))
        loaded.batcher.max_wait = float(config.get("max_batch_wait_ms", self.settings.serve_max_batch_wait_ms)) / 1000


def _settle_heap() -> None:
    """Move everything alive after start-up (libraries, models) out of the garbage collector's
    reach. Otherwise every full collection walks those hundreds of thousands of objects, frees
    nothing, and stalls all requests of the worker for 100 ms and more (seen as the p99). No
    collection first: freezing is instant, a collection of a large heap is not."""
    gc.freeze()


def single_model_source(db: Database, model_uri: str, name: str | None) -> BindingSource:
    """``mlpilot serve churn@production``: one deployment, named after the model, following the
    alias (or fixed to the version) it names."""
    ref = _model_ref(model_uri)
    deployment = name or ref.name

    def bindings() -> Mapping[str, Binding]:
        version = version_service.get_version(db, ref)
        return {deployment: Binding(model=ref.name, primary=version.version)}

    return bindings


def stored_deployments_source(db: Database) -> BindingSource:
    """The platform server: every stored deployment, as its traffic stands now."""
    from mlpilot import deployments as deployment_service

    def bindings() -> Mapping[str, Binding]:
        found: dict[str, Binding] = {}
        for deployment in deployment_service.list_deployments(db):
            try:
                traffic = deployment_service.resolve_traffic(db, deployment.name)
            except MlpilotError as exc:  # e.g. its alias was deleted: leave it out and say so
                log.warning("deployment %s cannot be served: %s", deployment.name, exc.message)
                continue
            found[deployment.name] = Binding(
                model=deployment.model,
                primary=traffic.primary,
                canary=traffic.canary,
                shadow=traffic.shadow,
                config=tuple(sorted((key, float(value)) for key, value in deployment.config.items())),
            )
        return found

    return bindings


def _model_ref(uri: str) -> ModelRef:
    text = uri if uri.startswith(("models:/", "runs:/")) else f"models:/{uri}"
    parsed = parse_model_uri(text)
    if not isinstance(parsed, ModelRef):
        raise InvalidInput(
            f"cannot serve {uri!r}: serve a registered model",
            hint="Register the run's model first (`mlpilot models register`), then serve NAME@ALIAS or NAME/VERSION.",
        )
    return parsed


def check_servable(settings: Settings) -> tuple[str, int]:
    """Before starting workers: the deployment name and the version ``serve_model`` resolves to
    now (NotFound, with a hint, if nothing does), so a typo fails in the terminal, not in a log."""
    if settings.serve_model is None:
        raise InvalidInput("no model to serve", hint="Name one: `mlpilot serve churn@production`.")
    db = Database(settings.resolved_tracking_uri(), busy_timeout=settings.sqlite_busy_timeout)
    try:
        ensure_schema(db)
        ref = _model_ref(settings.serve_model)
        version = version_service.get_version(db, ref)
        return settings.serve_name or ref.name, version.version
    finally:
        db.dispose()
