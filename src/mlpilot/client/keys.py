"""Client methods for API keys and the audit log, mixed into Client.

On the local transport the caller already holds the database, so these need no key themselves;
they record the operating-system user as the actor. Over HTTP the same methods will need an
``admin`` key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mlpilot.security import ApiKey, AuditEntry, Scope
from mlpilot.security import audit as audit_service
from mlpilot.security import keys as key_service
from mlpilot.tracking.environment import current_user

if TYPE_CHECKING:
    from mlpilot.store import Database

__all__ = ["KeyMethods"]


class KeyMethods:
    """API key and audit operations; expects the ``db`` attribute Client provides."""

    db: Database

    def create_api_key(self, name: str, scopes: str | Iterable[Scope | str]) -> tuple[ApiKey, str]:
        """A new key and its secret: the secret is returned this once and stored only as a hash."""
        return key_service.create_key(self.db, name, scopes, actor=current_user())

    def list_api_keys(self) -> list[ApiKey]:
        """Every key with its prefix, scopes and times; never a secret or a hash."""
        return key_service.list_keys(self.db)

    def revoke_api_key(self, name: str) -> ApiKey:
        """Revoke a key by name or prefix; it stays listed, and can no longer authenticate."""
        return key_service.revoke_key(self.db, name, actor=current_user())

    def audit_log(self, limit: int = 100, since: int | None = None) -> list[AuditEntry]:
        """The newest audit entries first: key name, actor, action, target and time."""
        return audit_service.list_audit(self.db, limit, since)
