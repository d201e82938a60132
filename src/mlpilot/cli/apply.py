"""``mlpilot plan`` and ``mlpilot apply``: make deployments, monitors and retraining triggers match
the ``deployments:`` section of ``mlpilot.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, print_json
from mlpilot.tracking.environment import current_user

if TYPE_CHECKING:
    from mlpilot.ops.plan import Plan

__all__ = ["PLAN_HAS_CHANGES", "apply", "plan"]

# `plan --detailed-exitcode` exits with this when something would change. Terraform uses 2, which
# mlpilot already gives bad input (InvalidInput), so CI could not tell a bad file from a change.
PLAN_HAS_CHANGES = 10

FileOption = Annotated[Path, typer.Option("--file", "-f", help="The project file with a `deployments:` section.")]
PruneOption = Annotated[
    bool,
    typer.Option("--prune", help="Also delete deployments this project's apply created that the file no longer lists."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
_STYLES = {"+": "green", "~": "yellow", "-": "red", "=": "dim", "!": "magenta", " ": "dim"}


def plan(
    ctx: typer.Context,
    file: FileOption = Path("mlpilot.yaml"),
    prune: PruneOption = False,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help=f"Exit {PLAN_HAS_CHANGES} when something would change, 0 when nothing would."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> int:
    """Show what `mlpilot apply` would create, change or delete; change nothing."""
    # Imported when used: monitors bring pandas, which no other command should wait for.
    from mlpilot.ops.declarations import load_declarations
    from mlpilot.ops.plan import make_plan

    declared = load_declarations(file)
    found = make_plan(get_client(ctx).db, declared, prune=prune)
    if as_json:
        print_json(found.to_dict())
    else:
        _show(found)
    return PLAN_HAS_CHANGES if detailed_exitcode and found.has_changes else 0


def apply(
    ctx: typer.Context,
    file: FileOption = Path("mlpilot.yaml"),
    prune: PruneOption = False,
    as_json: JsonFlag = False,
) -> None:
    """Make the store match the file: every entry is checked first, and nothing changes while any is refused."""
    from mlpilot.ops.apply import apply_declarations
    from mlpilot.ops.declarations import load_declarations

    declared = load_declarations(file)
    done = apply_declarations(get_client(ctx).db, declared, user=current_user(), prune=prune)
    if as_json:
        print_json(done.to_dict())
        return
    if not done.changed:
        console.print(f"No changes: the store already matches {escape(done.plan.file)}.")
        _kept(done.plan)
        return
    for change in done.done:
        for line in change.lines():
            _line(line)
    counts = {action: sum(c.action == action for c in done.done) for action in ("create", "change", "delete")}
    console.print(
        f"Applied {escape(done.plan.file)}: {counts['create']} created, {counts['change']} changed, "
        f"{counts['delete']} deleted."
    )
    _kept(done.plan)


def _show(found: Plan) -> None:
    counts = found.counts()
    for line in found.lines():
        _line(line)
    if not found.has_changes:
        console.print(f"No changes: the store matches {escape(found.file)} (project {escape(found.project)}).")
    else:
        console.print(
            f"Plan for {escape(found.file)} (project {escape(found.project)}): {counts['create']} to create, "
            f"{counts['change']} to change, {counts['delete']} to delete, {counts['unchanged']} unchanged."
        )
    _kept(found)


def _kept(found: Plan) -> None:
    kept = found.counts()["kept"]
    if kept:
        console.print(f"[magenta]{kept} no longer declared but kept; `--prune` deletes them.[/magenta]")


def _line(line: str) -> None:
    console.print(f"[{_STYLES.get(line[:1], 'dim')}]{escape(line)}[/]", soft_wrap=True)
