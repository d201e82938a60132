"""Running a pipeline: record it, walk its DAG in order, reuse cached step runs, fan out in a
process pool sized to the cores, and track every executed step as a child run of the pipeline's.

A step whose upstream failed is recorded as SKIPPED; the pipeline run ends FAILED if any step
failed, and its error names them. The stored records (``mlpilot.orchestration``) are written as
the run goes, so `mlpilot pipelines show` follows a run in progress.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.client.fluent import get_client
from mlpilot.errors import InvalidInput
from mlpilot.orchestration.records import PipelineRun, RunState, StepState
from mlpilot.orchestration.runs import (
    attach_tracked_run,
    cached_step,
    finish_pipeline_run,
    finish_step_run,
    get_pipeline_run,
    record_step,
    start_pipeline_run,
    start_step_run,
)
from mlpilot.orchestration.stored import save_pipeline
from mlpilot.pipelines.cache import cache_key
from mlpilot.pipelines.execute import Task, TaskResult, execute
from mlpilot.pipelines.graph import Many, Node, Output
from mlpilot.pipelines.spark_pool import SparkPool
from mlpilot.pipelines.values import load_output
from mlpilot.pipelines.workers import WorkerPool
from mlpilot.store import Database
from mlpilot.tracking.environment import current_user
from mlpilot.tracking.records import RunStatus

if TYPE_CHECKING:
    from mlpilot.client import Client
    from mlpilot.pipelines.pipeline import Pipeline

__all__ = ["PipelineResult", "run_pipeline"]

log = logging.getLogger(__name__)

# Where fanned-out step instances run: a pool of local processes, or one Spark task each.
_EXECUTORS = ("processes", "spark")


@dataclass(frozen=True, slots=True)
class PipelineResult:
    record: PipelineRun
    outputs: dict[str, list[dict[str, Any]]] = field(repr=False)  # node → one reference set per instance
    client: Client = field(repr=False)
    fanned_out: frozenset[str] = frozenset()  # steps run with .map: their output is a list, however long

    @property
    def succeeded(self) -> bool:
        return self.record.status is RunState.SUCCEEDED

    def output(self, node: str, name: str | None = None) -> Any:
        """A step's output value (a list for a fanned-out step)."""
        if node not in self.outputs:
            raise InvalidInput(f"no outputs from step {node!r}", hint=f"Steps with outputs: {', '.join(self.outputs)}.")
        instances = self.outputs[node]
        key = name or next(iter(instances[0]))
        if key not in instances[0]:
            raise InvalidInput(f"step {node!r} has no output {key!r}", hint=f"Its outputs: {', '.join(instances[0])}.")
        values = [load_output(self.client, refs[key]) for refs in instances]
        return values if node in self.fanned_out else values[0]


@dataclass
class _State:
    outputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cached: int = 0
    executed: int = 0


def run_pipeline(
    pipeline: Pipeline,
    params: Mapping[str, Any] | None = None,
    *,
    client: Client | None = None,
    cache: bool = True,
    workers: int | None = None,
    trigger: Mapping[str, Any] | None = None,
    text_params: bool = False,
    executor: str = "processes",
) -> PipelineResult:
    if executor not in _EXECUTORS:
        raise InvalidInput(f"unknown executor {executor!r}", hint=f"Use one of {', '.join(_EXECUTORS)}.")
    client = client or get_client()
    db = client.db  # pipeline records need the database itself (a server URI is refused here)
    values = pipeline.resolve(params, text=text_params)
    graph = pipeline.compose(values)
    source = pipeline.source
    save_pipeline(db, pipeline.name, source=source, workdir=str(Path.cwd()), steps=graph.to_list())
    record = start_pipeline_run(
        db, pipeline.name, params=values, trigger=dict(trigger or {"kind": "manual"}), actor=current_user()
    )
    started = time.monotonic()
    parent = client.create_run(
        pipeline.name,
        name=f"{pipeline.name} {record.id[:8]}",
        tags={"mlpilot.pipeline": pipeline.name, "mlpilot.pipeline_run": record.id},
    )
    attach_tracked_run(db, record.id, parent.id)
    state = _State()
    widest = max((len(node.grid) for node in graph.nodes if node.grid is not None), default=0)
    size = min(widest, workers or os.cpu_count() or 1)
    pool: WorkerPool | SparkPool | None = None
    if executor == "spark" and widest >= 2:
        pool = SparkPool(source=source, tracking_uri=client.tracking_uri, artifact_uri=client.artifact_uri)
    elif size >= 2:
        pool = WorkerPool(size, source=source, tracking_uri=client.tracking_uri, artifact_uri=client.artifact_uri)
    try:
        if values:
            client.log_params(parent.id, values)
        for position, node in enumerate(graph.nodes):
            fan_out_ahead = any(later.grid is not None for later in graph.nodes[position + 1 :])
            _run_node(client, db, pipeline, record, parent.id, node, state, cache, pool, fan_out_ahead)
    except BaseException as interrupted:
        _end(client, db, record.id, parent.id, state, started, f"interrupted: {type(interrupted).__name__}")
        raise
    finally:
        if pool is not None:
            pool.close()
    error = None
    if state.failed:
        skipped = f"; skipped after them: {', '.join(state.skipped)}" if state.skipped else ""
        error = f"step(s) failed: {', '.join(state.failed)}{skipped}"
    _end(client, db, record.id, parent.id, state, started, error)
    fanned_out = frozenset(node.name for node in graph.nodes if node.grid is not None)
    return PipelineResult(get_pipeline_run(db, record.id), state.outputs, client, fanned_out)


