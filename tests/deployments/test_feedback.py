"""Feedback: labels for served predictions, accepted, replaced or refused as a whole batch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pytest

from mlpilot.deployments import FeedbackResult, create_deployment, delete_deployment, read_feedback, record_feedback
from mlpilot.deployments.feedback import MAX_LABELS
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from tests.deployments.conftest import ACTOR, Models

SERVED = {f"p{i:03d}" for i in range(50)}


def served(ids: Sequence[str]) -> set[str]:
    return SERVED & set(ids)


@pytest.fixture
def api(db: Database, models: Models) -> str:
    models("churn", 1, production=1)
    return create_deployment(db, "api", "churn@production", actor=ACTOR).name


def test_labels_are_accepted_replaced_and_unknown_ids_reported(db: Database, api: str) -> None:
    first = record_feedback(
        db, api, [("p001", 1), ("p002", "cat"), ("nope", 0), ("p003", True)], known_ids=served, actor=ACTOR
    )
    assert first == FeedbackResult(accepted=3, updated=0, unknown_ids=["nope"])
    second = record_feedback(db, api, [("p001", 0), ("p004", 2.5), ("zzz", 1)], known_ids=served, actor="bob")
    assert second == FeedbackResult(accepted=1, updated=1, unknown_ids=["zzz"])
    assert second.to_dict() == {"accepted": 1, "updated": 1, "unknown_ids": ["zzz"]}
    frame = read_feedback(db, api)
    assert list(frame.columns) == ["prediction_id", "label", "created_at"]
    labels = dict(zip(frame["prediction_id"], frame["label"], strict=True))
    assert labels == {"p001": 0, "p002": "cat", "p003": True, "p004": 2.5}
    assert isinstance(labels["p003"], bool) and isinstance(labels["p001"], int)
    assert frame["created_at"].dtype == "int64" and (frame["created_at"] > 0).all()


def test_a_repeated_id_in_one_batch_keeps_the_last_label(db: Database, api: str) -> None:
    result = record_feedback(db, api, [("p001", 1), ("p001", 0), ("x", 1), ("x", 2)], known_ids=served, actor=ACTOR)
    assert result == FeedbackResult(accepted=1, updated=1, unknown_ids=["x"])
    assert read_feedback(db, api)["label"].tolist() == [0]


def test_known_ids_is_asked_once_with_distinct_ids(db: Database, api: str) -> None:
    asked: list[list[str]] = []

    def known(ids: Sequence[str]) -> set[str]:
        asked.append(list(ids))
        return set(ids)

    record_feedback(db, api, [("b", 1), ("a", 1), ("b", 0)], known_ids=known, actor=ACTOR)
    assert asked == [["b", "a"]]
    assert record_feedback(db, api, [], known_ids=known, actor=ACTOR) == FeedbackResult(0, 0, [])
    assert len(asked) == 1


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([("p001", 1), ("p002", math.nan)], "labels at positions 1 have a label that is not"),
        ([("p001", math.inf), ("p002", [1])], "labels at positions 0, 1 have a label"),
        ([("p001", None)], "positions 0 have a label"),
        ([("p001", {"a": 1})], "positions 0 have a label"),
        ([("p001", "x" * 1001)], "positions 0 have a label"),
        ([("p001", 1), ("", 1), ("x" * 33, 1), (7, 1)], "positions 1, 2, 3 have a prediction_id that is not 1 to 32"),
        ([("p001", 1), "p002"], "positions 1 are not (prediction_id, label) pairs"),
        ([("p001", 1, 2)], "positions 0 are not (prediction_id, label) pairs"),
    ],
)
def test_one_bad_label_refuses_the_whole_batch(db: Database, api: str, labels: list[Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        record_feedback(db, api, labels, known_ids=served, actor=ACTOR)
    assert message in caught.value.message
    assert "nothing was stored" in caught.value.message
    assert read_feedback(db, api).empty


@pytest.mark.parametrize("labels", ["p001", {"p001": 1}, None])
def test_labels_must_be_a_list_of_pairs(db: Database, api: str, labels: Any) -> None:
    with pytest.raises(InvalidInput, match="labels must be a list of"):
        record_feedback(db, api, labels, known_ids=served, actor=ACTOR)


def test_bad_positions_are_listed_but_values_never_shown(db: Database, api: str) -> None:
    labels = [(f"p{i:03d}", "secret-value" if i % 2 else math.nan) for i in range(50)]
    with pytest.raises(InvalidInput) as caught:
        record_feedback(db, api, labels, known_ids=served, actor=ACTOR)
    assert "positions 0, 2, 4" in caught.value.message and "and 5 more" in caught.value.message
    assert "secret" not in str(caught.value) and "nan" not in caught.value.message


def test_at_most_ten_thousand_labels_per_call(db: Database, api: str) -> None:
    everything = {f"q{i}" for i in range(MAX_LABELS + 1)}
    with pytest.raises(InvalidInput, match="at most 10,000"):
        record_feedback(db, api, [(i, 1) for i in everything], known_ids=set, actor=ACTOR)
    full = record_feedback(db, api, [(f"q{i}", i % 2) for i in range(MAX_LABELS)], known_ids=set, actor=ACTOR)
    assert full.accepted == MAX_LABELS and full.updated == 0
    again = record_feedback(db, api, [(f"q{i}", 1) for i in range(MAX_LABELS)], known_ids=set, actor=ACTOR)
    assert (again.accepted, again.updated) == (0, MAX_LABELS)
    assert len(read_feedback(db, api)) == MAX_LABELS


def test_a_failing_known_ids_stores_nothing(db: Database, api: str) -> None:
    def broken(ids: Sequence[str]) -> set[str]:
        raise RuntimeError("prediction logs unreadable")

    with pytest.raises(RuntimeError):
        record_feedback(db, api, [("p001", 1)], known_ids=broken, actor=ACTOR)
    assert read_feedback(db, api).empty


def test_feedback_for_a_missing_deployment(db: Database, api: str) -> None:
    with pytest.raises(NotFound, match="deployment 'ghost' does not exist"):
        record_feedback(db, "ghost", [("p001", 1)], known_ids=served, actor=ACTOR)
    with pytest.raises(NotFound, match="deployment 'ghost' does not exist and has no feedback"):
        read_feedback(db, "ghost")


def test_feedback_outlives_its_deployment(db: Database, api: str) -> None:
    record_feedback(db, api, [("p001", 1)], known_ids=served, actor=ACTOR)
    delete_deployment(db, api, actor=ACTOR)
    assert read_feedback(db, api)["prediction_id"].tolist() == ["p001"]


def test_read_a_time_window(db: Database, api: str) -> None:
    before = now_ms()
    record_feedback(db, api, [("p001", 1)], known_ids=served, actor=ACTOR)
    frame = read_feedback(db, api)
    stamp = int(frame["created_at"].iloc[0])
    assert stamp >= before
    assert len(read_feedback(db, api, since=stamp)) == 1
    assert read_feedback(db, api, since=stamp + 1).empty
    assert read_feedback(db, api, until=stamp).empty
    assert len(read_feedback(db, api, since=before, until=stamp + 1)) == 1
    empty = read_feedback(db, api, since=stamp + 1)
    assert list(empty.columns) == ["prediction_id", "label", "created_at"]
    assert isinstance(empty, pd.DataFrame)
