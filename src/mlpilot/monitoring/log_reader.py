"""How a monitor run reads the prediction log: the port, and its DuckDB implementation.

A monitor run needs two things from the log: the window it judges, and earlier labelled rows of
the same version to calibrate CBPE on. ``LogReader`` is that port. The DuckDB reader (the default,
one machine) brings the rows into pandas; a Spark reader (``mlpilot.spark.monitoring``, chosen by
the ``monitor_engine`` setting in the interfaces, which sit above Spark) keeps the input columns
on the cluster and hands drift a view of them instead. The monitoring service never imports Spark.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from mlpilot.monitoring.drift import CurrentColumns
from mlpilot.prediction_log import read_predictions

__all__ = ["MONITOR_ENGINES", "DuckDBLogReader", "LogReader", "LogWindow"]

# The values of the monitor_engine setting.
MONITOR_ENGINES = ("duckdb", "spark")


@dataclass(frozen=True, slots=True)
class LogWindow:
    """A window of logged rows, shadow rows left out.

    ``rows`` is what the evaluation reads on the driver (every column with DuckDB; all but the
    ``input:`` columns with Spark). ``features`` is, when set, the model's inputs and outputs as
    drift reads them, other versions' outputs already blanked; None means drift reads ``rows``."""

    rows: pd.DataFrame
    start: int
    features: CurrentColumns | None = None


class LogReader(Protocol):
    def window(
        self, root: str, deployment: str, *, since: int | None, until: int, rows: int | None, version: int
    ) -> LogWindow:
        """The last ``rows`` rows (all when None) logged in ``[since, until)``; ``version`` is
        the reference's, whose outputs alone drift compares."""
        ...

    def labelled(
        self, root: str, deployment: str, *, since: int, until: int, version: int, ids: Collection[str], limit: int
    ) -> pd.DataFrame:
        """The latest ``limit`` rows of ``version`` in ``[since, until)`` whose prediction id is
        in ``ids``, oldest first, no shadow rows."""
        ...


class DuckDBLogReader:
    """The prediction log read with DuckDB into pandas, on this machine."""

    def window(
        self, root: str, deployment: str, *, since: int | None, until: int, rows: int | None, version: int
    ) -> LogWindow:
        frame = read_predictions(root, deployment, since=since, until=until)
        frame = frame[frame["role"] != "shadow"]
        if rows is not None:
            frame = frame.tail(rows)
        if since is None:
            since = int(frame["time"].min().value // 1_000_000) if not frame.empty else until
        return LogWindow(frame.reset_index(drop=True), since)

    def labelled(
        self, root: str, deployment: str, *, since: int, until: int, version: int, ids: Collection[str], limit: int
    ) -> pd.DataFrame:
        earlier = read_predictions(root, deployment, since=since, until=until)
        if earlier.empty:
            return earlier
        wanted = earlier["prediction_id"].isin(ids)
        earlier = earlier[(earlier["version"] == version) & (earlier["role"] != "shadow") & wanted]
        return earlier.tail(limit).reset_index(drop=True)
