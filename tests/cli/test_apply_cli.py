"""``mlpilot plan`` and ``mlpilot apply`` as real commands: a readable plan, apply, a second apply
that changes nothing, exit codes, one-line errors naming line and field, and --json."""

from __future__ import annotations

from pathlib import Path

from mlpilot.cli.apply import PLAN_HAS_CHANGES
from tests.cli.conftest import CliRunner
from tests.cli.test_deployments_cli import _registered
from tests.cli.test_pipelines_cli import FLOW

DECLARED = """\
name: iris
deployments:
  - name: iris-api
    model: iris@production
    max_batch_size: 16
    canary: {alias: challenger, weight: 0.1}
    monitors:
      - name: iris-drift
        window: 1h
        conditions: {drift_share: 0.3, error_rate: 0.05}
    retrain:
      - {pipeline: sums, on: alert, monitor: iris-drift, params: {n: 7}}
"""


def _project(mlpilot_cli: CliRunner, tmp_path: Path, isolated_env: Path) -> Path:
    _registered(mlpilot_cli, tmp_path)
    (isolated_env / "flow.py").write_text(FLOW)
    mlpilot_cli("pipelines", "register", "flow.py:sums")
    path = isolated_env / "mlpilot.yaml"
    path.write_text(DECLARED)
    return path


def test_plan_apply_and_a_second_apply_that_changes_nothing(
    mlpilot_cli: CliRunner, tmp_path: Path, isolated_env: Path
) -> None:
    path = _project(mlpilot_cli, tmp_path, isolated_env)
    planned = mlpilot_cli("plan")
    assert planned.out.splitlines() == [
        "+ deployment iris-api: model iris@production, canary @challenger (weight 0.1), max_batch_size 16",
        "+ monitor iris-drift",
        "+ trigger sums on alert of monitor iris-drift",
        "Plan for mlpilot.yaml (project iris): 3 to create, 0 to change, 0 to delete, 0 unchanged.",
    ]
    assert mlpilot_cli("plan", "--detailed-exitcode", check=False).code == PLAN_HAS_CHANGES
    assert mlpilot_cli("deployments", "list", "--json").json() == []  # plan changed nothing

    applied = mlpilot_cli("apply")
    assert "Applied mlpilot.yaml: 3 created, 0 changed, 0 deleted." in applied.out
    (shown,) = mlpilot_cli("deployments", "list", "--json").json()
    assert shown["canary"]["weight"] == 0.1 and shown["config"] == {"max_batch_size": 16}
    assert [m["name"] for m in mlpilot_cli("monitors", "list", "--json").json()] == ["iris-drift"]

    again = mlpilot_cli("apply")
    assert again.out.startswith("No changes: the store already matches mlpilot.yaml.")
    assert mlpilot_cli("plan", "--detailed-exitcode").code == 0
    events = mlpilot_cli("deployments", "events", "iris-api", "--json").json()
    assert [event["action"] for event in events] == ["created"]

    path.write_text(DECLARED.replace("weight: 0.1", "weight: 0.25"))
    assert "~ deployment iris-api: canary.weight 0.1 → 0.25" in mlpilot_cli("plan").out
    assert "1 changed" in mlpilot_cli("apply", "-f", str(path)).out


def test_json_plan_and_apply(mlpilot_cli: CliRunner, tmp_path: Path, isolated_env: Path) -> None:
    _project(mlpilot_cli, tmp_path, isolated_env)
    planned = mlpilot_cli("plan", "--json").json()
    assert planned["has_changes"] and planned["counts"]["create"] == 3
    first = planned["changes"][0]
    assert (first["action"], first["kind"], first["name"]) == ("create", "deployment", "iris-api")
    applied = mlpilot_cli("apply", "--json").json()
    assert applied["changed"] and len(applied["applied"]) == 3
    assert mlpilot_cli("apply", "--json").json()["changed"] is False


def test_prune_deletes_only_what_apply_created(mlpilot_cli: CliRunner, tmp_path: Path, isolated_env: Path) -> None:
    path = _project(mlpilot_cli, tmp_path, isolated_env)
    mlpilot_cli("apply")
    mlpilot_cli("deployments", "create", "by-hand", "--model", "iris@production")
    path.write_text("name: iris\ndeployments: []\n")
    kept = mlpilot_cli("apply")
    assert "3 no longer declared but kept; `--prune` deletes them." in kept.out
    pruned = mlpilot_cli("apply", "--prune").out
    assert "- deployment iris-api" in pruned and "by-hand" not in pruned
    assert [d["name"] for d in mlpilot_cli("deployments", "list", "--json").json()] == ["by-hand"]


def test_bad_files_are_one_line_errors_naming_line_and_field(
    mlpilot_cli: CliRunner, tmp_path: Path, isolated_env: Path
) -> None:
    path = _project(mlpilot_cli, tmp_path, isolated_env)
    cases = [
        (
            DECLARED.replace("iris@production", "iris@nope"),
            "mlpilot.yaml:4: deployments[0].model: model 'iris' has no alias",
        ),
        (
            DECLARED.replace("weight: 0.1", "weight: 1.5"),
            "mlpilot.yaml:6: deployments[0].canary.weight: must be a number",
        ),
        (DECLARED.replace("drift_share: 0.3", "drift_share: high"), "mlpilot.yaml:10: deployments[0].monitors[0]"),
        (DECLARED.replace("pipeline: sums", "pipeline: nope"), "mlpilot.yaml:12: deployments[0].retrain[0].pipeline"),
        (DECLARED + "  - {name: iris-api, model: iris/1}\n", "mlpilot.yaml:13: deployments[1].name: duplicate"),
        ("deployments:\n  - name: [x\n", "not valid YAML (line 3, column 1)"),
    ]
    for text, fragment in cases:
        path.write_text(text)
        for command in ("plan", "apply"):
            result = mlpilot_cli(command, check=False)
            assert result.code == 2, (command, text, result.err)
            first = result.err.splitlines()[0]
            assert first.startswith("error: ") and fragment in first, (fragment, result.err)
            assert "Traceback" not in result.err
    assert mlpilot_cli("deployments", "list", "--json").json() == []  # nothing was applied
    missing = mlpilot_cli("plan", "-f", "nowhere.yaml", check=False)
    assert missing.code == 2 and "nowhere.yaml does not exist" in missing.err
