"""The paging parameters every listing route takes: ``max_results`` and ``page_token``.

A ``max_results`` over the server's cap (``server_max_results``) is lowered to the cap rather than
refused, as run search always did: a client asking for "as many as you give" needs no knowledge of
the server's setting, and follows ``next_page_token`` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from mlpilot.server.deps import State
from mlpilot.store.paging import Page, keyset_page

__all__ = ["PageRequest", "Paging"]

T = TypeVar("T")
K = TypeVar("K")

MaxResults = Annotated[
    int | None,
    Query(
        ge=1,
        description="Items per page. Above the server's cap (`MLPILOT_SERVER_MAX_RESULTS`, 1000 by default) "
        "or left out, the cap.",
    ),
]
PageToken = Annotated[
    str | None,
    Query(description="The `next_page_token` of the previous page, unchanged; left out, the first page."),
]


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    token: str | None

    def take(self, fetch: Callable[[int, K | None], Sequence[T]], key: Callable[[T], K], kind: type[K]) -> Page[T]:
        """The requested page of a listing ``fetch(limit, after)`` ordered by ``key`` (see keyset_page)."""
        return keyset_page(fetch, key, kind, self.size, self.token)


async def _page_request(state: State, max_results: MaxResults = None, page_token: PageToken = None) -> PageRequest:
    # async: no I/O, which FastAPI would otherwise send to the thread pool.
    cap = state.settings.server_max_results
    return PageRequest(cap if max_results is None else min(max_results, cap), page_token)


Paging = Annotated[PageRequest, Depends(_page_request)]
