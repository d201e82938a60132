"""Domain records of API keys and the audit log. A record never holds a key's secret or hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlpilot.security.scopes import Scope, grants

__all__ = ["ApiKey", "AuditEntry"]


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: its name, visible prefix and scopes; times are epoch milliseconds."""

    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_by: str
    created_at: int
    last_used_at: int | None = None
    revoked_at: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, needed: Scope) -> bool:
        return self.active and grants(self.scopes, needed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "scopes": [scope.value for scope in self.scopes],
            "created_by": self.created_by,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One write: which key (by name) and who, did what to which target, when. Never a payload."""

    id: int
    key_name: str | None
    actor: str
    action: str
    target: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key_name": self.key_name,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "created_at": self.created_at,
        }
