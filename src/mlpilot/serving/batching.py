"""Adaptive micro-batching: requests that arrive while the model is busy share its next call.

One batch is in flight per model at a time, in a worker thread, so the event loop keeps reading
requests meanwhile. When the call ends, everything that queued up (up to ``max_rows`` rows) goes
into the next one: under light load a request is predicted alone and at once; under heavy load
batches grow by themselves, which is what lets a 100-tree forest (whose cost hardly depends on
the number of rows) keep up. ``max_wait`` optionally holds an idle model back for a moment to
let a batch fill; it is 0 by default because waiting only pays when requests arrive in bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """``submit(item)`` resolves to ``process(batch)[i]`` for the item's position ``i`` in the
    batch it joined; an exception in that list fails only its own item, an exception raised by
    ``process`` fails the whole batch."""

    def __init__(
        self,
        process: Callable[[Sequence[T]], Sequence[R | BaseException]],
        *,
        rows_of: Callable[[T], int],
        max_rows: int,
        max_wait: float,
        executor: Executor,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._process = process
        self._rows_of = rows_of
        self.max_rows = max_rows
        self.max_wait = max_wait
        self._executor = executor
        self._on_batch = on_batch
        self._pending: deque[tuple[T, asyncio.Future[R], float]] = deque()
        self._pending_rows = 0
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None or bool(self._pending)

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future, time.monotonic()))
        self._pending_rows += self._rows_of(item)
        if self._pending_rows >= self.max_rows:
            self._full.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                if self.max_wait > 0 and self._pending_rows < self.max_rows:
                    await self._fill(self._pending[0][2] + self.max_wait)
                batch = self._take()
                if self._on_batch is not None:
                    self._on_batch(sum(self._rows_of(item) for item, _, _ in batch))
                items = [item for item, _, _ in batch]
                try:
                    results = await loop.run_in_executor(self._executor, self._process, items)
                except BaseException as failure:
                    for _, future, _ in batch:
                        if not future.done():
                            future.set_exception(failure)
                    if not isinstance(failure, Exception):
                        raise
                    continue
                for (_, future, _), result in zip(batch, results, strict=True):
                    if future.done():  # the client went away
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._task = None
            if self._pending:  # submitted while the last batch was being handed out
                self._task = loop.create_task(self._drain())

    async def _fill(self, deadline: float) -> None:
        self._full.clear()
        remaining = deadline - time.monotonic()
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), remaining)

    def _take(self) -> list[tuple[T, asyncio.Future[R], float]]:
        batch = [self._pending.popleft()]
        rows = self._rows_of(batch[0][0])
        while self._pending and rows + self._rows_of(self._pending[0][0]) <= self.max_rows:
            entry = self._pending.popleft()
            rows += self._rows_of(entry[0])
            batch.append(entry)
        self._pending_rows -= rows
        return batch
