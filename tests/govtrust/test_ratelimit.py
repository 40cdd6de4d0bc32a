"""The token bucket behind the counter API's rate limit."""

from __future__ import annotations

import pytest

from govtrust.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_burst_then_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, 3, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take("a")
    assert wait == pytest.approx(0.5)
    assert TokenBucket.retry_after(wait) == "1"
    assert bucket.take("b") == 0.0  # another client has its own bucket
    clock.t += 0.5
    assert bucket.take("a") == 0.0  # one token back after 1/rate seconds
    assert bucket.take("a") > 0
    clock.t += 100
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # never more than burst
    assert bucket.take("a") > 0


def test_bounded_keys_and_bad_parameters() -> None:
    bucket = TokenBucket(1.0, 1, max_keys=3, clock=Clock())
    for i in range(10):
        bucket.take(f"k{i}")
    assert len(bucket) == 3
    assert bucket.take("k0") == 0.0  # forgotten: a fresh bucket, never a lock-out
    for bad in ((0, 1), (1, 0), (-1, 5)):
        with pytest.raises(ValueError):
            TokenBucket(*bad)
