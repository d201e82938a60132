"""Requests and errors per deployment, served version and minute, counted in memory and added to
the store every few seconds, so monitors can compute error rates over any window and a canary's
errors can be told from its primary's."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from mlpilot.deployments.request_counts import (
    MINUTE_MS,
    UNKNOWN_VERSION,
    CountKey,
    RequestCounts,
    add_request_counts,
)
from mlpilot.errors import MlpilotError
from mlpilot.store import Database

__all__ = ["FLUSH_SECONDS", "RequestTally"]

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
_CLIENT_CLOSED = 499  # nobody was served and nobody was failed


class RequestTally:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._counts: dict[CountKey, RequestCounts] = {}

    def count(self, deployment: str, status: int, version: int = UNKNOWN_VERSION) -> None:
        """Count one answered request under the version chosen for it (0: refused before one was).

        Called on the event loop only, so the dict needs no lock."""
        if status == _CLIENT_CLOSED:
            return
        minute = time.time_ns() // 1_000_000 // MINUTE_MS * MINUTE_MS
        key = (deployment, version, minute)
        added = RequestCounts(1, int(status >= 500), int(400 <= status < 500))
        self._counts[key] = self._counts.get(key, RequestCounts()) + added

    def take(self) -> dict[CountKey, RequestCounts]:
        counts, self._counts = self._counts, {}
        return counts

    def write(self, counts: dict[CountKey, RequestCounts]) -> bool:
        """Store ``counts`` (from ``take``); False when the store refused, so the caller can keep them."""
        try:
            add_request_counts(self.db, counts)
        except (SQLAlchemyError, MlpilotError) as problem:
            log.warning("request counts not stored yet (%d minutes kept for the next try): %s", len(counts), problem)
            return False
        return True

    def restore(self, counts: dict[CountKey, RequestCounts]) -> None:
        for key, value in counts.items():
            self._counts[key] = self._counts.get(key, RequestCounts()) + value
