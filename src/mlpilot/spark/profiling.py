"""The dataset profile of a Spark DataFrame, in the format ``mlpilot.data.profile`` gives pandas
frames, computed by Spark aggregations: nothing but the summaries reaches the driver.

Three kinds of pass: one aggregation for every column's counts, extremes, mean, standard
deviation and quantiles; one for the histograms of the numeric columns (their edges need the
extremes); one group-by per text or boolean column for its distinct count and most frequent
values. Quantiles come from Spark's ``percentile_approx``, whose rank error is at most
``QUANTILE_RELATIVE_ERROR`` of the row count; every other field is exact (up to floating-point
summation order). The profile says so under ``approximate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.data.profile import HISTOGRAM_BINS, QUANTILES, TOP_K, profile_number
from mlpilot.errors import InvalidInput
from mlpilot.spark.schema import pandas_dtype

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import StructField

__all__ = ["QUANTILE_ACCURACY", "QUANTILE_RELATIVE_ERROR", "build_schema", "profile"]

# Spark's percentile_approx: the relative rank error is 1 / accuracy.
QUANTILE_ACCURACY = 1_000
QUANTILE_RELATIVE_ERROR = 1 / QUANTILE_ACCURACY
_NUMERIC = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType", "DecimalType")
_INTEGRAL = ("ByteType", "ShortType", "IntegerType", "LongType")
_TEMPORAL = ("TimestampType", "TimestampNTZType", "DateType")
_MAX_LABEL = 200


def _kind(field: StructField) -> str:
    name = type(field.dataType).__name__
    if name in _NUMERIC:
        return "numeric"
    if name == "BooleanType":
        return "boolean"
    if name in _TEMPORAL:
        return "datetime"
    return "categorical"


def _dtype(field: StructField) -> str:
    # The dtype the column has once in pandas, ignoring that Arrow widens nullable integers.
    return pandas_dtype(field.dataType, nullable=False)


def build_schema(df: DataFrame) -> dict[str, Any]:
    """Column names in order, each with the pandas dtype it maps to and Spark's nullability."""
    return {"fields": [{"name": f.name, "dtype": _dtype(f), "nullable": bool(f.nullable)} for f in df.schema.fields]}


def profile(df: DataFrame) -> dict[str, Any]:
    """The profile of ``df``: the same fields as ``mlpilot.data.profile.build_profile``."""
    from pyspark.sql import DataFrame

    if not isinstance(df, DataFrame):
        raise InvalidInput(f"mlpilot.spark.profile takes a Spark DataFrame, not {type(df).__name__}")
    names = df.columns
    if len(set(names)) != len(names):
        raise InvalidInput("the frame names a column more than once", hint="Rename the duplicates first.")
    fields = list(df.schema.fields)
    summary = _summaries(df, fields)
    numeric = [f for f in fields if _kind(f) == "numeric"]
    histograms = _histograms(df, numeric, summary)
    rows = int(summary["__rows"])
    columns: dict[str, Any] = {}
    for position, field in enumerate(fields):
        kind = _kind(field)
        key = f"c{position}"
        if kind == "numeric":
            stats = _numeric_stats(field, key, summary, histograms.get(field.name))
        elif kind == "datetime":
            stats = _temporal_stats(key, summary, rows)
        else:
            stats = _categorical_stats(df, field, rows, int(summary[f"{key}_nulls"]))
        columns[field.name] = {"kind": kind, "dtype": _dtype(field), **stats}
    return {
        "rows": rows,
        "columns": len(fields),
        "fields": columns,
        "approximate": {"quantiles": {"method": "spark percentile_approx", "relative_error": QUANTILE_RELATIVE_ERROR}},
    }


def _col(field: StructField) -> Column:
    from pyspark.sql import functions as sf

    return sf.col(f"`{field.name}`")


def _finite(field: StructField) -> Column:
    from pyspark.sql import functions as sf

    value = _col(field).cast("double")
    keep = value.isNotNull() & ~sf.isnan(value) & (sf.abs(value) != float("inf"))
    return sf.when(keep, value)


