"""Every drift statistic equals its scipy reference on the same input (property tests)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from scipy.spatial import distance

from mlpilot.monitoring import statistics
from mlpilot.monitoring.corrections import adjust

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Few distinct values as well as many, so ties (the hard case for merged CDFs) are common.
tied = st.integers(min_value=-5, max_value=5).map(float)
samples = st.one_of(
    hnp.arrays(np.float64, st.integers(1, 300), elements=finite),
    hnp.arrays(np.float64, st.integers(1, 300), elements=tied),
)
counts = hnp.arrays(np.int64, st.integers(2, 12), elements=st.integers(0, 500))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=300, deadline=None)
@given(samples, samples)
def test_wasserstein_equals_scipy(u: np.ndarray, v: np.ndarray) -> None:
    ours = statistics.wasserstein(np.sort(u), np.sort(v))
    assert math.isclose(ours, stats.wasserstein_distance(u, v), rel_tol=1e-9, abs_tol=1e-9 * (1 + np.abs(u).max()))


def test_wasserstein_uses_the_merge_when_sizes_share_no_grid() -> None:
    rng = np.random.default_rng(3)
    u, v = np.sort(rng.normal(size=10_007)), np.sort(rng.normal(size=10_009) + 0.2)
    assert close(statistics.wasserstein(u, v), stats.wasserstein_distance(u, v))


@settings(max_examples=300, deadline=None)
@given(samples, samples)
def test_ks_equals_scipy_in_its_exact_range(u: np.ndarray, v: np.ndarray) -> None:
    statistic, p_value = statistics.kolmogorov_smirnov(np.sort(u), np.sort(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's exact p-value fell back to asymptotic
        expected = stats.ks_2samp(u, v)
    assert close(statistic, float(expected.statistic))
    assert close(p_value, float(expected.pvalue))


@pytest.mark.parametrize("shift", [0.0, 0.01, 0.2])
@pytest.mark.parametrize("discrete", [False, True])
def test_ks_equals_scipy_on_large_samples(shift: float, discrete: bool) -> None:
    rng = np.random.default_rng(7)
    u, v = rng.normal(size=30_000), rng.normal(size=20_011) + shift
    if discrete:
        u, v = np.round(u, 1), np.round(v, 1)
    statistic, p_value = statistics.kolmogorov_smirnov(np.sort(u), np.sort(v))
    expected = stats.ks_2samp(u, v)
    assert close(statistic, float(expected.statistic))
    assert close(p_value, float(expected.pvalue))


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_chi_square_equals_scipy_contingency(a: np.ndarray, b: np.ndarray) -> None:
    size = min(len(a), len(b))
    a, b = a[:size], b[:size]
    if a.sum() == 0 or b.sum() == 0:
        return
    statistic, p_value = statistics.chi_square(a, b)
    seen = (a + b) > 0
    if seen.sum() < 2:
        assert (statistic, p_value) == (0.0, 1.0)
        return
    expected = stats.chi2_contingency(np.vstack((a[seen], b[seen])))
    assert close(statistic, float(expected.statistic))
    assert close(p_value, float(expected.pvalue))


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_binned_distances_equal_their_definitions(a: np.ndarray, b: np.ndarray) -> None:
    size = min(len(a), len(b))
    a, b = a[:size], b[:size]
    if a.sum() == 0 or b.sum() == 0:
        return
    p, q = a / a.sum(), b / b.sum()
    assert close(statistics.jensen_shannon(a, b), float(distance.jensenshannon(p, q)))
    assert close(statistics.hellinger(a, b), float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2)))
    pe, qe = np.where(p == 0, statistics.PSI_EPSILON, p), np.where(q == 0, statistics.PSI_EPSILON, q)
    assert close(statistics.population_stability_index(a, b), float(np.sum((qe - pe) * np.log(qe / pe))))


def test_z_test_matches_the_two_proportion_formula() -> None:
    statistic, p_value = statistics.z_test(np.array([30, 70]), np.array([45, 55]))
    pooled = 75 / 200
    z = (0.30 - 0.45) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert close(statistic, z)
    assert close(p_value, float(2 * stats.norm.sf(abs(z))))
    assert statistics.z_test(np.array([10, 0]), np.array([20, 0])) == (0.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1)))
def test_corrections_equal_scipy_and_their_definitions(p: np.ndarray) -> None:
    values = [float(x) for x in p]
    bonferroni = adjust(values, "bonferroni")
    assert all(close(a, min(1.0, x * len(values))) for a, x in zip(bonferroni, values, strict=True))
    fdr = adjust(values, "fdr")
    expected = stats.false_discovery_control(p, method="bh")
    assert all(close(a, float(b)) for a, b in zip(fdr, expected, strict=True))
    holm = adjust(values, "holm")
    # Holm lies between the raw p-value and Bonferroni, and keeps the order of the raw p-values.
    assert all(x - 1e-12 <= h <= b + 1e-12 for x, h, b in zip(values, holm, bonferroni, strict=True))
    order = np.argsort(p, kind="stable")
    assert all(np.diff(np.asarray(holm)[order]) >= -1e-12)
