"""A delivery history made through any client (local or remote): a release, a promotion that goes
wrong, and its rollback. The server, client and CLI tests of DORA share it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

DEPLOYMENT = "churn-api"


def seed_history(client: Any) -> tuple[int, int]:
    """Versions 1 and 2 of ``churn``; ``churn-api`` deployed on v1, v2 promoted from a canary, then
    rolled back: three deployments, one failed, one unplanned. Returns the two version numbers."""
    x = pd.DataFrame({"tenure": np.arange(20, dtype=float)})
    model = LogisticRegression().fit(x, x["tenure"] > 9)
    with client.start_run("dora") as run:
        run.log_model(model, "model", input_example=x.head(2))
    first = client.register_model(run.id, "model", "churn").version
    second = client.register_model(run.id, "model", "churn").version
    client.set_alias("churn", "production", first)
    client.create_deployment(DEPLOYMENT, "churn@production", canary=(second, 0.1))
    client.promote_deployment(DEPLOYMENT)
    client.rollback_deployment(DEPLOYMENT)
    return first, second
