"""An MLflow PythonModel for the import tests (imported lazily: importing mlflow.pyfunc warns)."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd


class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.Series:
        return model_input["x1"] * 2
