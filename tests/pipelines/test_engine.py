"""Running pipelines for real: tracked step runs, the cache, the process pool, failures, one run at a time."""

from __future__ import annotations

import os
from typing import Any

import pytest

from mlpilot.errors import Conflict
from mlpilot.orchestration import runs as stored_runs
from mlpilot.orchestration.records import RunState, StepState
from mlpilot.pipelines import ModelOutput
from tests.pipelines import sample


def _states(result: Any) -> dict[str, str]:
    return {step.step: step.status.value for step in result.record.steps}


def test_fanned_out_candidates_train_in_worker_processes_each_a_tracked_run(local_client: Any) -> None:
    result = sample.candidates.run({"rows": 300}, client=local_client)

    assert result.succeeded, result.record.error
    assert _states(result) == dict.fromkeys(["make_data", "split", "train[0]", "train[1]", "pick"], "SUCCEEDED")
    parent = local_client.get_run(result.record.run_id)
    assert parent.status.value == "FINISHED" and parent.params == {"rows": "300", "seed": "0"}
    pids = set()
    for instance, c in (("train[0]", "0.01"), ("train[1]", "1.0")):
        tracked = local_client.get_run(result.record.step(instance).run_id)
        assert tracked.parent_run_id == parent.id and tracked.status.value == "FINISHED"
        assert tracked.params == {"C": c} and 0.5 < tracked.metrics["train_accuracy"] <= 1.0
        assert [(item.dataset, item.role) for item in tracked.inputs] == [("candidates.split.train", "train")]
        pids.add(int(tracked.tags["worker_pid"]))
    assert os.getpid() not in pids, "fanned-out instances run in the pool's processes"

    picked = result.output("pick")
    assert picked["params"] in ({"C": 0.01}, {"C": 1.0}) and len(picked["scores"]) == 2
    models = result.output("train")
    assert all(isinstance(model, ModelOutput) and model.flavor == "sklearn" for model in models)
    version = local_client.register_model(models[1].run_id, models[1].artifact_path, "candidate")
    loaded = local_client.load_model(f"models:/candidate/{version.version}")
    predicted = loaded.predict(sample.make_data.fn(rows=5)[["x1", "x2"]])
    assert len(predicted) == 5 and set(predicted) <= {0, 1}


def test_a_second_run_reuses_every_step_and_records_where_from(local_client: Any) -> None:
    first = sample.candidates.run({"rows": 120}, client=local_client, workers=1)
    sample.CALLS.clear()
    second = sample.candidates.run({"rows": 120}, client=local_client, workers=1)

    assert second.succeeded and set(_states(second).values()) == {"CACHED"}
    assert sample.CALLS == []
    for step in second.record.steps:
        origin = first.record.step(step.step)
        assert step.cached_from == origin.id and step.run_id == origin.run_id
        assert step.cache_key == origin.cache_key and step.outputs == origin.outputs
    assert second.record.summary == {**second.record.summary, "executed": 0, "cached": 5}
    assert second.output("pick") == first.output("pick")


def test_a_changed_parameter_reruns_only_the_steps_it_reaches(local_client: Any) -> None:
    sample.candidates.run({"rows": 120}, client=local_client, workers=1)
    sample.CALLS.clear()

    changed = sample.candidates.run({"rows": 120, "seed": 1}, client=local_client, workers=1)

    assert set(_states(changed).values()) == {"SUCCEEDED"}
    assert sample.CALLS == ["make_data", "split", "pick"]


def test_no_cache_runs_everything_again(local_client: Any) -> None:
    sample.candidates.run({"rows": 120}, client=local_client, workers=1)
    again = sample.candidates.run({"rows": 120}, client=local_client, workers=1, cache=False)
    assert set(_states(again).values()) == {"SUCCEEDED"}
    assert again.record.summary is not None and again.record.summary["cached"] == 0


def test_a_never_cached_fetch_still_lets_unchanged_data_hit_the_cache_below_it(local_client: Any) -> None:
    sample.latest.run(client=local_client)
    sample.CALLS.clear()

    same_data = sample.latest.run(client=local_client)
    assert _states(same_data) == {"fetch": "SUCCEEDED", "count": "CACHED"}
    assert sample.CALLS == ["fetch"]

    sample.CALLS.clear()
    new_data = sample.latest.run({"rows": 41}, client=local_client)
    assert _states(new_data) == {"fetch": "SUCCEEDED", "count": "SUCCEEDED"}
    assert new_data.output("count") == 41


def test_a_failing_step_fails_the_run_and_skips_what_depends_on_it(local_client: Any) -> None:
    result = sample.broken.run(client=local_client)

    assert result.record.status is RunState.FAILED
    assert result.record.error == "step(s) failed: explode; skipped after them: split"
    explode = result.record.step("explode")
    assert explode.status is StepState.FAILED and explode.error is not None
    assert explode.error.startswith("RuntimeError: the data source is down") and "Traceback" in explode.error
    assert result.record.step("split").status is StepState.SKIPPED
    assert local_client.get_run(explode.run_id).status.value == "FAILED"
    assert local_client.get_run(result.record.run_id).status.value == "FAILED"

    retried = sample.broken.run(client=local_client)
    assert _states(retried) == {"make_data": "CACHED", "explode": "FAILED", "split": "SKIPPED"}


def test_one_pipeline_runs_once_at_a_time(local_client: Any) -> None:
    sample.latest.run(client=local_client)  # registers the pipeline
    db = local_client.db
    holder = stored_runs.start_pipeline_run(db, "latest", params={}, trigger={"kind": "manual"}, actor="someone")

    with pytest.raises(Conflict, match=f"'latest' is already running \\(run {holder.id}\\)"):
        sample.latest.run(client=local_client)

    stored_runs.finish_pipeline_run(db, holder.id, RunState.SUCCEEDED)
    assert sample.latest.run(client=local_client).succeeded


def test_a_run_left_by_a_dead_process_is_failed_instead_of_blocking_forever(local_client: Any) -> None:
    import subprocess
    import sys

    sample.latest.run(client=local_client)
    db = local_client.db
    holder = stored_runs.start_pipeline_run(db, "latest", params={}, trigger={"kind": "manual"}, actor="someone")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    from mlpilot.store.schema import pipeline_runs

    with db.write() as conn:
        summary = {"holder": {**stored_runs._holder(), "pid": int(dead.stdout)}}
        conn.execute(pipeline_runs.update().where(pipeline_runs.c.id == holder.id).values(summary=summary))

    assert sample.latest.run(client=local_client).succeeded
    reaped = stored_runs.get_pipeline_run(db, holder.id)
    assert reaped.status is RunState.FAILED and reaped.error is not None and "ended first" in reaped.error


def test_a_fanned_out_step_gives_a_list_even_of_one_and_an_unknown_output_is_named(local_client: Any) -> None:
    from mlpilot.errors import InvalidInput

    result = sample.one_candidate.run(client=local_client, workers=1)
    (model,) = result.output("train")
    assert isinstance(model, ModelOutput) and model.params == {"C": 1.0}
    with pytest.raises(InvalidInput, match="step 'split' has no output 'valid'"):
        result.output("split", "valid")
    with pytest.raises(InvalidInput, match="no outputs from step 'pick'"):
        result.output("pick")
