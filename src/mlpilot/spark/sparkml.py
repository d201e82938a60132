"""Batch scoring with a Spark ML PipelineModel: the model already lives in the JVM, so the frame
goes through its ``transform`` and keeps the caller's columns plus the prediction (and, with
``proba``, the class probabilities as an array column)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpilot.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from mlpilot.models import LoadedModel

__all__ = ["PROBABILITY_COL", "transform"]

PROBABILITY_COL = "probability"


def transform(df: DataFrame, loaded: LoadedModel, *, prediction_col: str, proba: bool) -> DataFrame:
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as sf

    model = loaded.raw
    if proba and not loaded.has_predict_proba:
        raise InvalidInput(f"the Spark ML model {loaded.source} gives no class probabilities")
    # Spark ML stages add their own columns (features, rawPrediction…): keep only the caller's.
    scored = model.transform(df)  # type: ignore[attr-defined]
    columns = [sf.col(f"`{name}`") for name in df.columns]
    columns.append(sf.col("prediction").alias(prediction_col))
    if proba:
        columns.append(vector_to_array(sf.col("probability")).alias(PROBABILITY_COL))
    selected: DataFrame = scored.select(*columns)
    return selected
