"""Compare current data with a reference, column by column: ``mlpilot.drift(reference, current)``.

Columns are compared in parallel threads (sorting and merging release the GIL), and each column
is fitted, compared and dropped before the next, so the memory used beyond the two frames stays
a few columns wide whatever the number of rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from mlpilot.data import profile as data_profile
from mlpilot.errors import InvalidInput
from mlpilot.monitoring.corrections import adjust, check_correction
from mlpilot.monitoring.methods import (
    CategoricalCurrent,
    Current,
    Method,
    NumericCurrent,
    default_method,
    get_method,
)
from mlpilot.monitoring.profile import ReferenceProfile, check_columns, column_kind
from mlpilot.monitoring.reference import (
    ColumnReference,
    category_counts,
    finite_sorted,
    fit_column,
)
from mlpilot.monitoring.results import DriftReport, FeatureDrift, Verdict

__all__ = ["DEFAULT_DRIFT_SHARE", "DEFAULT_MIN_ROWS", "ColumnMismatch", "CurrentColumns", "drift"]

DEFAULT_DRIFT_SHARE = 0.5
# Below this many values a side, distances are mostly noise (with no drift PSI averages 0.19 at
# 100 rows) and p-value tests have little power: the column gets "not enough data", not a verdict.
DEFAULT_MIN_ROWS = 100


class ColumnMismatch(Exception):
    """The current column cannot be compared with its reference; the message says why."""


@runtime_checkable
class CurrentColumns(Protocol):
    """Current data that is not a pandas frame (a Spark DataFrame, say): it names its columns,
    counts its rows, and summarizes one column at a time as the drift methods read it — raising
    ColumnMismatch when the column cannot be compared with its reference."""

    @property
    def columns(self) -> Collection[str]: ...

    def __len__(self) -> int: ...

    def prepare(self, column: str, reference: ColumnReference) -> Current: ...


@dataclass(frozen=True, slots=True)
class _Plan:
    column: str
    kind: str
    reference: ColumnReference | pd.Series[Any]
    method: Method | None
    threshold: float | None
    problem: str | None = None  # why the column cannot be tested at all


def drift(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame | CurrentColumns,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    numerical: Sequence[str] | None = None,
    method: str | None = None,
    methods: Mapping[str, str] | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: str | None = None,
    drift_share: float = DEFAULT_DRIFT_SHARE,
    min_rows: int = DEFAULT_MIN_ROWS,
    max_workers: int | None = None,
) -> DriftReport:
    """Test every column of ``current`` against ``reference`` (a DataFrame or a fitted profile).

    The method per column is chosen from its type and the reference size unless ``method`` (all
    columns) or ``methods`` (per column) name one; ``threshold``/``thresholds`` override the
    method's default. ``correction`` ("bonferroni", "holm" or "fdr") adjusts p-values across
    columns. The dataset drifts when at least ``drift_share`` of the tested columns drift.
    """
    if not isinstance(current, pd.DataFrame | CurrentColumns):
        raise InvalidInput(f"current data must be a pandas DataFrame, not {type(current).__name__}")
    chosen_correction = check_correction(correction)
    share = _check_fraction(drift_share, "drift_share")
    floor = _check_min_rows(min_rows)
    plans = _plan(reference, columns, categorical, numerical, method, methods, threshold, thresholds)
    workers = max_workers or min(len(plans), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlpilot-drift") as pool:
        features = list(pool.map(lambda plan: _compare(plan, current, floor), plans))
    if chosen_correction is not None:
        features = _corrected(features, chosen_correction)
    rows = reference.rows if isinstance(reference, ReferenceProfile) else len(reference)
    return DriftReport(tuple(features), share, chosen_correction, floor, rows, len(current))


def _check_fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise InvalidInput(f"{name} must be a number above 0 and at most 1, not {value!r}", hint=f"e.g. {name}=0.5")
    return float(value)


def _check_min_rows(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"min_rows must be a whole number of at least 1, not {value!r}", hint="e.g. min_rows=100")
    return value


def _check_threshold(value: object, column: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        where = f" for column {column!r}" if column else ""
        raise InvalidInput(f"the threshold{where} must be a number of at least 0, not {value!r}")
    return float(value)


def _plan(
    reference: pd.DataFrame | ReferenceProfile,
    columns: Sequence[str] | None,
    categorical: Sequence[str] | None,
    numerical: Sequence[str] | None,
    method: str | None,
    methods: Mapping[str, str] | None,
    threshold: float | None,
    thresholds: Mapping[str, float] | None,
) -> list[_Plan]:
    as_categorical = check_columns(categorical, "categorical")
    as_numerical = check_columns(numerical, "numerical")
    both = sorted(set(as_categorical) & set(as_numerical))
    if both:
        raise InvalidInput(f"column {', '.join(map(repr, both))} cannot be both categorical and numerical")
    per_method = dict(methods or {})
    per_threshold = dict(thresholds or {})
    if isinstance(reference, ReferenceProfile):
        available = list(reference.columns)
    elif isinstance(reference, pd.DataFrame):
        available = [str(name) for name in reference.columns]
    else:
        raise InvalidInput(
            f"reference must be a pandas DataFrame or a ReferenceProfile, not {type(reference).__name__}"
        )
    names = check_columns(columns, "columns") or available
    unknown = [name for name in [*names, *per_method, *per_threshold] if name not in available]
    if unknown:
        raise InvalidInput(
            f"the reference has no column {', '.join(map(repr, dict.fromkeys(unknown)))}",
            hint="Name columns that exist in the reference data.",
        )
    plans: list[_Plan] = []
    for name in names:
        if isinstance(reference, ReferenceProfile):
            fitted: ColumnReference | pd.Series[Any] = reference.columns[name]
            kind = reference.columns[name].kind
        else:
            fitted = reference[name]
            try:
                kind = column_kind(reference[name], as_categorical, as_numerical)
            except InvalidInput as unsupported:
                if name in as_numerical or columns is not None:
                    raise
                # A timestamp beside the features is common; it gets a message, not a refusal.
                plans.append(_Plan(name, "unsupported", fitted, None, None, unsupported.message))
                continue
        chosen = per_method.get(name, method)
        chosen_method = None if chosen is None else get_method(chosen)
        if chosen_method is not None and kind not in chosen_method.kinds:
            raise InvalidInput(
                f"method {chosen_method.name!r} does not apply to the {kind} column {name!r}",
                hint=f"It applies to {' and '.join(sorted(chosen_method.kinds))} columns; "
                "choose per column with methods=.",
            )
        limit = per_threshold.get(name, threshold)
        plans.append(_Plan(name, kind, fitted, chosen_method, None if limit is None else _check_threshold(limit, name)))
    return plans


def _compare(plan: _Plan, current: pd.DataFrame | CurrentColumns, min_rows: int) -> FeatureDrift:
    try:
        return _compare_column(plan, current, min_rows)
    except (TypeError, ValueError, OverflowError) as unusable:
        # Values no test can read (objects of mixed kinds, numbers beyond float range): this
        # column gets the reason, the others still get their verdicts.
        return FeatureDrift(plan.column, plan.kind, Verdict.ERROR, message=f"cannot compare this column: {unusable}")


def _compare_column(plan: _Plan, current: pd.DataFrame | CurrentColumns, min_rows: int) -> FeatureDrift:
    if plan.problem is not None:
        return FeatureDrift(plan.column, None, Verdict.ERROR, message=plan.problem)
    reference = plan.reference
    if isinstance(reference, pd.Series):
        # Fitted here rather than up front, so only the columns in flight hold sorted copies.
        reference = fit_column(reference, plan.kind)
    base = FeatureDrift(plan.column, plan.kind, Verdict.ERROR, reference_rows=reference.count)
    if plan.column not in current.columns:
        return replace(base, verdict=Verdict.MISSING, message=f"the current data has no column {plan.column!r}")
    try:
        if isinstance(current, pd.DataFrame):
            observed = _prepare(current[plan.column], reference)
        else:
            observed = current.prepare(plan.column, reference)
    except ColumnMismatch as mismatch:
        return replace(base, message=str(mismatch))
    base = replace(base, current_rows=observed.count)
    if reference.count < min_rows or observed.count < min_rows:
        side, count = ("reference", reference.count) if reference.count < min_rows else ("current", observed.count)
        return replace(
            base,
            verdict=Verdict.NOT_ENOUGH_DATA,
            message=f"{count} non-null {side} values, fewer than min_rows={min_rows}: no verdict",
        )
    method = plan.method or default_method(reference, observed)
    try:
        statistic, p_value = method.score(reference, observed)
    except InvalidInput as refused:
        return replace(base, method=method.name, test=method.test, message=refused.message)
    limit = plan.threshold if plan.threshold is not None else method.default_threshold
    drifted = method.drifted(statistic, p_value, limit)
    return replace(
        base,
        verdict=Verdict.DRIFT if drifted else Verdict.NO_DRIFT,
        method=method.name,
        test=method.test,
        statistic=statistic,
        p_value=p_value,
        threshold=limit,
    )


def _prepare(series: pd.Series[Any], reference: ColumnReference) -> Current:
    family = data_profile.column_kind(series.dtype)
    if reference.kind == "numerical":
        if family in ("datetime", "timedelta"):
            raise ColumnMismatch(f"the current column holds {series.dtype} values but the reference is numerical")
        if family == "categorical":
            converted = pd.to_numeric(series, errors="coerce")
            bad = int(converted.isna().sum()) - int(series.isna().sum())
            if bad:
                raise ColumnMismatch(
                    f"{bad} of {len(series)} current values are not numbers, but the reference column is numerical"
                )
            series = converted
        values, nulls, _infinite = finite_sorted(series)
        return NumericCurrent(values, nulls)
    counts, nulls = category_counts(series)
    if counts and family != reference.family:
        raise ColumnMismatch(
            f"the current column holds {family} values ({series.dtype}) "
            f"but the reference holds {reference.family} values"
        )
    return CategoricalCurrent(counts, nulls)


def _corrected(features: list[FeatureDrift], correction: str) -> list[FeatureDrift]:
    tested = [i for i, feature in enumerate(features) if feature.test == "p_value" and feature.p_value is not None]
    adjusted = adjust([features[i].p_value or 0.0 for i in tested], correction)
    for index, p_value in zip(tested, adjusted, strict=True):
        feature = features[index]
        drifted = p_value < (feature.threshold or 0.0)
        features[index] = replace(
            feature, p_value_adjusted=p_value, verdict=Verdict.DRIFT if drifted else Verdict.NO_DRIFT
        )
    return features
