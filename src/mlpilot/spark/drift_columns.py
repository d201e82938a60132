"""Drift of a Spark DataFrame against a reference: the pandas path's methods and verdicts, with
the current side summarized by Spark.

``mlpilot.monitoring.drift`` does the planning, method choice, thresholds, corrections and
verdicts; this module only supplies each current column as those methods read it:

- categorical columns: the count per category, from a Spark group-by (only the counts reach the
  driver);
- numerical columns: the sorted finite values, which KS and Wasserstein need whole. They come to
  the driver one float64 column at a time (8 bytes a row); above ``max_values`` rows a uniform
  sample of that many is taken instead, and the report's row counts say so.

The same data therefore gets the same verdicts as on pandas (up to ``max_values`` rows).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlpilot.data import profile as data_profile
from mlpilot.errors import InvalidInput
from mlpilot.monitoring.drift import DEFAULT_DRIFT_SHARE, DEFAULT_MIN_ROWS, ColumnMismatch
from mlpilot.monitoring.drift import drift as pandas_drift
from mlpilot.monitoring.methods import CategoricalCurrent, Current, NumericCurrent
from mlpilot.monitoring.profile import ReferenceProfile
from mlpilot.monitoring.reference import ColumnReference
from mlpilot.monitoring.references import StoredReference
from mlpilot.monitoring.results import DriftReport
from mlpilot.spark.schema import pandas_dtype

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["DEFAULT_MAX_VALUES", "SparkColumns", "drift"]

DEFAULT_MAX_VALUES = 5_000_000


def _family(data_type: Any) -> str:
    return data_profile.column_kind(pd.api.types.pandas_dtype(pandas_dtype(data_type, nullable=False)))


def _label(value: object) -> str:
    # As the pandas reference labels categories: 1 and 1.0 are one category.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class SparkColumns:
    """A Spark DataFrame seen as the drift methods read current data, one column at a time."""

    df: DataFrame
    rows: int
    max_values: int = DEFAULT_MAX_VALUES

    @property
    def columns(self) -> Collection[str]:
        return self.df.columns

    def __len__(self) -> int:
        return self.rows

    def prepare(self, column: str, reference: ColumnReference) -> Current:
        field = self.df.schema[column]
        family = _family(field.dataType)
        if reference.kind == "numerical":
            if family in ("datetime", "timedelta"):
                raise ColumnMismatch(
                    f"the current column holds {field.dataType.simpleString()} values but the reference is numerical"
                )
            return self._numeric(column, family)
        counts, nulls = self._categories(column)
        if counts and family != reference.family:
            raise ColumnMismatch(
                f"the current column holds {family} values ({field.dataType.simpleString()}) "
                f"but the reference holds {reference.family} values"
            )
        return CategoricalCurrent(counts, nulls)

    def _numeric(self, column: str, family: str) -> NumericCurrent:
        from pyspark.sql import functions as sf

        original = sf.col(f"`{column}`")
        # try_cast: under ANSI mode (the default in Spark 4) a plain cast fails the job on bad text.
        value = original.try_cast("double")
        missing = value.isNull() | sf.isnan(value)
        totals = self.df.agg(
            sf.count(sf.when(missing, 1)).alias("nulls"),
            sf.count(sf.when(original.isNotNull() & value.isNull(), 1)).alias("bad"),
        ).collect()[0]
        if family == "categorical" and totals["bad"]:
            raise ColumnMismatch(
                f"{totals['bad']} of {self.rows} current values are not numbers, but the reference column is numerical"
            )
        finite = self.df.select(value.alias("v")).where(~missing & (sf.abs(sf.col("v")) != float("inf")))
        if self.rows > self.max_values:
            finite = finite.sample(fraction=min(1.0, self.max_values / self.rows), seed=0)
        values = finite.toPandas()["v"].to_numpy(dtype=np.float64)
        values.sort()
        return NumericCurrent(values, int(totals["nulls"] or 0))

    def _categories(self, column: str) -> tuple[dict[str, int], int]:
        from pyspark.sql import functions as sf

        original = sf.col(f"`{column}`")
        grouped = self.df.groupBy(original.alias("value")).agg(sf.count(sf.lit(1)).alias("n")).collect()
        counts: dict[str, int] = {}
        nulls = 0
        for row in grouped:
            value = row["value"]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                nulls += int(row["n"])
                continue
            label = _label(value)
            counts[label] = counts.get(label, 0) + int(row["n"])
        return counts, nulls


def drift(
    current: DataFrame,
    reference: ReferenceProfile | StoredReference | pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    method: str | None = None,
    methods: Mapping[str, str] | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: str | None = None,
    drift_share: float = DEFAULT_DRIFT_SHARE,
    min_rows: int = DEFAULT_MIN_ROWS,
    max_values: int = DEFAULT_MAX_VALUES,
) -> DriftReport:
    """Test every reference column of the Spark DataFrame ``current`` against ``reference`` (a
    fitted or stored reference profile, or a pandas frame), with ``mlpilot.drift``'s options."""
    from pyspark.sql import DataFrame

    if not isinstance(current, DataFrame):
        raise InvalidInput(f"mlpilot.spark.drift takes a Spark DataFrame, not {type(current).__name__}")
    if isinstance(max_values, bool) or not isinstance(max_values, int) or max_values < 1:
        raise InvalidInput(f"max_values must be a whole number of at least 1, not {max_values!r}")
    fitted = reference.profile if isinstance(reference, StoredReference) else reference
    return pandas_drift(
        fitted,
        SparkColumns(current, current.count(), max_values),
        columns=columns,
        method=method,
        methods=methods,
        threshold=threshold,
        thresholds=thresholds,
        correction=correction,
        drift_share=drift_share,
        min_rows=min_rows,
    )
