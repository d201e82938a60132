"""Frames for the dataset tests; importable by worker processes, unlike conftest."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sample_frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """A small frame with one column of each kind the profile distinguishes."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50_000, 12_000, rows).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "churned": rng.random(rows) < 0.2,
            "signup": pd.date_range("2024-01-01", periods=rows, freq="h"),
        }
    )


def every_kind_frame() -> pd.DataFrame:
    """Awkward dtypes that must survive the trip through Arrow and Parquet with the same hash."""
    import datetime as dt
    import decimal

    return pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [1.5, np.nan, -0.0],
            "text": ["a", None, "c"],
            "bool": [True, False, True],
            "nullable_bool": pd.array([True, None, False], dtype="boolean"),
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "string": pd.array(["x", None, "z"], dtype="string"),
            "category": pd.Categorical(["u", "v", "u"], categories=["u", "v", "w"]),
            "datetime": pd.to_datetime(pd.Series(["2024-01-01", None, "2024-03-01"])),
            "datetime_tz": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).tz_localize("Europe/Paris"),
            "duration": pd.to_timedelta([1, 2, 3], unit="s"),
            "lists": [[1, 2], [3], None],
            "bytes": [b"a", b"b", None],
            "dates": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
            "decimals": [decimal.Decimal("1.5"), None, decimal.Decimal("2")],
            "structs": [{"a": 1}, {"a": 2}, None],
        }
    )
