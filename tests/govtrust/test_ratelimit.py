"""The token buckets behind the APIs' rate limits: in one process, and shared by
every worker through Redis."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import pytest

from govtrust.ratelimit import RedisTokenBucket, TokenBucket, rate_limiter


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


# ------------------------------------------------------------------ shared through Redis


def test_workers_share_one_bucket_through_redis(redis_url: str) -> None:
    name = f"test-{secrets.token_hex(4)}"
    worker_a = rate_limiter(redis_url, name, 0.5, 4)  # two processes of one service
    worker_b = rate_limiter(redis_url, name, 0.5, 4)
    assert isinstance(worker_a, RedisTokenBucket)
    takes = [w.take("agency-1") for w in (worker_a, worker_b, worker_a, worker_b)]
    assert takes == [0.0, 0.0, 0.0, 0.0]
    wait = worker_b.take("agency-1")  # the burst is spent across both workers
    assert 0 < wait <= 2.0
    assert worker_a.take("agency-1") > 0
    assert worker_a.take("agency-2") == 0.0  # another client, its own bucket
    # per process, the same two workers would have allowed twice the burst
    local_a, local_b = TokenBucket(0.5, 4), TokenBucket(0.5, 4)
    assert sum(w.take("x") == 0.0 for w in (local_a, local_b) * 4) == 8


def test_redis_down_falls_back_to_the_process(caplog: pytest.LogCaptureFixture) -> None:
    limiter = rate_limiter("redis://127.0.0.1:1/0", "test-down", 1.0, 2)  # nothing listens
    assert isinstance(limiter, RedisTokenBucket)
    with caplog.at_level("WARNING", logger="govtrust.ratelimit"):
        takes = [limiter.take("k") for _ in range(3)]
    assert takes[:2] == [0.0, 0.0] and takes[2] > 0  # still limited, locally
    assert "Redis unavailable" in caplog.text
    assert rate_limiter(None, "x", 1.0, 2).__class__ is TokenBucket


def test_the_apis_share_their_limits_between_workers(
    redis_url: str, hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two app instances (two workers) of one hub with REDIS_URL: the counter API's
    burst is spent across both."""
    import re

    from govtrust.app import create_app

    config = dataclasses.replace(hub.config, redis_url=redis_url)
    monkeypatch.setattr(hub, "config", config)
    apps = [create_app(config, hub=hub) for _ in range(2)]
    for app in apps:
        app.config["COUNTER_RATE_LIMIT"] = (0.1, 3)
    clients = [app.test_client() for app in apps]
    csrf = []
    for c in clients:
        html = c.get("/verifier/").get_data(as_text=True)
        csrf.append(re.search(r'data-csrf="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    addr = f"192.0.2.{secrets.randbelow(250)}"
    codes = []
    for i in range(5):
        c = clients[i % 2]
        r = c.post(
            "/verifier/api/verify",
            json={"text": "GT1:X"},
            headers={"X-CSRF-Token": csrf[i % 2]},
            environ_base={"REMOTE_ADDR": addr},
        )
        codes.append(r.status_code)
    assert codes == [200, 200, 200, 429, 429]
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(f"govtrust:ratelimit:counter:{addr}")
    client.close()
