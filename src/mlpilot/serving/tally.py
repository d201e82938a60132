"""Requests and errors per deployment and minute, counted in memory and added to the store every
few seconds, so monitors can compute error rates over any window."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from mlpilot.deployments.request_counts import MINUTE_MS, RequestCounts, add_request_counts
from mlpilot.errors import MlpilotError
from mlpilot.store import Database

__all__ = ["FLUSH_SECONDS", "RequestTally"]

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
_CLIENT_CLOSED = 499  # nobody was served and nobody was failed


class RequestTally:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._counts: dict[tuple[str, int], RequestCounts] = {}

    def count(self, deployment: str, status: int) -> None:
        """Called on the event loop only, so the dict needs no lock."""
        if status == _CLIENT_CLOSED:
            return
        minute = time.time_ns() // 1_000_000 // MINUTE_MS * MINUTE_MS
        key = (deployment, minute)
        added = RequestCounts(1, int(status >= 500), int(400 <= status < 500))
        self._counts[key] = self._counts.get(key, RequestCounts()) + added

    def take(self) -> dict[tuple[str, int], RequestCounts]:
        counts, self._counts = self._counts, {}
        return counts

    def write(self, counts: dict[tuple[str, int], RequestCounts]) -> bool:
        """Store ``counts`` (from ``take``); False when the store refused, so the caller can keep them."""
        try:
            add_request_counts(self.db, counts)
        except (SQLAlchemyError, MlpilotError) as problem:
            log.warning("request counts not stored yet (%d minutes kept for the next try): %s", len(counts), problem)
            return False
        return True

    def restore(self, counts: dict[tuple[str, int], RequestCounts]) -> None:
        for key, value in counts.items():
            self._counts[key] = self._counts.get(key, RequestCounts()) + value
