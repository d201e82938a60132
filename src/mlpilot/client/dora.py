"""Client method for DORA metrics, mixed into Client. Over HTTP it needs a ``read`` key.

``since`` and ``until`` are epoch milliseconds or text: ``30d`` (that long before now),
``2024-05-01`` (ISO, UTC without an offset) or epoch ms. Text is read where the metrics are
computed (the server for a remote client), so a duration counts back from that clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlpilot.errors import InvalidInput

if TYPE_CHECKING:
    from mlpilot.client.transport import Transport

__all__ = ["DoraMethods"]

Moment = str | int


class DoraMethods:
    """DORA metrics; expects the ``transport`` attribute Client provides."""

    transport: Transport

    def dora(
        self, since: Moment | None = None, until: Moment | None = None, deployment: str | None = None
    ) -> dict[str, Any]:
        """Deployment frequency, change lead time, change fail rate, failed deployment recovery
        time and deployment rework rate with their DORA 2024 bands (``DoraReport.to_dict()``)."""
        return self.transport.dora(_text(since, "since"), _text(until, "until"), deployment)


def _text(value: Moment | None, name: str) -> str | None:
    """The moment as the transports take it: text, read the same way by both."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            f"{name} must be epoch milliseconds or text such as '30d' or '2024-05-01', got {value!r}",
            hint="Pass a whole number of milliseconds since 1970, or a string.",
        )
    return str(value)
