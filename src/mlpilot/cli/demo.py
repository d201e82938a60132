"""``mlpilot demo``: the whole loop on the embedded default store (see mlpilot.demo.loop)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.context import get_settings
from mlpilot.cli.render import console


def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option("--serve", help="Leave the server running at the end.")] = False,
    folder: Annotated[
        Path | None, typer.Option("--folder", help="Where the demo's store lives (default: HOME/demo; cleared first).")
    ] = None,
) -> None:
    """Drift, alert, retrain, gate, canary, promote: the closed loop in about two minutes."""
    from mlpilot.demo.loop import DemoOptions, run_demo  # pandas and scikit-learn load only for the demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    home = folder or get_settings(ctx).home / "demo"
    run_demo(DemoOptions(home=home, serve=serve, say=console.print))
