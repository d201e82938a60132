"""`mlpilot monitors` and `mlpilot export grafana`, run as real commands against a seeded store."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.prediction_log import PredictionBatch, PredictionLogWriter, new_prediction_id
from tests.cli.conftest import CliRunner


def _seed(home: Path, shift: float) -> None:
    """A registered iris model whose run logged its training data, deployed, with an hour of
    predictions in the log (inputs shifted by ``shift``)."""
    data = load_iris(as_frame=True)
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    try:
        with client.start_run("iris") as run:
            model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data.data, data.target)
            run.log_dataset(data.data, "iris-train", role="train")
            run.log_metric("accuracy", float(model.score(data.data, data.target)))
            run.log_model(model, "model", input_example=data.data.head(2))
        client.register_model(run.id, "model", "iris")
        client.create_deployment("iris-api", "iris/1")
    finally:
        client.close()
    rng = np.random.default_rng(0)
    frame = data.data.sample(600, replace=True, random_state=1).reset_index(drop=True) + shift
    frame += rng.normal(0, 0.05, size=frame.shape)
    ids = [new_prediction_id() for _ in range(len(frame))]
    writer = PredictionLogWriter(home / "predictions")
    writer.append(
        "iris-api",
        PredictionBatch(
            model="iris",
            version=1,
            role="primary",
            inputs=frame,
            predictions=model.predict(frame),
            prediction_ids=ids,
            request_ids=ids,
            latency_ms=np.full(len(frame), 2.0),
            time_ms=int(time.time() * 1000) - 60_000,
            probabilities=model.predict_proba(frame),
            classes=[0, 1, 2],
        ),
    )
    writer.close()


def test_create_run_read_and_report(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    _seed(tmp_path / "home", shift=1.5)
    reference = mlpilot_cli("monitors", "reference", "iris/1", "--json").json()
    assert reference["dataset"] == "iris-train:1" and reference["task"] == "classification"
    assert "sepal length (cm)" in mlpilot_cli("monitors", "reference", "iris/1").out

    created = mlpilot_cli(
        "monitors", "create", "iris-watch", "--deployment", "iris-api", "--window", "1h", "--every", "600",
        "--alert-feature", "petal length (cm)", "--alert-latency-p99-ms", "50", "--json",
    ).json()  # fmt: skip
    assert created["config"]["window"] == "1h" and created["config"]["schedule_seconds"] == 600
    assert "iris-watch" in mlpilot_cli("monitors", "list").out

    ran = mlpilot_cli("monitors", "run", "iris-watch", "--fail-on-alert", check=False)
    assert ran.code == 1, ran.err
    assert "alert opened: feature_drift:petal length (cm)" in ran.out
    result = mlpilot_cli("monitors", "results", "iris-watch", "--json").json()[0]
    assert result["status"] == "alert" and result["window"]["rows"] == 600
    assert "petal length (cm)" in result["drift"]["drifted_columns"]
    alerts = mlpilot_cli("monitors", "alerts", "--state", "open", "--json").json()
    assert {alert["condition"] for alert in alerts} == {"feature_drift:petal length (cm)", "drift_share"}
    assert "feature_drift" in mlpilot_cli("monitors", "show", "iris-watch").out

    report = tmp_path / "report.html"
    assert "wrote" in mlpilot_cli("monitors", "report", "iris-api", "--html", str(report)).out
    assert "<svg" in report.read_text() and "https://" not in report.read_text()
    dashboard = tmp_path / "grafana.json"
    mlpilot_cli("export", "grafana", "iris-api", "-o", str(dashboard))
    assert "mlpilot_feature_drift_score" in json.dumps(json.loads(dashboard.read_text()))

    config = tmp_path / "watch.yaml"
    config.write_text("window: rows:300\nconditions:\n  drift_share: 0.9\n")
    updated = mlpilot_cli("monitors", "update", "iris-watch", "--config", str(config), "--disable", "--json").json()
    assert updated["config"]["window"] == "rows:300" and updated["enabled"] is False
    assert "deleted monitor 'iris-watch'" in mlpilot_cli("monitors", "delete", "iris-watch").out


def test_bad_input_is_one_line_and_an_exit_code(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    _seed(tmp_path / "home", shift=0.0)
    broken = tmp_path / "broken.yaml"
    broken.write_text("window: [1h\n")
    cases = [
        (("monitors", "create", "w", "--deployment", "iris-api", "--window", "soon"), 2, "field window"),
        (("monitors", "create", "w", "--deployment", "ghost"), 3, "ghost"),
        (("monitors", "create", "w", "--deployment", "iris-api", "--alert-performance", "accuracy"), 2, "METRIC:MAX"),
        (("monitors", "create", "w", "--deployment", "iris-api", "--webhook", "ftp://x"), 2, "webhooks[0]"),
        (
            ("monitors", "create", "w", "--deployment", "iris-api", "--config", str(broken)),
            2,
            "is not valid YAML (line 2",
        ),
        (("monitors", "run", "nothing"), 3, "nothing"),
        (("monitors", "update", "nothing"), 2, "nothing to change"),
        (("monitors", "report", "iris-api", "--html", str(tmp_path / "r.html")), 2, "no monitor watches"),
        (("monitors", "reference", "iris/7"), 3, "version 7"),
        (("export", "grafana", "ghost"), 3, "ghost"),
    ]
    for args, code, fragment in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.code, result.err)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.err
    assert mlpilot_cli("monitors", "list", "--json").json() == []
