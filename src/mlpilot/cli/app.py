"""The ``mlpilot`` command: global options, sub-commands, and the one place errors become exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mlpilot.cli import (
    apply,
    datasets,
    db,
    demo,
    deployments,
    dora,
    experiments,
    export,
    gate,
    keys,
    models,
    monitors,
    pipelines,
    predict,
    project,
    runs,
    serve,
    server,
)
from mlpilot.cli.context import CliState
from mlpilot.cli.render import err_console
from mlpilot.config import load_settings
from mlpilot.errors import MlpilotError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mlpilot",
    help="Track, version, register, serve and watch machine-learning models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(datasets.app, name="datasets")
app.add_typer(db.app, name="db")
app.add_typer(deployments.app, name="deployments")
app.add_typer(experiments.app, name="experiments")
app.add_typer(export.app, name="export")
app.add_typer(keys.app, name="keys")
app.add_typer(models.app, name="models")
app.add_typer(monitors.app, name="monitors")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(runs.app, name="runs")
app.command("run")(project.run)
app.command("init")(project.init)
app.command("server")(server.server)
app.command("serve")(serve.serve)
app.command("dora")(dora.dora)
app.command("demo")(demo.demo)
app.command("gate")(gate.gate)
app.command("predict")(predict.predict)
app.command("plan")(apply.plan)
app.command("apply")(apply.apply)


@app.callback()
def root(
    ctx: typer.Context,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="sqlite:///… or postgresql://… (env MLPILOT_TRACKING_URI).")
    ] = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option("--artifact-uri", help="Folder or fsspec URL for artifacts (env MLPILOT_ARTIFACT_URI)."),
    ] = None,
    home: Annotated[
        Path | None, typer.Option("--home", help="Folder of the default database and artifacts (env MLPILOT_HOME).")
    ] = None,
) -> None:
    ctx.obj = CliState(load_settings(tracking_uri=tracking_uri, artifact_uri=artifact_uri, home=home))


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes print one readable line and exit with the error's code."""
    try:
        result = app(args=argv, prog_name="mlpilot", standalone_mode=False)
    except MlpilotError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        if exc.hint:
            err_console.print(f"[dim]hint: {escape(exc.hint)}[/dim]", soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors (bad option values, unknown commands) from the command-line parser.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)
