"""Multiple-testing corrections for the p-values of one drift comparison.

Testing twenty-five columns at p < 0.05 flags about one column in a comparison where nothing
moved; a correction adjusts the p-values so the threshold holds for the comparison as a whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlpilot.errors import InvalidInput

__all__ = ["CORRECTIONS", "adjust", "check_correction"]

CORRECTIONS = {
    "bonferroni": "p times the number of tests (family-wise error rate)",
    "holm": "Holm's step-down Bonferroni (family-wise error rate, more power)",
    "fdr": "Benjamini-Hochberg (false discovery rate)",
}


def check_correction(name: object) -> str | None:
    if name is None or (isinstance(name, str) and name.lower() in ("", "none")):
        return None
    if isinstance(name, str) and name.lower() in CORRECTIONS:
        return name.lower()
    raise InvalidInput(f"unknown multiple-testing correction {name!r}", hint=f"Choose one of {', '.join(CORRECTIONS)}.")


def adjust(p_values: list[float], correction: str) -> list[float]:
    """Adjusted p-values in the order given."""
    p = np.asarray(p_values, dtype=np.float64)
    k = len(p)
    if k == 0:
        return []
    if correction == "bonferroni":
        adjusted: np.ndarray[Any, np.dtype[np.float64]] = np.minimum(p * k, 1.0)
    elif correction == "holm":
        order = np.argsort(p, kind="stable")
        stepped = np.maximum.accumulate(p[order] * (k - np.arange(k)))
        adjusted = np.empty(k)
        adjusted[order] = np.minimum(stepped, 1.0)
    elif correction == "fdr":
        order = np.argsort(p, kind="stable")
        scaled = p[order] * k / np.arange(1, k + 1)
        stepped = np.minimum.accumulate(scaled[::-1])[::-1]
        adjusted = np.empty(k)
        adjusted[order] = np.minimum(stepped, 1.0)
    else:
        raise InvalidInput(f"unknown multiple-testing correction {correction!r}")
    return [float(value) for value in adjusted]
