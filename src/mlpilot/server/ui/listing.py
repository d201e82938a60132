"""Pages of the lists the store keeps in name order: models, datasets and deployments.

Their services page by keyset (``after``: the last name already shown), so a page is one indexed
range read however far along it is, and a name added meanwhile never shifts a row onto two pages.
The price is that there is no "page N" or total to show, only the first page and the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mlpilot.errors import InvalidInput

__all__ = ["MAX_AFTER", "PAGE_SIZE", "NamePage", "name_page"]

PAGE_SIZE = 500  # rows a list page shows; read at call time, so tests can lower it
MAX_AFTER = 1000  # longer than any stored name: a longer ``after`` is a mangled address

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NamePage(Generic[T]):
    """One page of a list: its rows, the name it starts after ("" on the first page) and the name
    the next page starts after (None on the last)."""

    items: list[T]
    after: str
    next_after: str | None
    size: int


def name_page(fetch: Callable[[int, str | None], list[T]], after: str, name_of: Callable[[T], str]) -> NamePage[T]:
    """The page after ``after``: ``fetch(limit, after)`` is the service's list call. One row more
    than a page is read, to know whether a next page exists without counting them all."""
    if "\x00" in after:
        # PostgreSQL refuses NUL in text; say so instead of letting the driver's error through.
        raise InvalidInput(
            "the query parameter 'after' holds a NUL character", hint="Follow the Next and First page links."
        )
    size = PAGE_SIZE
    rows = fetch(size + 1, after or None)
    shown = rows[:size]
    return NamePage(shown, after, name_of(shown[-1]) if len(rows) > size else None, size)
