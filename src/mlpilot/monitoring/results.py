"""What a drift comparison found: a verdict per column and for the dataset."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["DriftReport", "FeatureDrift", "Verdict"]


class Verdict(enum.StrEnum):
    DRIFT = "drift"
    NO_DRIFT = "no_drift"
    NOT_ENOUGH_DATA = "not_enough_data"  # fewer values than min_rows on a side: no verdict
    MISSING = "missing"  # the current data has no such column
    ERROR = "error"  # the column cannot be compared (types disagree, …); the message says why


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    column: str
    kind: str | None
    verdict: Verdict
    method: str | None = None
    test: str | None = None  # "p_value" | "distance"
    statistic: float | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None  # after the multiple-testing correction, when one is asked
    threshold: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    message: str | None = None

    @property
    def drifted(self) -> bool | None:
        """True or False when tested; None when there is no verdict (see ``verdict``, ``message``)."""
        if self.verdict is Verdict.DRIFT:
            return True
        return False if self.verdict is Verdict.NO_DRIFT else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "test": self.test,
            "statistic": _finite(self.statistic),
            "p_value": _finite(self.p_value),
            "p_value_adjusted": _finite(self.p_value_adjusted),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "verdict": self.verdict.value,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class DriftReport:
    features: tuple[FeatureDrift, ...]
    drift_share: float  # the dataset drifts when at least this share of tested columns drift
    correction: str | None
    min_rows: int
    reference_rows: int
    current_rows: int

    def __getitem__(self, column: str) -> FeatureDrift:
        for feature in self.features:
            if feature.column == column:
                return feature
        raise KeyError(column)

    @property
    def tested(self) -> tuple[FeatureDrift, ...]:
        return tuple(feature for feature in self.features if feature.drifted is not None)

    @property
    def drifted_columns(self) -> list[str]:
        return [feature.column for feature in self.features if feature.drifted]

    @property
    def share(self) -> float | None:
        """Drifted columns over tested columns; None when no column could be tested."""
        tested = self.tested
        return len(self.drifted_columns) / len(tested) if tested else None

    @property
    def dataset_drifted(self) -> bool | None:
        share = self.share
        return None if share is None else share >= self.drift_share

    def summary(self) -> str:
        if self.share is None:
            return f"no column could be tested ({len(self.features)} asked); see each column's message"
        state = "drifted" if self.dataset_drifted else "not drifted"
        return (
            f"dataset {state}: {len(self.drifted_columns)} of {len(self.tested)} tested columns drifted "
            f"(share {self.share:.2f}, threshold {self.drift_share:.2f})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per column, in the order asked."""
        rows = [feature.to_dict() for feature in self.features]
        frame = pd.DataFrame(rows, columns=list(FeatureDrift("", None, Verdict.ERROR).to_dict()))
        return frame.set_index("column")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drifted": self.dataset_drifted,
            "share": self.share,
            "drift_share": self.drift_share,
            "drifted_columns": self.drifted_columns,
            "tested": len(self.tested),
            "correction": self.correction,
            "min_rows": self.min_rows,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "features": [feature.to_dict() for feature in self.features],
        }
