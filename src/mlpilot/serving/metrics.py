"""The Prometheus metrics of the prediction API, named once here (the exports and docs use them).

With several worker processes, ``PROMETHEUS_MULTIPROC_DIR`` is set before the workers start, so
every worker writes its samples to shared files and ``/metrics`` on any worker sums them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from mlpilot.monitoring.gauges import SERVING_METRIC_NAMES
from mlpilot.prediction_log import FlushReport

__all__ = ["CONTENT_TYPE", "METRIC_NAMES", "ServingMetrics", "multiprocess_dir"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
_FLUSH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
# Regression outputs have no natural scale: symmetric powers of ten cover most of them.
_VALUE_BUCKETS = tuple(sorted({sign * 10.0**power for sign in (-1, 1) for power in range(-3, 7)} | {0.0}))

# As exposed (counters gain _total, histograms _bucket/_sum/_count); named in monitoring.gauges.
METRIC_NAMES = SERVING_METRIC_NAMES


def _defined(key: str) -> str:
    """The name to give prometheus_client, which appends a counter's ``_total`` itself."""
    return METRIC_NAMES[key].removesuffix("_total")


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            _defined("requests"),
            "Prediction API requests by deployment, model version, route and HTTP status.",
            ["deployment", "version", "route", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            _defined("latency"),
            "Time from a prediction request's arrival to its response, in seconds.",
            ["deployment", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        )
        self.in_flight = Gauge(
            _defined("in_flight"),
            "Prediction requests being handled now.",
            ["deployment"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.batch_size = Histogram(
            _defined("batch_size"),
            "Rows per model call after micro-batching.",
            ["deployment", "version"],
            buckets=_BATCH_BUCKETS,
            registry=reg,
        )
        self.predictions = Counter(
            _defined("predictions"),
            "Predicted rows by class (classifiers).",
            ["deployment", "version", "class"],
            registry=reg,
        )
        self.prediction_value = Histogram(
            _defined("prediction_value"),
            "Predicted values (regressors).",
            ["deployment", "version"],
            buckets=_VALUE_BUCKETS,
            registry=reg,
        )
        self.traffic = Gauge(
            _defined("traffic"),
            "Share of a deployment's traffic each loaded version receives, by role.",
            ["deployment", "version", "role"],
            registry=reg,
            multiprocess_mode="mostrecent",
        )
        self.model_load = Gauge(
            _defined("model_load"),
            "Seconds the last load (and warm-up) of a model version took.",
            ["deployment", "version"],
            registry=reg,
            multiprocess_mode="max",
        )
        self.log_rows = Counter(
            _defined("log_rows"),
            "Rows handed to the prediction log, by outcome (written or dropped).",
            ["outcome"],
            registry=reg,
        )
        for outcome in ("written", "dropped"):  # exposed from the start, so rate() sees the first rows
            self.log_rows.labels(outcome)
        self.log_flush = Histogram(
            _defined("log_flush"),
            "Time one prediction log flush took (conversion to Arrow and the Parquet writes), in seconds.",
            buckets=_FLUSH_BUCKETS,
            registry=reg,
        )
        self.log_cpu = Counter(
            _defined("log_cpu"),
            "CPU seconds spent flushing the prediction log (its share of the serving process's CPU).",
            registry=reg,
        )

    def log_flushed(self, report: FlushReport) -> None:
        """The prediction log writer's ``on_flush``: count what a flush did."""
        if report.written:
            self.log_rows.labels("written").inc(report.written)
        if report.dropped:
            self.log_rows.labels("dropped").inc(report.dropped)
        self.log_flush.observe(report.seconds)
        self.log_cpu.inc(report.cpu_seconds)

    def render(self) -> bytes:
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry) + generate_latest(_process_registry([os.getpid()]))
        combined = CollectorRegistry()
        MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(combined) + generate_latest(_process_registry(_worker_pids(directory)))


def _worker_pids(directory: str) -> list[int]:
    # Every worker leaves files named like counter_<pid>.db in the shared folder.
    pids = set()
    for path in Path(directory).glob("*_*.db"):
        tail = path.stem.rpartition("_")[2]
        if tail.isdigit() and Path(f"/proc/{tail}").exists():
            pids.add(int(tail))
    return sorted(pids | {os.getpid()})


def _process_registry(pids: list[int]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_ProcessCollector(pids))
    return registry


class _ProcessCollector(Collector):
    """CPU seconds and resident memory of each worker process (Linux /proc), labelled by pid;
    prometheus_client's own process collector reports only the process that answers."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def collect(self) -> Iterator[Metric]:
        cpu = CounterMetricFamily(_defined("cpu"), "CPU seconds used by each serving process.", labels=["pid"])
        memory = GaugeMetricFamily(_defined("memory"), "Resident memory of each serving process.", labels=["pid"])
        for pid in self.pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended, or this is not Linux
            # Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" of the name.
            cpu.add_metric([str(pid)], (int(stat[11]) + int(stat[12])) / self._ticks)
            memory.add_metric([str(pid)], pages * self._page)
        yield cpu
        yield memory
