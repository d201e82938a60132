"""`mlpilot experiments` and `mlpilot runs`, run as a real command."""

from __future__ import annotations

from pathlib import Path

import mlpilot
from mlpilot.store.migrate import HEAD_REVISION
from tests.cli.conftest import CliRunner


def seed(home: Path) -> list[str]:
    with mlpilot.connect(f"sqlite:///{home / 'mlpilot.db'}", artifact_uri=str(home / "artifacts")) as client:
        ids = []
        for index, model in enumerate(["rf", "lr", "rf"]):
            with client.start_run("churn", name=f"r{index}") as run:
                run.log_params({"model": model, "C": index})
                run.log_metric("acc", 0.5 + index / 10)
                run.log_text("hi", "notes.txt")
            ids.append(run.id)
        return ids


def test_experiments_create_and_list(mlpilot_cli: CliRunner) -> None:
    assert "created experiment 'churn'" in mlpilot_cli("experiments", "create", "churn", "-d", "Churn models").out
    listed = mlpilot_cli("experiments", "list", "--json").json()
    assert [(e["name"], e["description"]) for e in listed] == [("churn", "Churn models")]
    assert "churn" in mlpilot_cli("experiments", "list").out
    duplicate = mlpilot_cli("experiments", "create", "churn", check=False)
    assert duplicate.code == 4
    assert "already exists" in duplicate.err
    assert "Traceback" not in duplicate.err


def test_runs_list_show_compare(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    ids = seed(tmp_path / "home")
    listed = mlpilot_cli("runs", "list", "-e", "churn", "-f", "params.model = 'rf'", "-o", "metrics.acc desc", "--json")
    assert [run["name"] for run in listed.json()["runs"]] == ["r2", "r0"]
    table = mlpilot_cli("runs", "list", "-e", "churn").out
    assert "r1" in table and "acc" in table

    shown = mlpilot_cli("runs", "show", ids[0], "--json").json()
    assert shown["params"] == {"model": "rf", "C": "0"}
    assert shown["artifacts"][0]["path"] == "notes.txt"
    assert shown["environment"]["python"]
    assert ids[0] in mlpilot_cli("runs", "show", ids[0]).out

    compared = mlpilot_cli("runs", "compare", ids[0], ids[1], "--json").json()
    assert compared["params"]["model"] == ["rf", "lr"]
    assert "≠" in mlpilot_cli("runs", "compare", ids[0], ids[1]).out


def test_paging_from_the_command_line(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    seed(tmp_path / "home")
    first = mlpilot_cli("runs", "list", "-n", "2", "--json").json()
    assert len(first["runs"]) == 2 and first["next_page_token"]
    rest = mlpilot_cli("runs", "list", "-n", "2", "--page-token", first["next_page_token"], "--json").json()
    assert len(rest["runs"]) == 1 and rest["next_page_token"] is None


def test_bad_input_gives_one_line_and_an_exit_code(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    seed(tmp_path / "home")
    cases = [
        (("runs", "show", "nope"), 3, "does not exist"),
        (("runs", "list", "-f", "metrics.acc >"), 2, "ends too early"),
        (("runs", "list", "-e", "ghost"), 3, "ghost"),
        (("runs", "compare", "only-one"), 2, "at least two"),
        (("--tracking-uri", "mysql://x/y", "runs", "list"), 2, "unsupported database"),
        (("runs", "list", "-n", "0"), 2, "max-results"),
        (("runs", "frobnicate"), 2, "No such command"),
    ]
    for args, code, fragment in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.err)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.err


def test_db_upgrade(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    out = mlpilot_cli("db", "upgrade").out
    assert f"revision {HEAD_REVISION}" in out
    assert (tmp_path / "home" / "mlpilot.db").is_file()
