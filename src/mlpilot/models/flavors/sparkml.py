"""Spark MLlib PipelineModels, in Spark ML's own folder format (``model.write().save``).

A PipelineModel lives in the JVM, so saving, loading and predicting need a Spark session: the
active one, or a local one started on first use. ``predict`` on a pandas frame goes through a
small Spark DataFrame; batch scoring of Spark DataFrames calls ``transform`` directly
(``mlpilot.spark.score``). PySpark is an extra, imported here only when such a model is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.errors import InvalidInput
from mlpilot.models.flavors.base import distribution_versions, is_instance_of, missing_library

if TYPE_CHECKING:
    import pandas as pd

    from mlpilot.models.descriptor import Descriptor

__all__ = ["MODEL_FOLDER", "SparkMLFlavor", "spark_session"]

MODEL_FOLDER = "sparkml"
PREDICTION = "prediction"
PROBABILITY = "probability"


def spark_session() -> Any:
    """The active Spark session, or a local one (started once, reused after)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise missing_library("pyspark", "spark", exc) from exc
    active = SparkSession.getActiveSession()
    return active if active is not None else SparkSession.builder.master("local[*]").getOrCreate()


def _pipeline_model() -> Any:
    try:
        from pyspark.ml import PipelineModel
    except ImportError as exc:
        raise missing_library("pyspark", "spark", exc) from exc
    return PipelineModel


class SparkMLFlavor:
    name = "sparkml"
    library = "pyspark"

    def matches(self, model: object) -> bool:
        return is_instance_of(model, "pyspark.ml", ("PipelineModel",))

    def save(self, model: object, directory: Path) -> tuple[str, ...]:
        spark_session()
        target = directory / MODEL_FOLDER
        model.write().save(str(target))  # type: ignore[attr-defined]
        # Spark's checksum files and _SUCCESS markers are part of the folder it reads back.
        return tuple(sorted(str(path.relative_to(directory)) for path in target.rglob("*") if path.is_file()))

    def load(self, directory: Path, descriptor: Descriptor) -> object:
        spark_session()
        return _pipeline_model().load(str(directory / MODEL_FOLDER))

    def packages(self, model: object) -> dict[str, str]:
        return distribution_versions("pyspark")

    def predict(self, model: object, frame: pd.DataFrame) -> Any:
        scored = _transform(model, frame, PREDICTION)
        return scored[PREDICTION].to_numpy()

    def has_predict_proba(self, model: object) -> bool:
        stages = getattr(model, "stages", None) or []
        return bool(stages) and stages[-1].hasParam("probabilityCol")

    def predict_proba(self, model: object, frame: pd.DataFrame) -> Any:
        if not self.has_predict_proba(model):
            raise InvalidInput("this Spark ML pipeline gives no probabilities; its last stage is not a classifier")
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as sf

        spark = spark_session()
        scored = model.transform(spark.createDataFrame(frame))  # type: ignore[attr-defined]
        rows = scored.select(vector_to_array(sf.col(PROBABILITY)).alias(PROBABILITY)).toPandas()[PROBABILITY]
        return np.vstack(rows.to_numpy()) if len(rows) else np.empty((0, 0))


def _transform(model: Any, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if len(frame) == 0:
        raise InvalidInput("a Spark ML model cannot score an empty frame")
    spark = spark_session()
    scored: pd.DataFrame = model.transform(spark.createDataFrame(frame)).select(column).toPandas()
    return scored
