"""Batch scoring of Spark DataFrames: same predictions as the pandas engine, for every flavor,
with signature problems reported before any task runs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import mlpilot.spark
from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.errors import InvalidInput
from mlpilot.models.signature import SignatureError


def _frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.integers(18, 90, rows), "income": rng.normal(50, 10, rows)})
    frame["plan"] = rng.choice(["basic", "pro"], rows)
    return frame


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("spark-scoring")
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    frame = _frame()
    features = frame[["age", "income"]]
    label = (frame["income"] > 50).astype(int)
    with client.start_run("churn") as run:
        run.log_model(LogisticRegression().fit(features, label), "model", input_example=features.head(5))
    client.register_model(run.id, "model", "churn")
    client.set_alias("churn", "production", 1)
    with client.start_run("spend") as run:
        run.log_model(LinearRegression().fit(features, frame["income"] * 2), "model", input_example=features.head(5))
    client.register_model(run.id, "model", "spend")
    yield client
    client.close()


def test_scores_match_the_pandas_engine(spark: Any, store: Client) -> None:
    frame = _frame(seed=1)
    df = spark.createDataFrame(frame).repartition(3)
    scored = mlpilot.spark.score(df, "models:/churn@production", client=store, proba=True)
    assert scored.columns == ["age", "income", "plan", "prediction", "proba_0", "proba_1"]
    result = scored.toPandas().sort_values(["age", "income"]).reset_index(drop=True)
    expected_frame = frame.sort_values(["age", "income"]).reset_index(drop=True)
    model = store.load_model("models:/churn@production")
    assert result["prediction"].tolist() == model.predict(expected_frame[["age", "income"]]).tolist()
    np.testing.assert_allclose(
        result[["proba_0", "proba_1"]].to_numpy(), model.predict_proba(expected_frame[["age", "income"]])
    )


def test_a_regressor_gives_float_predictions(spark: Any, store: Client) -> None:
    df = spark.createDataFrame(_frame(50))
    model = store.load_model("models:/spend/1")
    scored = mlpilot.spark.score(df, model)
    assert dict(scored.dtypes)["prediction"] == "double"
    values = scored.toPandas()
    np.testing.assert_allclose(values["prediction"], model.predict(values[["age", "income"]]))


def test_a_missing_signature_column_fails_before_any_task_runs(spark: Any, store: Client) -> None:
    df = spark.createDataFrame(_frame(20).drop(columns=["income"]))
    tracker = spark.sparkContext.statusTracker()
    jobs_before = set(tracker.getJobIdsForGroup())
    with pytest.raises(SignatureError, match=r"column 'income' \(float\) is missing"):
        mlpilot.spark.score(df, "models:/churn@production", client=store)
    assert set(tracker.getJobIdsForGroup()) == jobs_before


def test_a_column_of_the_wrong_type_fails_before_any_task_runs(spark: Any, store: Client) -> None:
    df = spark.createDataFrame(_frame(20).assign(income="high"))
    with pytest.raises(SignatureError, match="should hold float values but the Spark column is string"):
        mlpilot.spark.score(df, "models:/churn@production", client=store)


def test_bad_arguments(spark: Any, store: Client) -> None:
    df = spark.createDataFrame(_frame(20).assign(prediction=1.0))
    with pytest.raises(InvalidInput, match="already has a column 'prediction'"):
        mlpilot.spark.score(df, "models:/churn@production", client=store)
    with pytest.raises(InvalidInput, match="takes a Spark DataFrame"):
        mlpilot.spark.score(_frame(5), "models:/churn@production", client=store)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="gives no class probabilities"):
        mlpilot.spark.score(spark.createDataFrame(_frame(5)), "models:/spend/1", client=store, proba=True)


def test_empty_partitions_and_frames_score_to_nothing(spark: Any, store: Client) -> None:
    df = spark.createDataFrame(_frame(3)).repartition(6)
    assert mlpilot.spark.score(df, "models:/churn@production", client=store, proba=True).count() == 3
    assert mlpilot.spark.score(df.limit(0), "models:/churn@production", client=store).count() == 0
