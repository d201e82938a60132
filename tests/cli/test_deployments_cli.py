"""`mlpilot deployments` and `mlpilot serve`, run as real commands against a seeded store."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import CliRunner
from tests.cli.test_models_cli import seed


def _registered(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    runs = seed(tmp_path / "home")
    mlpilot_cli("models", "register", runs[0], "model", "iris")
    mlpilot_cli("models", "register", runs[1], "model", "iris")
    mlpilot_cli("models", "alias", "iris", "production", "1")
    mlpilot_cli("models", "alias", "iris", "challenger", "2")


def test_create_show_update_roll_back_and_delete(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    _registered(mlpilot_cli, tmp_path)
    created = mlpilot_cli(
        "deployments", "create", "iris-api", "--model", "iris@production", "--canary", "challenger:0.1", "--json"
    ).json()
    assert created["target"] == "@production" and created["model_uri"] == "models:/iris@production"
    assert created["canary"]["weight"] == 0.1
    assert "iris-api" in mlpilot_cli("deployments", "list").out
    shown = mlpilot_cli("deployments", "show", "iris-api", "--json").json()
    assert shown["traffic"]["primary"] == 1 and shown["traffic"]["canary"] == {"version": 2, "weight": 0.1}
    assert "serving now: version 1; canary version 2 at 10%" in mlpilot_cli("deployments", "show", "iris-api").out

    updated = mlpilot_cli("deployments", "update", "iris-api", "--no-canary", "--max-batch-size", "32", "--json").json()
    assert updated["canary"] is None and updated["config"] == {"max_batch_size": 32}
    mlpilot_cli("models", "alias", "iris", "production", "2")
    rolled = mlpilot_cli("deployments", "rollback", "iris-api", "--json").json()
    assert rolled["pinned_version"] == 1
    events = [event["action"] for event in mlpilot_cli("deployments", "events", "iris-api", "--json").json()]
    assert events[0] == "rolled_back" and events[-1] == "created"
    assert "deleted deployment 'iris-api'" in mlpilot_cli("deployments", "delete", "iris-api").out
    assert mlpilot_cli("deployments", "list", "--json").json() == []


def test_bad_input_is_one_line_and_an_exit_code(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    _registered(mlpilot_cli, tmp_path)
    cases = [
        (("deployments", "create", "a", "--model", "iris@nope"), 3, "nope"),
        (("deployments", "create", "a", "--model", "ghost@production"), 3, "ghost"),
        (("deployments", "create", "a", "--model", "iris@production", "--canary", "challenger"), 2, "TARGET:FRACTION"),
        (("deployments", "create", "a", "--model", "iris@production", "--canary", "challenger:2"), 2, "weight"),
        (("deployments", "create", "bad name", "--model", "iris@production"), 2, "name"),
        (("deployments", "show", "nothing"), 3, "nothing"),
        (("deployments", "rollback", "nothing"), 3, "nothing"),
        (("serve", "ghost@production"), 3, "ghost"),
        (("serve", "runs:/0123456789abcdef0123456789abcdef/model"), 2, "registered model"),
    ]
    for args, code, fragment in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.code, result.err)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.err
    mlpilot_cli("deployments", "create", "a", "--model", "iris@production")
    duplicate = mlpilot_cli("deployments", "create", "a", "--model", "iris/2", check=False)
    assert duplicate.code == 4 and "already" in duplicate.err
