"""The drift statistics, on data already prepared: sorted finite values for the numerical tests,
aligned counts per bin or category for the others.

Each function equals its scipy reference on the same input (the tests check it with hypothesis).
Where scipy would sort or count again, these reuse what the reference fit already did, which is
what makes a million-row comparison take a fraction of a second per column.
"""

from __future__ import annotations

import math
import threading
import warnings
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

__all__ = [
    "PSI_EPSILON",
    "chi_square",
    "hellinger",
    "jensen_shannon",
    "kolmogorov_smirnov",
    "population_stability_index",
    "shares",
    "wasserstein",
    "z_test",
]

Floats = np.ndarray[Any, np.dtype[np.float64]]
Counts = np.ndarray[Any, np.dtype[np.int64]]

# A bin that is empty on one side would make PSI infinite. Its share is raised to this value
# (Evidently's choice), without renormalising: a category that appears from nothing at 5% scores
# 0.05·ln(0.05/1e-4) ≈ 0.31, well above the 0.1 threshold, which is the verdict one wants.
PSI_EPSILON = 1e-4
# scipy's ks_2samp computes exact p-values up to this sample size and uses Smirnov's asymptotic
# distribution above it; below it scipy is called as is, above it the same formula runs on the
# statistic computed here from the already sorted samples.
_KS_EXACT_MAX = 10_000
_WARNINGS_LOCK = threading.Lock()
# The quantile grid of two samples has lcm(n, m) slices; up to this many times n + m it is
# cheaper than merging the samples.
_REPEAT_MAX = 4


def _merged_cdfs(reference: Floats, current: Floats) -> tuple[Floats, Floats, Floats]:
    """Both empirical CDFs at every point of the merged sample, and the merged values.

    Both inputs are sorted, so a stable argsort of their concatenation is a linear merge of two
    runs. Counts inside a run of tied values are partial; callers either weight by the gap to the
    next value (zero inside a tie) or keep only the last position of each run."""
    n, m = len(reference), len(current)
    merged = np.concatenate((reference, current))
    order = np.argsort(merged, kind="stable")
    values = merged[order]
    from_reference = np.cumsum(order < n)
    cdf_reference = from_reference / n
    cdf_current = (np.arange(1, n + m + 1) - from_reference) / m
    return values, cdf_reference, cdf_current


def wasserstein(reference: Floats, current: Floats) -> float:
    """The first Wasserstein distance between two sorted samples (scipy.stats.wasserstein_distance)."""
    n, m = len(reference), len(current)
    common = n // math.gcd(n, m) * m
    if common <= _REPEAT_MAX * (n + m):
        # W1 is the mean gap between the two quantile functions. Both are step functions whose
        # steps line up on a grid of lcm(n, m) equal slices, so repeating each sorted sample onto
        # that grid gives the exact integral without a merge (equal sizes: no repeat at all).
        gaps = np.repeat(reference, common // n) - np.repeat(current, common // m)
        np.abs(gaps, out=gaps)
        return float(gaps.mean())
    values, cdf_reference, cdf_current = _merged_cdfs(reference, current)
    gaps = np.diff(values)
    return float(np.sum(np.abs(cdf_reference[:-1] - cdf_current[:-1]) * gaps))


def kolmogorov_smirnov(reference: Floats, current: Floats) -> tuple[float, float]:
    """Two-sided two-sample KS statistic and p-value of two sorted samples (scipy.stats.ks_2samp)."""
    n, m = len(reference), len(current)
    if max(n, m) <= _KS_EXACT_MAX:
        # scipy warns when its exact p-value fails to converge and it falls back to the asymptotic
        # one; that fallback is the answer wanted, not a problem to report. Warning filters are
        # process-wide, so only one thread at a time may swap them.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    values, cdf_reference, cdf_current = _merged_cdfs(reference, current)
    run_ends = np.append(values[1:] != values[:-1], True)
    statistic = float(np.max(np.abs(cdf_reference[run_ends] - cdf_current[run_ends])))
    larger, smaller = max(n, m), min(n, m)
    effective = larger * smaller / (larger + smaller)
    p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(effective)), 0.0, 1.0))
    return statistic, p_value


def chi_square(reference: Counts, current: Counts) -> tuple[float, float]:
    """Chi-square test of homogeneity on the 2 x K table of counts (scipy.stats.chi2_contingency).

    A test of homogeneity, not of goodness of fit: both samples are random, and a category that
    only one side has is a finite, testable difference rather than a division by zero."""
    seen = (reference + current) > 0
    if int(seen.sum()) < 2:
        return 0.0, 1.0  # one category on both sides: nothing can differ
    result = stats.chi2_contingency(np.vstack((reference[seen], current[seen])))
    return float(result.statistic), float(result.pvalue)


def z_test(reference: Counts, current: Counts) -> tuple[float, float]:
    """Two-proportion z-test on the share of the first category (a binary column), two-sided."""
    n, m = int(reference.sum()), int(current.sum())
    first_reference, first_current = int(reference[0]), int(current[0])
    pooled = (first_reference + first_current) / (n + m)
    if pooled in (0.0, 1.0):
        return 0.0, 1.0  # the same single value on both sides
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    statistic = (first_reference / n - first_current / m) / spread
    return statistic, float(2 * stats.norm.sf(abs(statistic)))


def shares(counts: Counts) -> Floats:
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def jensen_shannon(reference: Counts, current: Counts) -> float:
    """Jensen-Shannon distance with the natural logarithm (0 to √ln 2), as Evidently reports it."""
    return float(distance.jensenshannon(shares(reference), shares(current)))


def population_stability_index(reference: Counts, current: Counts) -> float:
    expected = shares(reference)
    actual = shares(current)
    expected[expected == 0] = PSI_EPSILON
    actual[actual == 0] = PSI_EPSILON
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def hellinger(reference: Counts, current: Counts) -> float:
    """Hellinger distance between the two distributions, from 0 (equal) to 1 (disjoint)."""
    gap = np.sqrt(shares(reference)) - np.sqrt(shares(current))
    return float(np.sqrt(np.sum(gap * gap)) / math.sqrt(2))
