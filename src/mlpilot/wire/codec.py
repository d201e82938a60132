"""Records to JSON bytes and back, generically for every frozen-dataclass record."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from mlpilot.errors import MlpilotError

__all__ = ["adapter", "decode", "encode"]

T = TypeVar("T")


def encode(value: object) -> bytes:
    """JSON bytes of a record, a list of records or plain data; non-finite floats become strings."""
    return to_json(value, inf_nan_mode="strings")


@functools.cache
def adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def decode(kind: type[T], data: bytes | str | Any) -> T:
    """Rebuild a ``kind`` (a record type or e.g. ``list[Run]``) from JSON bytes or parsed data."""
    try:
        if isinstance(data, bytes | str):
            return adapter(kind).validate_json(data)  # type: ignore[no-any-return,arg-type]
        return adapter(kind).validate_python(data)  # type: ignore[no-any-return,arg-type]
    except ValidationError as exc:
        # The server and this client disagree about the format: a version mismatch, not user input.
        raise MlpilotError(
            f"the server sent a {getattr(kind, '__name__', kind)} this client cannot read: {exc.errors()[0]['msg']}",
            hint="Use the same mlpilot version on the client and the server.",
        ) from exc
