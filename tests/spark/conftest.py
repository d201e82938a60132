"""One Spark session (``local[2]``) for the whole test session, so its start-up is paid once.

With ``CI=true`` a machine without Java or PySpark fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mlpilot.spark.session import SparkUnavailable, require_spark


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    try:
        require_spark()
    except SparkUnavailable as missing:
        if _in_ci():
            pytest.fail(f"CI needs Spark: {missing}")
        pytest.skip(str(missing))
    from pyspark.sql import SparkSession

    # The Python workers must be this interpreter, which has mlpilot, pandas and pyarrow.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlpilot-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        # Test frames are a few hundred rows: two partitions keep both cores busy, and more only
        # add tasks to schedule.
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # Whole-stage code generation compiles Java for every new query plan, which costs more than
        # it saves on frames this small.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
