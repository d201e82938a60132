"""Moments as people type them on a command line or in a query string: ``30d`` (that long before
now), ``2024-05-01`` or ``2024-05-01T12:00:00+02:00`` (ISO 8601 with dashes; without an offset,
UTC), or epoch milliseconds (nine digits or more: fewer would be a moment on 1 or 2 January 1970,
more likely a date typed without dashes)."""

from __future__ import annotations

import datetime as dt
import re

from mlpilot.errors import InvalidInput

__all__ = ["parse_instant"]

_RELATIVE = re.compile(r"^(?P<count>\d+)\s*(?P<unit>min|h|d|w)$")
_UNIT_MS = {"min": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}
_HINT = "Use a duration before now (30d, 12h, 2w, 90min), an ISO date or time (2024-05-01), or epoch milliseconds."


def parse_instant(text: str, *, now: int, name: str) -> int:
    """Epoch ms of ``text``; ``name`` (e.g. "since") names the value in the error."""
    value = text.strip().lower()
    if value.isascii() and value.isdigit():
        if not 9 <= len(value) <= 18:  # 18 digits: past the year 30 million, and within 64 bits
            raise InvalidInput(f"{name} {text!r} is out of range for epoch milliseconds", hint=_HINT)
        return int(value)
    relative = _RELATIVE.match(value)
    if relative is not None:
        found = now - int(relative["count"]) * _UNIT_MS[relative["unit"]]
        if found < 0:
            raise InvalidInput(f"{name} {text!r} reaches back before 1970", hint=_HINT)
        return found
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{name} {text!r} is neither a duration, an ISO date nor epoch milliseconds", hint=_HINT
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        found = int(moment.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):  # a year the platform's clock cannot represent
        found = -1
    if found < 0:
        raise InvalidInput(f"{name} {text!r} is before 1970 or out of range", hint=_HINT)
    return found
