"""`mlpilot init`: the scaffold is a valid project that runs as it is, and nothing is overwritten."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlpilot.cli.app import main
from mlpilot.errors import Conflict, InvalidInput
from mlpilot.projects import init_project, load_project
from mlpilot.tracking.records import RunStatus
from tests.projects.conftest import MlpilotCli, Store


def test_init_writes_a_valid_project(tmp_path: Path) -> None:
    scaffold = init_project(tmp_path / "new" / "churn-model")
    folder = (tmp_path / "new" / "churn-model").resolve()
    assert (scaffold.name, scaffold.directory) == ("churn-model", folder)
    assert [path.name for path in scaffold.created] == ["mlpilot.yaml", "train.py", ".gitignore"]
    assert scaffold.updated == ()
    assert (folder / ".gitignore").read_text() == ".mlpilot/\n"

    project = load_project(folder)
    assert project.name == "churn-model"
    main = project.entry_points["main"]
    assert {name: param.default for name, param in main.parameters.items()} == {
        "C": 1.0,
        "max_iter": 200,
        "test_size": 0.25,
        "seed": 0,
    }
    assert "experiment='churn-model'" in (folder / "train.py").read_text()
    compile((folder / "train.py").read_text(), "train.py", "exec")


def test_a_name_that_needs_quoting_is_quoted(tmp_path: Path) -> None:
    odd = 'say "hi": #1 \\ it\'s'
    init_project(tmp_path, name=odd)
    assert load_project(tmp_path).name == odd
    compile((tmp_path / "train.py").read_text(), "train.py", "exec")
    assert repr(odd) in (tmp_path / "train.py").read_text()


def test_an_existing_gitignore_is_extended_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    scaffold = init_project(tmp_path)
    assert [path.name for path in scaffold.updated] == [".gitignore"]
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.mlpilot/\n"

    other = tmp_path / "other"
    other.mkdir()
    (other / ".gitignore").write_text(".mlpilot\n")
    assert init_project(other).updated == ()
    assert (other / ".gitignore").read_text() == ".mlpilot\n"


def test_init_over_a_project_exits_4(tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_project(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["init", str(tmp_path)])
    assert exited.value.code == 4
    assert "already has mlpilot.yaml and train.py; not overwriting" in capsys.readouterr().err


@pytest.mark.parametrize("existing", ["mlpilot.yaml", "train.py"])
def test_init_refuses_to_overwrite_and_changes_nothing(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("mine\n")
    with pytest.raises(Conflict, match=f"already has {existing}; not overwriting"):
        init_project(tmp_path)
    assert (tmp_path / existing).read_text() == "mine\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [existing]


def test_init_into_a_file_or_with_an_empty_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInput, match="is not a folder"):
        init_project(tmp_path / "file")
    with pytest.raises(InvalidInput, match="name is empty"):
        init_project(tmp_path / "x", name="  ")


def test_the_scaffold_runs_end_to_end(mlpilot_run: MlpilotCli, store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    created = mlpilot_run("init", str(folder), "--name", "demo")
    assert created.code == 0, created.output
    assert "created project 'demo'" in created.output
    assert f"next: mlpilot run {folder}" in created.output

    result = mlpilot_run("run", str(folder), "-P", "C=0.5", "-e", "demo")
    assert result.code == 0, result.output
    run_id = re.search(r"in run with ID '([0-9a-f]{32})'", result.output).group(1)  # type: ignore[union-attr]
    assert f"=== Run (ID='{run_id}') succeeded ===" in result.output
    assert f"run {run_id}: accuracy=" in result.output

    with store.client() as client:
        run = client.get_run(run_id)
        assert run.status is RunStatus.FINISHED
        # Logged by `mlpilot run` first, then again by the script from its parsed arguments: same text.
        assert dict(run.params) == {"C": "0.5", "max_iter": "200", "test_size": "0.25", "seed": "0"}
        assert 0.5 < run.metrics["accuracy"] <= 1
        assert {(item.dataset, item.role) for item in run.inputs} == {("iris-train", "train"), ("iris-test", "test")}
        paths = {entry.path for entry in client.list_artifacts(run_id)}
        assert paths == {"classification_report.json", "model/MLPILOT_MODEL.json", "model/model.pkl", "logs/output.txt"}

    # What the `mlpilot init --ci` workflow does next: gate the run's model on the held-out rows.
    assert (folder / "holdout.parquet").is_file()
    gated = mlpilot_run(
        "gate",
        "--candidate",
        f"runs:/{run_id}/model",
        "--data",
        str(folder / "holdout.parquet"),
        "--require",
        "accuracy>=0.8",
        "--json",
    )
    assert gated.code == 0, gated.output
