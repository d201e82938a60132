"""``mlpilot models import-mlflow``: an MLflow model directory into the registry.

The directory's files are logged unchanged as the ``model`` artifact of a new run (so MLflow clients
can still load them through ``mlpilot server``), the converted mlpilot model beside them at
``model/mlpilot_model`` — the same layout the server gives a model an MLflow client registers —
and that becomes the next version of ``name``, servable and monitorable like any other.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlpilot.models.mlflow_format import convert_mlflow_dir, read_mlmodel
from mlpilot.registry.mlflow_models import CONVERTED_DIR
from mlpilot.registry.records import ModelVersion
from mlpilot.tracking.records import RunStatus

if TYPE_CHECKING:
    from mlpilot.client.core import Client

__all__ = ["IMPORT_EXPERIMENT", "import_mlflow_model"]

IMPORT_EXPERIMENT = "mlflow-imports"


def import_mlflow_model(
    client: Client,
    path: str | Path,
    name: str,
    *,
    experiment: str = IMPORT_EXPERIMENT,
    alias: str | None = None,
) -> ModelVersion:
    source = Path(path)
    mlmodel = read_mlmodel(source)  # refuse a bad directory before creating anything
    with tempfile.TemporaryDirectory(prefix="mlpilot-import-") as scratch:
        converted = Path(scratch) / CONVERTED_DIR
        run = client.create_run(
            experiment, name=f"import-{name}", tags={"mlpilot.source": "mlflow", "mlflow.flavor": mlmodel.flavor}
        )
        try:
            convert_mlflow_dir(source, converted, run_id=run.id)
            client.log_artifacts(run.id, source, "model")
            client.log_artifacts(run.id, converted, f"model/{CONVERTED_DIR}")
        except BaseException:
            client.end_run(run.id, RunStatus.FAILED)
            raise
        client.end_run(run.id)
    version = client.register_model(
        run.id, f"model/{CONVERTED_DIR}", name, tags={"mlflow.source": str(source.resolve())}
    )
    if alias is not None:
        version = client.set_alias(name, alias, version.version, reason="imported from MLflow")
    return version
