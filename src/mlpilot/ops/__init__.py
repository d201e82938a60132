"""Operating models: delivery metrics (DORA) from the platform's own events."""

from mlpilot.ops.bands import BANDS_YEAR, Band
from mlpilot.ops.dora import dora_metrics
from mlpilot.ops.history import Change
from mlpilot.ops.instants import parse_instant
from mlpilot.ops.records import DoraMetrics, DoraReport

__all__ = ["BANDS_YEAR", "Band", "Change", "DoraMetrics", "DoraReport", "dora_metrics", "parse_instant"]
