"""mlpilot on Apache Spark: batch scoring, profiles, drift and dataset versions of Spark DataFrames.

PySpark is an extra (``pip install 'mlpilot[spark]'``, plus a Java 17 runtime) and is imported only
inside this package and the Spark ML flavor; ``import mlpilot`` never loads it. Every function takes
a Spark DataFrame and works in the session that frame belongs to, so the same code runs on
``local[2]`` and on a cluster started with ``spark-submit``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlpilot.spark.datasets import load_dataset, log_dataset
    from mlpilot.spark.drift_columns import drift
    from mlpilot.spark.profiling import profile
    from mlpilot.spark.scoring import score
    from mlpilot.spark.session import SparkUnavailable, get_spark, require_spark

_LAZY = {
    "drift": "mlpilot.spark.drift_columns",  # not "drift": a submodule of that name would shadow the function
    "get_spark": "mlpilot.spark.session",
    "load_dataset": "mlpilot.spark.datasets",
    "log_dataset": "mlpilot.spark.datasets",
    "profile": "mlpilot.spark.profiling",
    "require_spark": "mlpilot.spark.session",
    "score": "mlpilot.spark.scoring",
    "SparkUnavailable": "mlpilot.spark.session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlpilot.spark' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "SparkUnavailable",
    "drift",
    "get_spark",
    "load_dataset",
    "log_dataset",
    "profile",
    "require_spark",
    "score",
]
