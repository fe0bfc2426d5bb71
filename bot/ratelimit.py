"""Per-person rate limit: a token bucket, so one person's flood cannot crowd out the others.

Each person may send ``burst`` messages at once and ``per_minute`` a minute after that. Past
the limit the first message gets one polite notice and the rest are logged without being
matched, answered or turned into tickets, until the bucket refills. Buckets live in memory
(a restart forgives everyone) and full ones are forgotten, so memory stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["RateLimiter", "Verdict"]

MAX_TRACKED = 100_000
"""People tracked at most; beyond it the buckets that refilled are dropped first."""


class Verdict(StrEnum):
    """What to do with one message."""

    ALLOW = "allow"
    NOTICE = "notice"
    """Over the limit for the first time since the last allowed message: say so, once."""
    QUIET = "quiet"
    """Over the limit again: log it, reply nothing."""


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    noticed: bool = False


class RateLimiter:
    """Token buckets by person key."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> Verdict:
        """Takes one message from ``key``'s bucket and says what to do with it."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.noticed = False
            return Verdict.ALLOW
        if bucket.noticed:
            return Verdict.QUIET
        bucket.noticed = True
        return Verdict.NOTICE

    def _forget_full(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * self.rate >= self.burst
        ]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]
