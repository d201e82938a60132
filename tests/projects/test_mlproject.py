"""``mlpilot run`` on a directory with an MLflow ``MLproject`` file: typed parameters, the command
rendered, and the project's own mlflow calls landing in the mlpilot run through the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlpilot.cli.app import main
from mlpilot.projects import load_project, plan_run
from mlpilot.projects.values import ParamType
from tests.conftest import LiveServer

SAMPLE = Path(__file__).parent / "samples" / "mlproject"


def test_mlproject_is_read_into_a_project() -> None:
    project = load_project(SAMPLE)
    assert project.name == "mlflow-sample"
    entry = project.entry_point("main")
    assert {name: param.type for name, param in entry.parameters.items()} == {
        "alpha": ParamType.FLOAT,
        "label": ParamType.STR,
        "data": ParamType.PATH,
    }
    assert entry.parameters["data"].required
    plan = plan_run(SAMPLE, "main", ["data=data.csv"], cwd=SAMPLE)
    assert plan.command == f"python train.py --alpha 0.5 --label 'first try' --data {SAMPLE.resolve() / 'data.csv'}"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\n", "must declare at least one entry point"),
        ("entry_points:\n  main: {command: 'python t.py {a}'}\n", "undeclared parameters a"),
        ("entry_points:\n  main: {parameters: {a: integer}, command: 'x {a}'}\n", "unknown type 'integer'"),
        ("docker_env: {image: x}\nentry_points:\n  main: {command: x}\n", "docker_env"),
        ("entry_points:\n  main: {parameters: {a: {type: float, default: abc}}, command: 'x {a}'}\n", "'abc'"),
        ("bogus: 1\nentry_points:\n  main: {command: x}\n", "unknown key 'bogus'"),
    ],
)
def test_bad_mlproject_files(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "MLproject").write_text(text)
    with pytest.raises(Exception, match=fragment):
        load_project(tmp_path)


@pytest.fixture
def server(tmp_path: Path, isolated_env: Path) -> Iterator[LiveServer]:
    live = LiveServer(
        f"sqlite:///{tmp_path / 'mlpilot.db'}",
        str(tmp_path / "artifacts"),
        tmp_path / "home",
        server_rate_limit=0,
        monitor_tick_seconds=0,
        pipeline_tick_seconds=0,
    )
    live.start()
    yield live
    live.stop()


def test_mlflow_calls_land_in_the_mlpilot_run(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLPILOT_API_KEY", server.admin_key)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    with pytest.raises(SystemExit) as exited:
        main(
            ["--tracking-uri", server.url, "run", str(SAMPLE), "-P", "alpha=0.25", "-P", f"data={SAMPLE / 'data.csv'}"]
        )
    out, err = capsys.readouterr()
    assert exited.value.code == 0, err
    assert "trained with alpha 0.25" in out
    run_id = err.split("=== Run (ID='")[1].split("'")[0]
    assert "succeeded" in err

    import mlpilot

    client = mlpilot.connect(server.url, api_key=server.admin_key)
    try:
        run = client.get_run(run_id)
        history = client.get_metric_history(run_id, "loss")
        artifacts = [entry.path for entry in client.list_artifacts(run_id)]
    finally:
        client.close()
    assert run.params["alpha"] == "0.25" and run.params["rows"] == "3"
    assert run.tags["label"] == "first try"
    assert [point.value for point in history] == [0.5, 1.0, 1.5]
    assert "result.txt" in artifacts


def test_local_store_runs_through_a_server_for_the_project(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    with pytest.raises(SystemExit) as exited:
        main(["run", str(SAMPLE), "-P", f"data={SAMPLE / 'data.csv'}"])
    _, err = capsys.readouterr()
    assert exited.value.code == 0, err
    run_id = err.split("=== Run (ID='")[1].split("'")[0]

    import mlpilot
    from mlpilot.security.keys import ensure_bootstrap_key

    client = mlpilot.connect()
    try:
        run = client.get_run(run_id)
        assert run.params["rows"] == "3" and run.params["alpha"] == "0.5"
        assert [point.value for point in client.get_metric_history(run_id, "loss")] == [1.0, 2.0, 3.0]
        # The project's key is gone: the store's first `mlpilot server` still gets its bootstrap key.
        assert ensure_bootstrap_key(client.db, actor="test") is not None
    finally:
        client.close()
