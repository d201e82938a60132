"""The stored side of pipelines: pipelines, their runs and step runs, and persisted triggers."""
