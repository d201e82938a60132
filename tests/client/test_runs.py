"""Runs, params, tags and lifecycle, against SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import mlpilot
from mlpilot import Conflict, InactiveRun, InvalidInput, NotFound, RunStatus
from mlpilot.errors import LimitExceeded


def test_run_records_params_metrics_tags_and_finishes(client: mlpilot.Client) -> None:
    with client.start_run("churn", name="first", tags={"team": "risk"}) as run:
        run.log_params({"C": 0.5, "model": "rf"})
        run.log_param("seed", 7)
        run.log_metric("acc", 0.91)
        run.log_metrics({"f1": 0.8, "auc": 0.95}, step=3)
        run.set_tag("stage", "dev")
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert stored.name == "first"
    assert stored.experiment_name == "churn"
    assert stored.params == {"C": "0.5", "model": "rf", "seed": "7"}
    assert stored.metrics == {"acc": 0.91, "f1": 0.8, "auc": 0.95}
    assert stored.tags == {"team": "risk", "stage": "dev"}
    assert stored.end_time is not None and stored.end_time >= stored.start_time
    assert len(run.id) == 32


def test_run_captures_environment_without_being_asked(client: mlpilot.Client) -> None:
    run = client.create_run("env")
    stored = client.get_run(run.id)
    assert stored.user
    assert stored.entry_point
    environment = client.get_run_environment(run.id)
    assert environment is not None
    assert environment["python"].count(".") == 2  # type: ignore[union-attr]
    assert any(str(p).lower().startswith("sqlalchemy==") for p in environment["packages"])  # type: ignore[union-attr]


def test_git_commit_dirty_flag_and_diff_hash(client: mlpilot.Client, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "init")
    commit = git("rev-parse", "HEAD")
    clean = client.get_run(client.create_run("git", cwd=repo).id)
    assert clean.git_commit == commit
    assert clean.git_dirty is False
    assert clean.git_diff_hash is None

    (repo / "train.py").write_text("print('x')\n")
    from mlpilot.tracking import environment

    environment._git_cache.clear()
    dirty = client.get_run(client.create_run("git", cwd=repo).id)
    assert dirty.git_commit == commit
    assert dirty.git_dirty is True
    assert dirty.git_diff_hash is not None and len(dirty.git_diff_hash) == 64


def test_status_failed_on_exception_and_killed_on_ctrl_c(client: mlpilot.Client) -> None:
    with pytest.raises(RuntimeError), client.start_run("s") as failing:
        raise RuntimeError("boom")
    assert client.get_run(failing.id).status is RunStatus.FAILED

    with pytest.raises(KeyboardInterrupt), client.start_run("s") as interrupted:
        raise KeyboardInterrupt
    assert client.get_run(interrupted.id).status is RunStatus.KILLED


def test_params_are_write_once(client: mlpilot.Client) -> None:
    with client.start_run("p") as run:
        run.log_param("C", 0.5)
        run.log_param("C", 0.5)  # the same value again is fine
        with pytest.raises(Conflict, match="'C'"):
            run.log_param("C", 0.7)
        with pytest.raises(Conflict):
            run.log_params({"new": 1, "C": 1.0})
    stored = client.get_run(run.id)
    assert stored.params == {"C": "0.5"}  # the failed batch wrote nothing


def test_tags_can_be_overwritten(client: mlpilot.Client) -> None:
    with client.start_run("t") as run:
        run.set_tag("stage", "dev")
        run.set_tag("stage", "prod")
    assert client.get_run(run.id).tags["stage"] == "prod"


def test_limits_on_keys_and_values(client: mlpilot.Client) -> None:
    with client.start_run("limits") as run:
        with pytest.raises(LimitExceeded, match="250"):
            run.log_param("k" * 251, 1)
        with pytest.raises(LimitExceeded, match="6000"):
            run.log_param("big", "x" * 6001)
        run.log_param("edge", "x" * 6000)
        with pytest.raises(LimitExceeded):
            run.log_metric("m" * 251, 1.0)
        with pytest.raises(InvalidInput):
            run.log_param("", 1)
        with pytest.raises(InvalidInput, match="number"):
            run.log_metric("acc", "high")  # type: ignore[arg-type]
    assert list(client.get_run(run.id).params) == ["edge"]


def test_logging_to_a_finished_run_is_an_error(client: mlpilot.Client) -> None:
    with client.start_run("done") as run:
        run.log_metric("acc", 0.5)
    with pytest.raises(InactiveRun):
        run.log_metric("acc", 0.6)
    with pytest.raises(InactiveRun):
        run.log_param("late", 1)
    with pytest.raises(InactiveRun):
        run.set_tag("late", 1)
    with pytest.raises(InactiveRun):
        client.log_batch(run.id, metrics=[("acc", 0.7)])
    with pytest.raises(InactiveRun):
        client.end_run(run.id)
    assert client.get_metric_history(run.id, "acc")[-1].value == 0.5


def test_a_second_client_sees_a_run_ended_elsewhere(client: mlpilot.Client, store_uri: str, tmp_path: Path) -> None:
    run = client.create_run("two")
    client.log_metric(run.id, "acc", 0.1)
    other = mlpilot.connect(store_uri, artifact_uri=str(tmp_path / "artifacts"))
    try:
        client.flush()
        other.end_run(run.id, "FAILED")
        with pytest.raises(InactiveRun):
            client.log_batch(run.id, metrics=[("acc", 0.2)])
    finally:
        other.close()


def test_unknown_things_are_named_in_not_found_errors(client: mlpilot.Client) -> None:
    with pytest.raises(NotFound, match="nope"):
        client.get_run("nope")
    with pytest.raises(NotFound, match="missing-exp"):
        client.get_experiment("missing-exp")
    with pytest.raises(NotFound, match="ghost"):
        client.log_params("ghost", {"a": 1})
    with pytest.raises(NotFound, match="ghost"):
        client.log_metric("ghost", "a", 1.0)
    with pytest.raises(NotFound):
        client.get_metric_history("ghost", "a")
    with pytest.raises(NotFound):
        client.search_runs(["missing-exp"])


def test_experiments_create_list_and_conflict(client: mlpilot.Client) -> None:
    created = client.create_experiment("exp-a", description="first")
    with pytest.raises(Conflict, match="exp-a"):
        client.create_experiment("exp-a")
    assert client.get_experiment("exp-a") == created
    assert client.get_experiment(created.id) == created
    assert client.get_or_create_experiment("exp-a") == created
    names = [e.name for e in client.list_experiments()]
    assert names == ["exp-a"]
    with pytest.raises(InvalidInput):
        client.create_experiment("   ")


def test_nested_runs_record_their_parent(client: mlpilot.Client) -> None:
    with client.start_run("nest") as parent, client.start_run("nest", parent_run_id=parent.id) as child:
        child.log_metric("fold_acc", 0.8)
    assert client.get_run(child.id).parent_run_id == parent.id
    children = client.search_runs("nest", f"parent_run_id = '{parent.id}'")
    assert [r.id for r in children] == [child.id]
    with pytest.raises(NotFound):
        client.create_run("nest", parent_run_id="0" * 32)


def test_end_run_rejects_unknown_status(client: mlpilot.Client) -> None:
    run = client.create_run("st")
    with pytest.raises(InvalidInput, match="DONE"):
        client.end_run(run.id, "DONE")
    with pytest.raises(InvalidInput):
        client.end_run(run.id, "RUNNING")
    assert client.get_run(run.id).status is RunStatus.RUNNING
