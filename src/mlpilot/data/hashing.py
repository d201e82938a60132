"""A deterministic content hash of a frame: the same data gives the same hash whether it arrives as
a DataFrame, a pyarrow Table or the Parquet file written from either.

Each column contributes its name, its type and one 64-bit pandas hash per value, in row order, to
one sha256. The per-value hashes are vectorized, so a million rows of twenty columns take well
under a second; sha256 over them makes the final digest collision-resistant.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from pandas.util import hash_pandas_object

__all__ = ["HASH_SCHEME", "canonical_strings", "column_type", "content_hash"]

# Part of every digest: change it whenever the scheme changes, so old and new hashes never collide.
HASH_SCHEME = b"mlpilot.dataset-hash.v1"
# Object columns of these inferred types hash natively; pandas hashes str and bytes alike, so the
# inferred type is part of the column's type token.
_NATIVE_OBJECT_TYPES = {"string", "bytes", "empty"}
_NULL_HASH = np.uint64(2**64 - 1)


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 hex of the frame's column names, column types and values, in order."""
    digest = hashlib.sha256(HASH_SCHEME)
    digest.update(len(frame).to_bytes(8, "little"))
    for name in frame.columns:
        series = frame[name]
        _update_framed(digest, str(name).encode())
        kind = column_type(series)
        _update_framed(digest, kind.encode())
        digest.update(_value_hashes(series, kind))
    return digest.hexdigest()


def column_type(series: pd.Series[Any]) -> str:
    """The pandas dtype, refined for object columns by what they hold (``object:string``)."""
    if series.dtype == object:
        return f"object:{pd.api.types.infer_dtype(series, skipna=True)}"
    return str(series.dtype)


def canonical_strings(series: pd.Series[Any]) -> pd.Series[Any]:
    """Object values as canonical JSON text, so lists read back from Parquet as numpy arrays, dicts
    and other unhashable values compare and hash equal to the originals. Nulls stay None."""
    return pd.Series([_canonical(value) for value in series], index=series.index, dtype=object)


def _value_hashes(series: pd.Series[Any], kind: str) -> bytes:
    """One little-endian uint64 per value, in row order; every kind of missing value alike."""
    if kind.startswith("object:") and kind.removeprefix("object:") not in _NATIVE_OBJECT_TYPES:
        series = canonical_strings(series)
    # categorize=False is several times faster on high-cardinality text, but hashes None as the
    # text "None" and NaN by its bit pattern; nulls are overwritten with one marker below.
    hashes = hash_pandas_object(series, index=False, categorize=False).to_numpy(dtype="<u8", copy=True)
    hashes[series.isna().to_numpy(dtype=bool)] = _NULL_HASH
    return hashes.tobytes()


def _update_framed(digest: Any, data: bytes) -> None:
    # Length-prefixed so that ("ab", "c") and ("a", "bc") feed different bytes.
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def _canonical(value: object) -> str | None:
    if _is_null(value):
        return None
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _is_null(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: object) -> object:
    """A JSON-ready copy of a value as pandas or Parquet may hand it back: numpy arrays for lists,
    numpy scalars, dates, bytes, decimals."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(item) for item in value), key=repr)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        # Parquet widens a nested integer field to float when the field has nulls.
        return int(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, decimal.Decimal):
        # Parquet stores a decimal column at one scale, so 2 comes back as 2.0.
        return str(value.normalize())
    return f"{type(value).__qualname__}:{value}"
