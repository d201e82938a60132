"""Factories for prediction batches: a few rows of every feature type, or many float columns."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlpilot.prediction_log import PredictionBatch, new_prediction_id

_REQUESTS = itertools.count()
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAY_MS = 86_400_000


def id_at(ms: int) -> str:
    """A prediction id made at ``ms``, as the serving layer's ids are made when it predicts."""
    return f"{ms:012x}{new_prediction_id()[12:]}"


def mixed_inputs() -> pd.DataFrame:
    """Four rows of every feature type a signature allows, with NaN and None among them."""
    return pd.DataFrame(
        {
            "amount": [1.5, np.nan, 3.0, -4.25],
            "count": [1, 2, 3, 4],
            "flag": [True, False, True, False],
            "city": ["Paris", None, "Lyon", np.nan],
            "plan": pd.Categorical(["basic", "pro", "basic", None]),
            "seen": pd.to_datetime(["2024-01-01 08:00", None, "2024-01-03 12:30", "2024-01-04 00:00"]),
            "seen_local": pd.to_datetime(
                ["2024-01-01 08:00", "2024-01-02 09:00", None, "2024-01-04 00:00"]
            ).tz_localize("Europe/Paris"),
            "maybe": pd.array([7, None, 9, 10], dtype="Int64"),
        }
    )


def float_inputs(rows: int, columns: int = 30, *, seed: int = 0) -> pd.DataFrame:
    values = np.random.default_rng(seed).random((rows, columns))
    return pd.DataFrame(values, columns=[f"f{i}" for i in range(columns)])


def make_batch(
    rows: int = 4,
    *,
    time_ms: int | Sequence[int] = T0,
    inputs: pd.DataFrame | None = None,
    predictions: object = None,
    model: str = "churn",
    version: int = 1,
    role: str = "primary",
    classes: Sequence[str | int] | None = None,
    prediction_ids: Sequence[str] | None = None,
) -> PredictionBatch:
    frame = inputs if inputs is not None else pd.DataFrame({"x": np.arange(rows, dtype=np.float64)})
    rows = len(frame)
    times = [time_ms] * rows if isinstance(time_ms, int) else list(time_ms)
    request = f"req-{next(_REQUESTS)}"
    probabilities = None
    if classes is not None:
        raw = np.random.default_rng(rows).random((rows, len(classes)))
        probabilities = raw / raw.sum(axis=1, keepdims=True)
    return PredictionBatch(
        model=model,
        version=version,
        role=role,
        inputs=frame,
        predictions=np.arange(rows) % 2 if predictions is None else predictions,
        prediction_ids=list(prediction_ids) if prediction_ids is not None else [id_at(ms) for ms in times],
        request_ids=[request] * rows,
        latency_ms=np.full(rows, 3.5),
        time_ms=time_ms,
        probabilities=probabilities,
        classes=classes,
    )
