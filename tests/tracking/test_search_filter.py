"""The filter parser on arbitrary text: it either parses or says what is wrong, never crashes."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.errors import InvalidInput
from mlpilot.tracking.search_filter import filter_condition, parse_field

PIECES = st.sampled_from([*"abcmpstrx.=<>!()'\"` ,0123456789-_", " and ", " or ", " not ", " in ", "metrics."])
FILTERS = st.lists(PIECES, max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(FILTERS)
def test_any_text_parses_or_raises_invalid_input(text: str) -> None:
    try:
        condition = filter_condition(text)
    except InvalidInput as exc:
        assert exc.message
        return
    if condition is not None:
        # Whatever parses must also compile to SQL for both dialects.
        str(condition.compile(dialect=sa.dialects.sqlite.dialect()))
        str(condition.compile(dialect=sa.dialects.postgresql.dialect()))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_order_field_parses_or_raises_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_field(text)


def test_empty_filter_is_no_condition() -> None:
    assert filter_condition(None) is None
    assert filter_condition("   ") is None


def test_dotted_keys_are_joined() -> None:
    condition = filter_condition("metrics.val.acc > 1")
    assert condition is not None
    assert "val.acc" in str(condition.compile(compile_kwargs={"literal_binds": True}))
