"""``mlpilot experiments``: list and create experiments."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_ms, print_json, print_table

app = typer.Typer(help="List and create experiments.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List experiments."""
    found = get_client(ctx).list_experiments()
    if as_json:
        print_json([experiment.to_dict() for experiment in found])
        return
    print_table(
        "Experiments",
        ["id", "name", "created", "description"],
        ([e.id, e.name, format_ms(e.created_at), e.description] for e in found),
    )


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A new, unique experiment name.")],
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an experiment."""
    experiment = get_client(ctx).create_experiment(name, description)
    if as_json:
        print_json(experiment.to_dict())
    else:
        console.print(f"created experiment {experiment.name!r} (id {experiment.id})")
