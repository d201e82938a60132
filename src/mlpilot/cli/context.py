"""What every command shares: the settings from global flags and a lazily opened client."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from mlpilot.client import Client
from mlpilot.config import Settings

__all__ = ["CliState", "get_client", "get_settings"]


@dataclass
class CliState:
    settings: Settings
    client: Client | None = field(default=None)


def _state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    state = root.obj
    assert isinstance(state, CliState), "the root callback sets the CLI state"
    return state


def get_settings(ctx: typer.Context) -> Settings:
    return _state(ctx).settings


def get_client(ctx: typer.Context) -> Client:
    state = _state(ctx)
    if state.client is None:
        state.client = Client(settings=state.settings)
        ctx.find_root().call_on_close(state.client.close)
    return state.client