def _summaries(df: DataFrame, fields: list[StructField]) -> dict[str, Any]:
    from pyspark.sql import functions as sf

    # One projection computes each column's finite value and flags once; the aggregates then read
    # plain columns instead of re-evaluating the casts and tests in every aggregate.
    projected: list[Column] = []
    aggregates: list[Column] = [sf.count(sf.lit(1)).alias("__rows")]
    points = list(QUANTILES.values())
    for position, field in enumerate(fields):
        key, kind, column = f"c{position}", _kind(field), _col(field)
        if kind == "numeric":
            as_double = column.cast("double")
            projected += [
                (as_double.isNull() | sf.isnan(as_double)).alias(f"{key}_m"),
                _finite(field).alias(f"{key}_f"),
            ]
            finite = sf.col(f"{key}_f")
            aggregates += [
                sf.count(sf.when(sf.col(f"{key}_m"), 1)).alias(f"{key}_nulls"),
                sf.count(finite).alias(f"{key}_finite"),
                sf.min(finite).alias(f"{key}_min"),
                sf.max(finite).alias(f"{key}_max"),
                sf.avg(finite).alias(f"{key}_mean"),
                sf.stddev_samp(finite).alias(f"{key}_std"),
                sf.percentile_approx(finite, points, QUANTILE_ACCURACY).alias(f"{key}_quantiles"),
            ]
        else:
            projected.append(column.isNull().alias(f"{key}_m"))
            aggregates.append(sf.count(sf.when(sf.col(f"{key}_m"), 1)).alias(f"{key}_nulls"))
            if kind == "datetime":
                projected.append(column.alias(f"{key}_v"))
                aggregates += [sf.min(f"{key}_v").alias(f"{key}_min"), sf.max(f"{key}_v").alias(f"{key}_max")]
    source = df.select(*projected) if projected else df
    row = source.agg(*aggregates).collect()[0]
    return row.asDict()


def _edges(low: float, high: float) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """np.histogram's edges for these extremes (its rule for a constant column included)."""
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    return edges if np.isfinite(edges).all() else None


