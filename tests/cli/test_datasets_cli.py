"""`mlpilot datasets`: list, versions, show and diff, over a store seeded through the service."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner as TyperRunner

from mlpilot.artifacts import ContentStore, LocalBackend
from mlpilot.cli import app as cli_app
from mlpilot.cli import datasets
from mlpilot.data.versions import log_dataset
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.store import Database, ensure_schema
from tests.cli.conftest import CliRunner

Invoke = Callable[..., Any]


def seed(home: Path) -> None:
    db = Database(f"sqlite:///{home / 'mlpilot.db'}")
    ensure_schema(db)
    content = ContentStore(LocalBackend(home / "artifacts"))
    first = pd.DataFrame({"age": [30, 40, 50, 60], "plan": ["basic", "basic", "pro", "pro"], "legacy": [1, 2, 3, 4]})
    second = pd.DataFrame(
        {"age": [30, 40, 50, 60, 90], "plan": ["basic", "pro", "pro", "max", None], "region": list("eeuuu")}
    )
    log_dataset(db, content, first, "churn")
    log_dataset(db, content, second, "churn")
    log_dataset(db, content, first, "holdout")
    db.dispose()


@pytest.fixture
def invoke(tmp_path: Path, isolated_env: Path) -> Invoke:
    """The datasets sub-app under the real root callback, run in-process."""
    root = typer.Typer()
    root.callback()(cli_app.root)
    root.add_typer(datasets.app, name="datasets")
    home = tmp_path / "home"
    runner = TyperRunner()

    def run(*args: str) -> Any:
        return runner.invoke(root, ["--home", str(home), "datasets", *args])

    return run


def test_list_and_versions(invoke: Invoke, tmp_path: Path) -> None:
    assert "none yet" in invoke("list").stdout
    seed(tmp_path / "home")
    listed = json.loads(invoke("list", "--json").stdout)
    assert [(d["name"], d["latest_version"], d["versions"]) for d in listed] == [("churn", 2, 2), ("holdout", 1, 1)]
    assert "holdout" in invoke("list").stdout
    versions = json.loads(invoke("versions", "churn", "--json").stdout)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["rows"] == 5
    table = invoke("versions", "churn").stdout
    assert versions[0]["content_hash"][:12] in table


def test_show_prints_schema_and_profile(invoke: Invoke, tmp_path: Path) -> None:
    seed(tmp_path / "home")
    shown = json.loads(invoke("show", "churn:1", "--json").stdout)
    assert (shown["dataset"], shown["version"], shown["rows"]) == ("churn", 1, 4)
    assert shown["profile"]["fields"]["age"]["mean"] == 45.0
    assert json.loads(invoke("show", "churn", "--json").stdout)["version"] == 2
    assert json.loads(invoke("show", "churn@latest", "--json").stdout)["version"] == 2
    table = invoke("show", "churn:2").stdout
    for fragment in ("Schema", "Numeric columns", "Categorical columns", "region", "pro (2)", "int64"):
        assert fragment in table


def test_diff_json_and_tables(invoke: Invoke, tmp_path: Path) -> None:
    seed(tmp_path / "home")
    changes = json.loads(invoke("diff", "churn:1", "churn:2", "--json").stdout)
    assert (changes["rows_before"], changes["rows_after"]) == (4, 5)
    assert changes["columns_added"] == ["region"]
    assert changes["columns_removed"] == ["legacy"]
    assert {c["stat"] for c in changes["numeric_changes"] if c["column"] == "age"} == {"mean", "std", "max"}
    [plan] = changes["category_changes"]
    assert plan["new_values"] == ["max"]
    table = invoke("diff", "churn:1", "churn").stdout
    for fragment in ("churn:1 → churn:2", "Numeric changes", "Category changes", "region", "legacy"):
        assert fragment in table
    assert "no schema or profile changes" in invoke("diff", "churn:1", "holdout").stdout


def test_show_prints_brackets_literally(invoke: Invoke, tmp_path: Path) -> None:
    # Rich reads "[ns]" as markup unless table cells are escaped (mlpilot.cli.render.print_table).
    home = tmp_path / "home"
    db = Database(f"sqlite:///{home / 'mlpilot.db'}")
    ensure_schema(db)
    stamps = pd.DataFrame({"at": pd.to_datetime(pd.Series(["2024-01-01", "2024-01-02"])), "tags": [[1], [2, 3]]})
    log_dataset(db, ContentStore(LocalBackend(home / "artifacts")), stamps, "events")
    db.dispose()
    table = invoke("show", "events").stdout
    assert "datetime64[ns]" in table
    assert "[2, 3] (1)" in table


@pytest.mark.parametrize(
    ("args", "error", "fragment"),
    [
        (("show", "nope"), NotFound, "'nope' does not exist"),
        (("show", "churn:9"), NotFound, "no version 9"),
        (("show", "churn:x"), InvalidInput, "invalid dataset version"),
        (("versions", "nope"), NotFound, "'nope' does not exist"),
        (("diff", "churn:1", "churn:3"), NotFound, "no version 3"),
        (("diff", "churn@prod", "churn"), InvalidInput, "alias"),
    ],
)
def test_errors_are_mlpilot_errors(
    invoke: Invoke, tmp_path: Path, args: tuple[str, ...], error: type[Exception], fragment: str
) -> None:
    seed(tmp_path / "home")
    result = invoke(*args)
    assert isinstance(result.exception, error)
    assert fragment in str(result.exception)


def test_the_mlpilot_command_has_datasets(mlpilot_cli: CliRunner, tmp_path: Path) -> None:
    # Needs `app.add_typer(datasets.app, name="datasets")` in mlpilot/cli/app.py.
    seed(tmp_path / "home")
    listed = mlpilot_cli("datasets", "list", "--json").json()
    assert [d["name"] for d in listed] == ["churn", "holdout"]
    missing = mlpilot_cli("datasets", "show", "nope", check=False)
    assert missing.code == 3
    assert "does not exist" in missing.err
    assert "Traceback" not in missing.err


def test_show_lists_the_runs_that_read_the_version(invoke: Invoke, tmp_path: Path) -> None:
    import mlpilot

    home = tmp_path / "home"
    frame = pd.DataFrame({"x": [1, 2, 3]})
    with mlpilot.connect(f"sqlite:///{home / 'mlpilot.db'}", artifact_uri=str(home / "artifacts")) as client:
        with client.start_run("data") as train:
            train.log_dataset(frame, name="events", role="train")
        with client.start_run("data") as evaluate:
            evaluate.log_dataset(frame, name="events", role="test")
    shown = json.loads(invoke("show", "events", "--json").stdout)
    assert sorted((r["run_id"], r["role"]) for r in shown["runs"]) == sorted(
        [(train.id, "train"), (evaluate.id, "test")]
    )
    assert "Read by runs" in invoke("show", "events").stdout
