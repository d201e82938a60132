"""The prediction log of a deployment as a Spark DataFrame, for monitoring at scale.

Segments are the Parquet files ``mlpilot serve`` writes under
``<root>/deployment=<name>/date=<YYYY-MM-DD>/``; Spark lists the same files the DuckDB reader
does (``mlpilot.prediction_log.layout.segment_files``) and reads them on the executors. The
``input:<feature>`` columns can then go through ``mlpilot.spark.drift`` against the deployment
model's stored reference, with the ``input:`` prefix dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.prediction_log.layout import check_deployment, day_of, segment_files
from mlpilot.prediction_log.reader import TimeBound, to_epoch_ms

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["INPUT_PREFIX", "model_inputs", "read_predictions"]

INPUT_PREFIX = "input:"


def read_predictions(
    spark: SparkSession,
    root: str | Path,
    deployment: str,
    *,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
) -> DataFrame | None:
    """Logged rows of ``deployment`` with ``since <= time < until``; None when there are none."""
    from pyspark.sql import functions as sf

    name = check_deployment(deployment)
    start, end = to_epoch_ms(since, "since"), to_epoch_ms(until, "until")
    first = None if start is None else day_of(start)
    last = None if end is None else day_of(end - 1)
    files = segment_files(
        Path(root), name, lambda day: (first is None or first <= day) and (last is None or day <= last)
    )
    if not files:
        return None
    frame = spark.read.parquet(*[str(Path(file).resolve()) for file in files])
    if start is not None:
        frame = frame.where(sf.col("time") >= sf.timestamp_millis(sf.lit(start)))
    if end is not None:
        frame = frame.where(sf.col("time") < sf.timestamp_millis(sf.lit(end)))
    return frame


def model_inputs(log: DataFrame) -> DataFrame:
    """The ``input:<feature>`` columns of a prediction log, named by their feature."""
    from pyspark.sql import functions as sf

    columns = [name for name in log.columns if name.startswith(INPUT_PREFIX)]
    return log.select(*[sf.col(f"`{name}`").alias(name.removeprefix(INPUT_PREFIX)) for name in columns])
