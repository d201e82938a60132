"""Schema and profile of a frame: the summary stored with each dataset version, so versions can
be inspected and compared without reading their data back.

Every value is plain JSON (no NaN, no infinity, no numpy scalars): profiles go into a JSON column
that PostgreSQL validates, and out through the REST API and ``--json``.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from mlpilot.data.hashing import canonical_strings

__all__ = [
    "HISTOGRAM_BINS",
    "QUANTILES",
    "TOP_K",
    "build_profile",
    "build_schema",
    "column_kind",
    "profile_column",
    "profile_number",
]

TOP_K = 10
HISTOGRAM_BINS = 10
QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
# Long text values would bloat every stored profile; the start is enough to recognize them.
_MAX_LABEL = 200


def build_schema(frame: pd.DataFrame) -> dict[str, Any]:
    """Column names in order, each with its pandas dtype and whether that dtype can hold nulls."""
    return {
        "fields": [
            {"name": str(name), "dtype": str(frame[name].dtype), "nullable": _nullable(frame[name].dtype)}
            for name in frame.columns
        ]
    }


def build_profile(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "rows": len(frame),
        "columns": len(frame.columns),
        "fields": {str(name): profile_column(frame[name]) for name in frame.columns},
    }


def column_kind(dtype: Any) -> str:
    """numeric | boolean | datetime | timedelta | categorical (text, categories, anything else)."""
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return "numeric"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timedelta"
    return "categorical"


def profile_column(series: pd.Series[Any]) -> dict[str, Any]:
    kind = column_kind(series.dtype)
    if kind == "numeric":
        stats = _numeric(series)
    elif kind in ("datetime", "timedelta"):
        stats = _temporal(series)
    else:
        stats = _categorical(series)
    return {"kind": kind, "dtype": str(series.dtype), **stats}


def _nullable(dtype: Any) -> bool:
    # NumPy integers and booleans have no missing value; every other dtype pandas uses has one.
    return not (isinstance(dtype, np.dtype) and dtype.kind in "biu")


def _numeric(series: pd.Series[Any]) -> dict[str, Any]:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    nulls = int(np.isnan(values).sum())
    finite = values[np.isfinite(values)]
    # Infinities count as values but stay out of the statistics, which would otherwise all be
    # infinite or NaN; the profile reports how many there were.
    stats: dict[str, Any] = {
        "count": len(values) - nulls,
        "nulls": nulls,
        "infinite": len(values) - nulls - len(finite),
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
        "quantiles": None,
        "histogram": None,
    }
    if len(finite) == 0:
        return stats
    integral = ptypes.is_integer_dtype(series.dtype)
    with np.errstate(all="ignore"):
        stats["min"] = profile_number(finite.min(), integral)
        stats["max"] = profile_number(finite.max(), integral)
        stats["mean"] = profile_number(finite.mean())
        stats["std"] = profile_number(finite.std(ddof=1)) if len(finite) > 1 else None
        points = np.quantile(finite, list(QUANTILES.values()))
        stats["quantiles"] = {name: profile_number(point) for name, point in zip(QUANTILES, points, strict=True)}
        stats["histogram"] = _histogram(finite)
    return stats


def _histogram(finite: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, list[Any]] | None:
    try:
        counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    except ValueError:
        # The span between min and max overflows a float (values near ±1.8e308).
        return None
    if not np.isfinite(edges).all():
        return None
    return {"edges": [float(edge) for edge in edges], "counts": [int(count) for count in counts]}


def profile_number(value: Any, integral: bool = False) -> float | int | None:
    """A statistic as the profile stores it: None for a missing or non-finite value, an int for a
    whole number of an integer column (below 2**53, where floats stop being exact)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    if integral and number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _temporal(series: pd.Series[Any]) -> dict[str, Any]:
    nulls = int(series.isna().sum())
    present = series.dropna()
    return {
        "count": len(series) - nulls,
        "nulls": nulls,
        "min": present.min().isoformat() if len(present) else None,
        "max": present.max().isoformat() if len(present) else None,
    }


def _categorical(series: pd.Series[Any]) -> dict[str, Any]:
    nulls, distinct, top = _arrow_counts(series) or _pandas_counts(series)
    return {
        "count": len(series) - nulls,
        "nulls": nulls,
        "distinct": distinct,
        "top": [{"value": _label(value), "count": count} for value, count in top],
    }


def _arrow_counts(series: pd.Series[Any]) -> tuple[int, int, list[tuple[object, int]]] | None:
    """Null count, distinct count and top values, counted by Arrow: several times faster than
    pandas on text. None for what Arrow cannot count or sort (mixed types, lists, structs)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return None  # pandas counts categories by their codes, which is faster still
    try:
        array = pa.array(series, from_pandas=True)
        counted = pc.value_counts(array.drop_null())
        values, counts = counted.field("values"), counted.field("counts")
        if len(counted) > TOP_K:
            # Keep every value as frequent as the k-th one, so ties are broken by value below.
            threshold = np.partition(counts.to_numpy(), -TOP_K)[-TOP_K]
            keep = pc.greater_equal(counts, pa.scalar(threshold, counts.type))
            values, counts = values.filter(keep), counts.filter(keep)
        table = pa.table({"value": values, "count": counts})
        order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("value", "ascending")])
        top = table.take(order[:TOP_K]).to_pylist()
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return array.null_count, len(counted), [(row["value"], int(row["count"])) for row in top]


def _pandas_counts(series: pd.Series[Any]) -> tuple[int, int, list[tuple[object, int]]]:
    present = series.dropna()
    try:
        counts = present.value_counts(sort=False)
    except TypeError:
        # Unhashable values such as lists: count their canonical text instead.
        counts = canonical_strings(present).value_counts(sort=False)
    numbers = counts.to_numpy(dtype=np.int64)
    labels = counts.index.to_numpy(dtype=object)
    used = numbers > 0  # a categorical dtype lists unused categories with a zero count
    numbers, labels = numbers[used], labels[used]
    if len(numbers) > TOP_K:
        threshold = np.partition(numbers, -TOP_K)[-TOP_K]
        keep = numbers >= threshold
        candidates = zip(labels[keep], numbers[keep], strict=True)
    else:
        candidates = zip(labels, numbers, strict=True)
    # Ties go to the smaller label, so the list does not depend on hash-table order (which
    # would show up as spurious diffs between versions).
    ranked = heapq.nsmallest(TOP_K, ((-int(count), _label(value)) for value, count in candidates))
    return len(series) - len(present), int(used.sum()), [(label, -negative) for negative, label in ranked]


def _label(value: object) -> str:
    text = str(value)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"
