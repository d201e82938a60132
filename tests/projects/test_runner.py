"""`mlpilot run`, end to end: a real command, a real SQLite store, real child processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mlpilot import Client
from mlpilot.cli.app import main
from mlpilot.config import load_settings
from mlpilot.projects import OUTPUT_ARTIFACT, execute, plan_run
from mlpilot.tracking.records import Run, RunStatus
from tests.projects.conftest import MlpilotCli, ProjectFactory, Store

TINY = """\
name: tiny
entry_points:
  main:
    command: "python train.py --alpha {alpha} --epochs {epochs} --verbose {verbose} --label {label}"
    parameters:
      alpha: {type: float, default: 0.5}
      epochs: {type: int, default: 2}
      verbose: {type: bool, default: false}
      label: {type: str, default: plain}
  crash:
    command: python crash.py
  sleep:
    command: python sleepy.py
"""

TRAIN = """\
import argparse, os, sys
import mlpilot

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--epochs", type=int)
parser.add_argument("--verbose")
parser.add_argument("--label")
args = parser.parse_args()
with mlpilot.start_run(experiment="not-used-when-attached") as run:
    run.log_params(vars(args))  # same values as mlpilot logged: no write-once conflict
    for epoch in range(args.epochs):
        run.log_metric("loss", 1 / (epoch + 1), step=epoch)
    print(f"attached to {run.id}")
    print(f"prefix={sys.prefix}")
    print(f"cwd={os.getcwd()}")
    print("to stderr", file=sys.stderr)
    print("ünïcode ✓")
"""

CRASH = """\
import mlpilot
with mlpilot.start_run() as run:
    run.log_metric("reached", 1)
    raise RuntimeError("boom in training")
"""

SLEEPY = """\
import os, time
import mlpilot
with mlpilot.start_run() as run:
    run.log_metric("started", 1)
    print(f"pid={os.getpid()}")
    try:
        print("sleeping")  # inside the try: the signal may arrive as soon as the test reads this
        time.sleep(60)
    except KeyboardInterrupt:
        print("cleaning up after Ctrl-C")
        run.log_metric("cleaned_up", 1)
        raise
