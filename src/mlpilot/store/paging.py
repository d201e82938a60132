"""Page tokens and keyset pages: the one place a page token is written and read.

A token is URL-safe base64 of a little JSON. Callers treat it as opaque and only pass back the
``next_page_token`` they were given, so what it holds may change between versions. It is not
signed: it only says where to resume, and a forged one can only read what its caller may read anyway.

Listings page by keyset: their rows come in the order of a unique key, and a token holds the last
key of its page, so the next page starts right after that key. Unlike an offset, that stays right
while rows are added or removed between two requests, and costs one index seek however deep the page.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from pydantic import TypeAdapter

from mlpilot.errors import InvalidInput

__all__ = ["Page", "decode_token", "encode_token", "keyset_page"]

T = TypeVar("T")
K = TypeVar("K")

_INT64 = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next_page_token`` is None on the last one."""

    items: list[T]
    next_page_token: str | None = None


def encode_token(payload: object) -> str:
    """An opaque token for ``payload``: a key (a number, a string or a tuple of them), or a dataclass
    of such fields."""
    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        payload = dataclasses.asdict(payload)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, kind: type[K]) -> K:
    """The payload of a token ``encode_token`` wrote, checked to be a ``kind`` (e.g. ``int``,
    ``tuple[int, str]`` or a dataclass); InvalidInput for anything else, so a token never reaches SQL
    unchecked."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = _adapter(cast(Any, kind)).validate_json(raw, strict=True)
    except (binascii.Error, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise _foreign() from exc
    if not _storable(payload):
        raise _foreign()
    return payload  # type: ignore[no-any-return]


def keyset_page(
    fetch: Callable[[int, K | None], Sequence[T]],
    key: Callable[[T], K],
    kind: type[K],
    max_results: int,
    page_token: str | None,
) -> Page[T]:
    """The page after ``page_token``: ``fetch(limit, after)`` returns at most ``limit`` items whose
    ``key`` is greater than ``after`` (None: from the start), in key order."""
    after = decode_token(page_token, kind) if page_token else None
    # One more than the page holds: whether it comes back says if another page follows.
    rows = fetch(max_results + 1, after)
    if len(rows) <= max_results:
        return Page(list(rows))
    items = list(rows[:max_results])
    return Page(items, encode_token(key(items[-1])))


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def _storable(value: object) -> bool:
    """Whether every integer fits a 64-bit column and every string is text a database takes:
    anything else would come back from the driver as an error instead of a 400."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _storable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return all(_storable(item) for item in value.values())
    if isinstance(value, tuple | list):
        return all(_storable(item) for item in value)
    if isinstance(value, int):
        return -_INT64 - 1 <= value <= _INT64
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # a lone surrogate from a "\ud800" escape does not encode
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    return True


def _foreign() -> InvalidInput:
    return InvalidInput(
        "the page token is not one mlpilot issued for this listing",
        hint="Pass the next_page_token of the previous page unchanged, to the same route.",
    )
