"""Fixtures for the prediction log: a log folder in tmp_path, and a helper that writes batches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "predictions"


@pytest.fixture
def log_batches(root: Path) -> Callable[..., None]:
    """Write batches for one deployment, each flush making its own segments."""

    def write(deployment: str, *batches: PredictionBatch, one_segment: bool = False) -> None:
        with PredictionLogWriter(root, flush_seconds=60) as writer:
            for batch in batches:
                writer.append(deployment, batch)
                if not one_segment:
                    writer.flush()
            assert writer.dropped_rows == 0

    return write