def _histograms(df: DataFrame, numeric: list[StructField], summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from pyspark.sql import functions as sf

    positions = {field.name: position for position, field in enumerate(df.schema.fields)}
    planned: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    for field in numeric:
        key = f"c{positions[field.name]}"
        if not summary[f"{key}_finite"]:
            continue
        edges = _edges(float(summary[f"{key}_min"]), float(summary[f"{key}_max"]))
        if edges is not None:
            planned[field.name] = edges
    if not planned:
        return {}
    keys = {name: f"c{positions[name]}" for name in planned}
    fields = {field.name: field for field in numeric}
    # Three projections, each reading the previous one's columns, so Spark evaluates the finite
    # value and the first guess of the bin once per row instead of once per use.
    values = df.select(*[_finite(fields[name]).alias(f"{keys[name]}_v") for name in planned])
    guessed = values.select(
        *[sf.col(f"{keys[name]}_v") for name in planned],
        *[_first_bin(sf.col(f"{keys[name]}_v"), edges).alias(f"{keys[name]}_g") for name, edges in planned.items()],
    )
    binned = guessed.select(
        *[
            _corrected_bin(sf.col(f"{keys[name]}_v"), sf.col(f"{keys[name]}_g"), edges).alias(f"{keys[name]}_b")
            for name, edges in planned.items()
        ]
    )
    aggregates = [
        sf.count(sf.when(sf.col(f"{keys[name]}_b") == number, 1)).alias(f"{keys[name]}_h{number}")
        for name in planned
        for number in range(HISTOGRAM_BINS)
    ]
    row = binned.agg(*aggregates).collect()[0].asDict()
    result = {}
    for name, edges in planned.items():
        counts = [int(row[f"{keys[name]}_h{number}"] or 0) for number in range(HISTOGRAM_BINS)]
        result[name] = {"edges": [float(edge) for edge in edges], "counts": counts}
    return result


def _first_bin(value: Column, edges: np.ndarray[Any, np.dtype[np.float64]]) -> Column:
    """np.histogram's first guess for equal bins: the value's position scaled into the range."""
    from pyspark.sql import functions as sf

    low, high, count = float(edges[0]), float(edges[-1]), len(edges) - 1
    scaled = sf.floor((value - sf.lit(low)) * sf.lit(count / (high - low))).cast("int")
    return sf.least(sf.greatest(scaled, sf.lit(0)), sf.lit(count - 1))


def _corrected_bin(value: Column, first: Column, edges: np.ndarray[Any, np.dtype[np.float64]]) -> Column:
    """The guess corrected against the actual edges, as numpy does, so a value on an edge lands
    in numpy's bin; null for nulls and infinities, which no bin counts."""
    from pyspark.sql import functions as sf

    last = len(edges) - 2
    corrected = (
        sf.when(value < _edge_at(first, edges, 0), first - 1)
        .when((value >= _edge_at(first, edges, 1)) & (first != sf.lit(last)), first + 1)
        .otherwise(first)
    )
    return sf.when(value.isNotNull(), corrected)


def _edge_at(index: Column, edges: np.ndarray[Any, np.dtype[np.float64]], offset: int) -> Column:
    # A CASE over the bin number: element_at on an array literal builds the array for every row.
    from pyspark.sql import functions as sf

    chosen = sf.when(index == 0, sf.lit(float(edges[offset])))
    for number in range(1, len(edges) - 1):
        chosen = chosen.when(index == number, sf.lit(float(edges[number + offset])))
    return chosen


def _numeric_stats(
    field: StructField, key: str, summary: dict[str, Any], histogram: dict[str, Any] | None
) -> dict[str, Any]:
    rows, nulls, finite = int(summary["__rows"]), int(summary[f"{key}_nulls"]), int(summary[f"{key}_finite"])
    integral = type(field.dataType).__name__ in _INTEGRAL
    stats: dict[str, Any] = {
        "count": rows - nulls,
        "nulls": nulls,
        "infinite": rows - nulls - finite,
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
        "quantiles": None,
        "histogram": None,
    }
    if finite == 0:
        return stats
    points = summary[f"{key}_quantiles"] or []
    stats.update(
        min=profile_number(summary[f"{key}_min"], integral),
        max=profile_number(summary[f"{key}_max"], integral),
        mean=profile_number(summary[f"{key}_mean"]),
        std=profile_number(summary[f"{key}_std"]) if finite > 1 else None,
        quantiles={name: profile_number(point) for name, point in zip(QUANTILES, points, strict=True)},
        histogram=histogram,
    )
    return stats


def _temporal_stats(key: str, summary: dict[str, Any], rows: int) -> dict[str, Any]:
    nulls = int(summary[f"{key}_nulls"])
    low, high = summary[f"{key}_min"], summary[f"{key}_max"]
    return {
        "count": rows - nulls,
        "nulls": nulls,
        "min": None if low is None else low.isoformat(),
        "max": None if high is None else high.isoformat(),
    }


def _label(value: object) -> str:
    text = str(value)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def _categorical_stats(df: DataFrame, field: StructField, rows: int, nulls: int) -> dict[str, Any]:
    from pyspark.sql import functions as sf

    column, present = _col(field), rows - nulls
    groups = df.where(column.isNotNull()).groupBy(column.alias("value")).agg(sf.count(sf.lit(1)).alias("n"))
    distinct = groups.count() if present else 0
    # Ties go to the smaller value, as in the pandas profile, so the list is stable between runs.
    top = groups.orderBy(sf.col("n").desc(), sf.col("value").asc()).limit(TOP_K).collect() if present else []
    return {
        "count": present,
        "nulls": nulls,
        "distinct": int(distinct),
        "top": [{"value": _label(row["value"]), "count": int(row["n"])} for row in top],
    }
