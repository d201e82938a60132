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
    assert {e.__name__ for e in all_errors()} == set(errors.__all__)
