"""`mlpilot export docker|k8s|prometheus` and `mlpilot init --ci`, run as real commands against a
store with a registered model, a deployment and a monitor; the alert rules are checked against
what a real prediction server exposes on /metrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from mlpilot.client import Client
from mlpilot.config import load_settings
from mlpilot.security import keys as key_service
from tests.cli.conftest import CliRunner
from tests.serving.conftest import ServingServer, cancer_frame

CONDITIONS = {
    "drift_share": 0.3,
    "features": ["mean_radius"],
    "latency_p99_ms": 250,
    "error_rate": 0.02,
    "performance": {"metric": "accuracy", "max_drop": 0.03},
}
# PromQL words that are not metric names; anything else outside braces, brackets and strings is one.
_PROMQL_WORDS = {"max", "sum", "by", "on", "rate", "histogram_quantile", "time", "le", "deployment", "version"}
_PROMQL_WORDS |= {"metric", "feature", "monitor", "increase"}
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")


@pytest.fixture
def client(tmp_path: Path, isolated_env: Path) -> Iterator[Client]:
    """The store `mlpilot_cli` uses (MLPILOT_HOME=tmp_path/home), seeded through the real services."""
    opened = Client(settings=load_settings(home=tmp_path / "home"))
    frame, target = cancer_frame()
    model = LogisticRegression(max_iter=5000).fit(frame, target)
    with opened.start_run(experiment="exports") as run:
        opened.log_model(run.id, model, "model", input_example=frame.head(5))
    version = opened.register_model(run.id, "model", "cancer")
    opened.set_alias("cancer", "production", version.version)
    opened.create_deployment("cancer", "cancer@production")
    opened.create_monitor("cancer-watch", "cancer", {"schedule_seconds": 600, "conditions": CONDITIONS})
    yield opened
    opened.close()


def test_docker_export_pins_the_run_environment(mlpilot_cli: CliRunner, client: Client, tmp_path: Path) -> None:
    out = tmp_path / "image"
    result = mlpilot_cli("export", "docker", "cancer", "-o", str(out))
    assert "docker build -t mlpilot-cancer" in result.out
    dockerfile = (out / "Dockerfile").read_text()
    user = re.search(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert user is not None and user.group(1).split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n.*http://127\.0\.0\.1:8080/healthz", dockerfile, re.MULTILINE)
    assert 'CMD ["mlpilot", "serve", "cancer@production", "--name", "cancer", "--host", "0.0.0.0"' in dockerfile
    # The store is given at run time: no database address (or its password) in any layer.
    assert "MLPILOT_TRACKING_URI=" not in dockerfile.replace("-e MLPILOT_TRACKING_URI=", "")
    assert "sqlite" not in dockerfile and str(tmp_path) not in dockerfile
    lines = [line for line in (out / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9._-]+==\S+", line) for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"scikit-learn", "numpy", "mlpilot"} <= names and "pip" not in names
    again = mlpilot_cli("export", "docker", "cancer", "-o", str(out), check=False)
    assert again.code == 4 and "--force" in again.err and "Traceback" not in again.err
    mlpilot_cli("export", "docker", "cancer", "-o", str(out), "--force")


def test_k8s_export_is_valid_objects_with_probes_and_a_secret_reference(
    mlpilot_cli: CliRunner, client: Client, tmp_path: Path
) -> None:
    out = tmp_path / "cancer.yaml"
    mlpilot_cli("export", "k8s", "cancer", "-o", str(out), "--replicas", "3", "--image", "registry/cancer:1")
    objects = list(yaml.safe_load_all(out.read_text()))
    assert [o["kind"] for o in objects] == ["ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"]
    for obj in objects:
        assert obj["apiVersion"] and obj["metadata"]["name"]
        assert "spec" in obj or (obj["kind"] == "ConfigMap" and obj["data"])
    config, deployment, service, hpa = objects
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 3 and container["image"] == "registry/cancer:1"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    (tracking,) = container["env"]
    assert tracking["name"] == "MLPILOT_TRACKING_URI" and "value" not in tracking
    assert tracking["valueFrom"]["secretKeyRef"] == {"name": "mlpilot-store", "key": "tracking-uri"}
    assert "sqlite" not in out.read_text() and not any(o["kind"] == "Secret" for o in objects)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] == 3
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def _exposed(text: str) -> set[str]:
    """Every series name a /metrics page offers: sample names, and the families its TYPE lines
    declare (a histogram's family with its _bucket/_sum/_count series)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            match = _SAMPLE.match(line)
            assert match is not None
            names.add(match.group(1))
    return names


def _metric_names(expr: str) -> set[str]:
    """Identifiers of a PromQL expression that are not functions, keywords or label names."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values are user text
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", bare)  # matchers and range durations
    return {word for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare) if word not in _PROMQL_WORDS}


def test_prometheus_rules_use_only_metrics_a_real_server_exposes(
    mlpilot_cli: CliRunner, client: Client, tmp_path: Path
) -> None:
    out = tmp_path / "prometheus"
    mlpilot_cli("export", "prometheus", "cancer", "-o", str(out))
    scrape = yaml.safe_load((out / "prometheus.yml").read_text())
    rules_file = out / scrape["rule_files"][0]
    (job,) = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    rules = {rule["alert"]: rule for rule in groups[0]["rules"]}
    # Thresholds come from the monitor's conditions.
    assert rules["MlpilotDatasetDrift"]["expr"].endswith(">= 0.3")
    assert rules["MlpilotHighLatency"]["expr"].endswith("> 0.25")
    assert rules["MlpilotHighErrorRate"]["expr"].endswith("> 0.02")
    assert (
        "- 0.03" in rules["MlpilotLiveAccuracyDrop"]["expr"] and "mean_radius" in rules["MlpilotFeatureDrift"]["expr"]
    )
    assert rules["MlpilotMonitorStale"]["expr"].endswith("> 1800")

    # A real prediction server, one request served, then /metrics read with a read-scope key.
    _, read_key = key_service.create_key(client.db, "prometheus", ["read"], actor="test")  # type: ignore[attr-defined]
    _, predict_key = key_service.create_key(client.db, "app", ["predict"], actor="test")  # type: ignore[attr-defined]
    settings = load_settings(home=tmp_path / "home", serve_model="cancer@production", serve_poll_seconds=0.1)
    server = ServingServer(settings).start()
    try:
        frame, _ = cancer_frame()
        rows = frame.head(2).to_dict(orient="records")
        with server.http(predict_key) as http:
            assert http.post("/v1/deployments/cancer/predict", json={"instances": rows}).status_code == 200
        with server.http(read_key) as http:
            page = http.get("/metrics")
        assert page.status_code == 200
    finally:
        server.stop()
    exposed = _exposed(page.text)
    used = {name for rule in rules.values() for name in _metric_names(rule["expr"])}
    assert used and used <= exposed, used - exposed
    assert {"mlpilot_requests_total", "mlpilot_request_duration_seconds_bucket", "mlpilot_dataset_drift_share"} <= used


def test_unknown_deployment_is_one_line_and_exit_3(mlpilot_cli: CliRunner, client: Client) -> None:
    for kind in ("docker", "k8s", "prometheus", "grafana"):
        result = mlpilot_cli("export", kind, "ghost", check=False)
        assert result.code == 3, (kind, result.err)
        assert "ghost" in result.err and "Traceback" not in result.err
        assert len([line for line in result.err.splitlines() if line.strip()]) <= 2  # the error and its hint


@pytest.mark.parametrize(("ci", "path"), [("github", ".github/workflows/mlpilot.yml"), ("gitlab", ".gitlab-ci.yml")])
def test_init_ci_writes_a_workflow_and_refuses_to_overwrite(
    mlpilot_cli: CliRunner, tmp_path: Path, ci: str, path: str
) -> None:
    project = tmp_path / "churn"
    result = mlpilot_cli("init", str(project), "--ci", ci)
    assert (project / "mlpilot.yaml").is_file() and path in result.out
    workflow = yaml.safe_load((project / path).read_text())
    assert "mlpilot gate" in yaml.dump(workflow) and "models:/$MODEL_NAME@production" in (project / path).read_text()
    assert "MODEL_NAME: churn" in (project / path).read_text()

    again = mlpilot_cli("init", str(project), "--ci", ci, check=False)
    assert again.code == 4 and "--force" in again.err and "Traceback" not in again.err
    # In an existing project, --force replaces only the workflow.
    (project / "train.py").write_text("# mine\n")
    mlpilot_cli("init", str(project), "--ci", ci, "--force")
    assert (project / "train.py").read_text() == "# mine\n"
    bad = mlpilot_cli("init", str(tmp_path / "other"), "--ci", "jenkins", check=False)
    assert bad.code == 2 and "github" in bad.err and not (tmp_path / "other").exists()
