"""The reference side of a drift test, fitted once: per column what every test needs, so a
window is compared without reading the training data again.

Numerical columns keep their sorted finite values (all of them for an in-memory comparison, a
uniform sample for a stored profile), the mean and population standard deviation, decile bin
edges with open outer bins, the count per bin, and, when the column holds few distinct values,
the count per value. Categorical columns keep the count per category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlpilot.data.hashing import canonical_strings
from mlpilot.data.profile import column_kind
from mlpilot.monitoring.statistics import Counts, Floats

__all__ = [
    "DISCRETE_LEVELS",
    "MAX_CATEGORIES",
    "OTHER",
    "QUANTILE_BINS",
    "CategoricalReference",
    "ColumnReference",
    "NumericReference",
    "bin_counts",
    "category_counts",
    "fit_column",
    "level_counts",
]

QUANTILE_BINS = 10
# A numerical column with at most this many distinct reference values is binned by value (as
# Evidently does), not by quantile: deciles of a 0/1 column would be one degenerate edge.
DISCRETE_LEVELS = 20
# Beyond this many categories the rarest are pooled, so a column of identifiers cannot blow up a
# stored profile; such a column gets no meaningful drift verdict anyway.
MAX_CATEGORIES = 1000
OTHER = "__other__"


@dataclass(frozen=True, slots=True)
class NumericReference:
    family: str  # what the values are, as data.profile.column_kind names it (numeric, boolean, …)
    count: int
    nulls: int
    mean: float | None
    std: float | None
    distinct: int
    values: Floats  # sorted; fewer than ``count`` when they are a sample
    edges: tuple[float, ...]
    bins: tuple[int, ...]
    levels: tuple[float, ...] | None
    level_counts: tuple[int, ...] | None

    kind = "numerical"

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON; the values themselves travel separately (as a sample)."""
        return {
            "kind": self.kind,
            "family": self.family,
            "count": self.count,
            "nulls": self.nulls,
            "mean": self.mean,
            "std": self.std,
            "distinct": self.distinct,
            "edges": list(self.edges),
            "bins": list(self.bins),
            "levels": None if self.levels is None else list(self.levels),
            "level_counts": None if self.level_counts is None else list(self.level_counts),
        }


@dataclass(frozen=True, slots=True)
class CategoricalReference:
    family: str
    count: int
    nulls: int
    counts: Mapping[str, int]
    truncated: bool

    kind = "categorical"

    @property
    def distinct(self) -> int:
        return len(self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "family": self.family,
            "count": self.count,
            "nulls": self.nulls,
            "counts": dict(self.counts),
            "truncated": self.truncated,
        }


ColumnReference = NumericReference | CategoricalReference


def finite_sorted(series: pd.Series[Any]) -> tuple[Floats, int, int]:
    """Sorted finite values, the count of nulls and the count of infinities."""
    raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite_mask = np.isfinite(raw)
    values = raw[finite_mask]  # a copy, so sorting it in place leaves the caller's frame alone
    values.sort()
    nulls = int(np.isnan(raw).sum())
    return values, nulls, len(raw) - nulls - len(values)


def _distinct_sorted(values: Floats) -> Floats:
    if len(values) == 0:
        return values
    distinct: Floats = values[np.append(True, values[1:] != values[:-1])]
    return distinct


def bin_counts(values: Floats, edges: tuple[float, ...]) -> Counts:
    """Counts of sorted values in the bins (-inf, e1), [e1, e2), …, [ek, +inf)."""
    cuts = np.searchsorted(values, np.asarray(edges, dtype=np.float64), side="left")
    return np.diff(np.concatenate(([0], cuts, [len(values)]))).astype(np.int64)


def level_counts(values: Floats, levels: Floats) -> Counts:
    """Counts of sorted values equal to each of the sorted levels."""
    left = np.searchsorted(values, levels, side="left")
    right = np.searchsorted(values, levels, side="right")
    return (right - left).astype(np.int64)


def _sorted_quantiles(values: Floats) -> Floats:
    """The inner decile cut points of sorted values, as np.quantile's default (linear) gives them,
    without the partial sort np.quantile would do again."""
    positions = (len(values) - 1) * np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1]
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, len(values) - 1)
    fraction = positions - below
    cut: Floats = values[below] + (values[above] - values[below]) * fraction
    return cut


