"""One loaded model version in one worker: its micro-batcher, and what a batch goes through.

A batch is built into as few DataFrames as possible (requests with the same columns share one),
validated against the signature, predicted in one call, split back per request, and logged.
When a batch fails, only the requests at fault fail: validation and the model call are retried
one request at a time, so a bad request never takes its neighbours down with it.

Logging stays cheap on this thread: all-numeric batches go to the log as the float matrix they
were predicted from, and the class probabilities logged for monitoring are computed by the log's
writer at flush time, in one model call for thousands of rows rather than one per micro-batch
(for a small model that call costs as much as the prediction itself).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlpilot.errors import InvalidInput, PredictionFailed
from mlpilot.models.signature import validate
from mlpilot.prediction_log import InputMatrix, PredictionBatch, new_prediction_ids
from mlpilot.serving.batching import MicroBatcher
from mlpilot.serving.payload import Payload

if TYPE_CHECKING:
    from mlpilot.models import LoadedModel, Signature
    from mlpilot.prediction_log import PredictionLogWriter
    from mlpilot.serving.metrics import ServingMetrics

__all__ = ["Job", "LoadedVersion", "Outcome"]

log = logging.getLogger(__name__)

# Deferred probabilities are computed in chunks of this many rows, each holding the model lock
# (and so delaying the next batch of requests) only briefly, even for a 100-tree forest.
_LOG_SCORE_ROWS = 2048


@dataclass(frozen=True, slots=True)
class Job:
    """One request's share of a batch."""

    payload: Payload
    probabilities: bool
    request_id: str
    role: str
    arrived: float  # time.perf_counter() when the request came in


@dataclass(frozen=True, slots=True)
class Outcome:
    predictions: list[Any]
    probabilities: list[list[float]] | None
    prediction_ids: list[str]
    ignored_columns: tuple[str, ...]


@dataclass(slots=True)
class _Part:
    """Validated rows of some jobs, in job order: a DataFrame, or (the all-numeric fast path) a
    float matrix in the signature's column order, turned into a DataFrame only if a model needs one."""

    jobs: list[int]
    values: pd.DataFrame | np.ndarray[Any, np.dtype[np.float64]]
    ignored: list[tuple[str, ...]]
    rows: list[int]  # rows of each job (a CSV body's count is known only once it is read)

    def slice(self, start: int, stop: int) -> pd.DataFrame | np.ndarray[Any, np.dtype[np.float64]]:
        values = self.values
        if isinstance(values, pd.DataFrame):
            return values.iloc[start:stop].reset_index(drop=True)
        return values[start:stop]


