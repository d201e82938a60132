"""The audit log: one append-only row per write, naming the key (never its secret) and the person.

The log deliberately has no place for request or response bodies: they may hold personal data,
and an audit trail is kept longer and shown more widely than the data it describes.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlpilot.errors import InvalidInput
from mlpilot.security.records import AuditEntry
from mlpilot.store import Database
from mlpilot.store.clock import now_ms
from mlpilot.store.schema import audit_log

__all__ = ["MAX_AUDIT_LIMIT", "list_audit", "record"]

MAX_AUDIT_LIMIT = 10_000
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def _clip(text: str, limit: int) -> str:
    # An audit row must never make the audited operation fail, so an overlong target or actor is
    # shortened (visibly) rather than refused.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(
    db: Database | Connection,
    *,
    key_name: str | None,
    actor: str,
    action: str,
    target: str,
    when: int | None = None,
) -> None:
    """Append one entry; pass the caller's connection to commit it with the change it describes.

    ``action`` is a dotted lower-case verb such as ``key.create`` or ``model.alias``; ``target``
    names what was changed (a key name, ``models:/churn@production``), never its content.
    """
    if len(action) > 64 or not _ACTION.match(action):
        raise InvalidInput(
            f"{action!r} is not a valid audit action", hint="Use dotted lower-case words, e.g. 'key.create'."
        )
    values = {
        "key_name": None if key_name is None else _clip(key_name, 100),
        "actor": _clip(actor, 250),
        "action": action,
        "target": _clip(target, 500),
        "created_at": now_ms() if when is None else when,
    }
    if isinstance(db, Connection):
        db.execute(audit_log.insert().values(**values))
        return
    with db.write() as conn:
        conn.execute(audit_log.insert().values(**values))


def list_audit(db: Database, limit: int = 100, since: int | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first; only those at or after ``since`` (epoch ms) if given."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_AUDIT_LIMIT}, got {limit!r}",
            hint=f"Ask for at most {MAX_AUDIT_LIMIT} entries at a time; pass `since` to start at a given time.",
        )
    query = sa.select(audit_log).order_by(audit_log.c.created_at.desc(), audit_log.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(audit_log.c.created_at >= since)
    with db.read() as conn:
        return [
            AuditEntry(
                id=row["id"],
                key_name=row["key_name"],
                actor=row["actor"],
                action=row["action"],
                target=row["target"],
                created_at=row["created_at"],
            )
            for row in conn.execute(query).mappings()
        ]
