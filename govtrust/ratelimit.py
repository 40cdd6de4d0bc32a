"""Per-key token buckets: the APIs' rate limits.

Used where an endpoint does work per request that one caller could turn against
the others: the counter verifier's API (per client address: each verification
costs signature checks and fills the replay cache), the license API and the
sealing API (per machine client).

:class:`TokenBucket` lives in one process (thread-safe, bounded: at most
``max_keys`` buckets, the least recently used go first, which can only make a
limit more lenient, never lock anyone out). With several worker processes or
instances each would allow the full rate, so when the hub has a Redis
(``REDIS_URL``) :func:`rate_limiter` returns a :class:`RedisTokenBucket`
instead: one bucket per key for every process, updated atomically by a Lua
script on Redis's own clock. If Redis cannot be reached the limiter falls back
to its in-process bucket (logged once per outage) — a limit stays in force,
never an error for the caller.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["RateLimiter", "RedisTokenBucket", "TokenBucket", "rate_limiter", "retry_after"]

log = logging.getLogger(__name__)


def retry_after(wait: float) -> str:
    """``wait`` as a ``Retry-After`` header value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait)))


class RateLimiter(Protocol):
    def take(self, key: str) -> float:
        """0.0 when the request may proceed (a token is spent), else the seconds
        until the next token (the ``Retry-After``)."""


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
        return retry_after(wait)

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


# KEYS[1] = bucket; ARGV = rate, burst. The state is {t: tokens, a: time in µs};
# Redis's clock, so that every process and host agrees; the key expires once the
# bucket would be full again anyway.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000000 * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBucket:
    """:class:`TokenBucket` semantics shared by every process that uses the same
    Redis and ``name``; falls back to an in-process bucket while Redis fails."""

    def __init__(
        self,
        client: Any,
        name: str,
        rate: float,
        burst: int,
        *,
        retry_seconds: float = 5.0,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self.rate, self.burst = rate, burst
        self._client = client
        self._prefix = f"govtrust:ratelimit:{name}:"
        self._script = client.register_script(_TAKE)
        self.fallback = TokenBucket(rate, burst)
        self._retry_seconds = retry_seconds
        self._down_until = 0.0

    def take(self, key: str) -> float:
        now = time.monotonic()
        if now >= self._down_until:
            try:
                wait = float(self._script(keys=[self._prefix + key], args=[self.rate, self.burst]))
            except Exception as exc:  # redis.RedisError, OSError …: keep limiting, locally
                if self._down_until == 0.0:
                    log.warning("rate limit: Redis unavailable (%s); limiting per process", exc)
                self._down_until = now + self._retry_seconds
            else:
                if self._down_until:
                    log.warning("rate limit: Redis is back")
                self._down_until = 0.0
                return wait
        return self.fallback.take(key)


def rate_limiter(redis_url: str | None, name: str, rate: float, burst: int) -> RateLimiter:
    """A shared :class:`RedisTokenBucket` when ``redis_url`` is set, else a
    :class:`TokenBucket` for this process."""
    if not redis_url:
        return TokenBucket(rate, burst)
    import redis

    client = redis.Redis.from_url(
        redis_url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30
    )
    return RedisTokenBucket(client, name, rate, burst)
