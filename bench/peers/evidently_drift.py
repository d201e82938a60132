"""The Evidently side of the drift benchmark (run by bench/drift.py inside .bench/evidently-venv).

    .bench/evidently-venv/bin/python bench/peers/evidently_drift.py --rows 100000 --seed 42

Generates the frames of bench/peers/drift_data.py, then times the drift step with Evidently's
defaults:

    Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=DataDefinition(numerical_columns=..., categorical_columns=...)),
        Dataset.from_pandas(reference, data_definition=...),
    )

(both ``Dataset.from_pandas`` calls inside the timing). Per column it reads the ``ValueDrift``
metrics of the snapshot's ``dict()``: the method Evidently chose, its threshold and the drift score.
Evidently 0.7 reports no per-column drift flag there unless tests are included, which the default
does not do; the flag is therefore taken from the drift table the preset computes along the way
(``DataDriftTableResults.drift_by_columns[...].drift_detected``, a private attribute of the
context) and checked against the rule of the method (score >= threshold for a distance, score <
threshold for a p-value) and against the snapshot's ``DriftedColumnsCount``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from drift_data import CATEGORICAL, NUMERICAL, ColumnResult, Extract, Step, emit, run_tool


def _rule(method: str, score: float, threshold: float) -> bool:
    """Evidently's verdict from a score: a p-value drifts below the threshold, a distance at or above it."""
    return score < threshold if "p_value" in method else score >= threshold


def _legacy_flags(snapshot: Any) -> dict[str, dict[str, Any]]:
    """Per column, what the preset's legacy drift table decided (empty if the internals moved)."""
    try:
        legacy = snapshot.context._legacy_metrics
    except AttributeError:
        return {}
    flags: dict[str, dict[str, Any]] = {}
    for value in legacy.values():
        result = value[0] if isinstance(value, tuple) else value
        for name, column in (getattr(result, "drift_by_columns", None) or {}).items():
            flags[name] = {
                "drift_detected": bool(column.drift_detected),
                "stattest_name": column.stattest_name,
                "drift_score": float(column.drift_score),
                "threshold": float(column.stattest_threshold),
                "column_type": column.column_type,
            }
    return flags


def load() -> tuple[Step, Extract]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    def step(reference: Any, current: Any) -> Any:
        definition = DataDefinition(numerical_columns=NUMERICAL, categorical_columns=CATEGORICAL)
        report = Report([DataDriftPreset()])
        return report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )

    def extract(snapshot: Any) -> tuple[list[ColumnResult], dict[str, Any]]:
        metrics = snapshot.dict()["metrics"]
        legacy = _legacy_flags(snapshot)
        columns: list[ColumnResult] = []
        counted: dict[str, Any] = {}
        disagreements: list[str] = []
        for metric in metrics:
            config = metric["config"]
            kind = config["type"].rsplit(":", 1)[-1]
            if kind == "DriftedColumnsCount":
                counted = {"count": metric["value"]["count"], "share": metric["value"]["share"]}
                continue
            if kind != "ValueDrift":
                continue
            name, method, threshold = config["column"], config["method"], float(config["threshold"])
            score = float(metric["value"])
            by_rule = _rule(method, score, threshold)
            drifted = legacy[name]["drift_detected"] if name in legacy else by_rule
            if drifted != by_rule:
                disagreements.append(f"{name}: legacy table says {drifted}, the rule of {method!r} says {by_rule}")
            if name in legacy and (legacy[name]["stattest_name"], legacy[name]["drift_score"]) != (method, score):
                disagreements.append(f"{name}: legacy table has {legacy[name]}, ValueDrift {method!r} {score}")
            p_value = score if "p_value" in method else None
            columns.append(
                ColumnResult(name, method, None if p_value is not None else score, p_value, threshold, drifted)
            )
        if counted and int(counted["count"]) != sum(column.drifted for column in columns):
            disagreements.append(f"DriftedColumnsCount is {counted['count']}, the columns flagged number differently")
        extras = {
            "drifted_columns_count": counted,
            "flag_source": "legacy DataDriftTable" if legacy else "rule of the method (legacy table not found)",
            "flag_disagreements": disagreements,
        }
        return columns, extras

    return step, extract


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()
    emit(run_tool("evidently", args.rows, args.seed, load))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
