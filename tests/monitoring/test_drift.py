"""mlpilot.drift on plain DataFrames: default methods, verdicts, overrides and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

import mlpilot
from mlpilot.errors import InvalidInput
from mlpilot.monitoring import DriftReport, ReferenceProfile, Verdict
from tests.monitoring.conftest import SHIFTED, Frames


def test_large_frames_use_wasserstein_and_jensen_shannon_and_flag_the_shifted_columns(frames: Frames) -> None:
    reference, current = frames(5_000)
    report = mlpilot.drift(reference, current)
    assert isinstance(report, DriftReport)
    methods = report.to_frame()["method"]
    assert set(methods[[f"num_{i:02d}" for i in range(20)]]) == {"wasserstein"}
    assert set(methods[[f"cat_{j}" for j in range(5)]]) == {"jensenshannon"}
    assert set(report.drifted_columns) == SHIFTED
    assert report.share == pytest.approx(3 / 25)
    assert report.dataset_drifted is False
    assert "3 of 25" in report.summary()


def test_statistics_equal_the_scipy_formulas_evidently_uses(frames: Frames) -> None:
    reference, current = frames(3_000, 2_000)
    report = mlpilot.drift(reference, current)
    wasserstein = stats.wasserstein_distance(reference["num_00"], current["num_00"]) / np.std(reference["num_00"])
    assert report["num_00"].statistic == pytest.approx(wasserstein, rel=1e-9)
    labels = sorted(set(reference["cat_3"]) | set(current["cat_3"]))
    p = reference["cat_3"].value_counts(normalize=True).reindex(labels, fill_value=0)
    q = current["cat_3"].value_counts(normalize=True).reindex(labels, fill_value=0)
    assert report["cat_3"].statistic == pytest.approx(float(distance.jensenshannon(p, q)), rel=1e-9)


def test_small_references_use_p_value_tests_chosen_by_the_number_of_values() -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(
        {
            "x": rng.normal(size=500),
            "levels": rng.integers(0, 4, size=500),
            "flag": rng.integers(0, 2, size=500),
            "colour": rng.choice(["red", "green", "blue"], size=500),
            "yes_no": rng.choice(["yes", "no"], size=500),
        }
    )
    current = reference.sample(frac=1.0, random_state=2).reset_index(drop=True)
    report = mlpilot.drift(reference, current)
    methods = report.to_frame()["method"].to_dict()
    assert methods == {"x": "ks", "levels": "chisquare", "flag": "z", "colour": "chisquare", "yes_no": "z"}
    assert report.drifted_columns == []  # the same rows in another order
    ks = stats.ks_2samp(reference["x"], current["x"])
    assert report["x"].p_value == pytest.approx(float(ks.pvalue), rel=1e-9)


def test_methods_and_thresholds_can_be_chosen_globally_and_per_column(frames: Frames) -> None:
    reference, current = frames(2_000)
    report = mlpilot.drift(
        reference,
        current,
        columns=["num_00", "num_02", "cat_0", "cat_1"],
        method="psi",
        methods={"num_02": "ks"},
        thresholds={"num_00": 5.0},
    )
    frame = report.to_frame()
    assert frame["method"].to_dict() == {"num_00": "psi", "num_02": "ks", "cat_0": "psi", "cat_1": "psi"}
    assert report["num_00"].threshold == 5.0 and report["num_00"].drifted is False
    assert report["cat_0"].threshold == 0.1 and report["cat_0"].drifted is True
    assert report["num_02"].test == "p_value" and report["num_02"].threshold == 0.05


@pytest.mark.parametrize("name", ["psi", "jensenshannon", "hellinger", "chisquare"])
def test_binned_methods_use_reference_deciles_with_open_outer_bins(name: str) -> None:
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"x": rng.normal(size=4_000)})
    same = pd.DataFrame({"x": rng.normal(size=4_000)})
    beyond = pd.DataFrame({"x": rng.normal(size=4_000) + 10})  # every value beyond the reference's maximum
    assert mlpilot.drift(reference, same, method=name)["x"].drifted is False
    assert mlpilot.drift(reference, beyond, method=name)["x"].drifted is True


def test_a_multiple_testing_correction_adjusts_p_values() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({f"x{i}": rng.normal(size=400) for i in range(25)})
    current = pd.DataFrame({f"x{i}": rng.normal(size=400) for i in range(25)})
    current["x0"] += 0.5
    raw = mlpilot.drift(reference, current)
    corrected = mlpilot.drift(reference, current, correction="bonferroni")
    for column in reference.columns:
        p = raw[column].p_value
        assert p is not None
        assert corrected[column].p_value_adjusted == pytest.approx(min(1.0, p * 25))
    assert "x0" in corrected.drifted_columns
    assert set(corrected.drifted_columns) <= set(raw.drifted_columns)
    assert mlpilot.drift(reference, current, correction="fdr").correction == "fdr"


def test_windows_below_min_rows_get_no_verdict(frames: Frames) -> None:
    reference, current = frames(2_000, 50)
    report = mlpilot.drift(reference, current, columns=["num_00", "cat_0"])
    assert {f.verdict for f in report.features} == {Verdict.NOT_ENOUGH_DATA}
    assert report["num_00"].drifted is None
    assert "fewer than min_rows=100" in (report["num_00"].message or "")
    assert report.share is None and report.dataset_drifted is None
    assert "no column could be tested" in report.summary()
    assert mlpilot.drift(reference, current, columns=["num_00"], min_rows=20)["num_00"].drifted is True


def test_bad_columns_are_reported_per_column_not_raised() -> None:
    rng = np.random.default_rng(6)
    reference = pd.DataFrame(
        {
            "gone": rng.normal(size=300),
            "empty": rng.normal(size=300),
            "constant": np.ones(300),
            "text_now": rng.normal(size=300),
            "numbers_as_text": rng.normal(size=300),
            "city": rng.choice(["a", "b", "c"], size=300),
            "when": pd.date_range("2026-01-01", periods=300, freq="h"),
        }
    )
    current = pd.DataFrame(
        {
            "empty": [np.nan] * 300,
            "constant": np.ones(300),
            "text_now": rng.choice(["x", "y"], size=300),
            "numbers_as_text": [str(v) for v in rng.normal(size=300)],
            "city": rng.integers(0, 3, size=300),
            "when": pd.date_range("2026-02-01", periods=300, freq="h"),
        }
    )
    report = mlpilot.drift(reference, current)
    assert report["gone"].verdict is Verdict.MISSING
    assert report["empty"].verdict is Verdict.NOT_ENOUGH_DATA
    assert "0 non-null current values" in (report["empty"].message or "")
    assert report["constant"].drifted is False
    assert report["text_now"].verdict is Verdict.ERROR
    assert "are not numbers" in (report["text_now"].message or "")
    assert report["numbers_as_text"].verdict is Verdict.NO_DRIFT
    assert report["city"].verdict is Verdict.ERROR
    assert "numeric values" in (report["city"].message or "")
    assert report["when"].verdict is Verdict.ERROR
    assert "dates or times" in (report["when"].message or "")
    assert json.dumps(report.to_dict(), allow_nan=False)


def test_a_constant_column_that_moves_drifts() -> None:
    reference = pd.DataFrame({"x": np.zeros(2_000)})
    current = pd.DataFrame({"x": np.ones(2_000)})
    feature = mlpilot.drift(reference, current)["x"]
    assert feature.method == "jensenshannon" and feature.drifted is True


def test_infinities_and_nulls_are_left_out_of_the_comparison() -> None:
    rng = np.random.default_rng(8)
    values = rng.normal(size=2_000)
    current_values = values.copy()
    current_values[:100] = np.inf
    current_values[100:200] = np.nan
    report = mlpilot.drift(pd.DataFrame({"x": values}), pd.DataFrame({"x": current_values}))
    assert report["x"].current_rows == 1_800
    assert report["x"].drifted is False


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"method": "nope"}, "unknown drift method 'nope'"),
        ({"methods": {"cat_0": "ks"}}, "does not apply to the categorical column 'cat_0'"),
        ({"columns": ["num_00", "nope"]}, "no column 'nope'"),
        ({"thresholds": {"missing": 0.1}}, "no column 'missing'"),
        ({"threshold": -1}, "must be a number of at least 0"),
        ({"drift_share": 0}, "drift_share must be a number above 0"),
        ({"min_rows": 0}, "min_rows must be a whole number"),
        ({"correction": "magic"}, "unknown multiple-testing correction"),
        ({"columns": "num_00"}, "must be a list of column names"),
        ({"categorical": ["num_00"], "numerical": ["num_00"]}, "both categorical and numerical"),
        ({"numerical": ["cat_0"]}, "was named numerical but holds"),
    ],
)
def test_bad_arguments_raise_a_clear_error(frames: Frames, kwargs: dict[str, object], needle: str) -> None:
    reference, current = frames(200)
    with pytest.raises(InvalidInput, match=needle.replace("(", r"\(")):
        mlpilot.drift(reference, current, **kwargs)  # type: ignore[arg-type]


def test_non_frames_are_refused() -> None:
    with pytest.raises(InvalidInput, match="current data must be a pandas DataFrame"):
        mlpilot.drift(pd.DataFrame({"x": [1.0]}), [1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="reference must be a pandas DataFrame or a ReferenceProfile"):
        mlpilot.drift({"x": [1.0]}, pd.DataFrame({"x": [1.0]}))  # type: ignore[arg-type]


def test_categorical_overrides_treat_integer_codes_as_categories() -> None:
    rng = np.random.default_rng(9)
    reference = pd.DataFrame({"zip": rng.integers(0, 40, size=3_000)})
    current = pd.DataFrame({"zip": rng.integers(0, 40, size=3_000).astype(float)})
    report = mlpilot.drift(reference, current, categorical=["zip"])
    assert report["zip"].kind == "categorical"
    assert report["zip"].drifted is False  # 7 and 7.0 are one category


def test_a_stored_profile_gives_the_verdicts_of_the_full_reference(frames: Frames, tmp_path: object) -> None:
    reference, current = frames(60_000, 20_000)
    profile = ReferenceProfile.fit(reference, sample_rows=5_000)
    path = f"{tmp_path}/sample.parquet"
    assert profile.sample is not None
    profile.sample.to_parquet(path)
    stored = ReferenceProfile.from_dict(json.loads(json.dumps(profile.to_dict())), pd.read_parquet(path))
    assert stored.columns["num_00"].values.size == 5_000
    full = mlpilot.drift(reference, current)
    from_profile = mlpilot.drift(stored, current)
    assert from_profile.drifted_columns == full.drifted_columns
    assert from_profile.reference_rows == 60_000
    for column in ("num_00", "num_05", "cat_0", "cat_4"):
        assert from_profile[column].statistic == pytest.approx(full[column].statistic, abs=0.02)
        assert from_profile[column].method == full[column].method


def test_unhashable_values_are_counted_by_their_text() -> None:
    reference = pd.DataFrame({"tags": [["a"], ["b"], ["a", "b"]] * 100, "x": np.arange(300.0)})
    current = pd.DataFrame({"tags": [["a"], ["b"], ["b"]] * 100, "x": np.arange(300.0)})
    report = mlpilot.drift(reference, current)
    assert report["tags"].kind == "categorical" and report["tags"].drifted is True
    assert report["x"].drifted is False


@pytest.mark.parametrize("rows", [0, -5, 2.5, True, "100"])
def test_a_profile_refuses_a_sample_size_that_is_not_a_positive_whole_number(rows: object) -> None:
    with pytest.raises(InvalidInput, match="sample_rows must be a whole number"):
        ReferenceProfile.fit(pd.DataFrame({"x": [1.0, 2.0]}), sample_rows=rows)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="fitted on a pandas DataFrame"):
        ReferenceProfile.fit([1, 2])  # type: ignore[arg-type]
