"""``mlpilot server``: the REST API for a team, secured by API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.context import get_settings
from mlpilot.cli.render import console, err_console
from mlpilot.config import load_settings


def server(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default 5050).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: one per core, at most 8).")
    ] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) until Ctrl-C."""
    # Imported here: FastAPI and uvicorn are not needed by any other command.
    from mlpilot.server.run import bootstrap, serve

    base = get_settings(ctx)
    settings = load_settings(
        **base.model_dump(exclude_unset=True),
        server_host=host,
        server_port=port,
        server_workers=workers,
    )
    secret = bootstrap(settings)
    if secret is not None:
        err_console.print(
            "[yellow]No API keys existed, so an admin key named 'bootstrap-admin' was created. "
            "It is shown this once: store it now, then create narrower keys with "
            "`mlpilot keys create`.[/yellow]"
        )
        console.print(secret, soft_wrap=True)
    err_console.print(f"mlpilot server on http://{settings.server_host}:{settings.server_port} (docs at /docs)")
    serve(settings, access_log=access_log)
