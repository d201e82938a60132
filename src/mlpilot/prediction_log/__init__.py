"""The prediction log: every row a deployment serves, as Parquet segments partitioned by deployment
and UTC date, written in batches off the serving thread and queried with DuckDB.

Layout, schema and durability guarantees: docs/predictions.md.
"""

from mlpilot.prediction_log.layout import list_deployments
from mlpilot.prediction_log.reader import find_prediction_ids, read_predictions
from mlpilot.prediction_log.records import (
    ROLES,
    InputMatrix,
    PredictionBatch,
    ProbabilitiesOf,
    new_prediction_id,
    new_prediction_ids,
    prediction_id_time_ms,
)
from mlpilot.prediction_log.writer import FlushReport, PredictionLogWriter

__all__ = [
    "ROLES",
    "FlushReport",
    "InputMatrix",
    "PredictionBatch",
    "PredictionLogWriter",
    "ProbabilitiesOf",
    "find_prediction_ids",
    "list_deployments",
    "new_prediction_id",
    "new_prediction_ids",
    "prediction_id_time_ms",
    "read_predictions",
]
