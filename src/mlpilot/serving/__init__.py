"""Serving: registered models as secured, monitored prediction APIs (``mlpilot serve``)."""
