"""Diffs between dataset versions: schema changes, numeric shifts and category movements."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlpilot.artifacts import ContentStore
from mlpilot.data import DatasetVersion
from mlpilot.data.diff import compare_versions
from mlpilot.data.frames import read_frame
from mlpilot.data.profile import build_profile, build_schema
from mlpilot.data.versions import diff_versions, log_dataset
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database


def version_of(data: pd.DataFrame, number: int = 1) -> DatasetVersion:
    """A version record built in memory, for diffs that need no store."""
    frame = read_frame(data).frame
    return DatasetVersion(
        id=number,
        dataset="d",
        version=number,
        content_hash=f"{number:064x}",
        rows=len(frame),
        schema=build_schema(frame),
        profile=build_profile(frame),
        storage_sha256="0" * 64,
        size=0,
        source=None,
        created_at=0,
    )


@pytest.fixture
def before() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "income": [10.0, 20.0, 30.0, 40.0],
            "plan": ["basic", "basic", "pro", "pro"],
            "legacy": ["x", "y", "z", "w"],
        }
    )


def test_diff_reports_rows_columns_dtypes_stats_and_categories(
    sqlite_db: Database, content: ContentStore, before: pd.DataFrame
) -> None:
    after = pd.DataFrame(
        {
            "id": [1.0, 2.0, 3.0, 4.0, 5.0],  # int -> float
            "income": [10.0, 20.0, 30.0, np.nan, 90.0],
            "plan": ["basic", "enterprise", "enterprise", "pro", None],
            "region": ["eu", "eu", "us", "us", "us"],
        }
    )
    log_dataset(sqlite_db, content, before, "churn")
    log_dataset(sqlite_db, content, after, "churn")
    diff = diff_versions(sqlite_db, "churn:1", "churn:2")
    assert (diff.before, diff.after, diff.same_content) == ("churn:1", "churn:2", False)
    assert (diff.rows_before, diff.rows_after) == (4, 5)
    assert diff.columns_added == ("region",)
    assert diff.columns_removed == ("legacy",)
    assert [(c.column, c.before, c.after) for c in diff.dtype_changes] == [("id", "int64", "float64")]
    assert diff.schema_changed
    income = {change.stat: change for change in diff.numeric_changes if change.column == "income"}
    assert set(income) == {"mean", "std", "max", "null_share"}  # the minimum stayed 10
    assert (income["mean"].before, income["mean"].after) == (25.0, 37.5)
    assert income["mean"].delta == 12.5
    assert (income["max"].before, income["max"].after) == (40.0, 90.0)
    assert (income["null_share"].before, income["null_share"].after) == (0.0, 0.2)
    assert {change.column for change in diff.numeric_changes} == {"id", "income"}
    [plan] = diff.category_changes
    assert plan.column == "plan"
    assert (plan.distinct_before, plan.distinct_after) == (2, 3)
    assert (plan.null_share_before, plan.null_share_after) == (0.0, 0.2)
    assert plan.new_values == ("enterprise",)
    assert plan.missing_values == ()
    as_json = json.loads(json.dumps(diff.to_dict(), allow_nan=False))
    assert as_json["columns_added"] == ["region"]
    assert as_json["schema_changed"] is True


def test_diff_of_a_version_with_itself_is_empty(
    sqlite_db: Database, content: ContentStore, before: pd.DataFrame
) -> None:
    log_dataset(sqlite_db, content, before, "churn")
    diff = diff_versions(sqlite_db, "churn:1", "churn@latest")
    assert diff.same_content
    assert not diff.schema_changed
    assert diff.numeric_changes == ()
    assert diff.category_changes == ()


def test_diff_between_datasets_and_with_latest(
    sqlite_db: Database, content: ContentStore, before: pd.DataFrame
) -> None:
    log_dataset(sqlite_db, content, before, "train")
    log_dataset(sqlite_db, content, before.iloc[:2], "test")
    diff = diff_versions(sqlite_db, "train", "test:1")
    assert (diff.before, diff.after) == ("train:1", "test:1")
    assert (diff.rows_before, diff.rows_after) == (4, 2)
    [plan, legacy] = diff.category_changes
    assert plan.missing_values == ("pro",)
    assert legacy.distinct_after == 2


def test_diff_of_unknown_or_malformed_references(
    sqlite_db: Database, content: ContentStore, before: pd.DataFrame
) -> None:
    log_dataset(sqlite_db, content, before, "churn")
    with pytest.raises(NotFound, match="no version 2"):
        diff_versions(sqlite_db, "churn:1", "churn:2")
    with pytest.raises(NotFound, match="'other'"):
        diff_versions(sqlite_db, "other", "churn")
    with pytest.raises(InvalidInput):
        diff_versions(sqlite_db, "churn:one", "churn")


def test_kind_change_is_a_dtype_change_only() -> None:
    old = version_of(pd.DataFrame({"v": [1, 2, 3]}))
    new = version_of(pd.DataFrame({"v": ["1", "2", "3"]}), 2)
    diff = compare_versions(old, new)
    assert [(c.before, c.after) for c in diff.dtype_changes] == [("int64", "object")]
    assert diff.numeric_changes == ()
    assert diff.category_changes == ()


def test_columns_without_statistics_diff_to_none_deltas() -> None:
    old = version_of(pd.DataFrame({"v": [np.nan, np.nan]}))
    new = version_of(pd.DataFrame({"v": [1.0, np.nan]}), 2)
    changes = {change.stat: change for change in compare_versions(old, new).numeric_changes}
    assert changes["mean"].before is None
    assert changes["mean"].after == 1.0
    assert changes["mean"].delta is None
    assert changes["null_share"].to_dict() == {
        "column": "v",
        "stat": "null_share",
        "before": 1.0,
        "after": 0.5,
        "delta": -0.5,
    }


def test_empty_versions_diff_without_division_by_zero() -> None:
    empty = pd.DataFrame({"v": pd.Series([], dtype="float64"), "s": pd.Series([], dtype=object)})
    diff = compare_versions(version_of(empty), version_of(empty, 2))
    assert diff.numeric_changes == ()
    assert diff.category_changes == ()
    json.dumps(diff.to_dict(), allow_nan=False)
