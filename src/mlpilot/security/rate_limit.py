"""A token bucket per API key: ``rate`` requests per second sustained, ``burst`` at once.

Buckets live in the process: with N worker processes a key gets up to N times the configured
rate, which the docs state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from mlpilot.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second sustained, ``burst`` at once."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic, *, subject: str = "the API key"
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.subject = subject  # what a key names, for the refusal's message
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket, or raise RateLimited saying when one is free."""
        self._spend(key, spend=True)

    def check(self, key: str) -> None:
        """Raise RateLimited if ``key``'s bucket is empty now, without spending a token: for a caller
        that spends only on failure (the UI's sign-in) yet must refuse before trying again."""
        self._spend(key, spend=False)

    def _spend(self, key: str, *, spend: bool) -> None:
        if self.rate <= 0:
            return
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                if spend:
                    self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimited(
                    f"{self.subject} {key!r} sent more than {self.rate:g} requests per second",
                    retry_after=math.ceil(wait * 1000) / 1000,
                )
            if spend:
                self._buckets[key] = (tokens - 1.0, now)
