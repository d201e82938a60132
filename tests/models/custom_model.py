"""Models of the generic Python flavor, in an importable module so a fresh process can unpickle them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


class ThresholdModel:
    """Class 1 when ``column`` exceeds ``threshold``; probabilities from the distance to it."""

    def __init__(self, column: str, threshold: float) -> None:
        self.column = column
        self.threshold = threshold

    def predict(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        return (frame[self.column].to_numpy() > self.threshold).astype(np.int64)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        positive = 1.0 / (1.0 + np.exp(self.threshold - frame[self.column].to_numpy(dtype=float)))
        return np.column_stack([1.0 - positive, positive])


class ListModel:
    """Returns a plain list and has no predict_proba."""

    def predict(self, frame: pd.DataFrame) -> list[str]:
        return ["big" if value > 5 else "small" for value in frame["sepal length (cm)"]]


class FragileModel:
    """Raises on any row whose ``x`` is negative (a model bug the server must contain), and
    sleeps ``delay`` seconds per call (a slow model)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def predict(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        if self.delay:
            import time

            time.sleep(self.delay)
        values = frame["x"].to_numpy(dtype=float)
        if (values < 0).any():
            raise ValueError("secret internal detail: negative x")
        return values * 2.0
