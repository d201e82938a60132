"""Batch scoring of a Spark DataFrame: ``mlpilot.spark.score(df, "models:/churn@production")``.

The model is loaded and verified once on the driver, checked against the frame's schema before
any task runs, and shipped to the executors as one broadcast: each Python worker unpickles it once
and reuses it for every Arrow batch of every task it runs (``mapInPandas``). Each batch is scored
by ``mlpilot.models.batch.score_frame``, the pandas engine's own function, so values are checked
and converted exactly as there. Spark ML models stay in the JVM and score with ``transform``.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlpilot.errors import InvalidInput
from mlpilot.models.batch import label_type, proba_columns, score_frame
from mlpilot.spark.models import resolve_model
from mlpilot.spark.schema import check_columns, output_type

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from mlpilot.client import Client
    from mlpilot.models import LoadedModel

__all__ = ["score"]

# Unpickled models per worker process, by a key made per score() call: a reused Python worker
# scores every later task with the model it already holds.
_WORKER_MODELS: dict[str, Any] = {}
_KEEP_MODELS = 4


def score(
    df: DataFrame,
    model: str | LoadedModel,
    *,
    client: Client | None = None,
    prediction_col: str = "prediction",
    proba: bool = False,
) -> DataFrame:
    """``df`` with a ``prediction`` column (and, with ``proba``, one ``proba_<class>`` column per
    class of a classifier; an array column ``probability`` for Spark ML) from the model.

    Raises SignatureError before any task runs when ``df`` lacks a signature column or holds one
    in a type it cannot be converted from.
    """
    _require_frame(df)
    loaded = resolve_model(model, client)
    if loaded.signature is not None:
        check_columns(df.schema, loaded.signature)
    if prediction_col in df.columns:
        raise InvalidInput(
            f"the frame already has a column {prediction_col!r}",
            hint="Drop or rename it, or choose another name with prediction_col=.",
        )
    if loaded.flavor == "sparkml":
        from mlpilot.spark.sparkml import transform

        return transform(df, loaded, prediction_col=prediction_col, proba=proba)
    return _map_in_pandas(df, loaded, prediction_col, proba)


def _require_frame(df: object) -> None:
    from pyspark.sql import DataFrame

    if not isinstance(df, DataFrame):
        raise InvalidInput(
            f"mlpilot.spark.score takes a Spark DataFrame, not {type(df).__name__}",
            hint="Use mlpilot.load_model(uri).predict(frame) for pandas frames.",
        )


def _map_in_pandas(df: DataFrame, loaded: LoadedModel, prediction_col: str, proba: bool) -> DataFrame:
    from pyspark.sql import types as st

    proba_cols = proba_columns(loaded) if proba else []
    clashing = [name for name in proba_cols if name in df.columns]
    if clashing:
        raise InvalidInput(f"the frame already has the column(s) {', '.join(clashing)}")
    fields = [*df.schema.fields, st.StructField(prediction_col, output_type(label_type(loaded)), True)]
    fields += [st.StructField(name, st.DoubleType(), True) for name in proba_cols]
    # One broadcast: the pickled model goes to each executor once, not with every task.
    shipped = df.sparkSession.sparkContext.broadcast(pickle.dumps(loaded, protocol=5))
    key = uuid.uuid4().hex

    def predict_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        worker_model = _WORKER_MODELS.get(key)
        if worker_model is None:
            while len(_WORKER_MODELS) >= _KEEP_MODELS:  # a long-lived worker keeps only the latest few
                _WORKER_MODELS.pop(next(iter(_WORKER_MODELS)))
            # The bytes were verified against the model's sha256 when the driver loaded them.
            worker_model = _WORKER_MODELS[key] = pickle.loads(shipped.value)
        for batch in batches:
            yield score_frame(worker_model, batch, prediction_col=prediction_col, proba=proba)

    return df.mapInPandas(predict_batches, st.StructType(fields))
