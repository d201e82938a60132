"""Every error maps to one HTTP status and one exit code and carries a hint."""

from __future__ import annotations

import inspect

import pytest

from mlpilot import errors


def all_errors() -> list[type[errors.MlpilotError]]:
    return [item for _, item in inspect.getmembers(errors, inspect.isclass) if issubclass(item, errors.MlpilotError)]


@pytest.mark.parametrize("error", all_errors(), ids=lambda e: e.__name__)
def test_mapping_and_hint(error: type[errors.MlpilotError]) -> None:
    instance = error("something happened")
    assert 400 <= instance.http_status < 600
    assert 1 <= instance.exit_code < 128
    assert instance.hint
    assert instance.to_dict()["error_code"] == error.code
    assert "something happened" in str(instance)


def test_user_mistakes_are_4xx_and_catchable_as_builtins() -> None:
    assert errors.InvalidInput("x").http_status == 400
    assert isinstance(errors.InvalidInput("x"), ValueError)
    assert isinstance(errors.NotFound("x"), LookupError)
    assert errors.InactiveRun("x").http_status == 409


def test_every_error_is_listed_in_all() -> None:
    assert {e.__name__ for e in all_errors()} | {"error_for_code"} == set(errors.__all__)


def test_codes_are_unique_and_map_back_to_their_class() -> None:
    codes = [error.code for error in all_errors()]
    assert len(codes) == len(set(codes))
    for error in all_errors():
        assert errors.error_for_code(error.code) is error
    assert errors.error_for_code("SOMETHING_NEW") is errors.MlpilotError


def test_rate_limited_carries_retry_after() -> None:
    assert errors.RateLimited("slow down", retry_after=2.5).retry_after == 2.5
    assert errors.PayloadTooLarge("big").http_status == 413