class LoadedVersion:
    def __init__(
        self,
        deployment: str,
        model_name: str,
        version: int,
        model: LoadedModel,
        *,
        max_batch_rows: int,
        max_wait: float,
        log_writer: PredictionLogWriter | None,
        log_probabilities: bool,
        metrics: ServingMetrics,
    ) -> None:
        self.deployment = deployment
        self.model_name = model_name
        self.version = version
        self.model = model
        self.signature = model.signature
        self.has_probabilities = model.has_predict_proba
        classes = getattr(model.raw, "classes_", None)
        self.classes: list[Any] | None = np.asarray(classes).tolist() if classes is not None else None
        self._log = log_writer
        # Probabilities nobody asked for are computed only to be logged.
        self._log_probabilities = log_probabilities and self.has_probabilities and log_writer is not None
        self._metrics = metrics
        self._known = frozenset(spec.name for spec in self.signature.inputs) if self.signature else None
        self._numeric = _numeric_layout(self.signature)
        self._takes_matrix = self._numeric is not None and _takes_matrix(model, self._numeric[0])
        self._input_columns = tuple(self._numeric[0]) if self._numeric is not None else ()
        # The log's writer calls the model too (deferred probabilities): one call at a time, as
        # models are not all safe to call from two threads. Reentrant: a writer flushing on this
        # thread (backpressure) takes it again.
        self._model_lock = threading.RLock()
        self._log_scorer = self._logged_probabilities  # one bound method: the writer groups by it
        # One thread per version: one batch in flight at a time, and a slow model only delays its
        # own requests, never the event loop or another version's.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"predict-{deployment}-v{version}")
        self.batcher: MicroBatcher[Job, Outcome] = MicroBatcher(
            self._process,
            rows_of=lambda job: job.payload.rows,
            max_rows=max_batch_rows,
            max_wait=max_wait,
            executor=self._executor,
            on_batch=lambda rows: metrics.batch_size.labels(deployment, str(version)).observe(rows),
        )

    async def predict(self, job: Job) -> Outcome:
        if job.probabilities and not self.has_probabilities:
            raise InvalidInput(
                f"version {self.version} of {self.model_name} ({type(self.model.raw).__name__}) gives no probabilities",
                hint='Only classifiers give class probabilities; leave out "probabilities".',
            )
        return await self.batcher.submit(job)

    def warm(self, example: Payload | None) -> None:
        """Run one prediction before taking traffic, so the first request pays no lazy set-up."""
        if example is None:
            return
        job = Job(example, self.has_probabilities, "warm-up", "warm-up", time.perf_counter())
        outcome = self._process([job], logged=False)[0]
        if isinstance(outcome, BaseException):
            raise outcome

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    # in the version's thread -------------------------------------------------------------------

    def _process(self, jobs: Sequence[Job], logged: bool = True) -> list[Outcome | BaseException]:
        results: list[Outcome | BaseException | None] = [None] * len(jobs)
        parts = self._prepare(jobs, results)
        if parts:
            self._predict(jobs, parts, results, logged)
        return [result if result is not None else _lost() for result in results]

    def _prepare(self, jobs: Sequence[Job], results: list[Outcome | BaseException | None]) -> list[_Part]:
        fast = self._numeric_frame(jobs)
        if fast is not None:
            return [fast]
        groups: dict[object, list[int]] = {}
        for position, job in enumerate(jobs):
            key = (job.payload.kind, job.payload.columns) if job.payload.kind == "records" else position
            groups.setdefault(key, []).append(position)
        parts = []
        for members in groups.values():
            try:
                parts.append(self._validated(jobs, members))
            except InvalidInput as problem:
                if len(members) == 1:
                    results[members[0]] = problem
                    continue
                for position in members:  # find who is at fault
                    try:
                        parts.append(self._validated(jobs, [position]))
                    except InvalidInput as alone:
                        results[position] = alone
        return parts

    def _numeric_frame(self, jobs: Sequence[Job]) -> _Part | None:
        """The common case, fast: every column numeric, every request rows of plain numbers with
        exactly the signature's columns. Anything else (a null, text, a missing or extra column)
        returns None and takes the general path, which also explains what is wrong."""
        if self._numeric is None:
            return None
        names, integers = self._numeric
        expected = self._known
        rows: list[list[Any]] = []
        for job in jobs:
            payload = job.payload
            if payload.kind != "records" or payload.columns != expected:
                return None
            for record in payload.data:
                row = [record[name] for name in names]
                for value in row:
                    kind = type(value)
                    if kind is not float and kind is not int:
                        return None
                for position in integers:
                    if type(row[position]) is not int:
                        return None
                rows.append(row)
        matrix = np.array(rows, dtype=float)
        return _Part(list(range(len(jobs))), matrix, [()] * len(jobs), [job.payload.rows for job in jobs])

    def _validated(self, jobs: Sequence[Job], members: list[int]) -> _Part:
        if len(members) == 1:
            frame = jobs[members[0]].payload.frame()
        else:
            records = list(chain.from_iterable(jobs[position].payload.data for position in members))
            frame = Payload("records", records, len(records), None).frame()
        ignored: tuple[str, ...] = ()
        if self._known is not None:
            extra = [name for name in frame.columns if name not in self._known]
            if extra:
                # Dropped here rather than by validate(), which would warn on every request.
                ignored = tuple(str(name) for name in extra)
                frame = frame.drop(columns=extra)
        if self.signature is not None:
            frame = validate(frame, self.signature)
        rows = [len(frame)] if len(members) == 1 else [jobs[position].payload.rows for position in members]
        return _Part(members, frame, [ignored] * len(members), rows)

    def _predict(
        self, jobs: Sequence[Job], parts: list[_Part], results: list[Outcome | BaseException | None], logged: bool
    ) -> None:
        inputs = self._inputs(parts)
        order = [position for part in parts for position in part.jobs]
        ignored = [columns for part in parts for columns in part.ignored]
        counts = [rows for part in parts for rows in part.rows]
        asked = any(jobs[position].probabilities for position in order)
        # A matrix's probabilities, if only the log wants them, are computed at its flush.
        wants_probabilities = asked or (self._log_probabilities and type(inputs) is not InputMatrix)
        try:
            predictions, probabilities = self._call(inputs, wants_probabilities)
        except Exception:  # noqa: BLE001 - whatever the model raises, the request gets a MODEL_ERROR
            if len(order) == 1:
                results[order[0]] = self._failed(jobs[order[0]])
                return
            for part in parts:  # isolate the request the model fails on
                start = 0
                for position, columns, rows in zip(part.jobs, part.ignored, part.rows, strict=True):
                    alone = _Part([position], part.slice(start, start + rows), [columns], [rows])
                    self._predict(jobs, [alone], results, logged)
                    start += rows
            return
        start = 0
        ids_all = new_prediction_ids(len(predictions))
        for position, columns, rows in zip(order, ignored, counts, strict=True):
            job = jobs[position]
            stop = start + rows
            ids = ids_all[start:stop]
            results[position] = Outcome(
                predictions=_listed(predictions[start:stop]),
                probabilities=probabilities[start:stop].tolist()
                if job.probabilities and probabilities is not None
                else None,
                prediction_ids=ids,
                ignored_columns=columns,
            )
            start = stop
        if not logged:  # the warm-up: not traffic, so neither counted nor logged
            return
        self._count(predictions)
        if self._log is not None:
            self._append_log(jobs, order, counts, inputs, predictions, probabilities, ids_all)

    def _inputs(self, parts: list[_Part]) -> pd.DataFrame | InputMatrix:
        """The batch's rows: the fast path's matrix as it is, anything else as one DataFrame."""
        values = [part.values for part in parts]
        if len(values) == 1:
            only = values[0]
            return only if isinstance(only, pd.DataFrame) else InputMatrix(self._input_columns, only)
        frames = [value if isinstance(value, pd.DataFrame) else self._as_frame(value) for value in values]
        return pd.concat(frames, ignore_index=True)

    def _as_frame(self, matrix: np.ndarray[Any, Any]) -> pd.DataFrame:
        """A matrix of the fast path as the DataFrame a model that cannot take a matrix needs."""
        return pd.DataFrame(matrix, columns=list(self._input_columns), copy=False)

    def _call(self, inputs: pd.DataFrame | InputMatrix, wants_probabilities: bool) -> tuple[np.ndarray[Any, Any], Any]:
        rows = self._model_input(inputs)
        probabilities = None
        with self._model_lock:
            if isinstance(rows, np.ndarray):
                raw: Any = self.model.raw
                predictions = np.asarray(raw.predict(rows))
                if wants_probabilities and self.has_probabilities:
                    probabilities = np.asarray(raw.predict_proba(rows), dtype=float)
            else:
                predictions = np.asarray(self.model.predict(rows, validate=False))
                if wants_probabilities and self.has_probabilities:
                    probabilities = np.asarray(self.model.predict_proba(rows, validate=False), dtype=float)
        if len(predictions) != len(rows):
            raise ValueError(f"the model returned {len(predictions)} predictions for {len(rows)} rows")
        return predictions, probabilities

    def _model_input(self, inputs: pd.DataFrame | InputMatrix) -> pd.DataFrame | np.ndarray[Any, Any]:
        """What the model is handed. scikit-learn checks a DataFrame column by column (about 1 ms
        for 30 columns): one fitted on exactly the signature's columns, in order, gets the checked
        float matrix instead. Every other model gets a DataFrame."""
        if isinstance(inputs, InputMatrix):
            return inputs.values if self._takes_matrix else self._as_frame(inputs.values)
        if self._takes_matrix and all(dtype.kind == "f" for dtype in inputs.dtypes):
            return inputs.to_numpy()
        return inputs

    def _failed(self, job: Job) -> PredictionFailed:
        log.exception("version %s of %s failed on request %s", self.version, self.model_name, job.request_id)
        return PredictionFailed(f"version {self.version} of model {self.model_name!r} failed on this input")

    def _count(self, predictions: np.ndarray[Any, Any]) -> None:
        counter = self._metrics.predictions
        if self.classes is not None and predictions.ndim == 1:
            values, counts = np.unique(predictions, return_counts=True)
            for value, count in zip(values.tolist(), counts.tolist(), strict=True):
                counter.labels(self.deployment, str(self.version), str(value)).inc(count)
        elif predictions.ndim == 1 and predictions.dtype.kind in "fiu":
            histogram = self._metrics.prediction_value.labels(self.deployment, str(self.version))
            for value in predictions.tolist():
                histogram.observe(value)

    def _append_log(
        self,
        jobs: Sequence[Job],
        order: list[int],
        counts: list[int],
        inputs: pd.DataFrame | InputMatrix,
        predictions: np.ndarray[Any, Any],
        probabilities: Any,
        ids: list[str],
    ) -> None:
        now = time.perf_counter()
        request_ids: list[str] = []
        latencies: list[float] = []
        roles = {jobs[position].role for position in order}
        for position, rows in zip(order, counts, strict=True):
            job = jobs[position]
            request_ids.extend([job.request_id] * rows)
            latencies.extend([(now - job.arrived) * 1000.0] * rows)
        deferred = self._log_probabilities and probabilities is None and type(inputs) is InputMatrix
        try:
            assert self._log is not None
            self._log.append(
                self.deployment,
                PredictionBatch(
                    model=self.model_name,
                    version=self.version,
                    role=roles.pop() if len(roles) == 1 else "primary",
                    inputs=inputs,
                    predictions=predictions,
                    probabilities=probabilities,
                    classes=self.classes if probabilities is not None or deferred else None,
                    probabilities_of=self._log_scorer if deferred else None,
                    prediction_ids=ids,
                    request_ids=request_ids,
                    latency_ms=np.asarray(latencies),
                    time_ms=int(time.time() * 1000),
                ),
            )
        except Exception:  # the log must never fail a prediction that was made
            log.exception("could not log a batch of %d predictions of %s", len(ids), self.deployment)

    def _logged_probabilities(self, matrix: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, Any]:
        """The probabilities the log defers to its flush, on the writer's thread."""
        parts = []
        for start in range(0, len(matrix), _LOG_SCORE_ROWS):
            chunk = matrix[start : start + _LOG_SCORE_ROWS]
            with self._model_lock:
                if self._takes_matrix:
                    raw: Any = self.model.raw
                    parts.append(np.asarray(raw.predict_proba(chunk), dtype=np.float64))
                else:
                    parts.append(
                        np.asarray(self.model.predict_proba(self._as_frame(chunk), validate=False), dtype=np.float64)
                    )
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _listed(values: np.ndarray[Any, Any]) -> list[Any]:
    listed: list[Any] = values.tolist()
    return listed


def _numeric_layout(signature: Signature | None) -> tuple[list[str], list[int]] | None:
    """Input names and the positions of integer columns, if every input is a number."""
    if signature is None or not all(spec.type in ("float", "integer") for spec in signature.inputs):
        return None
    names = [spec.name for spec in signature.inputs]
    return names, [position for position, spec in enumerate(signature.inputs) if spec.type == "integer"]


def _takes_matrix(model: LoadedModel, names: list[str]) -> bool:
    """A scikit-learn model fitted on exactly these columns, in this order, can take a matrix."""
    fitted = getattr(model.raw, "feature_names_in_", None)
    return model.flavor == "sklearn" and fitted is not None and list(fitted) == names


def _lost() -> PredictionFailed:
    return PredictionFailed("the request was not predicted")
