"""The Spark session mlpilot works in, and the one clear message when Spark cannot start here.

PySpark is an extra and needs a Java runtime; both are checked before PySpark is imported, so a
missing piece gives one line saying what to install instead of a Py4J traceback.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.errors import MlpilotError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DEFAULT_MASTER", "SparkUnavailable", "get_spark", "require_spark"]

DEFAULT_MASTER = "local[*]"
_INSTALL_HINT = (
    "Install Java 17 (for example `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME) "
    "and PySpark with `pip install 'mlpilot[spark]'`."
)


class SparkUnavailable(MlpilotError):
    # Like a store that cannot be reached: nothing wrong with the request, the machine lacks a part.
    http_status = 503
    exit_code = 7
    code = "SPARK_UNAVAILABLE"
    default_hint = _INSTALL_HINT


def _java_found(environ: Mapping[str, str]) -> bool:
    home = environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return True
    return shutil.which("java", path=environ.get("PATH", "")) is not None


def require_spark(environ: Mapping[str, str] | None = None) -> None:
    """Raise SparkUnavailable naming what is missing (PySpark, Java or both)."""
    env = os.environ if environ is None else environ
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("PySpark is not installed")
    if not _java_found(env):
        missing.append("no Java runtime was found (java is not on PATH and JAVA_HOME is not set)")
    if missing:
        raise SparkUnavailable(f"Spark cannot run here: {' and '.join(missing)}")


def get_spark(master: str | None = None, *, app_name: str = "mlpilot") -> SparkSession:
    """The active Spark session, or a new one on ``master`` (default ``local[*]``).

    On a cluster, ``spark-submit`` creates the session with its own master and configuration;
    mlpilot then uses that session as it is, so ``master`` only matters when none is running.
    """
    require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and (master is None or active.sparkContext.master == master):
        return active
    # Local Python workers must run this interpreter (the one with mlpilot and pandas installed),
    # not whatever python3 is first on PATH; a cluster sets its own through spark-submit.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).master(master or DEFAULT_MASTER)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    # Arrow moves batches between the JVM and pandas for scoring and toPandas.
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    return builder.getOrCreate()
