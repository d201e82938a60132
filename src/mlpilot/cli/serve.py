"""``mlpilot serve``: a registered model as a secured prediction API."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.context import get_settings
from mlpilot.cli.render import err_console
from mlpilot.config import load_settings


def serve(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The model to serve: NAME@ALIAS, NAME/VERSION or models:/…")],
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default 8080).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: one per core, at most 8).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Deployment name in the routes (default: the model's).")
    ] = None,
    no_log: Annotated[bool, typer.Option("--no-log", help="Do not write the prediction log.")] = False,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
) -> None:
    """Serve MODEL at /v1/deployments/NAME/predict and /v2/models/NAME/infer until Ctrl-C.

    Every request needs an API key with the `predict` scope (`mlpilot keys create NAME --scopes predict`).
    When the alias moves, the new version is loaded, warmed and swapped in without dropping a request.
    """
    # Imported here: uvicorn and the serving stack are not needed by any other command.
    from mlpilot.serving.run import serve as run_server
    from mlpilot.serving.runtime import check_servable

    base = get_settings(ctx)
    settings = load_settings(
        **base.model_dump(exclude_unset=True),
        serve_model=model,
        serve_name=name,
        serve_host=host,
        serve_port=port,
        serve_workers=workers,
        serve_log_predictions=False if no_log else None,
    )
    deployment, version = check_servable(settings)
    err_console.print(
        f"serving {deployment} (version {version}) on http://{settings.serve_host}:{settings.serve_port} "
        f"with {settings.serve_workers} worker(s): POST /v1/deployments/{deployment}/predict"
    )
    run_server(settings, access_log=access_log)
