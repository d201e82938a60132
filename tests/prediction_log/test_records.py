"""Prediction ids and the batch record's checks."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.prediction_log import PredictionBatch, new_prediction_id, new_prediction_ids, prediction_id_time_ms
from tests.prediction_log.factories import make_batch


def test_prediction_ids_are_32_hex_chars_with_the_time_in_front() -> None:
    before = time.time_ns() // 1_000_000
    made = new_prediction_id()
    after = time.time_ns() // 1_000_000
    assert len(made) == 32
    assert int(made, 16) >= 0
    assert made == made.lower()
    stamp = prediction_id_time_ms(made)
    assert stamp is not None
    assert before <= stamp <= after


def test_prediction_ids_are_unique_and_sort_by_time() -> None:
    first = [new_prediction_id() for _ in range(50_000)]
    assert len(set(first)) == len(first)
    time.sleep(0.002)
    later = new_prediction_id()
    assert max(first) < later


def test_ids_made_a_batch_at_a_time_are_unique_and_in_the_order_made() -> None:
    made: list[str] = []
    for count in (1, 8, 0, 300, 2, 5_000):
        made.extend(new_prediction_ids(count))
        made.append(new_prediction_id())
    assert len(made) == 1 + 8 + 0 + 300 + 2 + 5_000 + 6
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert all(len(one) == 32 and prediction_id_time_ms(one) is not None for one in made)
    assert new_prediction_ids(0) == []


def test_only_ids_of_our_form_carry_a_time() -> None:
    assert prediction_id_time_ms("not-an-id") is None
    assert prediction_id_time_ms("G" * 32) is None
    assert prediction_id_time_ms("0" * 31) is None
    assert prediction_id_time_ms("00000000000a" + "0" * 20) == 10


def test_a_batch_counts_its_rows() -> None:
    assert make_batch(3).rows == 3


def test_a_batch_rejects_rows_that_do_not_line_up() -> None:
    good = make_batch(3)
    with pytest.raises(InvalidInput, match="request_ids has 2"):
        PredictionBatch("m", 1, "primary", good.inputs, good.predictions, good.prediction_ids, ["r", "r"], [1.0] * 3, 0)
    with pytest.raises(InvalidInput, match="time_ms has 1"):
        PredictionBatch(
            "m", 1, "primary", good.inputs, good.predictions, good.prediction_ids, ["r"] * 3, [1.0] * 3, [5]
        )
    with pytest.raises(InvalidInput, match="inputs has 0"):
        PredictionBatch("m", 1, "primary", pd.DataFrame(), [1, 2, 3], ["a", "b", "c"], ["r"] * 3, [1.0] * 3, 0)


def test_a_batch_rejects_an_unknown_role_or_version() -> None:
    good = make_batch(1)
    with pytest.raises(InvalidInput, match="role"):
        PredictionBatch("m", 1, "champion", good.inputs, [1], ["a"], ["r"], [1.0], 0)
    with pytest.raises(InvalidInput, match="version"):
        PredictionBatch("m", "1", "primary", good.inputs, [1], ["a"], ["r"], [1.0], 0)  # type: ignore[arg-type]


def test_probabilities_need_their_classes_and_the_right_shape() -> None:
    good = make_batch(2)
    args = ("m", 1, "shadow", good.inputs, [0, 1], ["a", "b"], ["r", "r"], [1.0, 1.0], np.int64(0))
    with pytest.raises(InvalidInput, match="together"):
        PredictionBatch(*args, probabilities=np.zeros((2, 2)))
    with pytest.raises(InvalidInput, match="2 rows by 3 classes"):
        PredictionBatch(*args, probabilities=np.zeros((2, 2)), classes=["a", "b", "c"])
    assert PredictionBatch(*args, probabilities=np.zeros((2, 3)), classes=["a", "b", "c"]).rows == 2
