"""The client API: one set of methods whatever the transport."""

from mlpilot.client.active_run import ActiveRun
from mlpilot.client.core import Client

__all__ = ["ActiveRun", "Client"]
