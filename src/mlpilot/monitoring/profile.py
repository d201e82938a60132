"""A reference profile: every column's fitted reference, to store once and compare windows with.

Stored as two parts: the summaries as plain JSON (``to_dict``), computed from every row, and a
uniform sample of whole rows (``sample``, one Parquet file) from which KS and Wasserstein read
their values and on which a model's outputs can be scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlpilot.data import profile as data_profile
from mlpilot.errors import InvalidInput
from mlpilot.monitoring.reference import (
    ColumnReference,
    categorical_from_dict,
    finite_sorted,
    fit_column,
    numeric_from_dict,
)

__all__ = ["DEFAULT_SAMPLE_ROWS", "ReferenceProfile", "check_columns", "column_kind"]

# Enough for KS and Wasserstein to be stable (the normed Wasserstein of a 20,000-value sample
# is within about 0.01 of the full one) while a stored profile stays a few hundred kilobytes.
DEFAULT_SAMPLE_ROWS = 20_000
PROFILE_FORMAT = 1


def check_columns(names: object, argument: str) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise InvalidInput(f"{argument} must be a list of column names, not {names!r}", hint=f'e.g. {argument}=["age"]')
    return [str(name) for name in names]


def column_kind(series: pd.Series[Any], categorical: Sequence[str] = (), numerical: Sequence[str] = ()) -> str:
    """numerical | categorical: from the caller's lists first, then from the dtype."""
    name = str(series.name)
    if name in categorical:
        return "categorical"
    family = data_profile.column_kind(series.dtype)
    if name in numerical:
        if family not in ("numeric", "boolean"):
            raise InvalidInput(
                f"column {name!r} was named numerical but holds {series.dtype} values",
                hint="Convert it to numbers first, or leave it out of numerical=.",
            )
        return "numerical"
    if family in ("datetime", "timedelta"):
        raise InvalidInput(
            f"column {name!r} holds dates or times, which are not tested for drift",
            hint="Leave it out with columns=, or convert it to numbers (for example seconds since an event).",
        )
    return "numerical" if family == "numeric" else "categorical"


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    columns: Mapping[str, ColumnReference]
    rows: int
    # A uniform sample of whole rows (at most sample_rows of them): the values KS and Wasserstein
    # read, and rows a model can score to give its outputs a reference. None when every value is
    # kept in the column references (an in-memory comparison).
    sample: pd.DataFrame | None

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        *,
        columns: Sequence[str] | None = None,
        categorical: Sequence[str] = (),
        numerical: Sequence[str] = (),
        sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
        seed: int = 0,
    ) -> ReferenceProfile:
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(f"a reference profile is fitted on a pandas DataFrame, not {type(frame).__name__}")
        if sample_rows is not None and (
            isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or sample_rows < 1
        ):
            raise InvalidInput(
                f"sample_rows must be a whole number of at least 1 (or None for every row), not {sample_rows!r}",
                hint="e.g. sample_rows=20_000",
            )
        names = check_columns(columns, "columns") or [str(name) for name in frame.columns]
        absent = [name for name in names if name not in frame.columns]
        if absent:
            raise InvalidInput(f"the reference data has no column {', '.join(map(repr, absent))}")
        sample = None
        if sample_rows is not None:
            sample = frame[names]
            if len(frame) > sample_rows:
                rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=sample_rows, replace=False))
                sample = sample.iloc[rows]
            sample = sample.reset_index(drop=True)
        fitted = {
            name: fit_column(
                frame[name],
                column_kind(frame[name], categorical, numerical),
                sample=None if sample is None else sample[name],
            )
            for name in names
        }
        return cls(fitted, len(frame), sample)

    def with_column(self, name: str, reference: ColumnReference, sample: pd.Series[Any] | None) -> ReferenceProfile:
        """This profile plus one more column (the model's output, scored on the sample rows)."""
        frame = self.sample
        if frame is not None and sample is not None:
            frame = frame.assign(**{name: sample.to_numpy()})
        return ReferenceProfile({**self.columns, name: reference}, self.rows, frame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "rows": self.rows,
            "sample_rows": None if self.sample is None else len(self.sample),
            "columns": {name: reference.to_dict() for name, reference in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], sample: pd.DataFrame) -> ReferenceProfile:
        columns: dict[str, ColumnReference] = {}
        for name, summary in data["columns"].items():
            if summary["kind"] == "numerical":
                values = finite_sorted(sample[name])[0] if name in sample.columns else np.empty(0)
                columns[name] = numeric_from_dict(summary, values)
            else:
                columns[name] = categorical_from_dict(summary)
        return cls(columns, int(data["rows"]), sample)
