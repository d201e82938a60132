"""Profiles and schemas: the right numbers, deterministic order, and nothing JSON cannot hold."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlpilot.data.frames import read_frame
from mlpilot.data.profile import HISTOGRAM_BINS, TOP_K, build_profile, build_schema, profile_column
from tests.data.factories import every_kind_frame


def strict_json(value: object) -> str:
    return json.dumps(value, allow_nan=False)


def test_numeric_column_statistics_match_numpy() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(10, 3, 1000)
    column = profile_column(pd.Series(values))
    assert column["kind"] == "numeric"
    assert (column["count"], column["nulls"], column["infinite"]) == (1000, 0, 0)
    assert column["min"] == pytest.approx(values.min())
    assert column["max"] == pytest.approx(values.max())
    assert column["mean"] == pytest.approx(values.mean())
    assert column["std"] == pytest.approx(values.std(ddof=1))
    assert list(column["quantiles"]) == ["p5", "p25", "p50", "p75", "p95"]
    assert column["quantiles"]["p50"] == pytest.approx(np.median(values))
    assert column["quantiles"]["p95"] == pytest.approx(np.quantile(values, 0.95))
    histogram = column["histogram"]
    assert len(histogram["edges"]) == HISTOGRAM_BINS + 1
    assert len(histogram["counts"]) == HISTOGRAM_BINS
    assert sum(histogram["counts"]) == 1000
    assert histogram["edges"][0] == pytest.approx(values.min())
    assert histogram["edges"][-1] == pytest.approx(values.max())


def test_integer_columns_keep_integer_bounds() -> None:
    column = profile_column(pd.Series([3, 1, 2], dtype="int64"))
    assert column["min"] == 1
    assert isinstance(column["min"], int)
    assert isinstance(column["max"], int)
    nullable = profile_column(pd.Series([5, None, 7], dtype="Int64"))
    assert (nullable["kind"], nullable["count"], nullable["nulls"], nullable["min"], nullable["max"]) == (
        "numeric",
        2,
        1,
        5,
        7,
    )


def test_nan_is_null_and_infinities_are_counted_but_left_out_of_statistics() -> None:
    column = profile_column(pd.Series([1.0, 3.0, np.nan, np.inf, -np.inf]))
    assert (column["count"], column["nulls"], column["infinite"]) == (4, 1, 2)
    assert (column["min"], column["max"], column["mean"]) == (1.0, 3.0, 2.0)
    assert sum(column["histogram"]["counts"]) == 2
    strict_json(column)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([np.nan, np.nan], id="all-nan"),
        pytest.param([np.inf, -np.inf], id="all-infinite"),
        pytest.param([], id="empty"),
    ],
)
def test_numeric_column_without_finite_values_has_no_statistics(values: list[float]) -> None:
    column = profile_column(pd.Series(values, dtype="float64"))
    assert column["count"] + column["nulls"] == len(values)
    for stat in ("min", "max", "mean", "std", "quantiles", "histogram"):
        assert column[stat] is None
    strict_json(column)


def test_single_value_has_no_std_and_a_histogram_around_it() -> None:
    column = profile_column(pd.Series([4.0]))
    assert column["std"] is None
    assert column["mean"] == 4.0
    assert sum(column["histogram"]["counts"]) == 1


def test_extreme_floats_stay_json_safe() -> None:
    column = profile_column(pd.Series([-1.7e308, 1.7e308]))
    assert column["min"] == -1.7e308
    assert column["histogram"] is None  # the span overflows a float, so no bins
    strict_json(column)


def test_text_column_top_values_sorted_by_count_then_value() -> None:
    series = pd.Series(["b", "a", "c", "a", "b", None, "d"])
    column = profile_column(series)
    assert column["kind"] == "categorical"
    assert (column["count"], column["nulls"], column["distinct"]) == (6, 1, 4)
    assert column["top"] == [
        {"value": "a", "count": 2},
        {"value": "b", "count": 2},
        {"value": "c", "count": 1},
        {"value": "d", "count": 1},
    ]


def test_top_is_limited_and_ties_break_by_value_deterministically() -> None:
    labels = [f"v{index:03d}" for index in range(50)]
    forward = profile_column(pd.Series([*labels, "v049"]))
    backward = profile_column(pd.Series([*reversed(labels), "v049"]))
    assert len(forward["top"]) == TOP_K
    assert forward["distinct"] == 50
    assert forward["top"] == backward["top"]
    assert forward["top"][0] == {"value": "v049", "count": 2}
    assert [item["value"] for item in forward["top"][1:]] == labels[: TOP_K - 1]


def test_category_dtype_ignores_unused_categories() -> None:
    series = pd.Series(pd.Categorical(["x", "y", "x", None], categories=["x", "y", "z"]))
    column = profile_column(series)
    assert (column["kind"], column["count"], column["nulls"], column["distinct"]) == ("categorical", 3, 1, 2)
    assert column["top"] == [{"value": "x", "count": 2}, {"value": "y", "count": 1}]


def test_booleans_are_categories_not_numbers() -> None:
    column = profile_column(pd.Series([True, False, True]))
    assert column["kind"] == "boolean"
    assert column["top"] == [{"value": "True", "count": 2}, {"value": "False", "count": 1}]
    nullable = profile_column(pd.Series([True, None], dtype="boolean"))
    assert (nullable["kind"], nullable["nulls"], nullable["distinct"]) == ("boolean", 1, 1)


def test_unhashable_and_mixed_values_are_counted_as_text() -> None:
    lists = profile_column(pd.Series([[1, 2], [1, 2], [3]]))
    assert lists["top"] == [{"value": "[1, 2]", "count": 2}, {"value": "[3]", "count": 1}]
    mixed = profile_column(pd.Series([1, "1", "a", "a"]))
    assert mixed["distinct"] == 3
    assert mixed["top"][0] == {"value": "a", "count": 2}


def test_long_values_are_truncated_in_the_profile() -> None:
    column = profile_column(pd.Series(["x" * 1000]))
    assert len(column["top"][0]["value"]) == 200
    assert column["top"][0]["value"].endswith("…")


def test_datetimes_and_durations_report_iso_bounds() -> None:
    stamps = pd.to_datetime(pd.Series(["2024-03-01", None, "2024-01-01"])).dt.tz_localize("UTC")
    column = profile_column(stamps)
    assert column == {
        "kind": "datetime",
        "dtype": "datetime64[ns, UTC]",
        "count": 2,
        "nulls": 1,
        "min": "2024-01-01T00:00:00+00:00",
        "max": "2024-03-01T00:00:00+00:00",
    }
    durations = profile_column(pd.Series(pd.to_timedelta([90, 30], unit="s")))
    assert (durations["kind"], durations["min"], durations["max"]) == ("timedelta", "P0DT0H0M30S", "P0DT0H1M30S")


def test_profile_and_schema_of_every_kind_are_strict_json() -> None:
    frame = read_frame(every_kind_frame()).frame
    profile = build_profile(frame)
    schema = build_schema(frame)
    strict_json(profile)
    strict_json(schema)
    assert (profile["rows"], profile["columns"]) == (3, len(frame.columns))
    assert list(profile["fields"]) == list(frame.columns)
    kinds = {name: field["kind"] for name, field in profile["fields"].items()}
    assert kinds["nullable_int"] == "numeric"
    assert kinds["nullable_bool"] == "boolean"
    assert kinds["datetime_tz"] == "datetime"
    assert kinds["duration"] == "timedelta"
    assert kinds["lists"] == kinds["structs"] == kinds["string"] == "categorical"


def test_schema_lists_columns_in_order_with_dtype_and_nullability() -> None:
    frame = pd.DataFrame(
        {
            "i": [1],
            "f": [1.0],
            "b": [True],
            "s": ["x"],
            "n": pd.array([1], dtype="Int64"),
            "t": pd.to_datetime(["2024-01-01"]),
        }
    )
    assert build_schema(frame) == {
        "fields": [
            {"name": "i", "dtype": "int64", "nullable": False},
            {"name": "f", "dtype": "float64", "nullable": True},
            {"name": "b", "dtype": "bool", "nullable": False},
            {"name": "s", "dtype": "object", "nullable": True},
            {"name": "n", "dtype": "Int64", "nullable": True},
            {"name": "t", "dtype": "datetime64[ns]", "nullable": True},
        ]
    }


def test_empty_frame_profile() -> None:
    frame = pd.DataFrame({"a": pd.Series([], dtype="float64"), "b": pd.Series([], dtype=object)})
    profile = build_profile(frame)
    assert profile["rows"] == 0
    assert profile["fields"]["a"]["count"] == 0
    assert profile["fields"]["b"] == {
        "kind": "categorical",
        "dtype": "object",
        "count": 0,
        "nulls": 0,
        "distinct": 0,
        "top": [],
    }
    strict_json(profile)
