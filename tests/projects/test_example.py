"""The example project in examples/classifier runs as documented (docs are code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.projects import plan_run
from mlpilot.tracking.records import RunStatus
from tests.projects.conftest import MlpilotCli, Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "classifier"


@pytest.mark.slow
def test_the_classifier_example_trains_and_logs_everything(mlpilot_run: MlpilotCli, store: Store) -> None:
    result = mlpilot_run("run", str(EXAMPLE), "-e", "classifier", "-P", "model=forest", "-P", "n_estimators=20")
    assert result.code == 0, result.output
    run_id = re.search(r"in run with ID '([0-9a-f]{32})'", result.output).group(1)  # type: ignore[union-attr]
    assert f"=== Run (ID='{run_id}') succeeded ===" in result.output

    with store.client() as client:
        run = client.get_run(run_id)
        assert run.status is RunStatus.FINISHED
        assert run.params["model"] == "forest" and run.params["n_estimators"] == "20"
        for key in ("accuracy", "f1", "roc_auc", "log_loss", "train_accuracy"):
            assert key in run.metrics
        assert run.metrics["roc_auc"] > 0.9
        # One point per growth step of the forest: 2, 4, ... 20 trees.
        assert [point.step for point in client.get_metric_history(run_id, "test_accuracy")] == list(range(2, 21, 2))
        assert {(item.dataset, item.role) for item in run.inputs} == {
            ("breast-cancer-train", "train"),
            ("breast-cancer-test", "test"),
        }
        paths = {entry.path for entry in client.list_artifacts(run_id)}
        assert {
            "confusion_matrix.json",
            "feature_importances.json",
            "model/MLPILOT_MODEL.json",
            "logs/output.txt",
        } <= paths
        matrix = client.read_artifact(run_id, "confusion_matrix.json")
        assert b'"labels"' in matrix and b"malignant" in matrix


def test_a_model_outside_the_choices_is_refused_before_anything_runs() -> None:
    with pytest.raises(InvalidInput, match="parameter 'model' must be one of logreg, forest, boosting; got 'svm'"):
        plan_run(EXAMPLE, "main", ["model=svm"])
