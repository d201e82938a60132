"""Model input as a DataFrame, and a few rows of it as JSON-safe records for the descriptor."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlpilot.errors import InvalidInput

__all__ = ["ModelInput", "as_frame", "json_records"]

ModelInput = pd.DataFrame | Sequence[Mapping[str, Any]]


def as_frame(data: ModelInput) -> pd.DataFrame:
    """A DataFrame as is, or a list of record dicts as a DataFrame (columns in first-seen order)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if not data:
            raise InvalidInput("no rows: the list of records is empty")
        if all(isinstance(row, Mapping) for row in data):
            return pd.DataFrame.from_records([dict(row) for row in data])
    raise InvalidInput(
        f"cannot read model input from a {type(data).__name__}",
        hint="Pass a pandas DataFrame or a list of records like [{'age': 41, 'plan': 'pro'}].",
    )


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain JSON values: missing values become null, timestamps ISO 8601 text."""
    columns = [str(name) for name in frame.columns]
    return [
        {name: _json_value(value) for name, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):  # pd.Timestamp is a datetime
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, np.ndarray | list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    return str(value)
