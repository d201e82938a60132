"""Requirement expressions and records: what each form means, and bad ones refused with the form."""

from __future__ import annotations

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.evaluation import Change, Threshold, parse_requirement, parse_requirements, refuse_unknown_metrics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accuracy>=0.85", Threshold("accuracy", min=0.85)),
        ("accuracy > 0.85", Threshold("accuracy", min=0.85, inclusive=False)),
        ("log_loss<=0.3", Threshold("log_loss", max=0.3)),
        ("f1<1", Threshold("f1", max=1.0, inclusive=False)),
        ("accuracy>=+0.01", Change("accuracy", 0.01, direction="higher")),
        ("accuracy>=-0.005", Change("accuracy", -0.005, direction="higher")),
        ("accuracy>=+0", Change("accuracy", 0.0, direction="higher")),
        ("log_loss<=-0.02", Change("log_loss", 0.02, direction="lower")),
        ("rmse<=+0.1", Change("rmse", -0.1, direction="lower")),
        ("accuracy>=+2%", Change("accuracy", 0.02, relative=True, direction="higher")),
        ("rmse<=-5%", Change("rmse", 0.05, relative=True, direction="lower")),
        ("rmse < -5 %", Change("rmse", 0.05, relative=True, direction="lower", inclusive=False)),
        ("custom_score>=1e-3", Threshold("custom_score", min=0.001)),
    ],
)
def test_expressions(text: str, expected: Threshold | Change) -> None:
    parsed = parse_requirement(text)
    assert parsed == expected
    assert parse_requirement(parsed.expression) == parsed  # the canonical text reads back the same


@pytest.mark.parametrize(
    "text",
    [
        "accuracy",
        "accuracy=>0.85",
        "accuracy==0.85",
        ">=0.85",
        "accuracy>=",
        "accuracy>=abc",
        "accuracy>=0.85%",
        "accuracy>=nan",
        "accuracy>=inf",
        "1acc>=0.5",
        "accuracy>=0.8 and f1>=0.7",
        "",
    ],
)
def test_bad_expressions_show_the_expected_form(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_requirement(text)
    assert "accuracy>=0.85" in str(raised.value)


@pytest.mark.parametrize(("text", "advice"), [("rmse>=+0.01", "rmse<=-0.01"), ("accuracy<=-1%", "accuracy>=+1%")])
def test_a_change_asking_a_known_metric_to_get_worse_is_refused(text: str, advice: str) -> None:
    with pytest.raises(InvalidInput, match="get worse") as raised:
        parse_requirement(text)
    assert advice in raised.value.hint


def test_change_records_take_the_metrics_own_direction() -> None:
    accuracy, rmse = Change("accuracy", 0.01), Change("rmse", 0.01)
    assert accuracy.better == "higher" and accuracy.expression == "accuracy>=+0.01"
    assert rmse.better == "lower" and rmse.expression == "rmse<=-0.01"
    assert rmse.improvement(candidate=0.9, baseline=1.0) == pytest.approx(0.1)
    assert Change("rmse", 0.05, relative=True).improvement(0.9, 1.0) == pytest.approx(0.1)
    assert Change("r2", 0.1, relative=True).improvement(0.0, 0.0) is None
    # an explicit direction is a deliberate choice, kept even against the metric's usual one
    assert Change("latency_ms", 5, direction="lower").expression == "latency_ms<=-5"


def test_mappings_and_round_trips() -> None:
    assert parse_requirement({"metric": "accuracy", "min": 0.8, "max": 0.99}) == Threshold("accuracy", 0.8, 0.99)
    assert parse_requirement({"metric": "mae", "min_delta": 1.5}) == Change("mae", 1.5)
    for requirement in (Threshold("auc", min=0.7), Threshold("x", 0.1, 0.9), Change("rmse", 0.05, relative=True)):
        assert parse_requirement(requirement.to_dict()) == requirement
    assert Threshold("x", 0.1, 0.9).expression == "0.1<=x<=0.9"
    assert parse_requirements(None) == ()
    assert parse_requirements("accuracy>=0.8") == (Threshold("accuracy", min=0.8),)
    assert len(parse_requirements(["accuracy>=0.8", Change("f1"), {"metric": "f1", "max": 1}])) == 3


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"metric": "accuracy"}, "neither min nor max"),
        ({"metric": "accuracy", "min": 0.9, "max": 0.1}, "above max"),
        ({"metric": "accuracy", "min": "high"}, "must be a number"),
        ({"metric": "accuracy", "min": True}, "must be a number"),
        ({"min": 0.5}, "needs a 'metric'"),
        ({"metric": "accuracy", "minimum": 0.5}, "unknown fields 'minimum'"),
        ({"kind": "ratio", "metric": "accuracy"}, "unknown requirement kind"),
        ({"metric": "accuracy", "min_delta": 0.1, "direction": "up"}, "not 'higher' or 'lower'"),
        ({"metric": "accuracy", "min_delta": float("nan")}, "finite"),
        ({"metric": "acc uracy", "min": 0.5}, "not a metric name"),
    ],
)
def test_bad_records_are_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_requirement(spec)


def test_other_types_are_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot read a requirement from a int"):
        parse_requirement(3)  # type: ignore[arg-type]


def test_metrics_evaluation_never_produces_are_refused() -> None:
    refuse_unknown_metrics(parse_requirements(["accuracy>=0.8", "rmse<=-1%"]))
    refuse_unknown_metrics(parse_requirements(["rmse<=-1%"]), "regression")
    with pytest.raises(InvalidInput) as raised:
        refuse_unknown_metrics(parse_requirements(["acc>=0.8"]))
    assert raised.value.message == "the gate requires 'acc', which evaluation does not produce"
    with pytest.raises(InvalidInput, match="'rmse', which evaluation does not produce for classification"):
        refuse_unknown_metrics(parse_requirements(["rmse<=1"]), "classification")
