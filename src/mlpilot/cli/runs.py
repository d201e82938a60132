"""``mlpilot runs``: list, show and compare runs."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_ms, format_value, print_json, print_table
from mlpilot.errors import InvalidInput
from mlpilot.tracking.records import Run

app = typer.Typer(help="List, show and compare runs.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _duration(run: Run) -> str:
    duration = run.duration_ms
    return "-" if duration is None else f"{duration / 1000:.1f}s"


@app.command("list")
def list_(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", "-e", help="Experiment name or id (repeatable).")
    ] = None,
    filter_: Annotated[
        str | None, typer.Option("--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\"")
    ] = None,
    order_by: Annotated[list[str] | None, typer.Option("--order-by", "-o", help="e.g. 'metrics.acc DESC'.")] = None,
    max_results: Annotated[int, typer.Option("--max-results", "-n", min=1, max=50_000)] = 50,
    page_token: Annotated[str | None, typer.Option("--page-token")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Search runs; newest first unless --order-by says otherwise."""
    page = get_client(ctx).search_runs(experiment or None, filter_, order_by, max_results, page_token)
    if as_json:
        print_json({"runs": [run.to_dict() for run in page], "next_page_token": page.next_page_token})
        return
    # Metrics named in --order-by first, then the rest alphabetically, at most five columns.
    ordered = [clause.split()[0].removeprefix("metrics.") for clause in order_by or [] if clause.startswith("metrics.")]
    present = {key for run in page for key in run.metrics}
    metric_keys = [key for key in ordered if key in present]
    metric_keys += sorted(present - set(metric_keys))
    metric_keys = metric_keys[:4]
    several = len({run.experiment_id for run in page}) > 1
    print_table(
        "Runs",
        ["id", "name", *(["experiment"] if several else []), "status", "started", "duration", *metric_keys],
        (
            [
                run.id,
                run.name,
                *([run.experiment_name] if several else []),
                run.status.value,
                format_ms(run.start_time),
                _duration(run),
                *(run.metrics.get(key) for key in metric_keys),
            ]
            for run in page
        ),
    )
    if page.next_page_token:
        console.print(f"[dim]more: --page-token {page.next_page_token}[/dim]")


@app.command("show")
def show(
    ctx: typer.Context, run_id: Annotated[str, typer.Argument(help="The run's id.")], as_json: JsonFlag = False
) -> None:
    """Everything about one run: params, latest metrics, tags, datasets, artifacts and environment."""
    client = get_client(ctx)
    run = client.get_run(run_id)
    artifacts = client.list_artifacts(run_id)
    environment = client.get_run_environment(run_id) or {}
    if as_json:
        print_json({**run.to_dict(), "artifacts": [a.to_dict() for a in artifacts], "environment": environment})
        return
    print_table(
        f"Run {run.id}",
        ["field", "value"],
        [
            ["name", run.name],
            ["experiment", f"{run.experiment_name} ({run.experiment_id})"],
            ["status", run.status.value],
            ["started", format_ms(run.start_time)],
            ["ended", format_ms(run.end_time)],
            ["duration", _duration(run)],
            ["user", run.user],
            ["entry point", run.entry_point],
            ["parent run", run.parent_run_id],
            ["git commit", run.git_commit],
            ["git dirty", run.git_dirty],
            ["python", environment.get("python")],
            ["platform", environment.get("platform")],
        ],
    )
    print_table("Params", ["key", "value"], sorted(run.params.items()))
    print_table("Metrics (latest)", ["key", "value"], sorted(run.metrics.items()))
    print_table("Tags", ["key", "value"], sorted(run.tags.items()))
    print_table("Datasets", ["dataset", "version", "role"], ([i.dataset, i.version, i.role] for i in run.inputs))
    print_table("Artifacts", ["path", "size", "sha256"], ([a.path, a.size, a.sha256[:12]] for a in artifacts))


@app.command("compare")
def compare(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    as_json: JsonFlag = False,
) -> None:
    """Params and metrics of several runs side by side; rows that differ are marked."""
    if len(run_ids) < 2:
        raise InvalidInput("compare needs at least two run ids", hint="mlpilot runs compare RUN_A RUN_B")
    client = get_client(ctx)
    found = [client.get_run(run_id) for run_id in run_ids]
    param_keys = sorted({key for run in found for key in run.params})
    metric_keys = sorted({key for run in found for key in run.metrics})
    if as_json:
        print_json(
            {
                "runs": [run.id for run in found],
                "params": {key: [run.params.get(key) for run in found] for key in param_keys},
                "metrics": {key: [run.metrics.get(key) for run in found] for key in metric_keys},
            }
        )
        return

    def rows(kind: str, keys: list[str]) -> list[list[str]]:
        table = []
        for key in keys:
            values = [format_value((run.params if kind == "param" else run.metrics).get(key)) for run in found]
            marker = "≠" if len(set(values)) > 1 else ""
            table.append([f"{kind}.{key}", marker, *values])
        return table

    headers = ["field", "", *(f"{run.name} ({run.id[:8]})" for run in found)]
    print_table("Comparison", headers, [*rows("param", param_keys), *rows("metric", metric_keys)])
