"""``mlpilot export``: files other tools read (a Grafana dashboard, for now)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console
from mlpilot.errors import InvalidInput

app = typer.Typer(help="Export dashboards and configuration for other tools.", no_args_is_help=True)


@app.command("grafana")
def grafana(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="The deployment the dashboard shows.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of printing.")] = None,
) -> None:
    """A Grafana dashboard (JSON, importable) over exactly the metrics mlpilot exposes."""
    from mlpilot.monitoring.grafana import grafana_dashboard  # pandas comes with monitoring: load it when used

    client = get_client(ctx)
    client.get_deployment(deployment)  # a clear NotFound for a misspelt name
    features: list[str] = []
    for monitor in client.list_monitors(deployment=deployment):
        latest = client.monitor_results(monitor.name, limit=1)
        drift = (latest[0].get("drift") or {}) if latest else {}
        features.extend(f["column"] for f in drift.get("features", []) if f["column"] not in features)
    text = json.dumps(grafana_dashboard(deployment, features=features), indent=2)
    if output is None:
        print(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as problem:
        raise InvalidInput(f"cannot write {output}: {problem.strerror}", hint="Check the folder exists.") from None
    console.print(f"wrote {output}: a dashboard for deployment {deployment!r} ({len(features)} features)")