"""

RUN_ID = re.compile(r"in run with ID '([0-9a-f]{32})'")


@pytest.fixture
def tiny(make_project: ProjectFactory) -> Path:
    return make_project(TINY, train__py=TRAIN, crash__py=CRASH, sleepy__py=SLEEPY)


def run_id_in(output: str) -> str:
    found = RUN_ID.search(output)
    assert found, output
    return found.group(1)


def all_runs(client: Client) -> list[Run]:
    return list(client.search_runs([experiment.id for experiment in client.list_experiments()]))


# through the real command --------------------------------------------------------------------


def test_a_project_runs_in_one_tracked_run(mlpilot_run: MlpilotCli, store: Store, tiny: Path, tmp_path: Path) -> None:
    # The store comes from flags, not the environment: the script can only find its run if
    # `mlpilot run` hands it the resolved locations.
    env = store.env(MLPILOT_HOME=str(tmp_path / "elsewhere"))
    del env["MLPILOT_TRACKING_URI"], env["MLPILOT_ARTIFACT_URI"]
    result = mlpilot_run(
        "--tracking-uri", store.tracking_uri, "--artifact-uri", store.artifact_uri,
        "run", str(tiny), "-e", "tiny", "-P", "alpha=2", "-P", "epochs=3", "-P", "verbose=yes", "-P", "label=x y",
        env=env,
    )  # fmt: skip
    assert result.code == 0, result.output
    run_id = run_id_in(result.output)
    command = "python train.py --alpha 2.0 --epochs 3 --verbose True --label 'x y'"
    assert f"=== Running command '{command}' in run with ID '{run_id}' ===" in result.output
    assert f"=== Run (ID='{run_id}') succeeded ===" in result.output
    # The script's output is shown, before the closing line, and it ran where and with what we expect.
    assert result.output.index(f"attached to {run_id}") < result.output.index("succeeded")
    assert f"prefix={sys.prefix}\n" in result.output
    assert f"cwd={tiny.resolve()}\n" in result.output
    assert "to stderr" in result.output and "ünïcode ✓" in result.output

    with store.client() as client:
        runs = all_runs(client)
        assert [run.id for run in runs] == [run_id], "the script attached; it did not start a run of its own"
        run = runs[0]
        assert run.status is RunStatus.FINISHED and run.end_time is not None
        assert run.experiment_name == "tiny"
        assert run.entry_point == "main"
        assert dict(run.params) == {"alpha": "2.0", "epochs": "3", "verbose": "True", "label": "x y"}
        assert [point.value for point in client.get_metric_history(run_id, "loss")] == [1, 0.5, pytest.approx(1 / 3)]
        assert {key: value for key, value in run.tags.items() if key.startswith("mlpilot.")} == {
            "mlpilot.source.type": "PROJECT",
            "mlpilot.source.path": str(tiny.resolve()),
            "mlpilot.project.name": "tiny",
            "mlpilot.project.entry_point": "main",
            "mlpilot.project.command": command,
            "mlpilot.project.exit_code": "0",
        }
        log = client.read_artifact(run_id, OUTPUT_ARTIFACT).decode("utf-8")
        assert f"attached to {run_id}" in log and "to stderr" in log and "ünïcode ✓" in log


def test_a_crashing_script_fails_the_run_and_shows_its_traceback(
    mlpilot_run: MlpilotCli, store: Store, tiny: Path
) -> None:
    result = mlpilot_run("run", str(tiny), "--entry-point", "crash")
    assert result.code == 1
    run_id = run_id_in(result.output)
    assert "Traceback (most recent call last)" in result.output
    assert "RuntimeError: boom in training" in result.output
    assert "the command exited with code 1" in result.output
    assert f"=== Run (ID='{run_id}') failed ===" in result.output
    with store.client() as client:
        [run] = all_runs(client)
        assert (run.id, run.status, run.tags["mlpilot.project.exit_code"]) == (run_id, RunStatus.FAILED, "1")
        assert run.metrics["reached"] == 1
        assert "RuntimeError: boom in training" in client.read_artifact(run_id, OUTPUT_ARTIFACT).decode()


def test_a_script_runs_by_name_with_options_and_its_exit_code_is_passed_on(
    mlpilot_run: MlpilotCli, store: Store, make_project: ProjectFactory
) -> None:
    folder = make_project(None, name="bare", job__sh='echo "args: $*"\nexit 3\n')
    result = mlpilot_run("run", str(folder), "--entry-point", "job.sh", "-P", "lr=0.1", "-P", "name=a b")
    assert result.code == 3
    assert "args: --lr 0.1 --name a b" in result.output
    run_id = run_id_in(result.output)
    assert f"=== Run (ID='{run_id}') failed ===" in result.output
    with store.client() as client:
        run = client.get_run(run_id)
        assert run.status is RunStatus.FAILED
        assert dict(run.params) == {"lr": "0.1", "name": "a b"}
        assert run.tags["mlpilot.project.name"] == "bare"


def test_a_bad_value_is_one_line_exit_2_and_no_run(mlpilot_run: MlpilotCli, store: Store, tiny: Path) -> None:
    result = mlpilot_run("run", str(tiny), "-P", "alpha=abc")
    assert result.code == 2
    assert result.output.splitlines()[0] == "error: parameter 'alpha' expects a float, got 'abc' (not a number)"
    assert "Traceback" not in result.output
    assert "=== Running" not in result.output
    with store.client() as client:
        assert all_runs(client) == []


def test_a_value_too_long_to_log_fails_before_a_run_exists(mlpilot_run: MlpilotCli, store: Store, tiny: Path) -> None:
    result = mlpilot_run("run", str(tiny), "-P", "label=" + "x" * 6001)
    assert result.code == 2
    assert "6000" in result.output
    with store.client() as client:
        assert all_runs(client) == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_mlpilot_stops_the_script_and_kills_the_run(
    store: Store, tiny: Path, isolated_env: Path, signum: int, code: int
) -> None:
    lines: list[str] = []
    sleeping = threading.Event()
    with subprocess.Popen(
        [sys.executable, "-m", "mlpilot", "run", str(tiny), "--entry-point", "sleep"],
        cwd=isolated_env,
        env=store.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as proc:

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("sleeping"):
                    sleeping.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            assert sleeping.wait(60), "".join(lines)
            proc.send_signal(signum)
            assert proc.wait(30) == code, "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(10)
    output = "".join(lines)
    run_id = run_id_in(output)
    assert f"=== Run (ID='{run_id}') killed ===" in output

    with store.client() as client:
        run = client.get_run(run_id)
        assert run.status is RunStatus.KILLED
        if signum == signal.SIGINT:
            # The script got the Ctrl-C, had time to clean up, and what it logged meanwhile was kept.
            assert "cleaning up after Ctrl-C" in output
            assert run.metrics == {"started": 1, "cleaned_up": 1}
        assert "sleeping" in client.read_artifact(run_id, OUTPUT_ARTIFACT).decode()

    script_pid = int(re.search(r"pid=(\d+)", output).group(1))  # type: ignore[union-attr]
    assert _gone(script_pid), "the script outlived mlpilot"


def _gone(pid: int, wait: float = 5.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):  # ended, waiting for its parent to collect it
            return True
        time.sleep(0.05)
    return False


# in process: the same command, for the mistakes that never start anything --------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["-P", "epochs=2.5"], "error: parameter 'epochs' expects an int, got '2.5' (not an integer)"),
        (["-P", "verbose=maybe"], "error: parameter 'verbose' expects a bool, got 'maybe'"),
        (["-P", "alpah=1"], "error: entry point 'main' has no parameter 'alpah'"),
        (["-P", "alpha"], "error: -P 'alpha' is not key=value"),
        (["--entry-point", "trian"], "error: project 'tiny' has no entry point 'trian'"),
    ],
)
def test_mistakes_exit_2_with_one_line(
    tiny: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    line: str,
) -> None:
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exited:
        main(["run", str(tiny), *args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(line), err
    assert err.splitlines()[1].startswith("hint: ")


def test_a_folder_without_mlpilot_yaml_exits_2(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exited:
        main(["run", str(tmp_path / "empty")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "has no mlpilot.yaml" in err and "mlpilot init" in err


# in process: the runner itself ----------------------------------------------------------------


def test_the_command_gets_absolute_store_locations_and_our_python(
    make_project: ProjectFactory, isolated_env: Path
) -> None:
    folder = make_project("entry_points: {main: {command: 'env | sort'}}")
    written: list[str] = []
    # Relative locations, as a user might configure them: the command runs elsewhere.
    with Client("sqlite:///rel/mlpilot.db", "rel/artifacts") as client:
        outcome = execute(client, plan_run(folder), experiment="env-check", write=written.append)
    env = dict(line.split("=", 1) for line in "".join(written).splitlines() if "=" in line)
    assert outcome.status is RunStatus.FINISHED and outcome.exit_code == 0
    assert env["MLPILOT_RUN_ID"] == outcome.run.id
    assert env["MLPILOT_TRACKING_URI"] == f"sqlite:///{isolated_env / 'rel' / 'mlpilot.db'}"
    assert env["MLPILOT_ARTIFACT_URI"] == str(isolated_env / "rel" / "artifacts")
    assert env["MLPILOT_EXPERIMENT_NAME"] == "env-check"
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["PYTHONUNBUFFERED"] == "1"


def test_a_project_run_inside_a_project_run_nests_under_it(make_project: ProjectFactory, store: Store) -> None:
    folder = make_project("entry_points: {main: {command: 'true'}}")
    with store.client() as outer_client:
        outer = outer_client.create_run("outer")
        settings = load_settings(tracking_uri=store.tracking_uri, artifact_uri=store.artifact_uri, run_id=outer.id)
        with Client(settings=settings) as client:
            inner = execute(client, plan_run(folder)).run
        assert inner.parent_run_id == outer.id
        # A stale id (the run ended) is ignored rather than failing the new run.
        outer_client.end_run(outer.id)
        with Client(settings=settings) as client:
            assert execute(client, plan_run(folder)).run.parent_run_id is None


def test_a_reader_that_goes_away_does_not_stop_the_run(make_project: ProjectFactory, store: Store) -> None:
    folder = make_project("entry_points: {main: {command: 'seq 1 20000'}}")

    def broken_pipe(_text: str) -> None:
        raise BrokenPipeError("reader closed the pipe")

    with store.client() as client:
        outcome = execute(client, plan_run(folder), write=broken_pipe)
        assert outcome.status is RunStatus.FINISHED
        saved = client.read_artifact(outcome.run.id, OUTPUT_ARTIFACT).decode().split()
        assert saved[0] == "1" and saved[-1] == "20000" and len(saved) == 20000