def fit_numeric(series: pd.Series[Any], *, sample: pd.Series[Any] | None = None) -> NumericReference:
    """Summaries from every value; the values kept for KS and Wasserstein are those of ``sample``
    (rows drawn by the caller) when one is given."""
    values, nulls, _infinite = finite_sorted(series)
    count = len(values)
    distinct = int(np.count_nonzero(values[1:] != values[:-1])) + 1 if count else 0
    discrete = distinct <= DISCRETE_LEVELS
    distinct_values = _distinct_sorted(values) if discrete else values[:0]
    edges = tuple(float(edge) for edge in np.unique(_sorted_quantiles(values))) if count else ()
    kept = finite_sorted(sample)[0] if sample is not None and len(sample) < len(series) else values
    return NumericReference(
        family=column_kind(series.dtype),
        count=count,
        nulls=nulls,
        mean=float(values.mean()) if count else None,
        std=float(values.std()) if count else None,
        distinct=distinct,
        values=kept,
        edges=edges,
        bins=tuple(int(c) for c in bin_counts(values, edges)) if count else (),
        levels=tuple(float(v) for v in distinct_values) if discrete else None,
        level_counts=tuple(int(c) for c in level_counts(values, distinct_values)) if discrete else None,
    )


def category_counts(series: pd.Series[Any]) -> tuple[dict[str, int], int]:
    """Count per category (as text, so profiles are JSON and compare across dtypes) and nulls."""
    try:
        counted = series.value_counts(dropna=True, sort=False)
    except TypeError:
        # Unhashable values (lists, dicts): counted by their canonical JSON text instead.
        counted = canonical_strings(series).value_counts(dropna=True, sort=False)
    counted = counted[counted > 0]  # a categorical dtype lists unused categories with a zero count
    labels = counted.index.map(_label)
    result: dict[str, int] = {}
    for label, number in zip(labels, counted.to_numpy(dtype=np.int64), strict=True):
        result[label] = result.get(label, 0) + int(number)
    # Nulls are what value_counts left out: isna() on a text column would cost another full pass.
    return result, len(series) - sum(result.values())


def _label(value: object) -> str:
    # 1 and 1.0 are one category: an integer column read back as floats must not look new.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fit_categorical(series: pd.Series[Any]) -> CategoricalReference:
    counts, nulls = category_counts(series)
    truncated = len(counts) > MAX_CATEGORIES
    if truncated:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = dict(ranked[: MAX_CATEGORIES - 1])
        kept[OTHER] = sum(number for _, number in ranked[MAX_CATEGORIES - 1 :])
        counts = kept
    return CategoricalReference(
        family=column_kind(series.dtype),
        count=sum(counts.values()),
        nulls=nulls,
        counts=counts,
        truncated=truncated,
    )


def fit_column(series: pd.Series[Any], kind: str, *, sample: pd.Series[Any] | None = None) -> ColumnReference:
    if kind == "numerical":
        return fit_numeric(series, sample=sample)
    return fit_categorical(series)


def numeric_from_dict(data: Mapping[str, Any], values: Floats) -> NumericReference:
    levels, level_numbers = data.get("levels"), data.get("level_counts")
    return NumericReference(
        family=str(data["family"]),
        count=int(data["count"]),
        nulls=int(data["nulls"]),
        mean=data.get("mean"),
        std=data.get("std"),
        distinct=int(data["distinct"]),
        values=np.sort(np.asarray(values, dtype=np.float64)),
        edges=tuple(float(edge) for edge in data.get("edges", ())),
        bins=tuple(int(count) for count in data.get("bins", ())),
        levels=None if levels is None else tuple(float(level) for level in levels),
        level_counts=None if level_numbers is None else tuple(int(count) for count in level_numbers),
    )


def categorical_from_dict(data: Mapping[str, Any]) -> CategoricalReference:
    return CategoricalReference(
        family=str(data["family"]),
        count=int(data["count"]),
        nulls=int(data["nulls"]),
        counts={str(key): int(value) for key, value in data["counts"].items()},
        truncated=bool(data.get("truncated", False)),
    )
