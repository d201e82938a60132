"""Running one step instance inside its tracked run: read the inputs, call the plain function,
store the outputs. The same code runs in the pipeline's process and in the pool's workers."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlpilot.client.fluent import running_in, set_tracking_uri
from mlpilot.errors import InvalidInput
from mlpilot.pipelines.context import StepContext, entered
from mlpilot.pipelines.sources import load_source
from mlpilot.pipelines.values import load_output, save_output

if TYPE_CHECKING:
    from mlpilot.client import Client
    from mlpilot.pipelines.step import Step

__all__ = ["Task", "TaskResult", "execute", "init_worker", "run_in_worker"]

_TRACE_LINES = 40


@dataclass(frozen=True, slots=True)
class Task:
    step: Step
    instance: str
    params: dict[str, Any]
    inputs: dict[str, Any]  # parameter → an output reference, or a list of them for a fan-out
    datasets: dict[str, str]  # parameter → the dataset name its DataFrame is versioned under
    run_id: str
    pipeline: str
    pipeline_run_id: str
    trigger: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TaskResult:
    outputs: dict[str, dict[str, Any]] | None
    error: str | None = None


def _read(client: Client, ref: Any) -> Any:
    if isinstance(ref, list):
        return [load_output(client, item) for item in ref]
    return load_output(client, ref)


def _split(task: Task, value: Any) -> dict[str, Any]:
    names = task.step.outputs
    if len(names) == 1:
        return {names[0]: value}
    if not isinstance(value, tuple) or len(value) != len(names):
        got = f"a tuple of {len(value)}" if isinstance(value, tuple) else type(value).__name__
        raise InvalidInput(f"step {task.step.name!r} declares {len(names)} outputs {list(names)} but returned {got}")
    return dict(zip(names, value, strict=True))


def execute(client: Client, task: Task) -> TaskResult:
    """Never raises for the step's own failure: the error text comes back to be recorded."""
    try:
        context = StepContext(
            task.pipeline, task.pipeline_run_id, task.instance, task.run_id, dict(task.params), dict(task.trigger)
        )
        with running_in(client, task.run_id), entered(context):
            args = {param: _read(client, ref) for param, ref in task.inputs.items()}
            for param, value in args.items():
                if isinstance(value, pd.DataFrame) and param in task.datasets:
                    client.log_dataset(task.run_id, value, task.datasets[param], role=param)
            if task.params:
                client.log_params(task.run_id, task.params)
            value = task.step.fn(**args, **task.params)
            outputs = {
                name: save_output(client, task.run_id, name, item, task.params)
                for name, item in _split(task, value).items()
            }
        return TaskResult(outputs)
    except Exception as failure:  # noqa: BLE001 - any failure of user code becomes the step's recorded error
        lines = traceback.format_exception(failure)
        text = "".join(lines[-_TRACE_LINES:]).rstrip()
        return TaskResult(None, f"{type(failure).__name__}: {failure}\n{text}")


_worker_client: Client | None = None


def init_worker(source: str, tracking_uri: str, artifact_uri: str | None) -> None:
    """Pool initializer: load the pipeline's module (so steps unpickle by reference) and connect."""
    global _worker_client
    load_source(source)
    _worker_client = set_tracking_uri(tracking_uri, artifact_uri=artifact_uri)


def run_in_worker(task: Task) -> TaskResult:
    assert _worker_client is not None, "init_worker runs first"
    return execute(_worker_client, task)
