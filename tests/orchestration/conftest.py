from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FLOW = """
import pandas as pd
from mlpilot.pipelines import pipeline, step


@step(cache=False)
def fetch(rows: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"x": list(range(rows))})


@step
def total(frame: pd.DataFrame) -> float:
    return float(frame["x"].sum())


@pipeline
def retrain(rows: int = 5) -> None:
    total(fetch(rows))
"""


@pytest.fixture
def store(store_uri: str, tmp_path: Path, isolated_env: Path) -> Iterator[Any]:
    """A client on a fresh store with the ``retrain`` pipeline (a file in the working folder) registered."""
    from mlpilot.client import Client
    from mlpilot.config import load_settings
    from mlpilot.orchestration.stored import save_pipeline
    from mlpilot.pipelines import load_source

    (isolated_env / "flow.py").write_text(FLOW)
    client = Client(store_uri, str(tmp_path / "artifacts"), settings=load_settings(home=tmp_path / "home"))
    found = load_source(str(isolated_env / "flow.py") + ":retrain")
    save_pipeline(client.db, "retrain", source=found.source, workdir=str(isolated_env), steps=found.compose().to_list())
    yield client
    client.close()
