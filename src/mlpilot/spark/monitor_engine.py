"""The prediction-log reader monitor runs use, from the ``monitor_engine`` setting: the one
choice the server and the CLI both make. The monitoring service sits below Spark and only knows
the ``LogReader`` port; the Spark reader's modules (and PySpark) load only when the setting asks
for them.
"""

from __future__ import annotations

from mlpilot.config import Settings
from mlpilot.monitoring.log_reader import LogReader

__all__ = ["monitor_log_reader"]


def monitor_log_reader(settings: Settings) -> LogReader | None:
    """None for DuckDB (the monitoring service's default), else the Spark reader."""
    if settings.monitor_engine == "duckdb":
        return None
    from mlpilot.spark.monitoring import log_reader

    return log_reader(settings)
