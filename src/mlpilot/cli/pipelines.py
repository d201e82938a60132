"""``mlpilot pipelines``: run a pipeline, list pipelines, show a pipeline or one of its runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlpilot.cli.context import get_client, get_settings
from mlpilot.cli.render import console, format_ms, format_value, print_json, print_table
from mlpilot.errors import InvalidInput, NotFound
from mlpilot.orchestration.records import PipelineRun
from mlpilot.orchestration.runs import get_pipeline_run, list_pipeline_runs
from mlpilot.orchestration.scheduler import TriggerScheduler
from mlpilot.orchestration.stored import get_pipeline, list_pipelines, save_pipeline
from mlpilot.orchestration.triggers import (
    Trigger,
    create_trigger,
    delete_trigger,
    list_triggers,
    set_trigger_enabled,
)
from mlpilot.projects.params import parse_assignments

if TYPE_CHECKING:
    from mlpilot.pipelines import Pipeline

app = typer.Typer(help="Pipelines: cached, fanned-out, tracked DAGs of Python steps.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
_STATE_STYLE = {"SUCCEEDED": "green", "CACHED": "cyan", "FAILED": "red", "SKIPPED": "yellow", "RUNNING": "blue"}


def _styled(state: str) -> str:
    return f"[{_STATE_STYLE.get(state, 'white')}]{state}[/]"


def _took(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _print_run(run: PipelineRun) -> None:
    cached = sum(step.status.value == "CACHED" for step in run.steps)
    console.print(
        f"Pipeline run [bold]{run.id}[/] of [bold]{run.pipeline}[/]: {_styled(run.status.value)} "
        f"in {_took(run.duration_ms)} ({len(run.steps)} steps, {cached} from cache); "
        f"trigger {run.trigger.get('kind', 'manual')}"
    )
    rows = []
    for step in run.steps:
        note = f"from step run {step.cached_from}" if step.cached_from is not None else ""
        if step.error:
            note = step.error.splitlines()[0]
        params = (step.details or {}).get("params") or {}
        rows.append(
            [
                step.step,
                step.status.value,
                _took(step.duration_ms),
                ", ".join(f"{k}={format_value(v)}" for k, v in params.items()),
                step.run_id or "",
                note,
            ]
        )
    print_table(None, ["step", "state", "took", "params", "tracked run", "note"], rows)
    if run.error:
        console.print(f"[red]{run.error}[/]")


def _load(source: str) -> Pipeline:
    # Pipelines load pandas; only the commands that run user code import them.
    from mlpilot.pipelines import Pipeline, load_source

    found = load_source(source)
    if not isinstance(found, Pipeline):
        raise InvalidInput(f"{source} is a {type(found).__name__}, not a @pipeline", hint="Decorate it with @pipeline.")
    return found


def _trigger(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, dict) or "kind" not in found:
        raise InvalidInput("--trigger takes the JSON object the trigger scheduler writes")
    return found


@app.command("run")
def run(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="FILE.py:NAME or MODULE:NAME of a @pipeline function.")],
    params: Annotated[list[str] | None, typer.Option("-P", "--param", help="KEY=VALUE (repeatable).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every step, reusing nothing.")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes for fanned-out steps (default: cores).")
    ] = None,
    trigger: Annotated[str | None, typer.Option("--trigger", hidden=True, help="Set by the scheduler.")] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="Where fanned-out steps run: processes (this machine) or spark.")
    ] = "processes",
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL, e.g. local[2] (spark executor only).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a pipeline; exits 1 when a step failed."""
    from mlpilot.pipelines import run_pipeline

    if master is not None and executor != "spark":
        raise InvalidInput("--master applies to the Spark executor only", hint="Add --executor spark.")
    if executor == "spark":  # any other name is refused by run_pipeline, naming the executors
        from mlpilot.spark.session import get_spark

        # Started here, on the master asked for; the pipeline's tasks then run in this session.
        get_spark(master)
    result = run_pipeline(
        _load(source),
        parse_assignments(params or []),
        client=get_client(ctx),
        cache=not no_cache,
        workers=workers,
        text_params=True,
        trigger=_trigger(trigger),
        executor=executor,
    )
    if as_json:
        print_json(result.record.to_dict())
    else:
        _print_run(result.record)
    if not result.succeeded:
        raise typer.Exit(1)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every pipeline that has run here, with its last run."""
    db = get_client(ctx).db
    pipelines = list_pipelines(db)
    last = {p.name: next(iter(list_pipeline_runs(db, p.name, limit=1)), None) for p in pipelines}
    if as_json:
        print_json(
            {
                "pipelines": [
                    {**p.to_dict(), "last_run": latest.to_dict() if (latest := last[p.name]) else None}
                    for p in pipelines
                ]
            }
        )
        return
    rows = []
    for p in pipelines:
        latest = last[p.name]
        rows.append(
            [
                p.name,
                len(p.steps),
                p.source,
                latest.status.value if latest else "",
                format_ms(latest.started_at) if latest else "",
            ]
        )
    print_table("Pipelines", ["name", "steps", "source", "last run", "started"], rows)


@app.command("runs")
def runs(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Argument(help="Only this pipeline's runs.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Pipeline runs, newest first."""
    found = list_pipeline_runs(get_client(ctx).db, pipeline, limit=limit)
    if as_json:
        print_json({"runs": [r.to_dict() for r in found]})
        return
    rows = [
        [
            r.id,
            r.pipeline,
            r.status.value,
            r.trigger.get("kind", "manual"),
            format_ms(r.started_at),
            _took(r.duration_ms),
            f"{sum(s.status.value == 'CACHED' for s in r.steps)}/{len(r.steps)}",
        ]
        for r in found
    ]
    print_table("Pipeline runs", ["id", "pipeline", "state", "trigger", "started", "took", "cached"], rows)


