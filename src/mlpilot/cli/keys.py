"""``mlpilot keys``: API keys and the audit log from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, err_console, format_ms, print_json, print_table

app = typer.Typer(help="Create, list and revoke API keys; read the audit log.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the key, e.g. the service or person using it.")],
    scopes: Annotated[
        str, typer.Option("--scopes", "-s", help="Comma-separated: read, write, predict, deploy, admin.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Create a key and print its secret, once."""
    key, secret = get_client(ctx).create_api_key(name, scopes)
    if as_json:
        print_json({"key": key.to_dict(), "secret": secret})
        return
    err_console.print(f"created API key {name!r} ({key.prefix}) with scopes {', '.join(key.scopes)}")
    # The secret alone on stdout, so `KEY=$(mlpilot keys create …)` captures exactly the key.
    console.print(secret, soft_wrap=True)
    err_console.print("[yellow]Store it now; it cannot be shown again.[/yellow]")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every key with its prefix, scopes and times (never a secret)."""
    keys = get_client(ctx).list_api_keys()
    if as_json:
        print_json([key.to_dict() for key in keys])
        return
    print_table(
        "API keys",
        ["name", "prefix", "scopes", "created", "created by", "last used", "revoked"],
        (
            [
                key.name,
                key.prefix,
                ",".join(key.scopes),
                format_ms(key.created_at),
                key.created_by,
                format_ms(key.last_used_at),
                format_ms(key.revoked_at),
            ]
            for key in keys
        ),
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The key's name or prefix (mlp_xxxxxxxx).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key: it stops working at once and stays listed."""
    key = get_client(ctx).revoke_api_key(name)
    if as_json:
        print_json(key.to_dict())
        return
    console.print(f"revoked API key {key.name!r} ({key.prefix})")


@app.command("audit")
def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many entries, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """The audit log: who (key and person) did what to which target, and when."""
    entries = get_client(ctx).audit_log(limit)
    if as_json:
        print_json([entry.to_dict() for entry in entries])
        return
    print_table(
        "Audit log",
        ["when", "key", "actor", "action", "target"],
        ([format_ms(e.created_at), e.key_name, e.actor, e.action, e.target] for e in entries),
    )
