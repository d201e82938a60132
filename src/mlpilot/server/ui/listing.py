"""How the UI's lists end: pages by name for the lists the store keeps in name order (models,
datasets, deployments), and a cut with a note for lists whose services cannot page cheaply.

The name-ordered services page by keyset (``after``: the last name already shown), so a page is
one indexed range read however far along it is, and a name added meanwhile never shifts a row
onto two pages. The price is that there is no "page N" or total to show, only the first page and
the next one. Both kinds read one row more than they show: that row says whether there is more,
without counting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, Protocol, TypeVar

from fastapi import Query

from mlpilot.errors import InvalidInput
from mlpilot.store import Database

__all__ = ["MAX_AFTER", "PAGE_SIZE", "After", "NamePage", "cut", "name_page"]

PAGE_SIZE = 500  # rows a list page shows; read at call time, so tests can lower it
MAX_AFTER = 1000  # longer than any stored name: a longer ``after`` is a mangled address

# The query parameter of a name-ordered list page: the name the previous page ended with.
After = Annotated[str, Query(max_length=MAX_AFTER)]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T")
N = TypeVar("N", bound=_Named)


@dataclass(frozen=True, slots=True)
class NamePage(Generic[T]):
    """One page of a list: its rows, the name it starts after ("" on the first page) and the name
    the next page starts after (None on the last)."""

    items: list[T]
    after: str
    next_after: str | None
    size: int


def name_page(list_by_name: Callable[..., Sequence[N]], db: Database, after: str) -> NamePage[N]:
    """The page after ``after`` of ``list_by_name(db, limit=..., after=...)``, a service's list."""
    if "\x00" in after:
        # PostgreSQL refuses NUL in text; say so instead of letting the driver's error through.
        raise InvalidInput(
            "the query parameter 'after' holds a NUL character", hint="Follow the Next and First page links."
        )
    size = PAGE_SIZE
    rows, more = cut(list_by_name(db, limit=size + 1, after=after or None), size)
    return NamePage(rows, after, rows[-1].name if more else None, size)


def cut(rows: Sequence[T], most: int) -> tuple[list[T], bool]:
    """The first ``most`` of ``rows`` (read with ``limit=most + 1``), and whether there were more."""
    return list(rows[:most]), len(rows) > most