def _end(
    client: Client, db: Database, run_id: str, parent: str, state: _State, started: float, error: str | None
) -> None:
    summary: dict[str, Any] = {"executed": state.executed, "cached": state.cached, "failed": len(state.failed)}
    summary["skipped"] = len(state.skipped)
    summary["seconds"] = round(time.monotonic() - started, 3)
    finish_pipeline_run(db, run_id, RunState.FAILED if error else RunState.SUCCEEDED, error=error, summary=summary)
    client.end_run(parent, RunStatus.FAILED if error else RunStatus.FINISHED)


def _refs(state: _State, handle: Output | Many) -> tuple[Any, Any]:
    """The reference(s) an input reads, and their content hash(es) for the cache key."""
    instances = state.outputs[handle.node]
    if isinstance(handle, Many):
        refs = [refs[handle.name] for refs in instances]
        return refs, [ref["hash"] for ref in refs]
    ref = instances[0][handle.name]
    return ref, ref["hash"]


def _run_node(
    client: Client,
    db: Database,
    pipeline: Pipeline,
    record: PipelineRun,
    parent: str,
    node: Node,
    state: _State,
    use_cache: bool,
    pool: WorkerPool | SparkPool | None,
    fan_out_ahead: bool,
) -> None:
    record_id, trigger = record.id, record.trigger
    upstream = {handle.node for handle in node.inputs.values()}
    broken = sorted(upstream - set(state.outputs))
    if broken:
        for instance, _ in node.instances:
            record_step(
                db, record_id, instance, StepState.SKIPPED, error=f"upstream step(s) {', '.join(broken)} failed"
            )
        state.skipped.append(node.name)  # and so is everything downstream of it
        return
    inputs: dict[str, Any] = {}
    hashes: dict[str, Any] = {}
    for param, handle in node.inputs.items():
        inputs[param], hashes[param] = _refs(state, handle)
    datasets = {
        param: f"{pipeline.name}.{handle.node}.{handle.name}"
        for param, handle in node.inputs.items()
        if isinstance(handle, Output)
    }
    results: list[dict[str, Any] | None] = []
    pending: list[tuple[int, Task, int]] = []
    for index, (instance, params) in enumerate(node.instances):
        key = cache_key(node.step.fn, params, hashes)
        hit = cached_step(db, key) if use_cache and node.step.cache else None
        if hit is not None and hit.outputs is not None:
            record_step(
                db,
                record_id,
                instance,
                StepState.CACHED,
                cache_key=key,
                run_id=hit.run_id,
                outputs=hit.outputs,
                cached_from=hit.id,
                details={"params": params},
            )
            state.cached += 1
            results.append(hit.outputs)
            continue
        run = client.create_run(
            pipeline.name,
            name=instance,
            tags={"mlpilot.pipeline": pipeline.name, "mlpilot.step": node.step.name},
            parent_run_id=parent,
        )
        step_run = start_step_run(db, record_id, instance, cache_key=key, run_id=run.id, details={"params": params})
        task = Task(node.step, instance, params, inputs, datasets, run.id, pipeline.name, record_id, trigger)
        pending.append((index, task, step_run))
        results.append(None)
    if pending:
        if pool is not None and fan_out_ahead:
            pool.warm()  # something runs, so the fan-out ahead likely will too: start its workers now
        _execute(client, node, pending, results, db, state, pool)
    if any(result is None for result in results):
        state.failed.append(node.name)
    else:
        state.outputs[node.name] = [result for result in results if result is not None]


def _execute(
    client: Client,
    node: Node,
    pending: list[tuple[int, Task, int]],
    results: list[dict[str, Any] | None],
    db: Database,
    state: _State,
    pool: WorkerPool | SparkPool | None,
) -> None:
    if node.grid is None or pool is None or len(pending) < 2:
        done = [execute(client, task) for _, task, _ in pending]
    else:
        client.flush()  # the workers read what this process logged
        done = pool.map([task for _, task, _ in pending])
    for (index, task, step_run), result in zip(pending, done, strict=True):
        _record(client, db, task, step_run, result)
        state.executed += 1
        results[index] = result.outputs


def _record(client: Client, db: Database, task: Task, step_run: int, result: TaskResult) -> None:
    if result.outputs is not None:
        finish_step_run(db, step_run, StepState.SUCCEEDED, outputs=result.outputs)
        client.end_run(task.run_id, RunStatus.FINISHED)
    else:
        log.warning("step %s failed: %s", task.instance, (result.error or "").splitlines()[0])
        finish_step_run(db, step_run, StepState.FAILED, error=result.error)
        client.end_run(task.run_id, RunStatus.FAILED)
