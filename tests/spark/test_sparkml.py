"""The Spark ML flavor: a PipelineModel is logged, registered, loaded and batch scored like any
other model, and its predictions through mlpilot equal Spark's own ``transform``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlpilot.spark
from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.models.signature import SignatureError


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(40, 10, rows), "income": rng.normal(50, 10, rows)})
    return frame.assign(label=(frame["income"] + rng.normal(0, 3, rows) > 50).astype(float))


@pytest.fixture(scope="module")
def registered(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    home = tmp_path_factory.mktemp("sparkml")
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    train = spark.createDataFrame(_frame(300, seed=0))
    pipeline = Pipeline(
        stages=[VectorAssembler(inputCols=["age", "income"], outputCol="features"), LogisticRegression()]
    )
    fitted = pipeline.fit(train)
    with client.start_run("sparkml") as run:
        logged = run.log_model(fitted, "model", input_example=_frame(5, seed=1)[["age", "income"]])
    client.register_model(run.id, "model", "churn-spark")
    client.set_alias("churn-spark", "production", 1)
    yield client, fitted, logged
    client.close()


def test_logged_with_its_flavor_and_signature(registered: Any) -> None:
    client, _, logged = registered
    assert logged.flavor == "sparkml"
    loaded = client.load_model("models:/churn-spark@production")
    assert loaded.flavor == "sparkml"
    assert loaded.signature is not None
    assert loaded.signature.input_names() == ["age", "income"]
    assert loaded.has_predict_proba


def test_loaded_model_predicts_pandas_frames_like_spark(spark: Any, registered: Any) -> None:
    client, fitted, _ = registered
    frame = _frame(40, seed=2)[["age", "income"]]
    loaded = client.load_model("models:/churn-spark/1")
    expected = fitted.transform(spark.createDataFrame(frame)).select("prediction").toPandas()["prediction"]
    assert loaded.predict(frame).tolist() == expected.tolist()
    proba = loaded.predict_proba(frame)
    assert proba.shape == (40, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_batch_scoring_keeps_the_callers_columns(spark: Any, registered: Any) -> None:
    client, fitted, _ = registered
    df = spark.createDataFrame(_frame(60, seed=3).assign(customer=range(60)))
    scored = mlpilot.spark.score(df, "models:/churn-spark@production", client=client, proba=True)
    assert scored.columns == ["age", "income", "label", "customer", "prediction", "probability"]
    mine = scored.orderBy("customer").toPandas()
    theirs = fitted.transform(df).orderBy("customer").toPandas()
    assert mine["prediction"].tolist() == theirs["prediction"].tolist()
    with pytest.raises(SignatureError, match="column 'income'"):
        mlpilot.spark.score(df.drop("income"), "models:/churn-spark@production", client=client)
