"""Profiles and drift on Spark against the pandas path on the same data: the same profile fields
(quantiles within the stated relative error) and the same drift verdicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlpilot.spark
from mlpilot.data.profile import QUANTILES, build_profile
from mlpilot.errors import InvalidInput
from mlpilot.monitoring import ReferenceProfile, drift


def _frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50 + shift, 10, rows)
    income[:7] = np.nan
    income[7:9] = np.inf
    plan = rng.choice(["basic", "pro", "max"], rows, p=[0.6 - shift / 100, 0.3, 0.1 + shift / 100]).astype(object)
    plan[:5] = None
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": income,
            "plan": plan,
            "active": rng.random(rows) < 0.7 + shift / 100,
            "visits": rng.poisson(3 + shift / 10, rows),
            "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows), unit="s"),
        }
    )


@pytest.fixture(scope="module")
def frames(spark: Any) -> dict[str, Any]:
    reference, current = _frame(5000, seed=0), _frame(2000, seed=1, shift=8.0)
    return {
        "reference": reference,
        "current": current,
        "spark_reference": spark.createDataFrame(reference).repartition(3),
        "spark_current": spark.createDataFrame(current).repartition(2),
    }


def test_profile_matches_the_pandas_profile(frames: dict[str, Any]) -> None:
    theirs = build_profile(frames["reference"])
    mine = mlpilot.spark.profile(frames["spark_reference"])
    assert (mine["rows"], mine["columns"]) == (theirs["rows"], theirs["columns"])
    error = mine["approximate"]["quantiles"]["relative_error"]
    assert error == pytest.approx(1e-3)
    assert list(mine["fields"]) == list(theirs["fields"])
    for name, expected in theirs["fields"].items():
        got = mine["fields"][name]
        assert (got["kind"], got["dtype"]) == (expected["kind"], expected["dtype"]), name
        if expected["kind"] != "numeric":
            assert got == expected, name
            continue
        for exact in ("count", "nulls", "infinite", "min", "max", "histogram"):
            assert got[exact] == expected[exact], (name, exact)
        assert got["mean"] == pytest.approx(expected["mean"], rel=1e-9)
        assert got["std"] == pytest.approx(expected["std"], rel=1e-9)
        values = frames["reference"][name].to_numpy(dtype=np.float64)
        finite = np.sort(values[np.isfinite(values)])
        slack = error + 1 / len(finite)
        for label, point in QUANTILES.items():
            low, high = np.quantile(finite, [max(point - slack, 0), min(point + slack, 1)])
            assert low <= got["quantiles"][label] <= high, (name, label)


def test_profile_of_an_empty_frame(spark: Any) -> None:
    empty = spark.createDataFrame(_frame(3, seed=0)).limit(0)
    profile = mlpilot.spark.profile(empty)
    assert profile["rows"] == 0
    assert profile["fields"]["income"]["quantiles"] is None
    assert profile["fields"]["plan"] == {
        "kind": "categorical", "dtype": "object", "count": 0, "nulls": 0, "distinct": 0, "top": [],
    }  # fmt: skip
    with pytest.raises(InvalidInput, match="takes a Spark DataFrame"):
        mlpilot.spark.profile(_frame(3, seed=0))  # type: ignore[arg-type]


def _summary(report: Any) -> dict[str, tuple[Any, ...]]:
    return {f.column: (f.verdict, f.method, f.current_rows) for f in report.features}


def test_drift_verdicts_match_the_pandas_path(frames: dict[str, Any]) -> None:
    fitted = ReferenceProfile.fit(frames["reference"].drop(columns=["seen"]))
    # What the store keeps and reads back: the JSON summaries and the sample rows.
    stored = ReferenceProfile.from_dict(fitted.to_dict(), fitted.sample)
    theirs = drift(stored, frames["current"])
    mine = mlpilot.spark.drift(frames["spark_current"], stored)
    assert _summary(mine) == _summary(theirs)
    assert mine.dataset_drifted == theirs.dataset_drifted
    assert mine.drifted_columns, "the shifted columns drift"
    for feature in theirs.features:
        assert mine[feature.column].statistic == pytest.approx(feature.statistic, rel=1e-9, abs=1e-12)
    with_ks = mlpilot.spark.drift(frames["spark_current"], stored, method="psi", correction=None)
    assert _summary(with_ks) == _summary(drift(stored, frames["current"], method="psi"))


def test_drift_of_missing_and_mismatched_columns(spark: Any, frames: dict[str, Any]) -> None:
    fitted = ReferenceProfile.fit(frames["reference"][["age", "plan"]])
    current = frames["current"][["plan"]].rename(columns={"plan": "age"}).assign(extra=1)
    theirs = drift(fitted, current)
    mine = mlpilot.spark.drift(spark.createDataFrame(current), fitted)
    assert _summary(mine) == _summary(theirs)
    assert mine["plan"].verdict.value == "missing"
    assert "are not numbers" in (mine["age"].message or "")
    with pytest.raises(InvalidInput, match="takes a Spark DataFrame"):
        mlpilot.spark.drift(current, fitted)  # type: ignore[arg-type]
