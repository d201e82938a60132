"""Scopes: parsing is strict and explains itself; only admin implies the others."""

from __future__ import annotations

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.security import Scope, grants, parse_scope, parse_scopes


def test_parse_comma_separated_forgives_case_spaces_and_repeats() -> None:
    assert parse_scopes("read,write") == (Scope.READ, Scope.WRITE)
    assert parse_scopes(" Write , READ,read,, ") == (Scope.READ, Scope.WRITE)
    assert parse_scopes(["deploy", Scope.PREDICT]) == (Scope.PREDICT, Scope.DEPLOY)
    assert parse_scopes("admin") == (Scope.ADMIN,)
    assert parse_scope("predict") is Scope.PREDICT
    assert parse_scope(Scope.DEPLOY) is Scope.DEPLOY


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("read,wrte", ["'wrte'"]),
        ("reed,admn", ["'admn'", "'reed'"]),
        (["root"], ["'root'"]),
        ("keys:admin", ["'keys:admin'"]),
    ],
)
def test_unknown_scopes_are_named_and_valid_ones_listed(value: str | list[str], named: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_scopes(value)
    for fragment in named:
        assert fragment in caught.value.message
    assert "read, write, predict, deploy, admin" in caught.value.hint


@pytest.mark.parametrize("value", ["", " , ", []])
def test_no_scope_is_refused(value: str | list[str]) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        parse_scopes(value)


def test_a_non_string_scope_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be a string"):
        parse_scopes([1])  # type: ignore[list-item]
    with pytest.raises(InvalidInput):
        parse_scope("everything")


def test_admin_implies_every_scope_and_the_others_are_independent() -> None:
    for needed in Scope:
        assert grants([Scope.ADMIN], needed)
        assert grants([needed], needed)
    assert not grants([Scope.PREDICT], Scope.READ)
    assert not grants([Scope.WRITE], Scope.READ)
    assert not grants([Scope.DEPLOY], Scope.WRITE)
    assert not grants([Scope.READ, Scope.WRITE, Scope.PREDICT, Scope.DEPLOY], Scope.ADMIN)
    assert not grants([], Scope.READ)
