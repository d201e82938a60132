"""Inputs as one float matrix, and class probabilities computed at flush time: one call for the
rows of many batches, the same columns as a DataFrame batch, rows kept when the call fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.prediction_log import InputMatrix, PredictionBatch, PredictionLogWriter, read_predictions
from tests.prediction_log.factories import T0, float_inputs, id_at, make_batch

COLUMNS = ("a", "b", "c")


class Scorer:
    """Probabilities of two classes from the first feature, counting its calls and their rows."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[int] = []
        self.fail = fail

    def __call__(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        self.calls.append(len(matrix))
        if self.fail:
            raise RuntimeError("the model is gone")
        first = matrix[:, 0] / 10
        return np.column_stack([1 - first, first])


def matrix_batch(
    values: npt.NDArray[np.float64],
    *,
    scorer: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]] | None = None,
    probabilities: npt.NDArray[np.float64] | None = None,
    time_ms: int = T0,
    version: int = 1,
) -> PredictionBatch:
    rows = len(values)
    return PredictionBatch(
        model="churn",
        version=version,
        role="primary",
        inputs=InputMatrix(COLUMNS, values),
        predictions=np.arange(rows) % 2,
        prediction_ids=[id_at(time_ms) for _ in range(rows)],
        request_ids=[f"r{index}" for index in range(rows)],
        latency_ms=np.full(rows, 2.0),
        time_ms=time_ms,
        probabilities=probabilities,
        classes=None if scorer is None and probabilities is None else ["no", "yes"],
        probabilities_of=scorer,
    )


def rows_of(start: int, count: int) -> npt.NDArray[np.float64]:
    return np.arange(start, start + count * 3, dtype=np.float64).reshape(count, 3) / 10


def test_matrix_inputs_are_logged_like_a_frame(root: Path, log_batches: Callable[..., None]) -> None:
    values = rows_of(0, 4)
    values[1, 2] = np.nan
    log_batches("churn", matrix_batch(values))
    got = read_predictions(root, "churn")
    assert [name for name in got.columns if name.startswith("input:")] == ["input:a", "input:b", "input:c"]
    assert got["input:a"].tolist() == values[:, 0].tolist()
    assert got["input:c"].isna().tolist() == [False, True, False, False], "NaN becomes a null, as in frames"
    assert "proba:no" not in got.columns


def test_deferred_probabilities_take_one_call_per_flush(root: Path) -> None:
    scorer = Scorer()
    batches = [matrix_batch(rows_of(index * 6, 2), scorer=scorer) for index in range(50)]
    with PredictionLogWriter(root, flush_rows=1_000_000, flush_seconds=60) as writer:
        for batch in batches:
            writer.append("churn", batch)
        assert scorer.calls == [], "nothing is computed when a batch is appended"
        writer.flush()
    assert scorer.calls == [100]
    got = read_predictions(root, "churn").set_index("prediction_id")
    for batch in batches:
        expected = batch.inputs.values[:, 0] / 10  # type: ignore[union-attr]
        assert got.loc[list(batch.prediction_ids), "proba:yes"].tolist() == pytest.approx(expected.tolist())
        assert got.loc[list(batch.prediction_ids), "proba:no"].tolist() == pytest.approx((1 - expected).tolist())


def test_given_and_deferred_probabilities_share_a_segment(root: Path, log_batches: Callable[..., None]) -> None:
    first, second = Scorer(), Scorer()
    given = matrix_batch(rows_of(0, 2), probabilities=np.array([[0.25, 0.75], [0.5, 0.5]]))
    batches = [
        matrix_batch(rows_of(6, 3), scorer=first),
        given,
        matrix_batch(rows_of(15, 1), scorer=second, version=2),
        matrix_batch(rows_of(18, 2), scorer=first),
    ]
    log_batches("churn", *batches, one_segment=True)
    assert first.calls == [5] and second.calls == [1], "one call per scorer, for all its rows"
    assert len(list(root.rglob("*.parquet"))) == 1
    got = read_predictions(root, "churn").set_index("prediction_id")
    assert got.loc[list(given.prediction_ids), "proba:yes"].tolist() == [0.75, 0.5]
    for batch in (batches[0], batches[2], batches[3]):
        expected = batch.inputs.values[:, 0] / 10  # type: ignore[union-attr]
        assert got.loc[list(batch.prediction_ids), "proba:yes"].tolist() == pytest.approx(expected.tolist())


def test_a_failed_deferred_call_keeps_the_rows_without_probabilities(
    root: Path, log_batches: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    broken, working = Scorer(fail=True), Scorer()
    lost = matrix_batch(rows_of(0, 2), scorer=broken)
    kept = matrix_batch(rows_of(6, 2), scorer=working)
    with caplog.at_level(logging.ERROR, logger="mlpilot.prediction_log"):
        log_batches("churn", lost, kept, one_segment=True)
    assert "could not compute class probabilities for 2 rows (RuntimeError: the model is gone)" in caplog.text
    got = read_predictions(root, "churn").set_index("prediction_id")
    assert len(got) == 4
    assert got.loc[list(lost.prediction_ids), "proba:yes"].isna().all()
    assert got.loc[list(kept.prediction_ids), "proba:yes"].notna().all()


def test_a_scorer_of_the_wrong_shape_counts_as_failed(root: Path, log_batches: Callable[..., None]) -> None:
    batch = matrix_batch(rows_of(0, 3), scorer=lambda matrix: np.zeros((len(matrix), 5)))
    log_batches("churn", batch)
    assert read_predictions(root, "churn")["proba:yes"].isna().all()


def test_matrix_and_frame_batches_of_one_schema_share_a_segment(root: Path, log_batches: Callable[..., None]) -> None:
    frame = float_inputs(2, 3)
    frame.columns = list(COLUMNS)
    log_batches("churn", matrix_batch(rows_of(0, 2)), make_batch(inputs=frame), one_segment=True)
    files = list(root.rglob("*.parquet"))
    assert len(files) == 1
    assert pq.ParquetFile(files[0]).metadata.num_rows == 4


def test_deferred_probabilities_need_classes_a_matrix_and_no_given_ones() -> None:
    values = rows_of(0, 2)
    scorer = Scorer()
    with pytest.raises(InvalidInput, match="not both"):
        matrix_batch(values, scorer=scorer, probabilities=np.zeros((2, 2)))
    frame_batch = make_batch(2)
    with pytest.raises(InvalidInput, match="InputMatrix"):
        PredictionBatch(
            "m", 1, "primary", frame_batch.inputs, [0, 1], ["a", "b"], ["r", "r"], [1.0, 1.0], 0,
            classes=["no", "yes"], probabilities_of=scorer,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="classes"):
        PredictionBatch(
            "m", 1, "primary", InputMatrix(COLUMNS, values), [0, 1], ["a", "b"], ["r", "r"], [1.0, 1.0], 0,
            probabilities_of=scorer,
        )  # fmt: skip


def test_an_input_matrix_must_match_its_columns() -> None:
    with pytest.raises(InvalidInput, match="3 columns"):
        InputMatrix(COLUMNS, np.zeros((2, 2)))
    with pytest.raises(InvalidInput, match="3 columns"):
        InputMatrix(COLUMNS, np.zeros(3))
    assert len(InputMatrix(COLUMNS, np.zeros((4, 3)))) == 4
    with pytest.raises(InvalidInput, match="inputs has 4"):
        PredictionBatch("m", 1, "primary", InputMatrix(COLUMNS, np.zeros((4, 3))), [0], ["a"], ["r"], [1.0], 0)
