"""The prediction log writer: the serving hot path appends batches; a background thread writes them.

``append`` only takes a lock and keeps a reference to the batch (a few microseconds). A daemon
thread flushes every ``flush_seconds``, and as soon as ``flush_rows`` rows are waiting: it
converts the batches to Arrow (``tables``), and writes one Parquet segment per deployment, UTC
date and schema, atomically (temporary name, fsync, ``os.replace``). The caller's thread writes
only as backpressure, when four times ``flush_rows`` rows are waiting.

A failed write never reaches the caller: it is logged, and the rows are kept for the next flush, up
to ``max_buffered_rows``; past that the oldest are dropped and counted (``dropped_rows``).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from mlpilot.errors import InvalidInput
from mlpilot.prediction_log.layout import (
    DEPLOYMENT_PATTERN,
    MS_PER_DAY,
    check_deployment,
    day_of,
    default_writer_id,
    partition_dir,
    sanitize_writer_id,
    segment_name,
    temp_name,
)
from mlpilot.prediction_log.records import PredictionBatch
from mlpilot.prediction_log.tables import Rejected, SegmentData, to_segments

__all__ = ["FlushReport", "PredictionLogWriter"]

log = logging.getLogger(__name__)

# Shared by every writer of the process, so two writers with the same id never pick the same name.
_SEQUENCE = itertools.count(1)
_BACKPRESSURE = 4
# Holders of a writer's buffer lock keep it for microseconds; failing to get it for this long
# means the caller interrupted its own thread while it held the lock.
_REENTRY_TIMEOUT = 1.0
_OPEN_WRITERS: weakref.WeakSet[PredictionLogWriter] = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_registered = False


@dataclass(frozen=True, slots=True)
class FlushReport:
    """What one flush did, for the metrics: rows written and dropped, its wall time, and the CPU
    time of the thread that ran it (the cost logging adds to the serving process)."""

    written: int
    dropped: int
    seconds: float
    cpu_seconds: float


def _close_open_writers() -> None:
    for writer in list(_OPEN_WRITERS):
        writer.close()
        # A closed writer may hold rows again: put back by a flush that a signal handler's
        # sys.exit interrupted, or kept after a failed write. This is their last chance.
        if writer.buffered_rows:
            writer.flush()


def _register_exit_hook(writer: PredictionLogWriter) -> None:
    """Flush at interpreter exit whatever a writer nobody closed still holds (the thread is a
    daemon and would die with its rows)."""
    global _exit_hook_registered
    with _exit_hook_lock:
        _OPEN_WRITERS.add(writer)
        if not _exit_hook_registered:
            atexit.register(_close_open_writers)
            _exit_hook_registered = True


class PredictionLogWriter:
    """Append prediction batches to the log under ``root``; see the module docstring.

    Thread-safe. ``close()`` (or leaving a ``with`` block) writes what is left and stops the
    thread; it may be called from a signal handler. Batches appended after ``close()`` are
    written at once on the caller's thread, so a request finishing during shutdown is not lost.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        flush_rows: int = 10_000,
        flush_seconds: float = 2.0,
        writer_id: str | None = None,
        max_buffered_rows: int | None = None,
        on_flush: Callable[[FlushReport], None] | None = None,
    ) -> None:
        if flush_rows < 1:
            raise InvalidInput(f"flush_rows must be at least 1, got {flush_rows}")
        if not flush_seconds > 0:
            raise InvalidInput(f"flush_seconds must be positive, got {flush_seconds}")
        limit = 10 * flush_rows if max_buffered_rows is None else max_buffered_rows
        if limit < flush_rows:
            raise InvalidInput(f"max_buffered_rows ({limit}) must be at least flush_rows ({flush_rows})")
        self.root = Path(root)
        self.writer_id = default_writer_id() if writer_id is None else sanitize_writer_id(writer_id)
        self._flush_rows = flush_rows
        self._backpressure_rows = _BACKPRESSURE * flush_rows
        self._flush_seconds = flush_seconds
        self._max_buffered_rows = limit
        self._on_flush = on_flush
        # _lock guards the buffer and counters; holders never block, so close() can tell a signal
        # handler that interrupted its own thread inside it (the lock stays taken) from contention.
        # _flush_lock is reentrant so that such a handler may still flush when it interrupted one.
        self._lock = threading.Lock()
        self._flush_lock = threading.RLock()
        self._wake = threading.Event()
        self._pending: list[tuple[str, PredictionBatch]] = []
        self._pending_rows = 0
        self._held: list[SegmentData] = []  # converted rows whose write failed, retried next flush
        self._held_rows = 0  # rows in a flush under way plus self._held
        self._rows_written = 0
        self._dropped_rows = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False
        self._close_deferred = False
        self._warned_closed = False
        _register_exit_hook(self)

    @property
    def rows_written(self) -> int:
        return self._rows_written

    @property
    def dropped_rows(self) -> int:
        """Rows given up on: failed writes past ``max_buffered_rows``, and batches that could not
        be converted to Parquet."""
        return self._dropped_rows

    @property
    def buffered_rows(self) -> int:
        with self._lock:
            return self._pending_rows + self._held_rows

    def append(self, deployment: str, batch: PredictionBatch) -> None:
        """Buffer one micro-batch for ``deployment``; raise InvalidInput for a bad deployment name."""
        if type(deployment) is not str or DEPLOYMENT_PATTERN.fullmatch(deployment) is None:
            check_deployment(deployment)
        if type(batch) is not PredictionBatch:
            raise InvalidInput(f"append takes a PredictionBatch, got {type(batch).__name__}")
        rows = batch.rows
        if not rows:
            return
        with self._lock:
            self._pending.append((deployment, batch))
            self._pending_rows += rows
            pending = self._pending_rows
            closed = self._closed
            if self._thread is None and not closed:
                self._start_thread()
        if closed:
            self._append_after_close()
        elif self._close_deferred:
            self.close()
        elif pending >= self._flush_rows:
            if pending >= self._backpressure_rows:
                self.flush()
            else:
                self._wake.set()

    def flush(self) -> int:
        """Write everything buffered now, on this thread; return the number of rows written.

        Write errors are logged, not raised: the rows stay buffered for the next flush."""
        with self._flush_lock:
            return self._flush_locked()

    def close(self) -> None:
        """Stop the background thread and write what is buffered. Idempotent.

        Called from a signal handler that interrupted this writer's own ``append`` (whose lock
        cannot be released until the handler returns), it defers the work: the interrupted
        ``append`` closes the writer when it returns, or the exit hook does if the handler exits
        with ``sys.exit``."""
        if not self._lock.acquire(timeout=_REENTRY_TIMEOUT):
            self._close_deferred = True
            log.warning("prediction log: close() interrupted an append of this writer; closing when it returns")
            return
        try:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        finally:
            self._lock.release()
        self._stopping = True
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            # Bounded: the thread may be waiting for a flush this thread was interrupted in (by a
            # signal handler calling close); flush() below waits for any flush under way anyway.
            thread.join(timeout=_REENTRY_TIMEOUT)
        self.flush()
        left = self.buffered_rows
        if left:
            log.error("prediction log: closed with %d rows that could not be written to %s", left, self.root)

    def __enter__(self) -> PredictionLogWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="mlpilot-prediction-log", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            if self._stopping:
                break  # close() writes the rest itself
            try:
                self.flush()
            except Exception:
                # A bug here must not kill the thread: the next interval tries again.
                log.exception("prediction log: background flush failed")

    def _append_after_close(self) -> None:
        if not self._warned_closed:
            self._warned_closed = True
            log.warning("prediction log: batch appended after close(); writing it synchronously")
        self.flush()

    def _flush_locked(self) -> int:
        with self._lock:
            items, self._pending = self._pending, []
            taken, self._pending_rows = self._pending_rows, 0
            held, self._held = self._held, []
            self._held_rows += taken
        if not items and not held:
            return 0
        started, cpu_started, counted = time.perf_counter(), time.thread_time(), self._rows_written
        written = dropped = 0
        # Rows not yet safely in a segment, oldest first: whatever interrupts this flush (even
        # KeyboardInterrupt or SystemExit), they go back to the buffer and nothing is written twice.
        outstanding = list(held)
        try:
            try:
                segments, rejected = to_segments(items)
            except Exception:
                dropped, items = taken, []  # a bug, not bad data: count the rows as lost; the caller logs it
                raise
            items = []
            outstanding = _merge([*held, *segments])
            dropped += self._log_rejected(rejected)
            written = self._write_all(outstanding)
            outstanding, too_many = self._bound(outstanding)
            dropped += too_many
        finally:
            with self._lock:
                if items:
                    self._pending[:0] = items
                    self._pending_rows += sum(batch.rows for _deployment, batch in items)
                self._held = outstanding
                self._held_rows = sum(unit.rows for unit in outstanding)
                self._dropped_rows += dropped
            # Rows counted as written so far, even if this flush was interrupted part way.
            self._report(self._rows_written - counted, dropped, started, cpu_started)
        return written

    def _report(self, written: int, dropped: int, started: float, cpu_started: float) -> None:
        if self._on_flush is None:
            return
        report = FlushReport(written, dropped, time.perf_counter() - started, time.thread_time() - cpu_started)
        try:
            self._on_flush(report)
        except Exception:
            log.exception("prediction log: the on_flush callback failed")

    def _write_all(self, units: list[SegmentData]) -> int:
        """Write each unit, removing it from ``units`` once it is in place; return rows written."""
        written = 0
        first_error: Exception | None = None
        for unit in list(units):
            try:
                self._write(unit)
            except Exception as error:  # noqa: BLE001 - logged below, once per flush
                first_error = first_error or error
            else:
                units.remove(unit)
                written += unit.rows
                with self._lock:  # counted at once: an interrupted flush must not lose the count
                    self._rows_written += unit.rows
        if first_error is not None:
            log.error(
                "prediction log: could not write %d rows under %s (%s: %s); keeping them for the next attempt",
                sum(unit.rows for unit in units),
                self.root,
                type(first_error).__name__,
                first_error,
            )
        return written

    def _write(self, unit: SegmentData) -> None:
        folder = partition_dir(self.root, unit.deployment, day_of(unit.day * MS_PER_DAY))
        created = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = segment_name(time.time_ns() // 1_000_000, self.writer_id, next(_SEQUENCE))
        temporary = folder / temp_name(name)
        try:
            pq.write_table(unit.table, temporary, compression="zstd", use_dictionary=_dictionary_columns(unit.table))
            _fsync(temporary)
            os.replace(temporary, folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        # The rename, and the folders a new date created, survive a power loss only once their
        # folders are synced too. Best effort: the segment is in place, and failing here would
        # write its rows a second time.
        for synced in (folder, folder.parent, self.root) if created else (folder,):
            with contextlib.suppress(OSError):
                _fsync(synced)

    def _bound(self, failed: list[SegmentData]) -> tuple[list[SegmentData], int]:
        """Drop the oldest rows of ``failed`` past ``max_buffered_rows``; return what is kept and
        how many rows were dropped."""
        excess = sum(unit.rows for unit in failed) - self._max_buffered_rows
        if excess <= 0:
            return failed, 0
        dropped = excess
        kept: list[SegmentData] = []
        for unit in failed:
            if excess >= unit.rows:
                excess -= unit.rows
            elif excess:
                kept.append(SegmentData(unit.deployment, unit.day, unit.table.slice(excess)))
                excess = 0
            else:
                kept.append(unit)
        log.error(
            "prediction log: dropped the %d oldest unwritten rows (over max_buffered_rows=%d; %d dropped so far)",
            dropped,
            self._max_buffered_rows,
            self._dropped_rows + dropped,
        )
        return kept, dropped

    def _log_rejected(self, rejected: Sequence[Rejected]) -> int:
        for item in rejected:
            log.error(
                "prediction log: dropped %d rows of deployment %r that cannot be stored as Parquet (%s: %s)",
                item.rows,
                item.deployment,
                type(item.error).__name__,
                item.error,
            )
        return sum(item.rows for item in rejected)


def _merge(units: Sequence[SegmentData]) -> list[SegmentData]:
    """One unit per deployment, date and schema, oldest rows first, so a flush writes as few files
    as it can."""
    groups: dict[tuple[str, int, pa.Schema], list[SegmentData]] = {}
    for unit in units:
        groups.setdefault((unit.deployment, unit.day, unit.table.schema), []).append(unit)
    return [
        same[0] if len(same) == 1 else SegmentData(deployment, day, pa.concat_tables([u.table for u in same]))
        for (deployment, day, _schema), same in groups.items()
    ]


def _dictionary_columns(table: pa.Table) -> list[str]:
    """Columns worth dictionary-encoding: text and whole numbers repeat (model, role, request ids,
    categories); measured floats rarely do, and trying costs more time than the rest of the write.
    Prediction ids never repeat."""
    return [
        field.name for field in table.schema if not pa.types.is_floating(field.type) and field.name != "prediction_id"
    ]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
