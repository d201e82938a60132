"""Operating models: delivery metrics (DORA) from the platform's own events."""
