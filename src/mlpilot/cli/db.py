"""``mlpilot db``: the metadata database's schema."""

from __future__ import annotations

import typer

from mlpilot.cli.context import get_settings
from mlpilot.cli.render import console
from mlpilot.store import Database
from mlpilot.store import upgrade as upgrade_schema

app = typer.Typer(help="Manage the metadata database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration (also done automatically on first use)."""
    settings = get_settings(ctx)
    database = Database(settings.resolved_tracking_uri(), busy_timeout=settings.sqlite_busy_timeout)
    try:
        revision = upgrade_schema(database)
    finally:
        database.dispose()
    console.print(f"database {database.url.render_as_string(hide_password=True)} is at revision {revision}")
