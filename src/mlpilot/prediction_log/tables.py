"""Turn buffered prediction batches into Arrow tables, one per deployment, date and schema.

This runs at flush time, off the serving thread. Converting a 16-row frame to Arrow costs about
a millisecond of fixed overhead, so batches that share a deployment and input columns are
concatenated first and converted once: per-batch work is a few list and array appends. Inputs
that came as an ``InputMatrix`` are concatenated with numpy (pandas takes about 60 µs a frame to
concatenate thousands of them), and their deferred probabilities are computed here, in one model
call per group instead of one per micro-batch.

Segment columns: ``prediction_id``, ``request_id``, ``time`` (timestamp ms, UTC), ``model``,
``version``, ``role``, ``latency_ms``, ``prediction``, then ``proba:<class>`` per class (when
probabilities were computed) and ``input:<feature>`` per feature. The deployment and date are the
folder names (hive partitions), not columns.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlpilot.prediction_log.layout import MS_PER_DAY
from mlpilot.prediction_log.records import InputMatrix, PredictionBatch, ProbabilitiesOf

__all__ = ["METADATA_COLUMNS", "TIME_TYPE", "Rejected", "SegmentData", "to_segments"]

log = logging.getLogger(__name__)

TIME_TYPE = pa.timestamp("ms", tz="UTC")
METADATA_COLUMNS = ("prediction_id", "request_id", "time", "model", "version", "role", "latency_ms", "prediction")
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
# The usual model output, a 1-D numpy array of numbers or booleans, stays numpy until its group
# is concatenated: one Arrow conversion per group instead of one per batch.
_NUMPY_TYPES = {"i": pa.int64(), "f": pa.float64(), "b": pa.bool_()}
# A buffered batch with its prediction column, converted first since its type splits the groups.
_Member = tuple[PredictionBatch, "npt.NDArray[Any] | pa.Array"]


@dataclass(frozen=True, slots=True, eq=False)
class SegmentData:
    """Rows bound for one segment file: one deployment, one UTC date, one schema."""

    deployment: str
    day: int  # days since the epoch (UTC)
    table: pa.Table

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


@dataclass(frozen=True, slots=True)
class Rejected:
    """Rows that cannot be converted (retrying would fail the same way), with the reason."""

    deployment: str
    rows: int
    error: BaseException


def to_segments(items: Sequence[tuple[str, PredictionBatch]]) -> tuple[list[SegmentData], list[Rejected]]:
    """Convert (deployment, batch) pairs, in order, into segment tables; a batch that cannot be
    converted is returned as rejected and does not hold back the others."""
    groups: dict[tuple[str, tuple[Hashable, ...], pa.DataType, tuple[str, ...] | None], list[_Member]] = {}
    rejected: list[Rejected] = []
    for deployment, batch in items:
        try:
            prediction, kind = _prediction_part(batch.predictions)
            classes = None if batch.classes is None else tuple(str(label) for label in batch.classes)
            inputs = batch.inputs
            # Matrices and frames concatenate differently: they never share a group (the writer
            # still puts them in one segment when their schemas agree).
            form = ("matrix", inputs.columns) if type(inputs) is InputMatrix else ("frame", *inputs.columns)
            key = (deployment, form, kind, classes)
        except Exception as error:  # noqa: BLE001 - the caller logs rejected rows with their reason
            rejected.append(Rejected(deployment, batch.rows, error))
            continue
        groups.setdefault(key, []).append((batch, prediction))
    segments: list[SegmentData] = []
    for (deployment, _columns, kind, _classes), members in groups.items():
        try:
            segments.extend(_by_day(deployment, *_group_table(members, kind)))
        except Exception as error:  # noqa: BLE001
            if len(members) == 1:
                rejected.append(Rejected(deployment, members[0][0].rows, error))
                continue
            # One bad batch fails the whole concatenation; convert one by one to find it.
            for member in members:
                try:
                    segments.extend(_by_day(deployment, *_group_table([member], kind)))
                except Exception as single_error:  # noqa: BLE001
                    rejected.append(Rejected(deployment, member[0].rows, single_error))
    return segments, rejected


def _prediction_part(predictions: Any) -> tuple[npt.NDArray[Any] | pa.Array, pa.DataType]:
    if type(predictions) is np.ndarray and predictions.ndim == 1 and predictions.dtype.kind in _NUMPY_TYPES:
        return predictions, _NUMPY_TYPES[predictions.dtype.kind]
    array = prediction_array(predictions)
    return array, array.type


def _prediction_column(parts: Sequence[npt.NDArray[Any] | pa.Array], kind: pa.DataType) -> pa.Array:
    if all(isinstance(part, np.ndarray) for part in parts):
        return pa.array(np.concatenate(parts), from_pandas=True).cast(kind)
    return pa.concat_arrays(
        [part if isinstance(part, pa.Array) else pa.array(part, from_pandas=True).cast(kind) for part in parts]
    )


def prediction_array(predictions: Any) -> pa.Array:
    """The ``prediction`` column of one batch: int64, float64, bool or string (JSON text when a
    row holds several outputs)."""
    if isinstance(predictions, pd.DataFrame):
        return _json_array(predictions.to_dict(orient="records"))
    if isinstance(predictions, pd.Series):
        array = pa.array(predictions, from_pandas=True)
    else:
        try:
            values = np.asarray(predictions)
        except ValueError:  # ragged rows, such as lists of different lengths
            return _json_array(list(predictions))
        if values.ndim != 1:
            return _json_array(values.tolist())
        try:
            array = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return _json_array(values.tolist())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return _scalar_array(array)


def _scalar_array(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _scalar_array(array.dictionary_decode())
    if pa.types.is_integer(kind):
        return array.cast(pa.int64())
    if pa.types.is_floating(kind):
        return array.cast(pa.float64())
    if pa.types.is_boolean(kind):
        return array
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return array.cast(pa.string())
    return _json_array(array.to_pylist())


def _json_array(rows: Iterable[Any]) -> pa.Array:
    return pa.array(
        [None if row is None else orjson.dumps(row, option=_JSON_OPTIONS, default=str).decode() for row in rows],
        type=pa.string(),
    )


def _times(batches: Sequence[PredictionBatch], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    stamps = [batch.time_ms for batch in batches]
    if all(type(stamp) is int or isinstance(stamp, np.integer) for stamp in stamps):
        return np.repeat(np.asarray(stamps, dtype=np.int64), counts)  # the usual case: one per batch
    return np.concatenate(
        [
            np.full(batch.rows, stamp, dtype=np.int64)
            if isinstance(stamp, int | np.integer)
            else np.asarray(stamp, dtype=np.int64)
            for batch, stamp in zip(batches, stamps, strict=True)
        ]
    )


def _repeated_text(values: Sequence[str], counts: npt.NDArray[np.int64]) -> pa.Array:
    """A text column in which each batch repeats one value (model, role): indexes into the
    distinct values, taken in C, instead of a Python list of one string per row."""
    position: dict[str, int] = {}
    codes = np.repeat(np.asarray([position.setdefault(value, len(position)) for value in values], np.int32), counts)
    return pa.array(list(position), type=pa.string()).take(pa.array(codes))


def _group_table(members: Sequence[_Member], kind: pa.DataType) -> tuple[pa.Table, npt.NDArray[np.int64]]:
    """One table for batches that share a deployment, input columns, prediction type and classes."""
    batches = [batch for batch, _prediction in members]
    counts = np.fromiter((batch.rows for batch in batches), dtype=np.int64, count=len(batches))
    times = _times(batches, counts)
    names = list(METADATA_COLUMNS)
    columns: list[pa.Array | pa.ChunkedArray] = [
        pa.array(list(itertools.chain.from_iterable(batch.prediction_ids for batch in batches)), type=pa.string()),
        pa.array(list(itertools.chain.from_iterable(batch.request_ids for batch in batches)), type=pa.string()),
        pa.array(times, type=pa.int64()).cast(TIME_TYPE),
        _repeated_text([batch.model for batch in batches], counts),
        pa.array(np.repeat(np.asarray([batch.version for batch in batches], dtype=np.int64), counts)),
        _repeated_text([batch.role for batch in batches], counts),
        pa.array(np.concatenate([np.asarray(batch.latency_ms, dtype=np.float64) for batch in batches])),
        _prediction_column([prediction for _batch, prediction in members], kind),
    ]
    first = batches[0]
    if first.classes is not None:
        matrix, unknown = _probabilities(batches, len(times), len(first.classes))
        for index, label in enumerate(first.classes):
            names.append(f"proba:{label}")
            columns.append(pa.array(matrix[:, index], mask=unknown))
    if type(first.inputs) is InputMatrix:
        for name, column in zip(first.inputs.columns, _matrix_columns(batches), strict=True):
            names.append(f"input:{name}")
            columns.append(column)
    elif len(first.inputs.columns):
        frames: list[pd.DataFrame] = [batch.inputs for batch in batches]  # type: ignore[misc]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        inputs = pa.Table.from_pandas(frame, preserve_index=False)
        for name, column in zip(frame.columns, inputs.columns, strict=True):
            names.append(f"input:{name}")
            columns.append(_input_column(column))
    return pa.Table.from_arrays(columns, names=names), times


def _stacked(batches: Sequence[PredictionBatch]) -> npt.NDArray[np.float64]:
    """The InputMatrix values of ``batches``, one under the other."""
    values = [batch.inputs.values for batch in batches]
    return values[0] if len(values) == 1 else np.concatenate(values)


def _matrix_columns(batches: Sequence[PredictionBatch]) -> list[pa.Array]:
    # Column-major first, so that each Arrow column is a contiguous slice rather than a gather.
    matrix = np.asfortranarray(_stacked(batches), dtype=np.float64)
    return [pa.array(matrix[:, index], from_pandas=True) for index in range(matrix.shape[1])]


def _probabilities(
    batches: Sequence[PredictionBatch], rows: int, classes: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
    """The group's probability matrix, and which of its rows have none (a deferred computation
    failed; None when all have them). Deferred ones are computed once per function for all the
    batches that share it (one model version)."""
    matrix = np.empty((rows, classes), dtype=np.float64)
    deferred: dict[Hashable, tuple[ProbabilitiesOf, list[tuple[int, PredictionBatch]]]] = {}
    start = 0
    previous: ProbabilitiesOf | None = None
    spans: list[tuple[int, PredictionBatch]] = []
    for batch in batches:
        compute = batch.probabilities_of
        if compute is None:
            matrix[start : start + batch.rows] = batch.probabilities
        elif compute is previous:  # the usual case, and hashing a bound method is not free
            spans.append((start, batch))
        else:
            spans = deferred.setdefault(_identity(compute), (compute, []))[1]
            spans.append((start, batch))
            previous = compute
        start += batch.rows
    unknown: npt.NDArray[np.bool_] | None = None
    for compute, spans in deferred.values():
        members = [batch for _start, batch in spans]
        try:
            computed = np.asarray(compute(_stacked(members)), dtype=np.float64)
            expected = (sum(batch.rows for batch in members), classes)
            if computed.shape != expected:
                raise ValueError(f"expected shape {expected}, got {computed.shape}")
        except Exception as error:  # noqa: BLE001 - the rows are still worth keeping without them
            log.error(
                "prediction log: could not compute class probabilities for %d rows (%s: %s); writing them without",
                sum(batch.rows for batch in members),
                type(error).__name__,
                error,
            )
            unknown = np.zeros(rows, dtype=np.bool_) if unknown is None else unknown
            for begin, batch in spans:
                unknown[begin : begin + batch.rows] = True
                matrix[begin : begin + batch.rows] = 0.0
            continue
        offset = 0
        for begin, batch in spans:
            matrix[begin : begin + batch.rows] = computed[offset : offset + batch.rows]
            offset += batch.rows
    return matrix, unknown


def _identity(compute: ProbabilitiesOf) -> Hashable:
    """What tells deferred computations apart: equality, so that two bound methods of one object
    (a new one each time the attribute is read) share one call."""
    try:
        hash(compute)
    except TypeError:
        return id(compute)
    return compute


def _input_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Feature columns keep their types, except: categories become their labels as text, and
    datetimes become microseconds (UTC when zoned), which DuckDB and Spark read natively."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return column.cast(pa.string())
    if pa.types.is_large_string(kind):
        return column.cast(pa.string())
    if pa.types.is_timestamp(kind) and (kind.unit == "ns" or kind.tz is not None):
        target = pa.timestamp("us", tz=None if kind.tz is None else "UTC")
        return pc.cast(column, target, safe=False)
    return column


def _by_day(deployment: str, table: pa.Table, times: npt.NDArray[np.int64]) -> list[SegmentData]:
    days = times // MS_PER_DAY
    first, last = int(days.min()), int(days.max())
    if first == last:
        return [SegmentData(deployment, first, table)]
    return [SegmentData(deployment, int(day), table.filter(pa.array(days == day))) for day in np.unique(days)]
