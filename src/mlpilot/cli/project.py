"""``mlpilot run`` and ``mlpilot init``: run a project in a tracked run; scaffold a new one."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, err_console
from mlpilot.client import Client
from mlpilot.projects import PROJECT_FILE, ProjectRun, execute, init_project, load_project, plan_run
from mlpilot.tracking.records import Run, RunStatus

__all__ = ["init", "run"]

_ENDINGS = {
    RunStatus.FINISHED: ("succeeded", "green"),
    RunStatus.FAILED: ("failed", "red"),
    RunStatus.KILLED: ("killed", "yellow"),
}


class _Echo:
    """Writes the command's output to our stdout as it arrives, remembering whether a line is open."""

    def __init__(self) -> None:
        self.at_line_start = True

    def __call__(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            # `mlpilot run . | head`: the reader is gone. Point stdout at /dev/null so the final
            # flush at exit does not fail too (the recipe from Python's signal docs); re-raise so
            # the runner stops echoing — it keeps running the command and saving its output.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise
        self.at_line_start = text.endswith(("\n", "\r"))

    def end_line(self) -> None:
        # So the closing banner does not start in the middle of the command's last line.
        if not self.at_line_start:
            with contextlib.suppress(BrokenPipeError):
                self("\n")


def _banner(text: str, style: str | None = None) -> None:
    # markup=False: a command or path with [brackets] must print as it is.
    err_console.print(text, style=style, markup=False, soft_wrap=True)


def run(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The project folder (or its mlpilot.yaml).")] = Path("."),
    experiment_name: Annotated[
        str | None,
        typer.Option(
            "--experiment-name",
            "-e",
            help="Experiment of the run, created if missing (default: MLPILOT_EXPERIMENT_NAME or Default).",
        ),
    ] = None,
    params: Annotated[
        list[str] | None,
        typer.Option("--param", "-P", metavar="KEY=VALUE", help="A parameter value (repeatable): -P C=0.5."),
    ] = None,
    entry_point: Annotated[
        str, typer.Option("--entry-point", help="Entry point of mlpilot.yaml, or a .py/.sh file in the project.")
    ] = "main",
    run_name: Annotated[str | None, typer.Option("--run-name", help="Name of the run (default: generated).")] = None,
) -> None:
    """Run a project's entry point in a new tracked run.

    Parameters are checked against mlpilot.yaml before anything starts.

    The command gets MLPILOT_RUN_ID, so mlpilot.start_run() in the script logs to this run.
    A folder with an MLflow MLproject file runs too; its mlflow calls get MLFLOW_TRACKING_URI and
    MLFLOW_RUN_ID (through a server on 127.0.0.1 for a local store; see docs/mlflow.md).

    Exits with the command's exit code (130 after Ctrl-C).
    """
    plan = plan_run(path, entry_point, params or [])
    echo = _Echo()

    def started(created: Run) -> None:
        _banner(f"=== Running command '{plan.command}' in run with ID '{created.id}' ===", "bold")

    with _tracking_client(get_client(ctx), plan) as client:
        outcome = execute(client, plan, experiment=experiment_name, run_name=run_name, on_start=started, write=echo)
    echo.end_line()
    word, style = _ENDINGS.get(outcome.status, ("ended", "yellow"))
    if outcome.status is RunStatus.FAILED:
        _banner(_how_it_ended(outcome.process.returncode), "dim")
    _banner(f"=== Run (ID='{outcome.run.id}') {word} ===", f"bold {style}")
    _banner(f"details: mlpilot runs show {outcome.run.id}", "dim")
    raise typer.Exit(outcome.exit_code)


@contextlib.contextmanager
def _tracking_client(client: Client, plan: ProjectRun) -> Iterator[Client]:
    """The client to run with. An MLproject on a local store runs through a server on 127.0.0.1
    for its duration, so the project's own mlflow calls (MLFLOW_TRACKING_URI) reach the same store."""
    if client.is_remote or plan.project.file is None or plan.project.file.name.lower() != "mlproject":
        yield client
        return
    from mlpilot.server.local import local_server

    with local_server(client.settings, purpose="mlproject") as (url, key):
        remote = Client(url, api_key=key, settings=client.settings)
        try:
            yield remote
        finally:
            remote.close()


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        # Killed by a signal nobody sent through us, e.g. the kernel's out-of-memory killer (SIGKILL).
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the command was killed by {name}"
    return f"the command exited with code {returncode}"


def init(
    path: Annotated[Path, typer.Argument(help="Folder of the new project (created if missing).")] = Path("."),
    name: Annotated[str | None, typer.Option("--name", help="Project name (default: the folder's name).")] = None,
    ci: Annotated[
        str | None,
        typer.Option(
            "--ci",
            help="Also write a CI workflow that trains, gates and registers: github or gitlab. "
            "In an existing project, only the workflow is written.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="With --ci: replace an existing workflow file.")] = False,
) -> None:
    """Create a project that runs as it is: mlpilot.yaml, train.py and a .gitignore entry."""
    directory = path.expanduser().resolve()
    existing = ci is not None and (directory / PROJECT_FILE).is_file()
    if ci is not None:
        # The ops exports load the evaluation stack; only `init --ci` needs it.
        from mlpilot.ops.exports import prepare_ci_workflow, write_ci_workflow

        model = name or (load_project(directory).name if existing else None) or directory.name
        # Every check before anything is written: a refused workflow leaves the folder as it was.
        prepare_ci_workflow(directory, ci, model, force=force)
    if not existing:
        scaffold = init_project(path, name=name)
        console.print(f"created project {scaffold.name!r} in {scaffold.directory}", markup=False, soft_wrap=True)
        for file in scaffold.created:
            console.print(f"  new      {file.name}", markup=False)
        for file in scaffold.updated:
            console.print(f"  updated  {file.name}", markup=False)
    if ci is not None:
        target = write_ci_workflow(directory, ci, model, force=force)
        console.print(f"  new      {target.relative_to(directory)}", markup=False)
    console.print(f"next: mlpilot run {shlex.quote(str(path))}", markup=False, soft_wrap=True)
