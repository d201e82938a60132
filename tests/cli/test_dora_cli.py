"""`mlpilot dora`, run as a real command against a seeded store."""

from __future__ import annotations

from pathlib import Path

from mlpilot.client import Client
from mlpilot.config import load_settings
from tests.cli.conftest import CliRunner
from tests.ops.factories import DEPLOYMENT, seed_history


def _seed(home: Path) -> None:
    client = Client(f"sqlite:///{home / 'mlpilot.db'}", str(home / "artifacts"), settings=load_settings(home=home))
    try:
        seed_history(client)
    finally:
        client.close()


def test_table_and_json(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    _seed(tmp_path / "home")
    out = mlpilot_cli("dora", "--since", "30d").out
    for text in (
        "deployment frequency",
        "change lead time",
        "change fail rate",
        "failed deployment recovery time",
        "deployment rework rate",
        "33% (1 of 3)",
        "DORA 2024",
        "without a commit time",
    ):
        assert text in out, (text, out)
    report = mlpilot_cli("dora", "--deployment", DEPLOYMENT, "--until", "2999-01-01", "--json").json()
    assert report["deployment"] == DEPLOYMENT and report["metrics"]["deployment_frequency"]["count"] == 3
    assert report["metrics"]["change_fail_rate"]["band"]["year"] == 2024


def test_an_empty_store_and_bad_input(mlpilot_cli: CliRunner) -> None:
    assert "n/a: no deployments in the window" in mlpilot_cli("dora").out
    cases = [(("dora", "--since", "soon"), 2, "since"), (("dora", "--deployment", "ghost"), 3, "ghost")]
    for args, code, fragment in cases:
        result = mlpilot_cli(*args, check=False)
        assert result.code == code, (args, result.code, result.err)
        assert fragment in result.err and "hint:" in result.err and "Traceback" not in result.err
