"""Moments as typed on a command line or in a query string."""

from __future__ import annotations

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.ops.instants import parse_instant

NOW = 1_700_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW - 30 * 86_400_000),
        ("12h", NOW - 12 * 3_600_000),
        ("2w", NOW - 14 * 86_400_000),
        ("90min", NOW - 90 * 60_000),
        ("2024-05-01", 1_714_521_600_000),
        ("2024-05-01T02:00:00+02:00", 1_714_521_600_000),
        ("1714521600000", 1_714_521_600_000),
    ],
)
def test_understood(text: str, expected: int) -> None:
    assert parse_instant(text, now=NOW, name="since") == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "30x",
        "-5d",
        "2024-13-01",
        "12",
        "20240501",
        "0001-01-01T00:00:00+14:00",
        "999999999w",
        "²²²²²²²²²²",
        "1" * 5000,
    ],
)
def test_refused_with_a_hint(text: str) -> None:
    with pytest.raises(InvalidInput, match="since") as raised:
        parse_instant(text, now=NOW, name="since")
    assert "30d" in raised.value.hint
