"""A per-key token bucket (in memory, per process, thread-safe, bounded).

Used where a public endpoint does work per request that an abuser could turn
against others: the counter verifier's API (each verification costs signature
checks and fills the replay cache, whose eviction a flood could otherwise force).
A key is usually the client address. At most ``max_keys`` buckets are kept (the
least recently used go first, which can only make a limit more lenient, never
lock anyone out).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` requests per second on average, bursts of up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate, burst and max_keys must be positive")
        self.rate, self.burst, self._max, self._clock = rate, burst, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 when the request may proceed (a token is spent), else the seconds
        until the next token (the ``Retry-After``)."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            self._buckets.move_to_end(key)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
            return wait

    @staticmethod
    def retry_after(wait: float) -> str:
        """``wait`` as a ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)
