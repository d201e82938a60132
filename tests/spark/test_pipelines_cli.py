"""`mlpilot pipelines run … --executor spark --master URL`, in process, in the suite's session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlpilot.cli.app import main

FLOW = f"{Path(__file__).with_name('spark_pipeline.py')}:spark_flow"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_candidates_train_as_spark_tasks_from_the_cli(
    spark: Any, tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    master = spark.sparkContext.master  # the running session's: the command joins it
    tracker = spark.sparkContext.statusTracker()
    jobs_before = set(tracker.getJobIdsForGroup())
    code, out, err = _run(
        capsys, "--home", str(tmp_path / "home"), "pipelines", "run", FLOW, "-P", "rows=120",
        "--executor", "spark", "--master", master, "--json",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads(out)
    assert record["status"] == "SUCCEEDED"
    trained = [step for step in record["steps"] if step["step"].startswith("train[")]
    assert [step["status"] for step in trained] == ["SUCCEEDED"] * 3
    # The three candidates were one Spark job of three tasks, one configuration each.
    jobs = [tracker.getJobInfo(job) for job in set(tracker.getJobIdsForGroup()) - jobs_before]
    stages = [tracker.getStageInfo(stage) for job in jobs if job is not None for stage in job.stageIds]
    assert any(stage is not None and stage.numTasks == 3 for stage in stages)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--executor", "gpu"), "unknown executor 'gpu'"),
        (("--master", "local[2]"), "--master applies to the Spark executor only"),
    ],
)
def test_bad_executor_options_are_one_line(
    tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = _run(capsys, "--home", str(tmp_path / "home"), "pipelines", "run", FLOW, *args)
    assert code == 2
    assert message in err
    assert "processes, spark" in err or "--executor spark" in err
    assert "Traceback" not in err
