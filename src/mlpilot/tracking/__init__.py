"""Experiment tracking: experiments, runs, params, metrics, tags, artifacts and search."""

from mlpilot.tracking.records import DatasetInput, Experiment, Metric, Run, RunPage, RunStatus

__all__ = ["DatasetInput", "Experiment", "Metric", "Run", "RunPage", "RunStatus"]
