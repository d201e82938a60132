"""Client methods for API keys and the audit log, mixed into Client.

On the local transport the caller already holds the database, so these need no key themselves and
record the operating-system user as the actor. Over HTTP they need an ``admin`` key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mlpilot.security import ApiKey, AuditEntry, Scope

if TYPE_CHECKING:
    from mlpilot.client.transport import Transport

__all__ = ["KeyMethods"]


class KeyMethods:
    """API key and audit operations; expects the ``transport`` attribute Client provides."""

    transport: Transport

    def create_api_key(self, name: str, scopes: str | Iterable[Scope | str]) -> tuple[ApiKey, str]:
        """A new key and its secret: the secret is returned this once and stored only as a hash."""
        return self.transport.create_api_key(name, scopes if isinstance(scopes, str) else list(scopes))

    def list_api_keys(self) -> list[ApiKey]:
        """Every key with its prefix, scopes and times; never a secret or a hash."""
        return self.transport.list_api_keys()

    def revoke_api_key(self, name: str) -> ApiKey:
        """Revoke a key by name or prefix; it stays listed, and can no longer authenticate."""
        return self.transport.revoke_api_key(name)

    def audit_log(self, limit: int = 100, since: int | None = None) -> list[AuditEntry]:
        """The newest audit entries first: key name, actor, action, target and time."""
        return self.transport.audit_log(limit, since)
