"""The real mlflow client, unmodified, against a real mlpilot server: switch by changing one URL.

Experiments, runs, params, metrics, artifacts, sklearn autologging, log_model with registration,
loading back through models:/ and runs:/, search_runs, and then mlpilot serving the version the
MLflow client registered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import LiveServer

mlflow = pytest.importorskip("mlflow")

# Importing mlflow.pyfunc warns about MLflow's own type hints (a coloured UserWarning); nothing else
# mlflow raises is filtered.
pytestmark = pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("mlflow-scenario")
    live = LiveServer(
        f"sqlite:///{root / 'mlpilot.db'}",
        str(root / "artifacts"),
        root / "home",
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
def tracking(server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", server.admin_key)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)
    # The client keeps the active experiment in a module global: each test starts from the default.
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(server.url)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    return frame, (frame["a"] + frame["b"] > 0).astype(int).to_numpy()


def test_tracking_round_trip(tracking: Any, tmp_path: Path) -> None:
    tracking.set_experiment("mlflow-scenario")
    with tracking.start_run(run_name="first") as run:
        tracking.log_param("alpha", 0.5)
        tracking.log_params({"model": "logreg", "C": 1})
        for step in range(5):
            tracking.log_metric("loss", 1.0 / (step + 1), step=step)
        tracking.log_metrics({"acc": 0.9, "f1": 0.8})
        tracking.set_tag("team", "risk")
        note = tmp_path / "note.txt"
        note.write_text("hello")
        tracking.log_artifact(str(note), artifact_path="notes")
        tracking.log_dict({"threshold": 0.4}, "config.json")
    client = tracking.MlflowClient()
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "first"
    assert got.data.params == {"alpha": "0.5", "model": "logreg", "C": "1"}
    assert got.data.metrics["loss"] == pytest.approx(0.2)
    assert got.data.tags["team"] == "risk"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [point.step for point in history] == [0, 1, 2, 3, 4]
    names = sorted(item.path for item in client.list_artifacts(run.info.run_id))
    assert names == ["config.json", "notes"]
    local = tracking.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes/note.txt")
    assert Path(local).read_text() == "hello"
    found = tracking.search_runs(
        experiment_names=["mlflow-scenario"], filter_string="metrics.acc > 0.5 and params.model = 'logreg'"
    )
    assert list(found["run_id"]) == [run.info.run_id]
    by_name = tracking.search_runs(
        experiment_names=["mlflow-scenario"],
        filter_string="tags.mlflow.runName = 'first'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    assert [item.info.run_id for item in by_name] == [run.info.run_id]


def test_param_rules_and_errors(tracking: Any) -> None:
    from mlflow.exceptions import MlflowException

    with tracking.start_run() as run:
        tracking.log_param("p", "1")
        with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE"):
            tracking.log_param("p", "2")
        with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE"):
            tracking.log_param("long", "x" * 6001)
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        tracking.MlflowClient().get_run("0" * 32)
    assert run.info.experiment_id == "0"


def test_autolog_log_model_register_and_serve(tracking: Any, server: LiveServer) -> None:
    from sklearn.linear_model import LogisticRegression

    frame, labels = _frame()
    tracking.set_experiment("mlflow-models")
    tracking.sklearn.autolog(log_models=False, log_datasets=False)
    try:
        with tracking.start_run() as run:
            model = LogisticRegression().fit(frame, labels)
            info = tracking.sklearn.log_model(
                model,
                name="model",
                input_example=frame.head(3),
                registered_model_name="churn-mlflow",
                serialization_format="cloudpickle",
            )
    finally:
        tracking.sklearn.autolog(disable=True)
    client = tracking.MlflowClient()
    assert "training_score" in client.get_run(run.info.run_id).data.metrics
    assert str(info.registered_model_version) == "1"
    client.set_registered_model_alias("churn-mlflow", "production", "1")

    expected = model.predict(frame.head(10))
    by_version = tracking.pyfunc.load_model("models:/churn-mlflow/1")
    assert list(by_version.predict(frame.head(10))) == list(expected)
    by_run = tracking.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert list(by_run.predict(frame.head(10))) == list(expected)
    assert client.get_model_version_by_alias("churn-mlflow", "production").version == "1"

    # The same version is a real mlpilot version: verified, loaded and validated by mlpilot (what
    # `mlpilot serve churn-mlflow@production` serves).
    import mlpilot

    ours = mlpilot.connect(server.url, api_key=server.admin_key)
    try:
        version = ours.get_model_version("churn-mlflow", 1)
        assert version.flavor == "sklearn"
        loaded = ours.load_model("models:/churn-mlflow@production")
        assert list(loaded.predict(frame.head(10))) == list(expected)
    finally:
        ours.close()
