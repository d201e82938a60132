"""The deployments one worker serves, kept in step with the store.

Each worker polls where its deployments stand (``Binding``: which versions get which share) every
``serve_poll_seconds``. A version that becomes needed is loaded and warmed in a thread while the
old one keeps answering; only then is the endpoint's table of versions swapped, in one assignment
on the event loop, so no request ever meets a half-loaded model. A version that is no longer
needed is retired once its queue is empty. The previous primary stays loaded, so a rollback to
it takes effect at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlpilot.errors import MlpilotError, NotFound, NotReady
from mlpilot.serving.payload import Payload
from mlpilot.serving.version import LoadedVersion

if TYPE_CHECKING:
    from mlpilot.models import LoadedModel
    from mlpilot.serving.metrics import ServingMetrics

__all__ = ["Binding", "Endpoint", "Fleet"]

log = logging.getLogger(__name__)

# A retired version is closed this long after its swap-out at the earliest, once its queue is empty.
_RETIRE_GRACE = 1.0


@dataclass(frozen=True, slots=True)
class Binding:
    """Where one deployment's traffic goes now: ``canary`` and ``shadow`` are (version, share)."""

    model: str
    primary: int
    canary: tuple[int, float] | None = None
    shadow: tuple[int, float] | None = None
    # Per-deployment serving overrides (max_batch_size, max_batch_wait_ms), as sorted pairs.
    config: tuple[tuple[str, float], ...] = ()

    @property
    def versions(self) -> set[int]:
        return {self.primary} | {target[0] for target in (self.canary, self.shadow) if target is not None}


class Endpoint:
    """One deployment in this worker."""

    def __init__(self, name: str, model: str) -> None:
        self.name = name
        self.model = model
        self.binding: Binding | None = None
        self.versions: Mapping[int, LoadedVersion] = {}
        self.previous: int | None = None
        self.failure: str | None = None  # why the binding could not be applied, for /readyz

    @property
    def ready(self) -> bool:
        return self.binding is not None and self.binding.primary in self.versions

    def route(self, routing_key: str | None) -> tuple[LoadedVersion, str]:
        """The version (and its role) that answers a request; a routing key keeps a caller on the
        same side of a canary split."""
        binding, versions = self.binding, self.versions
        if binding is None or binding.primary not in versions:
            raise NotReady(f"deployment {self.name!r} has no model loaded yet")
        if binding.canary is not None and binding.canary[0] in versions:
            draw = _fraction(routing_key) if routing_key else random.random()
            if draw < binding.canary[1]:
                return versions[binding.canary[0]], "canary"
        return versions[binding.primary], "primary"

    def shadow(self) -> LoadedVersion | None:
        binding, versions = self.binding, self.versions
        if binding is None or binding.shadow is None or binding.shadow[0] not in versions:
            return None
        return versions[binding.shadow[0]] if random.random() < binding.shadow[1] else None

    def version(self, number: int) -> LoadedVersion:
        loaded = self.versions.get(number)
        if loaded is None:
            raise NotFound(
                f"version {number} of deployment {self.name!r} is not being served",
                hint=f"Served versions: {', '.join(str(v) for v in sorted(self.versions)) or 'none'}.",
            )
        return loaded


