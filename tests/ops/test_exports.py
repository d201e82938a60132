"""The export generators on their own: pinning, names, thresholds, CI workflows (the commands,
against a real store and a real server, are in tests/cli/test_export_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlpilot.errors import Conflict, InvalidInput
from mlpilot.monitoring.config import MonitorConfig
from mlpilot.ops.exports import (
    CI_FILES,
    ServedModel,
    alert_rules,
    ci_workflow,
    docker_files,
    kube_name,
    pinned_requirements,
    scrape_config,
    thresholds_of,
    write_ci_workflow,
)
from mlpilot.ops.exports.prometheus import DEFAULT_ERROR_RATE, DEFAULT_LATENCY_P99_MS


def _served(**environment: object) -> ServedModel:
    recorded = {"python": "3.12.4", "packages": ["numpy==2.1.0", "scikit-learn==1.5.2", "pip==24.2"], **environment}
    return ServedModel.from_records("churn_API.v2", "churn", "churn@production", 3, "r1", recorded)


def test_requirements_are_exact_pins_without_the_installer() -> None:
    assert pinned_requirements(["Scikit-Learn==1.5.2", "pip==24.2", "numpy==2.1.0", "setuptools==75.1"]) == [
        "numpy==2.1.0",
        "Scikit-Learn==1.5.2",
    ]
    with pytest.raises(InvalidInput, match="not pinned"):
        pinned_requirements(["numpy>=2"])


def test_a_run_without_an_environment_cannot_pin_an_image() -> None:
    with pytest.raises(InvalidInput, match="recorded no environment") as refused:
        ServedModel.from_records("churn-api", "churn", "churn@production", 3, "r1", None)
    assert "tracked run" in refused.value.hint
    with pytest.raises(InvalidInput, match="no Python version or packages"):
        _served(packages=[])


def test_the_dockerfile_runs_serve_as_a_non_root_user_on_the_recorded_python() -> None:
    files = docker_files(_served())
    dockerfile = files["Dockerfile"]
    assert "FROM python:3.12-slim" in dockerfile
    assert "USER 10001:10001" in dockerfile and "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert '"--name", "churn_API.v2"' in dockerfile and '"churn@production"' in dockerfile
    assert files["requirements.txt"].splitlines()[-2:] == ["numpy==2.1.0", "scikit-learn==1.5.2"]
    assert "--workers" not in dockerfile  # mlpilot serve's own default: one per core


def test_a_deployment_s_workers_option_sets_the_container_s_worker_processes() -> None:
    recorded = {"python": "3.12.4", "packages": ["numpy==2.1.0"]}
    served = ServedModel.from_records("churn-api", "churn", "churn@production", 3, "r1", recorded, workers=3)
    assert '"--workers", "3"]' in docker_files(served)["Dockerfile"]


def test_kubernetes_names_are_dns_labels() -> None:
    assert kube_name("churn_API.v2") == "mlpilot-churn-api-v2"
    long = kube_name("x" * 100)
    assert len(long) == 63 and long.startswith("mlpilot-")


def test_thresholds_are_the_strictest_of_the_monitors_else_defaults() -> None:
    defaults = thresholds_of([])
    assert (defaults.latency_p99_ms, defaults.error_rate) == (DEFAULT_LATENCY_P99_MS, DEFAULT_ERROR_RATE)
    assert defaults.stale_after_seconds is None and [p.metric for p in defaults.performance] == ["accuracy"]
    loose = MonitorConfig.from_dict({"conditions": {"drift_share": 0.4, "latency_p99_ms": 300}})
    strict = MonitorConfig.from_dict(
        {
            "schedule_seconds": 600,
            "conditions": {
                "drift_share": 0.2,
                "features": ["tenure"],
                "error_rate": 0.01,
                "performance": {"metric": "mae", "max_drop": 2.5},
            },
        }
    )
    found = thresholds_of([loose, strict])
    assert (found.drift_share, found.latency_p99_ms, found.error_rate) == (0.2, 300, 0.01)
    assert found.features == ("tenure",) and found.stale_after_seconds == 3600 * 3
    rules = {rule["alert"]: rule["expr"] for rule in alert_rules("churn", found)["groups"][0]["rules"]}
    # mae is an error metric: worse means higher than offline.
    assert (
        "> on (deployment, version, metric)" in rules["MlpilotLiveMaeDrop"] and "+ 2.5" in rules["MlpilotLiveMaeDrop"]
    )
    assert rules["MlpilotHighLatency"].endswith("> 0.3") and rules["MlpilotHighErrorRate"].endswith("> 0.01")
    # The log's counter has no deployment label: the scrape job of this deployment picks its replicas.
    job = scrape_config("churn", "rules.yml")["scrape_configs"][0]["job_name"]
    assert rules["MlpilotPredictionLogDropping"] == (
        f'sum(increase(mlpilot_prediction_log_rows_total{{job="{job}",outcome="dropped"}}[5m])) > 0'
    )


def test_label_values_in_rules_are_escaped() -> None:
    config = MonitorConfig.from_dict({"conditions": {"features": ['a"b', "c.d"]}})
    rules = alert_rules("churn", thresholds_of([config]))["groups"][0]["rules"]
    feature = next(rule["expr"] for rule in rules if rule["alert"] == "MlpilotFeatureDrift")
    # PromQL reads "a\\"b|c\\\\.d" as the RE2 pattern a"b|c\\.d: the dot matches only a dot.
    assert 'feature=~"a\\"b|c\\\\.d"' in feature


@pytest.mark.parametrize("ci", sorted(CI_FILES))
def test_ci_workflows_parse_and_run_the_gate(ci: str) -> None:
    text = ci_workflow(ci, "churn", requirements=["accuracy>=0.9", "f1>=+0"])
    document = yaml.safe_load(text)
    scripts = yaml.dump(document)
    assert "mlpilot run ." in scripts and "mlpilot models register" in scripts
    assert "--require 'accuracy>=0.9' --require 'f1>=+0'" in text
    assert "models:/$MODEL_NAME@production" in text
    if ci == "github":
        assert [step.get("name") for step in document["jobs"]["model"]["steps"]][-3:] == ["Train", "Gate", "Register"]
        assert document["env"]["MLPILOT_TRACKING_URI"] == "${{ secrets.MLPILOT_TRACKING_URI }}"
    else:
        assert document["stages"] == ["train", "gate", "register"]
        assert "MLPILOT_TRACKING_URI" not in document["variables"]  # a CI/CD variable, never in the file


def test_ci_workflow_refuses_bad_input_and_existing_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown CI system"):
        ci_workflow("jenkins", "churn")
    with pytest.raises(InvalidInput):
        ci_workflow("github", "churn", requirements=["accuracy>>0.9"])
    written = write_ci_workflow(tmp_path, "gitlab", "churn")
    written.write_text("mine\n")
    with pytest.raises(Conflict, match="not overwriting") as refused:
        write_ci_workflow(tmp_path, "gitlab", "churn")
    assert "--force" in refused.value.hint and written.read_text() == "mine\n"
    write_ci_workflow(tmp_path, "gitlab", "churn", force=True)
    assert yaml.safe_load(written.read_text())["stages"]
