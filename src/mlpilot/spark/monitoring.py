"""Monitor runs that read the prediction log through Spark (``monitor_engine = "spark"``).

The executors read the window's segments and keep its ``input:`` columns: drift sees them through
``SparkColumns`` (category counts from group-bys, numerical values one column at a time), so the
verdicts are the DuckDB path's. Only the narrow columns the rest of the evaluation needs (ids,
version, prediction, class probabilities, latency, time) come to the driver, and of the earlier
rows that CBPE calibrates on only the labelled ones of the version watched.

The interfaces (server, CLI) build this reader from the settings; the monitoring service only
knows the ``LogReader`` port.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd

from mlpilot.config import Settings
from mlpilot.errors import InvalidInput
from mlpilot.monitoring.log_reader import MONITOR_ENGINES, DuckDBLogReader, LogReader, LogWindow
from mlpilot.prediction_log import read_predictions as read_log
from mlpilot.spark.drift_columns import SparkColumns
from mlpilot.spark.predictions import INPUT_PREFIX, read_predictions
from mlpilot.spark.session import get_spark

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["SparkLogReader", "log_reader"]

_OUTPUTS = ("prediction", "proba:")


def log_reader(settings: Settings) -> LogReader:
    """The reader the ``monitor_engine`` setting names. The Spark one starts (or joins) its
    session on first use, so a machine without Java or PySpark fails each run with
    SparkUnavailable naming what to install, not the server's start-up."""
    engine = settings.monitor_engine
    if engine == "duckdb":
        return DuckDBLogReader()
    if engine == "spark":
        return SparkLogReader(master=settings.spark_master)
    raise InvalidInput(f"unknown monitor engine {engine!r}", hint=f"Use one of {', '.join(MONITOR_ENGINES)}.")


def _col(name: str) -> Column:
    from pyspark.sql import functions as sf

    return sf.col(f"`{name}`")


def _is_output(name: str) -> bool:
    return name == "prediction" or name.startswith("proba:")


class SparkLogReader:
    def __init__(self, *, master: str | None = None, spark: SparkSession | None = None) -> None:
        self._master, self._spark = master, spark

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            self._spark = get_spark(self._master)
        return self._spark

    def _read(self, root: str, deployment: str, since: int | None, until: int) -> DataFrame | None:
        from pyspark.sql import functions as sf

        log = read_predictions(self.spark, root, deployment, since=since, until=until)
        return None if log is None else log.where(sf.col("role") != "shadow")

    def window(
        self, root: str, deployment: str, *, since: int | None, until: int, rows: int | None, version: int
    ) -> LogWindow:
        from pyspark.sql import functions as sf

        log = self._read(root, deployment, since, until)
        if log is None:
            return LogWindow(_empty(), until if since is None else since)
        if rows is not None:
            # The DuckDB path's order (time, then id), its last ``rows`` rows.
            log = log.orderBy(sf.col("time").desc(), sf.col("prediction_id").desc()).limit(rows)
        narrow = _to_pandas(log.select(*[_col(name) for name in log.columns if not name.startswith(INPUT_PREFIX)]))
        if since is None:
            since = int(narrow["time"].min().value // 1_000_000) if not narrow.empty else until
        # Outputs of other versions (a canary) are not this reference's to compare with.
        features = log.select(
            *[
                (
                    sf.when(sf.col("version") == version, _col(name)).alias(name)
                    if _is_output(name)
                    else _col(name).alias(name.removeprefix(INPUT_PREFIX))
                )
                for name in log.columns
                if name.startswith(INPUT_PREFIX) or _is_output(name)
            ]
        )
        return LogWindow(narrow, since, SparkColumns(features, len(narrow)))

    def labelled(
        self, root: str, deployment: str, *, since: int, until: int, version: int, ids: Collection[str], limit: int
    ) -> pd.DataFrame:
        from pyspark.sql import functions as sf
        from pyspark.sql import types as st

        log = self._read(root, deployment, since, until)
        if log is None or not ids:
            return _empty()
        wanted = self.spark.createDataFrame(
            [(item,) for item in ids], st.StructType([st.StructField("prediction_id", st.StringType())])
        )
        rows = (
            log.where(sf.col("version") == version)
            .join(sf.broadcast(wanted), on="prediction_id", how="left_semi")
            .select(*[_col(name) for name in log.columns if not name.startswith(INPUT_PREFIX)])
            .orderBy(sf.col("time").desc(), sf.col("prediction_id").desc())
            .limit(limit)
        )
        return _to_pandas(rows)


def _to_pandas(df: DataFrame) -> pd.DataFrame:
    """Rows oldest first, ``time`` as the DuckDB reader gives it (UTC)."""
    from pyspark.sql import functions as sf

    columns = [sf.unix_micros(sf.col("time")).alias("time") if name == "time" else _col(name) for name in df.columns]
    frame = df.select(*columns).toPandas()
    frame["time"] = pd.to_datetime(frame["time"], unit="us", utc=True).astype("datetime64[us, UTC]")
    return frame.sort_values(["time", "prediction_id"], kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    # The DuckDB reader's empty frame, with its columns and dtypes (limit=0 reads no file).
    return read_log(".", "none", limit=0)
