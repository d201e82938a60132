"""``mlpilot pipelines`` end to end: a pipeline file in the working folder, run, listed, shown."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import CliRunner

FLOW = """
import pandas as pd
from mlpilot.pipelines import pipeline, step


@step
def numbers(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"x": list(range(n))})


@step
def total(frame: pd.DataFrame, scale: float = 1.0) -> float:
    return float(frame["x"].sum() * scale)


@step
def explode(value: float) -> float:
    raise ValueError("no good")


@pipeline
def sums(n: int = 5) -> None:
    total.map(numbers(n), grid={"scale": [1.0, 2.0]})


@pipeline
def failing() -> None:
    explode(total(numbers()))


not_a_pipeline = 3
"""


def test_run_list_show_and_runs(mlpilot_cli: CliRunner, isolated_env: Path) -> None:
    (isolated_env / "flow.py").write_text(FLOW)

    first = mlpilot_cli("pipelines", "run", "flow.py:sums", "-P", "n=4", "--workers", "1", "--json").json()
    assert first["status"] == "SUCCEEDED" and first["params"] == {"n": 4}
    assert [(s["step"], s["status"]) for s in first["steps"]] == [
        ("numbers", "SUCCEEDED"),
        ("total[0]", "SUCCEEDED"),
        ("total[1]", "SUCCEEDED"),
    ]
    assert [s["outputs"]["output"]["value"] for s in first["steps"][1:]] == [6.0, 12.0]

    again = mlpilot_cli("pipelines", "run", "flow.py:sums", "-P", "n=4")
    assert "3 steps, 3 from cache" in again.out and again.out.count("CACHED") == 3

    listed = mlpilot_cli("pipelines", "list", "--json").json()["pipelines"]
    assert [(p["name"], p["last_run"]["status"]) for p in listed] == [("sums", "SUCCEEDED")]
    assert listed[0]["source"].endswith("flow.py:sums")

    shown = mlpilot_cli("pipelines", "show", "sums").out
    assert "frame ← numbers.output" in shown and "2 instances" in shown

    runs = mlpilot_cli("pipelines", "runs", "sums", "--json").json()["runs"]
    assert [r["id"] for r in runs] == [mlpilot_cli("pipelines", "runs", "--json").json()["runs"][0]["id"], first["id"]]
    one = mlpilot_cli("pipelines", "show", first["id"], "--json").json()
    assert one["id"] == first["id"] and len(one["steps"]) == 3

    fresh = mlpilot_cli("pipelines", "run", "flow.py:sums", "-P", "n=4", "--no-cache", "--json").json()
    assert {s["status"] for s in fresh["steps"]} == {"SUCCEEDED"}


def test_a_failing_step_exits_1_and_names_it(mlpilot_cli: CliRunner, isolated_env: Path) -> None:
    (isolated_env / "flow.py").write_text(FLOW)
    failed = mlpilot_cli("pipelines", "run", "flow.py:failing", check=False)
    assert failed.code == 1
    assert "ValueError: no good" in failed.out and "step(s) failed: explode" in failed.out


def test_bad_input_is_one_readable_line_and_its_exit_code(mlpilot_cli: CliRunner, isolated_env: Path) -> None:
    (isolated_env / "flow.py").write_text(FLOW)
    cases = [
        (("pipelines", "run", "flow.py:sums", "-P", "n=many"), 2, "parameter 'n' of pipeline 'sums' is int"),
        (("pipelines", "run", "flow.py:sums", "-P", "m=1"), 2, "has no parameter 'm'"),
        (("pipelines", "run", "flow.py:sums", "-P", "n"), 2, "is not key=value"),
        (("pipelines", "run", "flow.py:nothing"), 3, "flow.py has no 'nothing'"),
        (("pipelines", "run", "missing.py:sums"), 3, "pipeline file missing.py does not exist"),
        (("pipelines", "run", "flow.py:not_a_pipeline"), 2, "is a int, not a @pipeline"),
        (("pipelines", "run", "flow.py"), 2, "is not FILE.py:NAME"),
        (("pipelines", "show", "nope"), 3, "no pipeline and no pipeline run is called 'nope'"),
        (("pipelines", "run", "flow.py:sums", "--trigger", "[1]"), 2, "--trigger takes the JSON object"),
    ]
    for args, code, message in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.err)
        assert message in result.err, (args, result.err)
        assert "Traceback" not in result.err


def test_triggers_from_the_command_line(mlpilot_cli: CliRunner, isolated_env: Path) -> None:
    from tests.orchestration.conftest import FLOW as RETRAIN

    (isolated_env / "flow.py").write_text(RETRAIN)
    mlpilot_cli("pipelines", "register", "flow.py:retrain")
    added = mlpilot_cli(
        "pipelines", "triggers", "add", "retrain", "--cron", "0 3 * * *", "-P", "rows=3", "--json"
    ).json()
    assert added["params"] == {"rows": 3} and added["description"] == "cron 0 3 * * * (UTC)"
    assert "cron 0 3 * * * (UTC)" in mlpilot_cli("pipelines", "triggers", "list").out
    assert "Nothing is due." in mlpilot_cli("pipelines", "tick").out
    mlpilot_cli("pipelines", "triggers", "disable", str(added["id"]))
    assert mlpilot_cli("pipelines", "triggers", "list", "--json").json()["triggers"][0]["enabled"] is False
    mlpilot_cli("pipelines", "triggers", "delete", str(added["id"]))
    assert mlpilot_cli("pipelines", "triggers", "list", "--json").json() == {"triggers": []}

    cases = [
        (("pipelines", "triggers", "add", "retrain"), 2, "exactly one of --cron, --on-dataset or --on-alert"),
        (("pipelines", "triggers", "add", "retrain", "--cron", "99 * * * *"), 2, "is not valid"),
        (("pipelines", "triggers", "add", "retrain", "--cron", "* * * * *", "-P", "rows=x"), 2, "is int"),
        (("pipelines", "triggers", "add", "nope", "--on-dataset", "loans"), 3, "pipeline 'nope' does not exist"),
        (("pipelines", "triggers", "delete", "42"), 3, "trigger 42 does not exist"),
    ]
    for args, code, message in cases:
        result = mlpilot_cli(*args, check=False)
        assert (result.code, message in result.err) == (code, True), (args, result.err)
