"""Frames with known drift: 20 numerical and 5 categorical columns, some of them shifted."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

Frames = Callable[..., tuple[pd.DataFrame, pd.DataFrame]]
SHIFTED = {"num_00", "num_01", "cat_0"}  # large shifts every default method sees


def _frame(rows: int, rng: np.random.Generator, shifted: bool) -> pd.DataFrame:
    columns: dict[str, object] = {}
    for i in range(20):
        kind = i % 4
        if kind == 0:
            values = rng.normal(size=rows)
        elif kind == 1:
            values = rng.lognormal(size=rows)
        elif kind == 2:
            values = rng.uniform(size=rows)
        else:
            values = rng.exponential(size=rows)
        if shifted and i == 0:
            values = values + 0.5
        if shifted and i == 1:
            values = np.log(values) * 1.3
            values = np.exp(values)
        columns[f"num_{i:02d}"] = values
    for j, size in enumerate([4, 8, 12, 30, 100]):
        labels = np.array([f"c{k}" for k in range(size)], dtype=object)
        p = np.arange(1, size + 1, dtype=float)
        p /= p.sum()
        if shifted and j == 0:
            p = p[::-1]
        columns[f"cat_{j}"] = labels[rng.choice(size, size=rows, p=p)]
    return pd.DataFrame(columns)


@pytest.fixture
def frames() -> Frames:
    def make(rows: int = 5_000, current_rows: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng = np.random.default_rng(seed)
        return _frame(rows, rng, False), _frame(current_rows or rows, rng, True)

    return make
