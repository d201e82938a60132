"""A key that lives only as long as a block of code: for a server started for one local task.

Unlike a revoked key, it leaves no row behind, so a store that had no keys before still gets its
bootstrap admin key when ``mlpilot server`` first starts. Its creation stays in the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from mlpilot.security.keys import create_key
from mlpilot.security.scopes import Scope
from mlpilot.store import Database
from mlpilot.store.schema import api_keys

__all__ = ["temporary_key"]


@contextmanager
def temporary_key(db: Database, purpose: str, scopes: Iterable[Scope | str], *, actor: str) -> Iterator[str]:
    """Yield the secret of a new key named ``<purpose>-<random>``; the key is deleted afterwards."""
    key, secret = create_key(db, f"{purpose}-{secrets.token_hex(4)}", list(scopes), actor=actor)
    try:
        yield secret
    finally:
        with db.write() as conn:
            conn.execute(api_keys.delete().where(api_keys.c.name == key.name))
