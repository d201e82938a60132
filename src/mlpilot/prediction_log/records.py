"""What one micro-batch of predictions contributes to the log, and the ids its rows carry."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from mlpilot.errors import InvalidInput

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "ROLES",
    "InputMatrix",
    "PredictionBatch",
    "ProbabilitiesOf",
    "new_prediction_id",
    "new_prediction_ids",
    "prediction_id_time_ms",
]

ROLES: Final = frozenset({"primary", "canary", "shadow"})

# A private generator: user code often calls random.seed(42), which would make two processes
# draw the same "random" bits. Reseeded in a forked child for the same reason.
_rng = random.Random()
_next_bits = _rng.getrandbits
os.register_at_fork(after_in_child=_rng.seed)
_HEX = frozenset("0123456789abcdef")


_TAIL_LIMIT = 1 << 80
_last = (0, 0)  # the ms and tail of the newest id made by this process
_lock = threading.Lock()


def _forget_last() -> None:
    # A forked child must not count on from its parent's tail: both would make the same ids.
    global _last
    _last = (0, 0)


os.register_at_fork(after_in_child=_forget_last)


def new_prediction_id() -> str:
    """32 hex characters: the first 12 are the epoch ms (so ids sort by time and tell which date
    partition holds their row, like a UUIDv7), the other 20 a random start that counts up within
    the millisecond, so one process's ids sort in the order they were made (the log then lists
    the rows of a request in the order they were sent)."""
    return new_prediction_ids(1)[0]


def new_prediction_ids(count: int) -> list[str]:
    """``count`` ids as made by ``new_prediction_id``, one after the other: one lock and one random
    draw for the lot, which the serving path asks for once per micro-batch."""
    global _last
    if count < 1:
        return []
    now = time.time_ns() // 1_000_000
    with _lock:
        last_ms, last_tail = _last
        if now <= last_ms:
            now, tail = last_ms, last_tail + 1
        else:
            tail = _next_bits(79)  # half the range: room to count up within the millisecond
        if tail + count > _TAIL_LIMIT:  # 2**79 ids in one millisecond: borrow the next one
            now, tail = now + 1, _next_bits(79)
        _last = (now, tail + count - 1)
    prefix = f"{now:012x}"
    return [f"{prefix}{tail + offset:020x}" for offset in range(count)]


def prediction_id_time_ms(prediction_id: str) -> int | None:
    """The epoch ms embedded by ``new_prediction_id``, or None for an id of another form."""
    if len(prediction_id) != 32 or not _HEX.issuperset(prediction_id):
        return None
    return int(prediction_id[:12], 16)


@dataclass(frozen=True, slots=True, eq=False)
class InputMatrix:
    """All-numeric inputs as one float matrix (n rows by one column per name), the form the
    serving fast path builds anyway. The writer concatenates such matrices with numpy at flush
    time, where a DataFrame per batch would cost a pandas concatenation of thousands of frames."""

    columns: tuple[str, ...]
    values: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        shape: tuple[int, ...] = getattr(self.values, "shape", ())
        if len(shape) != 2 or shape[1] != len(self.columns):
            raise InvalidInput(f"an input matrix must be n rows by {len(self.columns)} columns, got shape {shape}")

    def __len__(self) -> int:
        return int(self.values.shape[0])


# Class probabilities of a float matrix of inputs (n rows by k classes). Called by the writer's
# thread at flush time, once for the rows of many batches, so it must be safe to call there.
ProbabilitiesOf = Callable[["npt.NDArray[np.float64]"], "npt.NDArray[np.floating[Any]]"]


@dataclass(frozen=True, slots=True, eq=False)
class PredictionBatch:
    """The rows one micro-batch adds to a deployment's prediction log.

    ``inputs`` holds the validated features (n rows, one column per feature); ``predictions`` the
    model's output per row (a 1-D array or Series of numbers, booleans or text; a 2-D array, a
    DataFrame or objects such as lists are stored as JSON text). ``probabilities`` (n rows by k) goes
    with ``classes`` (k). ``time_ms`` is epoch ms: one int for the whole batch, or one per row.
    ``latency_ms`` is per row (rows of one request repeat their request's latency).

    ``probabilities_of`` (with ``classes``, instead of ``probabilities``, for ``InputMatrix``
    inputs) defers the probabilities to the flush: a model call costs about as much for one row as
    for thousands, so one call per flush replaces one per micro-batch. If it fails, the rows are
    still written, with null probabilities.

    The writer keeps a reference to the batch until it is written, so do not modify its arrays
    after appending it.
    """

    model: str
    version: int
    role: str
    inputs: pd.DataFrame | InputMatrix
    predictions: npt.NDArray[Any] | pd.Series[Any] | pd.DataFrame
    prediction_ids: Sequence[str]
    request_ids: Sequence[str]
    latency_ms: Sequence[float] | npt.NDArray[np.floating[Any]]
    time_ms: int | Sequence[int] | npt.NDArray[np.integer[Any]]
    probabilities: npt.NDArray[np.floating[Any]] | None = None
    classes: Sequence[str | int] | None = None
    probabilities_of: ProbabilitiesOf | None = None

    def __post_init__(self) -> None:
        # Runs on the serving hot path: type and length checks only, no pass over the values;
        # the message is built only when something is wrong.
        if self.role not in ROLES:
            raise InvalidInput(f"prediction role must be one of {sorted(ROLES)}, got {self.role!r}")
        version = self.version
        if type(version) is not int and (isinstance(version, bool) or not isinstance(version, np.integer)):
            raise InvalidInput(f"a model version is a whole number, got {type(version).__name__}")
        n = len(self.prediction_ids)
        one_time = type(self.time_ms) is int or isinstance(self.time_ms, np.integer)
        if (
            len(self.inputs) != n
            or len(self.predictions) != n
            or len(self.request_ids) != n
            or len(self.latency_ms) != n
            or (not one_time and len(self.time_ms) != n)  # type: ignore[arg-type]
        ):
            self._raise_sizes(n, one_time)
        if self.probabilities_of is not None:
            self._check_deferred()
        elif (self.probabilities is None) != (self.classes is None):
            raise InvalidInput("prediction probabilities and classes go together: pass both or neither")
        if self.probabilities is not None and self.classes is not None:
            shape = getattr(self.probabilities, "shape", ())
            if tuple(shape) != (n, len(self.classes)):
                raise InvalidInput(
                    f"prediction probabilities must be {n} rows by {len(self.classes)} classes, got shape {shape}"
                )

    def _check_deferred(self) -> None:
        if self.probabilities is not None:
            raise InvalidInput("pass prediction probabilities or probabilities_of, not both")
        if self.classes is None:
            raise InvalidInput("probabilities_of needs the classes its columns stand for")
        if type(self.inputs) is not InputMatrix:
            raise InvalidInput("probabilities_of needs its inputs as an InputMatrix")

    def _raise_sizes(self, n: int, one_time: bool) -> None:
        parts: dict[str, Any] = {
            "inputs": self.inputs,
            "predictions": self.predictions,
            "request_ids": self.request_ids,
            "latency_ms": self.latency_ms,
        }
        if not one_time:
            parts["time_ms"] = self.time_ms
        wrong = [f"{name} has {len(part)}" for name, part in parts.items() if len(part) != n]
        raise InvalidInput(f"a prediction batch of {n} ids has rows that do not match: {', '.join(wrong)}")

    @property
    def rows(self) -> int:
        return len(self.prediction_ids)
