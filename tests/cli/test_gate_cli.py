"""`mlpilot gate`, run as a real command on real models registered through the client."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from mlpilot.client import Client
from mlpilot.config import load_settings
from tests.cli.conftest import CliRunner


def _client(home: Path) -> Client:
    return Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))


@pytest.fixture
def churn(tmp_path: Path) -> Path:
    """Model 'churn': version 1 a stump (production), version 2 a logistic regression; the holdout
    as Parquet (label 'churned' plus an id column) and as CSV (label 'churned' only)."""
    data = load_breast_cancer(as_frame=True)
    features = data.data.iloc[:, :5]
    x_train, x_test, y_train, y_test = train_test_split(features, data.target, random_state=0)
    client = _client(tmp_path / "home")
    try:
        for model in (DecisionTreeClassifier(max_depth=1, random_state=0), LogisticRegression(max_iter=5000)):
            with client.start_run("churn") as run:
                run.log_model(model.fit(x_train, y_train), "model", input_example=x_train.head(2))
            client.register_model(run.id, "model", "churn")
        client.set_alias("churn", "production", 1)
    finally:
        client.close()
    holdout = x_test.assign(churned=y_test.to_numpy())
    holdout.to_csv(tmp_path / "holdout.csv", index=False)
    holdout.assign(customer_id=range(len(holdout))).to_parquet(tmp_path / "holdout.parquet")
    return tmp_path


def test_a_better_challenger_passes_and_a_worse_one_fails(mlpilot_cli: CliRunner, churn: Path) -> None:
    data = str(churn / "holdout.parquet")
    common = ("--data", data, "--label", "churned")
    passed = mlpilot_cli(
        "gate", "--candidate", "models:/churn/2", "--baseline", "models:/churn@production", *common,
        "--require", "accuracy>=0.85", "--require", "accuracy>=+0.005", "--require", "log_loss<=-10%",
    )  # fmt: skip
    assert passed.code == 0
    for fragment in ("accuracy>=+0.005", "log_loss<=-10%", "PASSED", "3 of 3 judged requirements met", "roc_auc"):
        assert fragment in passed.out
    failed = mlpilot_cli(
        "gate", "--candidate", "models:/churn/1", "--baseline", "models:/churn/2", *common,
        "--require", "accuracy>=0.85", "--require", "accuracy>=+0", check=False,
    )  # fmt: skip
    assert failed.code == 1, failed.err
    assert "FAILED: 1 of 2 judged requirements not met" in failed.out
    assert "short of accuracy>=+0" in failed.out and failed.err == ""


def test_json_shape(mlpilot_cli: CliRunner, churn: Path) -> None:
    result = mlpilot_cli(
        "gate", "-c", "models:/churn/2", "-b", "models:/churn/1", "-d", str(churn / "holdout.csv"),
        "-r", "roc_auc>=0.99", "-r", "f1>=+0", "--json", check=False,
    )  # fmt: skip
    assert result.code == 1
    found = result.json()
    assert set(found) == {"passed", "verdict", "data", "candidate", "baseline", "decision"}
    assert found["passed"] is False and found["verdict"] == "NOT_BLESSED"
    assert found["data"]["label"] == "churned" and found["data"]["task"] == "classification"
    candidate = found["candidate"]
    assert candidate["uri"] == "models:/churn/2" and candidate["rows"] == 143
    assert set(candidate["metrics"]) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert found["baseline"]["uri"] == "models:/churn/1"
    roc, f1 = found["decision"]["checks"]
    assert roc["status"] == "failed" and roc["candidate"] == candidate["metrics"]["roc_auc"]
    assert f1["status"] == "passed" and f1["delta"] == pytest.approx(f1["candidate"] - f1["baseline"])
    assert found["decision"]["reasons"][0].startswith("roc_auc>=0.99: roc_auc is")


def test_metrics_match_sklearn_on_the_same_rows(mlpilot_cli: CliRunner, churn: Path) -> None:
    import pandas as pd

    holdout = pd.read_csv(churn / "holdout.csv")
    client = _client(churn / "home")
    try:
        model = client.load_model("models:/churn/2")
    finally:
        client.close()
    features = holdout.drop(columns=["churned"])
    expected = skm.roc_auc_score(holdout["churned"], np.asarray(model.predict_proba(features))[:, 1])
    found = mlpilot_cli("gate", "-c", "models:/churn/2", "-d", str(churn / "holdout.csv"), "--json").json()
    assert found["candidate"]["metrics"]["roc_auc"] == pytest.approx(expected)


def test_first_model_is_judged_on_thresholds_only(mlpilot_cli: CliRunner, churn: Path) -> None:
    # The CSV has one column the model does not read, so it is taken as the label.
    result = mlpilot_cli(
        "gate", "-c", "models:/churn/2", "-d", str(churn / "holdout.csv"),
        "-r", "accuracy>=0.85", "-r", "accuracy>=+0.01", "--json",
    )  # fmt: skip
    decision = result.json()["decision"]
    assert result.json()["baseline"] is None and decision["passed"] is True
    assert [check["status"] for check in decision["checks"]] == ["passed", "skipped"]
    assert "no baseline: judged on absolute thresholds only" in decision["reasons"]
    failing = mlpilot_cli(
        "gate", "-c", "models:/churn/2", "-d", str(churn / "holdout.csv"), "-r", "accuracy>=0.99", check=False
    )
    assert failing.code == 1


def test_no_requirements_is_an_explicit_pass(mlpilot_cli: CliRunner, churn: Path) -> None:
    result = mlpilot_cli("gate", "-c", "models:/churn/2", "-d", str(churn / "holdout.csv"))
    assert "PASSED: no requirements" in result.out and "nothing was checked" in result.out


def test_regression_with_lower_is_better_changes(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    data = load_diabetes(as_frame=True)
    client = _client(tmp_path / "home")
    try:
        for model in (DummyRegressor(), LinearRegression()):
            with client.start_run("prices") as run:
                run.log_model(model.fit(data.data, data.target), "model", input_example=data.data.head(2))
            client.register_model(run.id, "model", "prices")
    finally:
        client.close()
    data.data.assign(label=data.target).to_parquet(tmp_path / "holdout.parquet")
    common = ("-d", str(tmp_path / "holdout.parquet"), "--json")
    better = mlpilot_cli("gate", "-c", "models:/prices/2", "-b", "models:/prices/1", *common, "-r", "rmse<=-10%")
    assert better.json()["data"]["task"] == "regression" and better.json()["passed"] is True
    worse = mlpilot_cli(
        "gate", "-c", "models:/prices/1", "-b", "models:/prices/2", *common, "-r", "mae<=+0", check=False
    )
    assert worse.code == 1 and worse.json()["decision"]["checks"][0]["requirement"]["direction"] == "lower"


def test_bad_input_gives_one_readable_line_and_the_error_code(mlpilot_cli: CliRunner, churn: Path) -> None:
    parquet, csv = str(churn / "holdout.parquet"), str(churn / "holdout.csv")
    cases = [
        (("-c", "models:/churn/9", "-d", csv), 3, "no version 9"),
        (("-c", "models:/churn/2", "-b", "models:/churn@staging", "-d", csv), 3, "staging"),
        (("-c", "churn", "-d", csv), 2, "cannot parse model URI"),
        (("-c", "models:/churn/2", "-d", str(churn / "missing.parquet")), 2, "does not exist"),
        (("-c", "models:/churn/2", "-d", csv, "--label", "nope"), 2, "no label column 'nope'"),
        (("-c", "models:/churn/2", "-d", parquet), 2, "cannot tell the label column"),
        (("-c", "models:/churn/2", "-d", csv, "-r", "accuracy=>0.8"), 2, "cannot read the requirement"),
        (("-c", "models:/churn/2", "-d", csv, "-r", "rmse>=+0.1"), 2, "asks rmse to get worse"),
        (("-c", "models:/churn/2", "-d", csv, "-r", "acc>=0.8"), 2, "evaluation does not produce"),
        (("-c", "models:/churn/2", "-d", csv, "-r", "rmse<=1"), 2, "does not produce for classification"),
        (("-c", "models:/churn/2", "-d", csv, "--task", "ranking"), 2, "unknown task"),
        (("-d", csv), 2, "--candidate"),
    ]
    for args, code, fragment in cases:
        result = mlpilot_cli("gate", *args, check=False)
        assert result.code == code, (args, result.err)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.err and result.out == ""
