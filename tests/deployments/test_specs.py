"""Input checks that need no database: names, model references, targets, splits and config."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mlpilot.deployments import Canary, Shadow, Target
from mlpilot.deployments.specs import (
    canary_of,
    check_config,
    check_deployment_name,
    check_distinct,
    parse_model_ref,
    parse_target,
    shadow_of,
)
from mlpilot.errors import InvalidInput


@pytest.mark.parametrize("name", ["churn", "churn-v2", "a", "A.b_c-9", "9lives", "x" * 100])
def test_good_names(name: str) -> None:
    assert check_deployment_name(name) == name


@pytest.mark.parametrize("name", ["", "-churn", ".x", "_x", "has space", "a/b", "x" * 101, 3, None])
def test_bad_names_are_refused_naming_the_field(name: object) -> None:
    with pytest.raises(InvalidInput, match="name"):
        check_deployment_name(name)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("churn@production", ("churn", Target(alias="production"))),
        ("models:/churn@production", ("churn", Target(alias="production"))),
        ("churn/3", ("churn", Target(version=3))),
        ("models:/churn/3", ("churn", Target(version=3))),
        ("my model/12", ("my model", Target(version=12))),
    ],
)
def test_model_refs(ref: str, expected: tuple[str, Target]) -> None:
    assert parse_model_ref(ref) == expected


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("runs:/abc123/model", "run's model"),
        ("churn", "names no version"),
        ("churn/latest", "latest"),
        ("churn/0", "not a version number"),
        ("churn@latest", "not a valid alias"),
        ("s3://bucket/model", "cannot parse"),
        (3, "must be a string"),
    ],
)
def test_bad_model_refs_name_the_field(ref: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_model_ref(ref)
    assert "model_ref" in caught.value.message


def test_a_run_uri_gets_a_hint_to_register_first() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_model_ref("runs:/abc123/model")
    assert "mlpilot models register" in caught.value.hint


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("challenger", Target(alias="challenger")),
        ("@challenger", Target(alias="challenger")),
        (5, Target(version=5)),
        ("5", Target(version=5)),
        (Target(version=2), Target(version=2)),
        (Target(alias="b"), Target(alias="b")),
    ],
)
def test_targets(value: object, expected: Target) -> None:
    assert parse_target(value, "canary target") == expected


@pytest.mark.parametrize("value", [0, -1, True, 1.5, None, "latest", "a b", ""])
def test_bad_targets_name_the_field(value: object) -> None:
    with pytest.raises(InvalidInput, match="canary target"):
        parse_target(value, "canary target")


def test_target_text() -> None:
    assert str(Target(alias="production")) == "@production"
    assert str(Target(version=3)) == "3"
    assert Target(alias="p").uri("churn") == "models:/churn@p"
    with pytest.raises(InvalidInput):
        Target(alias="p", version=3)
    with pytest.raises(InvalidInput):
        Target()


@pytest.mark.parametrize(
    "value",
    [
        ("challenger", 0.1),
        ["challenger", 0.1],
        {"target": "challenger", "weight": 0.1},
        Canary(Target("challenger"), 0.1),
    ],
)
def test_every_canary_form(value: Any) -> None:
    assert canary_of(value) == Canary(Target(alias="challenger"), 0.1)


@pytest.mark.parametrize("weight", [0, 1, 1.5, -0.1, math.nan, math.inf, True, "0.1", None])
def test_canary_weight_must_be_strictly_between_0_and_1(weight: object) -> None:
    with pytest.raises(InvalidInput, match=r"canary weight must be a number with 0 < x < 1"):
        canary_of(("challenger", weight))


@pytest.mark.parametrize("share", [0, 1.01, -1, math.nan, False])
def test_shadow_share_must_be_above_0_and_at_most_1(share: object) -> None:
    with pytest.raises(InvalidInput, match=r"shadow share must be a number with 0 < x <= 1"):
        shadow_of((4, share))


def test_a_full_shadow_is_allowed() -> None:
    assert shadow_of({"target": 4, "share": 1}) == Shadow(Target(version=4), 1.0)


@pytest.mark.parametrize(
    "value", ["challenger", ("a",), ("a", 0.1, 2), {"target": "a"}, {"target": "a", "weight": 0.1, "x": 1}]
)
def test_malformed_splits_say_the_expected_shape(value: object) -> None:
    with pytest.raises(InvalidInput, match="canary must"):
        canary_of(value)


def test_config_known_keys_in_range() -> None:
    assert check_config({"max_batch_size": 64, "max_batch_wait_ms": 5}) == {
        "max_batch_size": 64,
        "max_batch_wait_ms": 5.0,
    }
    assert check_config(None) == {}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"max_batchsize": 64}, "config key 'max_batchsize' is unknown"),
        ({"max_batch_size": 0}, "config max_batch_size must be an integer from 1 to 10000"),
        ({"max_batch_size": 2.5}, "max_batch_size must be an integer"),
        ({"max_batch_size": True}, "max_batch_size must be an integer"),
        ({"max_batch_wait_ms": -1}, "config max_batch_wait_ms must be a number from 0 to 1000"),
        ({"max_batch_wait_ms": math.nan}, "max_batch_wait_ms"),
        ([("max_batch_size", 1)], "config must be a mapping"),
    ],
)
def test_bad_config_names_the_key_and_range(config: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_config(config)


def test_unknown_config_key_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_config({"replicas": 4})
    assert "max_batch_size" in caught.value.hint and "workers" in caught.value.hint


def test_canary_and_shadow_must_differ_from_the_primary() -> None:
    primary = Target(alias="production")
    check_distinct(primary, Canary(Target(version=3), 0.1), Shadow(Target(alias="staging"), 1.0))
    with pytest.raises(InvalidInput, match="canary target @production is the primary target"):
        check_distinct(primary, Canary(Target(alias="production"), 0.1), None)
    with pytest.raises(InvalidInput, match="shadow target 3 is the primary target"):
        check_distinct(Target(version=3), None, Shadow(Target(version=3), 0.5))
