"""What the declaration tests share: a complete example file, a writer for files, and a store
with a registered model and pipeline to declare deployments of."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.orchestration.stored import save_pipeline

GOOD = textwrap.dedent(
    """\
    name: churn
    deployments:
      - name: churn-api
        model: churn@production
        max_batch_size: 32
        canary: {alias: challenger, weight: 0.1}
        shadow: {version: 3, share: 0.5}
        monitors:
          - name: churn-drift
            window: 1h
            schedule_seconds: 600
            conditions: {drift_share: 0.3, latency_p99_ms: 250, error_rate: 0.02}
            webhooks: [https://hooks.example.com/mlpilot]
        retrain:
          - pipeline: churn-retrain
            on: alert
            monitor: churn-drift
            params: {candidates: 3}
          - {pipeline: churn-retrain, on: schedule, cron: "0 3 * * 1"}
    """
)


def write(folder: Path, text: str, name: str = "mlpilot.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def seeded(client: Client) -> None:
    """Versions 1-3 of a real scikit-learn model ``churn`` (production → 1, challenger → 2) and a
    registered pipeline ``churn-retrain``."""
    x = pd.DataFrame({"tenure": np.arange(20, dtype=float)})
    model = LogisticRegression().fit(x, x["tenure"] > 9)
    with client.start_run("declared") as run:
        run.log_model(model, "model", input_example=x.head(2))
    for _ in range(3):
        client.register_model(run.id, "model", "churn")
    client.set_alias("churn", "production", 1)
    client.set_alias("churn", "challenger", 2)
    save_pipeline(client.db, "churn-retrain", source="pipelines.py:churn_retrain", workdir=None, steps=[])
