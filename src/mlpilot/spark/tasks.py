"""Run a function once per item, each item in its own Spark task: how a pipeline's fanned-out
candidates train on a cluster (one configuration per task)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from mlpilot.spark.session import get_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["run_each"]

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_each(
    items: Sequence[Item], function: Callable[[Item], Result], *, spark: SparkSession | None = None
) -> list[Result]:
    """``[function(item) for item in items]``, one Spark task per item, results in item order.

    ``function`` and the items are pickled to the executors, so both must be picklable there: a
    module-level function of an installed package (or a partial of one) and plain data.
    """
    if not items:
        return []
    session = spark or get_spark()
    job = session.sparkContext.parallelize(list(items), numSlices=len(items)).map(function)
    results: list[Result] = job.collect()
    return results
