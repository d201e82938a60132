"""MLflow's REST API on the platform server: the tracking, artifact and registry routes MLflow
clients call, translated onto mlpilot's own services and tables (one store, not two).

``mount.include_mlflow(app)`` mounts them under ``/api/2.0/mlflow``, ``/ajax-api/2.0/mlflow`` and
``/api/2.0/mlflow-artifacts``; ``mount.MLFLOW_PREFIXES`` are the paths the key middleware guards with
MLflow-shaped 401/403 bodies. See docs/mlflow.md for what is and is not supported.
"""
