"""Verified keys remembered for a few seconds, for the prediction hot path.

Looking a key up costs a database round trip, more than a small model's prediction. The cache
maps the sha256 of the presented text to the verified key for ``ttl`` seconds, so a revoked key
stops working within ``ttl`` (two seconds by default) instead of at once. Failures are not
cached: a wrong key always costs the lookup, which the rate limit bounds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from mlpilot.security.keys import authenticate
from mlpilot.security.records import ApiKey
from mlpilot.store import Database

__all__ = ["KeyCache"]

# Enough for every key an organisation uses; beyond it the oldest entries go first.
_MAX_ENTRIES = 4096


class KeyCache:
    def __init__(self, db: Database, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()

    def cached(self, presented: str | None) -> ApiKey | None:
        """The key for ``presented`` if it was verified less than ``ttl`` seconds ago (cheap, no I/O)."""
        if presented is None or self.ttl <= 0:
            return None
        entry = self._entries.get(_digest(presented))
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def authenticate(self, presented: str | None) -> ApiKey:
        """Verify against the database (Unauthorized if not valid) and remember the result."""
        key = authenticate(self.db, presented)
        if presented is not None and self.ttl > 0:
            with self._lock:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.pop(next(iter(self._entries)))
                self._entries[_digest(presented)] = (key, self._clock() + self.ttl)
        return key


def _digest(presented: str) -> str:
    return hashlib.sha256(presented.encode("utf-8", "surrogatepass")).hexdigest()
