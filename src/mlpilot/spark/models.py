"""Resolve what a caller names as a model (a URI or an already loaded model) on the driver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpilot.errors import InvalidInput

if TYPE_CHECKING:
    from mlpilot.client import Client
    from mlpilot.models import LoadedModel

__all__ = ["resolve_model"]


def resolve_model(model: object, client: Client | None = None) -> LoadedModel:
    """A LoadedModel as it is; a ``models:/…`` or ``runs:/…`` URI loaded through ``client`` (the
    default client when None), its files verified against their sha256 on the driver."""
    from mlpilot.models import LoadedModel

    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, str):
        if client is None:
            from mlpilot.client.fluent import get_client

            client = get_client()
        return client.load_model(model)
    raise InvalidInput(
        f"cannot score with a {type(model).__name__}",
        hint="Pass a model URI such as 'models:/churn@production' or a model from mlpilot.load_model.",
    )
