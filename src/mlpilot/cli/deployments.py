"""``mlpilot deployments``: what the platform server serves, with canary, shadow and rollback."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlpilot.cli.context import get_client
from mlpilot.cli.render import console, format_ms, print_json, print_table
from mlpilot.deployments import UNSET, Deployment
from mlpilot.errors import InvalidInput

app = typer.Typer(help="Create, change, roll back and promote deployments.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ModelOption = Annotated[str, typer.Option("--model", "-m", help="NAME@ALIAS (follows the alias) or NAME/VERSION.")]
CanaryOption = Annotated[
    str | None, typer.Option("--canary", help="TARGET:WEIGHT, e.g. challenger:0.1 or 5:0.25 (alias or version).")
]
ShadowOption = Annotated[
    str | None, typer.Option("--shadow", help="TARGET:SHARE: mirror that share of requests to TARGET (logged only).")
]
BatchOption = Annotated[int | None, typer.Option("--max-batch-size", help="Most rows per model call.")]
WaitOption = Annotated[float | None, typer.Option("--max-batch-wait-ms", help="Wait for a batch to fill.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The deployment's name: its routes are /v1/deployments/NAME/….")],
    model: ModelOption,
    canary: CanaryOption = None,
    shadow: ShadowOption = None,
    max_batch_size: BatchOption = None,
    max_batch_wait_ms: WaitOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Serve MODEL as NAME on the platform server (every server worker picks it up within a second)."""
    created = get_client(ctx).create_deployment(
        name,
        model,
        canary=_split(canary, "--canary"),
        shadow=_split(shadow, "--shadow"),
        config=_config(max_batch_size, max_batch_wait_ms) or None,
    )
    _show(created, as_json, "created")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every deployment with its target, canary and shadow."""
    found = get_client(ctx).list_deployments()
    if as_json:
        print_json([deployment.to_dict() for deployment in found])
        return
    print_table(
        "Deployments",
        ["name", "model", "target", "pinned", "canary", "shadow", "updated"],
        (
            [
                deployment.name,
                deployment.model,
                str(deployment.target),
                deployment.pinned_version,
                _describe_split(deployment.canary.to_dict() if deployment.canary else None, "weight"),
                _describe_split(deployment.shadow.to_dict() if deployment.shadow else None, "share"),
                format_ms(deployment.updated_at),
            ]
            for deployment in found
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The deployment.")], as_json: JsonFlag = False
) -> None:
    """A deployment, the versions serving it right now, and its latest events."""
    client = get_client(ctx)
    deployment = client.get_deployment(name)
    traffic = client.deployment_traffic(name)
    events = client.deployment_events(name, limit=10)
    if as_json:
        print_json(
            {
                "deployment": deployment.to_dict(),
                "traffic": traffic.to_dict(),
                "events": [event.to_dict() for event in events],
            }
        )
        return
    _show(deployment, False, None)
    serving = f"version {traffic.primary}" + (" (pinned by a rollback)" if traffic.pinned else "")
    if traffic.canary is not None:
        serving += f"; canary version {traffic.canary[0]} at {traffic.canary[1]:.0%}"
    if traffic.shadow is not None:
        serving += f"; shadow version {traffic.shadow[0]} at {traffic.shadow[1]:.0%}"
    console.print(f"serving now: {serving}")
    print_table(
        "Latest events",
        ["when", "action", "actor", "details"],
        ([format_ms(event.created_at), event.action, event.actor, event.details or ""] for event in events),
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The deployment.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="A new target (releases a rollback's pin).")
    ] = None,
    canary: CanaryOption = None,
    no_canary: Annotated[bool, typer.Option("--no-canary", help="Remove the canary.")] = False,
    shadow: ShadowOption = None,
    no_shadow: Annotated[bool, typer.Option("--no-shadow", help="Remove the shadow.")] = False,
    max_batch_size: BatchOption = None,
    max_batch_wait_ms: WaitOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Change what is given; everything else stays."""
    for given, removed, flag in ((canary, no_canary, "canary"), (shadow, no_shadow, "shadow")):
        if given is not None and removed:
            raise InvalidInput(f"--{flag} and --no-{flag} contradict each other", hint="Pass one of them.")
    config = _config(max_batch_size, max_batch_wait_ms)
    client = get_client(ctx)
    if config:
        config = {**client.get_deployment(name).config, **config}
    updated = client.update_deployment(
        name,
        model=model if model is not None else UNSET,
        canary=None if no_canary else (_split(canary, "--canary") if canary is not None else UNSET),
        shadow=None if no_shadow else (_split(shadow, "--shadow") if shadow is not None else UNSET),
        config=config if config else UNSET,
    )
    _show(updated, as_json, "updated")


@app.command("delete")
def delete(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The deployment.")]) -> None:
    """Stop serving it (its events and feedback are kept)."""
    get_client(ctx).delete_deployment(name)
    console.print(f"deleted deployment {name!r}")


@app.command("rollback")
def rollback(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The deployment.")], as_json: JsonFlag = False
) -> None:
    """Pin all traffic to the version served before the current one (servers switch within a second)."""
    _show(get_client(ctx).rollback_deployment(name), as_json, "rolled back")


@app.command("promote")
def promote(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The deployment.")], as_json: JsonFlag = False
) -> None:
    """Make the canary the primary: it takes all traffic."""
    _show(get_client(ctx).promote_deployment(name), as_json, "promoted")


@app.command("events")
def events(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The deployment.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Who created, changed, rolled back or promoted it, newest first."""
    found = get_client(ctx).deployment_events(name, limit)
    if as_json:
        print_json([event.to_dict() for event in found])
        return
    print_table(
        f"Events of {name}",
        ["when", "action", "actor", "details"],
        ([format_ms(event.created_at), event.action, event.actor, event.details or ""] for event in found),
    )


def _show(deployment: Deployment, as_json: bool, verb: str | None) -> None:
    if as_json:
        print_json(deployment.to_dict())
        return
    if verb is not None:
        console.print(f"{verb} deployment {deployment.name!r}: {deployment.model_uri}")
    print_table(
        None,
        ["field", "value"],
        [
            ["name", deployment.name],
            ["model", deployment.model_uri],
            ["pinned to version", deployment.pinned_version],
            ["canary", _describe_split(deployment.canary.to_dict() if deployment.canary else None, "weight")],
            ["shadow", _describe_split(deployment.shadow.to_dict() if deployment.shadow else None, "share")],
            ["config", deployment.config or ""],
            ["revision", deployment.revision],
            ["created", f"{format_ms(deployment.created_at)} by {deployment.created_by}"],
        ],
    )


def _split(text: str | None, flag: str) -> tuple[str | int, float] | None:
    if text is None:
        return None
    target, separator, fraction = text.rpartition(":")
    try:
        value = float(fraction)
    except ValueError:
        value = -1.0
    if not separator or not target or value < 0:
        raise InvalidInput(
            f"{flag} must be TARGET:FRACTION, got {text!r}", hint=f"For example {flag} challenger:0.1 or {flag} 5:0.25."
        )
    return (int(target) if target.isdecimal() else target.removeprefix("@")), value


def _config(max_batch_size: int | None, max_batch_wait_ms: float | None) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if max_batch_size is not None:
        config["max_batch_size"] = max_batch_size
    if max_batch_wait_ms is not None:
        config["max_batch_wait_ms"] = max_batch_wait_ms
    return config


def _describe_split(split: dict[str, Any] | None, amount: str) -> str:
    return "" if split is None else f"{split['target']} at {split[amount]:.0%}"
