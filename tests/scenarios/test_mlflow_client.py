"""The real mlflow client, unmodified, against a real mlpilot server: switch by changing one URL.

Experiments, runs, params, metrics, artifacts, sklearn autologging, log_model with registration
(MLflow's defaults: skops), loading back through models:/ and runs:/, search_runs, ended runs; then
mlpilot serving, over HTTP, the versions the MLflow client registered and a model imported with
``mlpilot models import-mlflow``, each predicting what ``mlflow.pyfunc`` predicts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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

    # Ended runs stay read-only in mlpilot (MLflow would reopen them): the error says what to do.
    client = tracking.MlflowClient()
    with pytest.raises(MlflowException, match=r"read-only.*mlflow\.start_run\(\) without run_id"):
        client.log_metric(run.info.run_id, "late", 1.0)
    with pytest.raises(MlflowException, match=r"cannot be resumed.*parent_run_id"):
        tracking.start_run(run_id=run.info.run_id)
    client.set_tag(run.info.run_id, "reviewed", "yes")
    assert client.get_run(run.info.run_id).data.tags["reviewed"] == "yes"
    with tracking.start_run(parent_run_id=run.info.run_id) as child:
        tracking.log_metric("late", 1.0)
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == run.info.run_id


def _served(server: LiveServer, deployment: str, rows: pd.DataFrame, key: str) -> dict[str, Any]:
    """Predictions of ``rows`` from the deployment, over HTTP, in MLflow's ``dataframe_split`` form."""
    body = {"dataframe_split": rows.to_dict(orient="split", index=False)}
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        while True:
            response = http.post(f"/v1/deployments/{deployment}/predict", json=body)
            if response.status_code == 200:
                served: dict[str, Any] = response.json()
                return served
            # The server picks a new deployment up within serve_poll_seconds (404 until then), and
            # answers 503 until its model is loaded.
            assert response.status_code in (404, 503) and time.monotonic() < deadline, response.text
            time.sleep(0.1)


@pytest.fixture(scope="module")
def scorer(server: LiveServer) -> str:
    import mlpilot

    with mlpilot.connect(server.url, api_key=server.admin_key) as client:
        return client.create_api_key("mlflow-scorer", "predict")[1]


def test_defaults_register_and_serve_like_any_mlpilot_model(tracking: Any, server: LiveServer, scorer: str) -> None:
    """MLflow's defaults (skops) for autolog's model and log_model; one cloudpickle version too."""
    from sklearn.linear_model import LogisticRegression

    import mlpilot

    frame, labels = _frame()
    rows = frame.head(10)
    tracking.set_experiment("mlflow-models")
    tracking.sklearn.autolog(log_datasets=False)
    try:
        with tracking.start_run() as run:
            model = LogisticRegression(C=0.5).fit(frame, labels)
            info = tracking.sklearn.log_model(
                model, name="clf", input_example=frame.head(3), registered_model_name="churn-mlflow"
            )
            pickled = tracking.sklearn.log_model(
                model, name="pickled", serialization_format="cloudpickle", registered_model_name="churn-mlflow"
            )
    finally:
        tracking.sklearn.autolog(disable=True)
    client = tracking.MlflowClient()
    assert "training_score" in client.get_run(run.info.run_id).data.metrics
    assert (str(info.registered_model_version), str(pickled.registered_model_version)) == ("1", "2")
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    autologged = tracking.register_model(f"runs:/{run.info.run_id}/model", "churn-autolog")
    assert autologged.version == "1"
    client.set_registered_model_alias("churn-mlflow", "production", "1")
    assert client.get_model_version_by_alias("churn-mlflow", "production").version == "1"

    expected = model.predict(rows)
    by_alias = tracking.pyfunc.load_model("models:/churn-mlflow@production").predict(rows)
    assert list(by_alias) == list(expected)
    assert list(tracking.pyfunc.load_model(f"runs:/{run.info.run_id}/clf").predict(rows)) == list(expected)
    assert list(tracking.pyfunc.load_model("models:/churn-mlflow/2").predict(rows)) == list(expected)
    from_autolog = tracking.pyfunc.load_model("models:/churn-autolog/1").predict(rows)

    with mlpilot.connect(server.url, api_key=server.admin_key) as ours:
        assert [version.flavor for version in ours.list_model_versions("churn-mlflow")] == ["sklearn", "sklearn"]
        assert list(ours.load_model("models:/churn-mlflow/2").predict(rows)) == list(expected)
        ours.create_deployment("churn-mlflow", "churn-mlflow@production")
        ours.set_alias("churn-autolog", "production", 1)
        ours.create_deployment("churn-autolog", "churn-autolog@production")
    served = _served(server, "churn-mlflow", rows, scorer)
    assert (served["version"], served["predictions"]) == (1, list(by_alias))
    served = _served(server, "churn-autolog", rows, scorer)
    assert served["predictions"] == list(from_autolog)


def test_an_imported_mlflow_model_is_served(
    tracking: Any, server: LiveServer, scorer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mlpilot models import-mlflow`` of a LightGBM model saved with MLflow's defaults (skops)."""
    import lightgbm

    from mlpilot.cli.app import main

    frame, labels = _frame()
    rows = frame.head(10)
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(frame, labels)
    folder = tmp_path / "lgbm"
    # Named requirements spare MLflow inferring them in a subprocess; the rest is its defaults (skops).
    tracking.lightgbm.save_model(model, folder, input_example=frame.head(3), pip_requirements=["mlflow"])
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLPILOT_API_KEY", server.admin_key)
    args = ["--tracking-uri", server.url, "models", "import-mlflow", str(folder), "--name", "lgbm"]
    with pytest.raises(SystemExit) as exited:
        main([*args, "--alias", "production"])
    assert exited.value.code in (0, None)
    # The MLflow client loads the same version back from the server, and gets what it saved.
    expected = tracking.pyfunc.load_model("models:/lgbm@production").predict(rows)
    assert list(expected) == list(tracking.pyfunc.load_model(str(folder)).predict(rows))

    import mlpilot

    with mlpilot.connect(server.url, api_key=server.admin_key) as ours:
        ours.create_deployment("lgbm", "lgbm@production")
    served = _served(server, "lgbm", rows, scorer)
    assert served["predictions"] == list(expected)
