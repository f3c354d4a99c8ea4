"""A token bucket, kept per websocket connection (no shared state, so no cache round trip)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`capacity` tokens, refilled continuously at capacity/period per second. A burst of
    `capacity` frames is allowed, then one frame per period/capacity seconds."""

    def __init__(self, *, capacity: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.clock = clock
        self.tokens = float(capacity)
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until the next token."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)
