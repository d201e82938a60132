"""The gate's semantics: thresholds, changes (absolute, relative, lower-is-better), failing closed,
a first model without a baseline, and an explicit decision when nothing is required."""

from __future__ import annotations

import json

import pytest

from mlpilot.evaluation import NO_BASELINE, NO_REQUIREMENTS, Change, Threshold, gate, summarize

CANDIDATE = {"accuracy": 0.86, "log_loss": 0.30, "rmse": 9.5}
BASELINE = {"accuracy": 0.85, "log_loss": 0.33, "rmse": 10.0}


@pytest.mark.parametrize(
    ("requirement", "passed"),
    [
        ("accuracy>=0.85", True),
        ("accuracy>=0.86", True),
        ("accuracy>0.86", False),
        ("accuracy>=0.9", False),
        ("log_loss<=0.3", True),
        ("log_loss<0.3", False),
        ("log_loss<=0.25", False),
        (Threshold("accuracy", 0.8, 0.85), False),
        (Threshold("accuracy", 0.8, 0.9), True),
    ],
)
def test_absolute_thresholds(requirement: str | Threshold, passed: bool) -> None:
    decision = gate(CANDIDATE, BASELINE, [requirement])
    assert decision.passed is passed and decision.checks[0].passed is passed


@pytest.mark.parametrize(
    ("requirement", "passed"),
    [
        ("accuracy>=+0.01", True),  # 0.86 - 0.85 is 0.01 up to rounding
        ("accuracy>+0.01", False),
        ("accuracy>=+0.02", False),
        ("accuracy>=-0.005", True),
        ("log_loss<=-0.02", True),
        ("log_loss<=-0.05", False),
        ("accuracy>=+1%", True),
        ("accuracy>=+2%", False),
        ("rmse<=-5%", True),
        ("rmse<=-6%", False),
        (Change("rmse", 0.5), True),  # unsigned: rmse must fall by 0.5, and it did
        (Change("rmse", 0.6), False),
        (Change("log_loss", -0.1), True),  # a tolerated regression
        (Change("accuracy", 0.011), False),
    ],
)
def test_changes_versus_the_baseline(requirement: str | Change, passed: bool) -> None:
    check = gate(CANDIDATE, BASELINE, [requirement]).checks[0]
    assert check.passed is passed, check.reason
    assert check.delta == pytest.approx(CANDIDATE[check.metric] - BASELINE[check.metric])
    assert check.baseline == BASELINE[check.metric]


def test_a_worse_challenger_on_a_lower_is_better_metric_fails() -> None:
    check = gate({"rmse": 11.0}, {"rmse": 10.0}, ["rmse<=+0"]).checks[0]
    assert not check.passed and "short of rmse<=+0" in check.reason and "lower is better" in check.reason


def test_missing_or_non_finite_metrics_fail_closed() -> None:
    decision = gate(
        {"accuracy": float("nan")},
        {"f1": 0.5},
        ["accuracy>=0.5", "roc_auc>=0.5", "f1>=+0"],
        candidate_notes={"roc_auc": "Undefined: the labels hold a single class."},
    )
    assert not decision.passed
    nan, absent, change = decision.checks
    assert "not a finite number" in nan.reason
    assert "no metric 'roc_auc' (Undefined: the labels hold a single class.)" in absent.reason
    assert "candidate has no metric 'f1'" in change.reason
    missing_baseline = gate({"f1": 0.7}, {"accuracy": 0.5}, ["f1>=+0"])
    assert not missing_baseline.passed and "baseline has no metric 'f1'" in missing_baseline.checks[0].reason


def test_relative_change_against_a_zero_baseline_fails() -> None:
    check = gate({"r2": 0.2}, {"r2": 0.0}, ["r2>=+1%"]).checks[0]
    assert not check.passed and "relative change is undefined" in check.reason


def test_no_baseline_skips_changes_and_keeps_thresholds() -> None:
    decision = gate(CANDIDATE, None, ["accuracy>=0.85", "accuracy>=+0.01"])
    assert decision.passed and not decision.has_baseline
    threshold, change = decision.checks
    assert threshold.passed and not threshold.skipped
    assert change.skipped and change.passed and change.reason == NO_BASELINE
    assert NO_BASELINE in decision.reasons
    failing = gate(CANDIDATE, None, ["accuracy>=0.9", "accuracy>=+0.01"])
    assert not failing.passed and failing.failures[0].expression == "accuracy>=0.9"
    # a first model with only change requirements is rubber-stamped, and says so
    stamped = gate(CANDIDATE, None, ["accuracy>=+0.01"])
    assert stamped.passed and NO_BASELINE in stamped.reasons


def test_no_requirements_is_an_explicit_pass() -> None:
    decision = gate(CANDIDATE, BASELINE, [])
    assert decision.passed and decision.checks == () and decision.reasons == (NO_REQUIREMENTS,)
    assert decision.to_dict()["verdict"] == "BLESSED"
    assert "no requirements" in summarize(decision)


def test_decision_serializes_and_summarizes() -> None:
    decision = gate(CANDIDATE, BASELINE, ["accuracy>=0.9", "log_loss<=-0.02"])
    stored = json.loads(json.dumps(decision.to_dict(), allow_nan=False))
    assert stored["passed"] is False and stored["verdict"] == "NOT_BLESSED" and stored["has_baseline"] is True
    first = stored["checks"][0]
    assert {k: first[k] for k in ("metric", "expression", "kind", "candidate", "status")} == {
        "metric": "accuracy",
        "expression": "accuracy>=0.9",
        "kind": "threshold",
        "candidate": 0.86,
        "status": "failed",
    }
    assert stored["checks"][1]["requirement"]["direction"] == "lower"
    assert stored["reasons"] == ["accuracy>=0.9: accuracy is 0.86, below the required minimum of 0.9"]
    text = summarize(decision)
    assert text.splitlines()[0] == "FAILED: 1 of 2 judged requirements not met"
    assert "PASSED  log_loss<=-0.02" in text