@app.command("show")
def show(
    ctx: typer.Context,
    name_or_run: Annotated[str, typer.Argument(help="A pipeline's name (its DAG and last run) or a run id.")],
    as_json: JsonFlag = False,
) -> None:
    """A pipeline's steps and its last run, or one run's steps with their states and durations."""
    db = get_client(ctx).db
    try:
        pipeline = get_pipeline(db, name_or_run)
    except NotFound:
        try:
            record = get_pipeline_run(db, name_or_run)
        except NotFound:
            raise NotFound(
                f"no pipeline and no pipeline run is called {name_or_run!r}",
                hint="List them with `mlpilot pipelines list` and `mlpilot pipelines runs`.",
            ) from None
        if as_json:
            print_json(record.to_dict())
        else:
            _print_run(record)
        return
    latest = next(iter(list_pipeline_runs(db, pipeline.name, limit=1)), None)
    if as_json:
        print_json({**pipeline.to_dict(), "last_run": latest.to_dict() if latest else None})
        return
    console.print(f"Pipeline [bold]{pipeline.name}[/] from {pipeline.source}")
    rows = [
        [
            node["name"],
            ", ".join(f"{param} ← {ref}" for param, ref in node["inputs"].items()),
            ", ".join(node["outputs"]),
            f"{len(node['grid'])} instances" if node.get("grid") else "",
            "" if node.get("cache", True) else "never cached",
        ]
        for node in pipeline.steps
    ]
    print_table(None, ["step", "inputs", "outputs", "fan-out", "cache"], rows)
    if latest is not None:
        _print_run(latest)


@app.command("register")
def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="FILE.py:NAME or MODULE:NAME of a @pipeline function.")],
    as_json: JsonFlag = False,
) -> None:
    """Record a pipeline (its source and DAG with default parameters) without running it, e.g. to add triggers."""
    found = _load(source)
    graph = found.compose()
    stored = save_pipeline(
        get_client(ctx).db, found.name, source=found.source, workdir=str(Path.cwd()), steps=graph.to_list()
    )
    if as_json:
        print_json(stored.to_dict())
    else:
        console.print(f"Pipeline [bold]{stored.name}[/] registered from {stored.source} ({len(stored.steps)} steps)")


triggers_app = typer.Typer(
    help="Start pipelines on a schedule, on new data, or on a monitor's alert.", no_args_is_help=True
)
app.add_typer(triggers_app, name="triggers")


