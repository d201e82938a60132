"""Buffered metric logging: a training loop appends to memory; a background thread writes batches.

A failed background write is kept and raised at the caller's next log or flush call, so errors are
never silently lost. Memory stays bounded: past ``4 * flush_size`` pending points the caller
writes synchronously.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from mlpilot.errors import StoreUnavailable
from mlpilot.tracking.metrics import Point

__all__ = ["MetricBuffer"]

log = logging.getLogger(__name__)


class MetricBuffer:
    def __init__(self, sink: Callable[[list[Point]], None], *, interval: float, flush_size: int) -> None:
        self._sink = sink
        self._interval = interval
        self._flush_size = flush_size
        self._points: list[Point] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, point: Point) -> None:
        if self._error is not None:
            self._raise_pending()
        with self._lock:
            self._points.append(point)
            pending = len(self._points)
        if self._thread is None:
            self._start()
        if pending >= self._flush_size:
            if pending >= 4 * self._flush_size:
                self.flush()
            else:
                self._wake.set()

    def extend(self, points: list[Point]) -> None:
        for point in points:
            self.add(point)

    def flush(self) -> None:
        """Write everything buffered so far; raise the first write error not yet reported."""
        self._write_pending()
        if self._error is not None:
            self._raise_pending()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="mlpilot-metric-flush", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self._write_pending()
            except BaseException:
                log.debug("background metric flush failed", exc_info=True)

    def _write_pending(self) -> None:
        with self._flush_lock:
            with self._lock:
                pending, self._points = self._points, []
            if not pending:
                return
            try:
                self._sink(pending)
            except StoreUnavailable:
                # The store may come back; keep the points for the next attempt.
                with self._lock:
                    self._points[:0] = pending
                raise

    def _raise_pending(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
