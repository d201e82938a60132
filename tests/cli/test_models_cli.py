"""`mlpilot models`, run as a real command against a store seeded through the client."""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from mlpilot.client import Client
from mlpilot.config import load_settings
from tests.cli.conftest import CliRunner


def seed(home: Path, count: int = 2) -> list[str]:
    data = load_iris(as_frame=True)
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    runs = []
    try:
        for depth in range(1, count + 1):
            with client.start_run("iris") as run:
                run.log_param("depth", depth)
                model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(data.data, data.target)
                run.log_metric("acc", float(model.score(data.data, data.target)))
                run.log_model(model, "model", input_example=data.data.head(2))
            runs.append(run.id)
    finally:
        client.close()
    return runs


def test_register_alias_rollback_and_inspect(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    runs = seed(tmp_path / "home")
    assert "registered models:/iris/1" in mlpilot_cli("models", "register", runs[0], "model", "iris").out
    second = mlpilot_cli("models", "register", runs[1], "model", "iris", "-d", "deeper", "--json").json()
    assert second["version"] == 2 and second["description"] == "deeper"

    assert "models:/iris@production → version 1" in mlpilot_cli("models", "alias", "iris", "production", "1").out
    mlpilot_cli("models", "alias", "iris", "production", "2", "--reason", "more accurate")
    assert "rolled back to version 1" in mlpilot_cli("models", "rollback", "iris", "production").out

    listed = mlpilot_cli("models", "list", "--json").json()
    assert listed[0]["aliases"] == {"production": 1} and listed[0]["latest_version"] == 2
    shown = mlpilot_cli("models", "show", "iris", "@production", "--json").json()
    assert shown["version"] == 1 and shown["flavor"] == "sklearn"
    assert "sha256" in mlpilot_cli("models", "show", "iris", "2").out
    assert "production" in mlpilot_cli("models", "show", "iris").out

    events = mlpilot_cli("models", "events", "iris", "--json").json()
    assert [e["action"] for e in events] == ["registered", "registered", "alias_set", "alias_set", "alias_rollback"]
    assert events[3]["reason"] == "more accurate"

    lineage = mlpilot_cli("models", "lineage", "iris", "2", "--json").json()
    assert lineage["run"]["id"] == runs[1] and lineage["run"]["params"] == {"depth": "2"}
    compared = mlpilot_cli("models", "compare", "iris", "1", "2", "--json").json()
    assert compared["params"]["depth"] == {"a": "1", "b": "2"}
    assert "params.depth" in mlpilot_cli("models", "compare", "iris", "1", "2").out

    mlpilot_cli("models", "alias", "iris", "production", "--delete")
    assert "archived models:/iris/2" in mlpilot_cli("models", "archive", "iris", "2").out


def test_models_bad_input(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    runs = seed(tmp_path / "home", count=1)
    mlpilot_cli("models", "register", runs[0], "model", "iris")
    cases = [
        (("models", "show", "ghost"), 3, "ghost"),
        (("models", "alias", "iris", "production", "9"), 3, "no version 9"),
        (("models", "alias", "iris", "production"), 2, "VERSION"),
        (("models", "register", runs[0], "nope", "iris"), 3, "no model at 'nope'"),
        (("models", "rollback", "iris", "production"), 4, "no previous holder"),
        (("models", "show", "iris", "seven"), 2, "cannot read version"),
        (("models", "alias", "iris", "latest", "1"), 2, "not a valid alias"),
    ]
    for args, code, fragment in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.err)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.err
    assert [e["action"] for e in mlpilot_cli("models", "events", "iris", "--json").json()] == ["registered"]