class Fleet:
    """Every endpoint of this worker, and the loop that keeps them current."""

    def __init__(
        self,
        source: Callable[[], Mapping[str, Binding]],
        load: Callable[[str, int], LoadedModel],
        make_version: Callable[[str, str, int, LoadedModel], LoadedVersion],
        metrics: ServingMetrics,
        poll_seconds: float,
        configure: Callable[[LoadedVersion, Mapping[str, float]], None],
    ) -> None:
        self._source = source
        self._load = load
        self._make_version = make_version
        self._metrics = metrics
        self.poll_seconds = poll_seconds
        self._configure_version = configure
        self.endpoints: dict[str, Endpoint] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def get(self, name: str) -> Endpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise NotFound(
                f"no deployment named {name!r} is served here",
                hint=f"Served: {', '.join(sorted(self.endpoints)) or 'none'} (`mlpilot deployments list`).",
            )
        return endpoint

    @property
    def ready(self) -> bool:
        return all(endpoint.ready for endpoint in self.endpoints.values())

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll until ``stopping`` is set. Stopping waits for a refresh under way instead of
        cancelling it: its thread would go on using the database while it is being closed."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.poll_seconds)
            if not stopping.is_set():
                await self.refresh()

    async def refresh(self) -> None:
        async with self._lock:
            try:
                bindings = await asyncio.to_thread(self._source)
            except MlpilotError as exc:
                log.warning("could not read the deployments (serving what is loaded): %s", exc)
                return
            except Exception:
                log.exception("could not read the deployments (serving what is loaded)")
                return
            for name, binding in bindings.items():
                endpoint = self.endpoints.get(name)
                if endpoint is None or endpoint.model != binding.model:
                    if endpoint is not None:
                        self._retire_all(endpoint)
                    endpoint = self.endpoints[name] = Endpoint(name, binding.model)
                if endpoint.binding != binding:
                    await self._apply(endpoint, binding)
            for name in set(self.endpoints) - set(bindings):
                self._retire_all(self.endpoints.pop(name))

    async def close(self) -> None:
        for endpoint in self.endpoints.values():
            for loaded in endpoint.versions.values():
                await _retire(loaded, grace=0.0)
        self.endpoints.clear()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    async def _apply(self, endpoint: Endpoint, binding: Binding) -> None:
        versions = dict(endpoint.versions)
        for number in sorted(binding.versions - set(versions)):
            try:
                versions[number] = await asyncio.to_thread(self._ready_version, endpoint, number)
            except Exception as exc:  # keep serving the old version, and say why in /readyz
                endpoint.failure = f"version {number} could not be loaded: {exc}"
                log.exception("deployment %s: could not load version %s of %s", endpoint.name, number, binding.model)
                if number == binding.primary:
                    self._discard(versions, endpoint.versions)
                    return  # the old binding stays in force; the next poll tries again
        old = endpoint.binding
        previous = old.primary if old is not None and old.primary != binding.primary else endpoint.previous
        keep = binding.versions | ({previous} if previous is not None else set())
        endpoint.versions = {number: loaded for number, loaded in versions.items() if number in keep}
        endpoint.binding, endpoint.previous, endpoint.failure = binding, previous, None
        for loaded in endpoint.versions.values():
            self._configure(loaded, binding)
        for number, loaded in versions.items():
            if number not in keep:
                self._schedule_retire(loaded)
        self._publish_traffic(endpoint)
        gc.freeze()  # the new model's objects join the start-up heap the collector skips (see runtime)
        log.info("deployment %s now serves %s", endpoint.name, _describe(binding))

    def _configure(self, loaded: LoadedVersion, binding: Binding) -> None:
        self._configure_version(loaded, dict(binding.config))

    def _ready_version(self, endpoint: Endpoint, number: int) -> LoadedVersion:
        started = time.perf_counter()
        model = self._load(endpoint.model, number)
        loaded = self._make_version(endpoint.name, endpoint.model, number, model)
        example = model.descriptor.input_example
        loaded.warm(Payload("records", example, len(example), frozenset(example[0])) if example else None)
        self._metrics.model_load.labels(endpoint.name, str(number)).set(time.perf_counter() - started)
        return loaded

    def _publish_traffic(self, endpoint: Endpoint) -> None:
        binding = endpoint.binding
        if binding is None:
            return
        canary = binding.canary[1] if binding.canary is not None else 0.0
        shares = {binding.primary: ("primary", 1.0 - canary)}
        if binding.canary is not None:
            shares[binding.canary[0]] = ("canary", canary)
        if binding.shadow is not None:
            self._metrics.traffic.labels(endpoint.name, str(binding.shadow[0]), "shadow").set(binding.shadow[1])
        for number, (role, share) in shares.items():
            self._metrics.traffic.labels(endpoint.name, str(number), role).set(share)

    def _discard(self, fresh: dict[int, LoadedVersion], current: Mapping[int, LoadedVersion]) -> None:
        for number, loaded in fresh.items():
            if number not in current:
                self._schedule_retire(loaded)

    def _retire_all(self, endpoint: Endpoint) -> None:
        for loaded in endpoint.versions.values():
            self._schedule_retire(loaded)
        endpoint.versions = {}

    def _schedule_retire(self, loaded: LoadedVersion) -> None:
        task = asyncio.get_running_loop().create_task(_retire(loaded, grace=_RETIRE_GRACE))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)


async def _retire(loaded: LoadedVersion, *, grace: float) -> None:
    # Requests routed to this version before the swap may still be queued: let them finish.
    await asyncio.sleep(grace)
    while loaded.batcher.busy:
        await asyncio.sleep(0.05)
    await asyncio.to_thread(loaded.close)


def _fraction(key: str) -> float:
    """A stable number in [0, 1) for a routing key: the same caller lands on the same side."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) / 2**32


def _describe(binding: Binding) -> str:
    text = f"version {binding.primary}"
    if binding.canary is not None:
        text += f", canary version {binding.canary[0]} at {binding.canary[1]:.0%}"
    if binding.shadow is not None:
        text += f", shadow version {binding.shadow[0]} at {binding.shadow[1]:.0%}"
    return text
