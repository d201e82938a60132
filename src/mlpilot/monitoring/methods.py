"""The drift methods by name, what each applies to, how it decides, and the default choice.

A method is either a test with a p-value (drift when p < threshold, 0.05 by default) or a distance
(drift when the distance is at or above the threshold, 0.1 by default). The default choice
follows Evidently's conventions, so verdicts agree with what users of Evidently expect:

    reference rows        ≤ 1000                          > 1000
    numerical, > 5 values KS                              Wasserstein (normed by the reference std)
    numerical, 3 to 5     chi-square                      Jensen-Shannon
    numerical, ≤ 2 values z-test                          Jensen-Shannon
    categorical, > 2      chi-square                      Jensen-Shannon
    categorical, ≤ 2      z-test                          Jensen-Shannon

Binned methods (chi-square, z, Jensen-Shannon, PSI, Hellinger) compare counts over the reference's
bins: one per value for categories and for numerical columns with at most 20 distinct reference
values (current values the reference never had share an extra bin), otherwise the reference
deciles with open outer bins. That is where they differ from Evidently, which bins numerical
columns on equal-width Sturges bins over both samples and so moves its bins with every window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from mlpilot.errors import InvalidInput
from mlpilot.monitoring import statistics
from mlpilot.monitoring.reference import (
    OTHER,
    CategoricalReference,
    ColumnReference,
    NumericReference,
    bin_counts,
    level_counts,
)
from mlpilot.monitoring.statistics import Counts, Floats

__all__ = [
    "METHODS",
    "CategoricalCurrent",
    "Current",
    "Method",
    "NumericCurrent",
    "default_method",
    "get_method",
]

# Evidently's cut-offs: above this many reference rows p-values flag negligible differences, so
# the default switches to distances; at most this many distinct values count as a few.
SMALL_REFERENCE_ROWS = 1000
FEW_VALUES = 5


@dataclass(frozen=True, slots=True)
class NumericCurrent:
    values: Floats  # sorted, finite
    nulls: int

    @property
    def count(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class CategoricalCurrent:
    counts: Mapping[str, int]
    nulls: int

    @property
    def count(self) -> int:
        return sum(self.counts.values())


Current = NumericCurrent | CategoricalCurrent
Score = tuple[float, float | None]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    test: str  # "p_value" | "distance"
    default_threshold: float
    kinds: frozenset[str]
    score: Callable[[ColumnReference, Current], Score]
    description: str

    def drifted(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        if self.test == "p_value":
            return p_value is not None and p_value < threshold
        return statistic >= threshold


def aligned_counts(reference: ColumnReference, current: Current) -> tuple[Counts, Counts]:
    """Counts of both sides over the same bins, in a stable order."""
    if isinstance(reference, NumericReference) and isinstance(current, NumericCurrent):
        if reference.levels is not None and reference.level_counts is not None:
            levels = np.asarray(reference.levels, dtype=np.float64)
            on_levels = level_counts(current.values, levels)
            unseen = current.count - int(on_levels.sum())
            ref_counts = np.append(np.asarray(reference.level_counts, dtype=np.int64), 0)
            return ref_counts, np.append(on_levels, unseen)
        return np.asarray(reference.bins, dtype=np.int64), bin_counts(current.values, reference.edges)
    if isinstance(reference, CategoricalReference) and isinstance(current, CategoricalCurrent):
        merged: dict[str, int] = {}
        for label, number in current.counts.items():
            key = label if (label in reference.counts or not reference.truncated) else OTHER
            merged[key] = merged.get(key, 0) + number
        labels = sorted(set(reference.counts) | set(merged))
        return (
            np.array([reference.counts.get(label, 0) for label in labels], dtype=np.int64),
            np.array([merged.get(label, 0) for label in labels], dtype=np.int64),
        )
    raise TypeError("reference and current columns are of different kinds")


def union_distinct(reference: ColumnReference, current: Current) -> int:
    """Distinct values over both sides, counted only as far as the default choice needs."""
    if isinstance(reference, NumericReference) and isinstance(current, NumericCurrent):
        if reference.levels is None or reference.distinct > FEW_VALUES:
            return reference.distinct
        values = current.values
        seen = values[np.append(True, values[1:] != values[:-1])] if len(values) else values
        if len(seen) > FEW_VALUES:
            return len(seen)
        return len(set(reference.levels) | {float(v) for v in seen})
    if isinstance(current, CategoricalCurrent) and isinstance(reference, CategoricalReference):
        return len(set(reference.counts) | set(current.counts))
    raise TypeError("reference and current columns are of different kinds")


def _numeric_pair(reference: ColumnReference, current: Current) -> tuple[NumericReference, NumericCurrent]:
    if not (isinstance(reference, NumericReference) and isinstance(current, NumericCurrent)):
        raise TypeError("a numerical method was given a categorical column")
    return reference, current


def _ks(reference: ColumnReference, current: Current) -> Score:
    ref, cur = _numeric_pair(reference, current)
    return statistics.kolmogorov_smirnov(ref.values, cur.values)


def _wasserstein(reference: ColumnReference, current: Current) -> Score:
    ref, cur = _numeric_pair(reference, current)
    # Normed by the reference's spread so one threshold fits every column (Evidently's floor of
    # 0.001 keeps a constant reference from dividing by zero).
    scale = max(ref.std or 0.0, 0.001)
    return statistics.wasserstein(ref.values, cur.values) / scale, None


def _binned(function: Callable[[Counts, Counts], float]) -> Callable[[ColumnReference, Current], Score]:
    def score(reference: ColumnReference, current: Current) -> Score:
        return function(*aligned_counts(reference, current)), None

    return score


def _chi_square(reference: ColumnReference, current: Current) -> Score:
    return statistics.chi_square(*aligned_counts(reference, current))


def _z(reference: ColumnReference, current: Current) -> Score:
    ref_counts, cur_counts = aligned_counts(reference, current)
    present = (ref_counts + cur_counts) > 0
    if int(present.sum()) > 2:
        raise InvalidInput(
            "the z-test compares two categories, and this column has more",
            hint="Use chisquare or jensenshannon for columns with more than two values.",
        )
    return statistics.z_test(ref_counts[present], cur_counts[present])


_BOTH = frozenset({"numerical", "categorical"})
METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("ks", "p_value", 0.05, frozenset({"numerical"}), _ks, "two-sample Kolmogorov-Smirnov test"),
        Method("chisquare", "p_value", 0.05, _BOTH, _chi_square, "chi-square test of homogeneity over the bins"),
        Method("z", "p_value", 0.05, _BOTH, _z, "two-proportion z-test (two values only)"),
        Method(
            "wasserstein",
            "distance",
            0.1,
            frozenset({"numerical"}),
            _wasserstein,
            "Wasserstein distance divided by the reference standard deviation",
        ),
        Method(
            "jensenshannon",
            "distance",
            0.1,
            _BOTH,
            _binned(statistics.jensen_shannon),
            "Jensen-Shannon distance (natural log) over the bins",
        ),
        Method(
            "psi",
            "distance",
            0.1,
            _BOTH,
            _binned(statistics.population_stability_index),
            f"population stability index over the bins, empty shares raised to {statistics.PSI_EPSILON}",
        ),
        Method("hellinger", "distance", 0.1, _BOTH, _binned(statistics.hellinger), "Hellinger distance over the bins"),
    )
}


def get_method(name: object) -> Method:
    if isinstance(name, str) and name.lower() in METHODS:
        return METHODS[name.lower()]
    raise InvalidInput(
        f"unknown drift method {name!r}",
        hint=f"Choose one of {', '.join(sorted(METHODS))}.",
    )


def default_method(reference: ColumnReference, current: Current) -> Method:
    distinct = union_distinct(reference, current)
    numerical = reference.kind == "numerical"
    if reference.count <= SMALL_REFERENCE_ROWS:
        if numerical and distinct > FEW_VALUES:
            return METHODS["ks"]
        return METHODS["chisquare"] if distinct > 2 else METHODS["z"]
    if numerical and distinct > FEW_VALUES:
        return METHODS["wasserstein"]
    return METHODS["jensenshannon"]