def _print_triggers(found: list[Trigger]) -> None:
    rows = [
        [
            t.id,
            t.pipeline,
            t.description,
            "yes" if t.enabled else "no",
            ", ".join(f"{k}={v}" for k, v in t.params.items()),
            format_ms(t.last_fired_at),
        ]
        for t in found
    ]
    print_table("Triggers", ["id", "pipeline", "fires on", "enabled", "params", "last fired"], rows)


@triggers_app.command("add")
def trigger_add(
    ctx: typer.Context,
    pipeline: Annotated[str, typer.Argument(help="A pipeline that has run or been registered here.")],
    cron: Annotated[str | None, typer.Option("--cron", help='A cron schedule in UTC, e.g. "0 3 * * *".')] = None,
    dataset: Annotated[
        str | None, typer.Option("--on-dataset", help="Run when this dataset gets a new version.")
    ] = None,
    monitor: Annotated[str | None, typer.Option("--on-alert", help="Run when this monitor raises an alert.")] = None,
    params: Annotated[list[str] | None, typer.Option("-P", "--param", help="KEY=VALUE for the runs it starts.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Persist a trigger; the server (or `mlpilot pipelines tick`) fires it."""
    chosen = [(kind, value) for kind, value in (("schedule", cron), ("dataset", dataset), ("alert", monitor)) if value]
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of --cron, --on-dataset or --on-alert")
    kind, value = chosen[0]
    key = {"schedule": "cron", "dataset": "dataset", "alert": "monitor"}[kind]
    db = get_client(ctx).db
    given = parse_assignments(params or [])
    stored = get_pipeline(db, pipeline)
    found = _load(stored.source) if given else None
    values = {k: v for k, v in found.resolve(given, text=True).items() if k in given} if found else {}
    created = create_trigger(db, pipeline, kind, {key: value}, params=values)
    if as_json:
        print_json(created.to_dict())
    else:
        console.print(f"Trigger {created.id}: run [bold]{pipeline}[/] on {created.description}")


@triggers_app.command("list")
def trigger_list(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Argument(help="Only this pipeline's triggers.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every trigger, with what it fires on and when it last fired."""
    found = list_triggers(get_client(ctx).db, pipeline)
    if as_json:
        print_json({"triggers": [t.to_dict() for t in found]})
    else:
        _print_triggers(found)


@triggers_app.command("delete")
def trigger_delete(ctx: typer.Context, trigger_id: Annotated[int, typer.Argument(help="The trigger's id.")]) -> None:
    delete_trigger(get_client(ctx).db, trigger_id)
    console.print(f"Trigger {trigger_id} deleted")


@triggers_app.command("enable")
def trigger_enable(ctx: typer.Context, trigger_id: Annotated[int, typer.Argument(help="The trigger's id.")]) -> None:
    set_trigger_enabled(get_client(ctx).db, trigger_id, True)
    console.print(f"Trigger {trigger_id} enabled")


@triggers_app.command("disable")
def trigger_disable(ctx: typer.Context, trigger_id: Annotated[int, typer.Argument(help="The trigger's id.")]) -> None:
    set_trigger_enabled(get_client(ctx).db, trigger_id, False)
    console.print(f"Trigger {trigger_id} disabled")


@app.command("tick")
def tick(
    ctx: typer.Context,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the started runs to finish.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fire every due trigger once (what the server does every few seconds), e.g. from cron or CI."""
    client = get_client(ctx)
    settings = get_settings(ctx)
    scheduler = TriggerScheduler(
        client.db,
        tracking_uri=settings.resolved_tracking_uri(),
        artifact_uri=settings.resolved_artifact_uri(),
        home=settings.home,
        tick_seconds=0,
    )
    started = scheduler.tick()
    if wait:
        scheduler.wait()
    failed = [child for child in started if wait and child.process.returncode != 0]
    if as_json:
        print_json(
            {
                "started": [
                    {
                        "trigger": c.trigger_id,
                        "pipeline": c.pipeline,
                        "reason": c.reason,
                        "log": str(c.log_path),
                        "exit_code": c.process.returncode,
                    }
                    for c in started
                ]
            }
        )
    else:
        for child in started:
            console.print(
                f"Trigger {child.trigger_id} started {child.pipeline} ({child.reason['kind']}); log: {child.log_path}"
            )
        if not started:
            console.print("Nothing is due.")
    if failed:
        raise typer.Exit(1)
