"""The prediction-log reader monitor runs use here, from the ``monitor_engine`` setting.

The server sits above the Spark service, so it may hand the monitoring service a Spark reader;
``mlpilot.spark`` is imported only when the setting asks for it.
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
