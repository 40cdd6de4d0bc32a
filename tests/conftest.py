"""Shared fixtures: tools that tests need, databases (SQLite always, PostgreSQL
when TEST_DATABASE_URL is set), a hub on a fresh database, an injected clock."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from govtrust.config import Config
from govtrust.hub import Hub

IN_CI = os.environ.get("CI") == "true"
VECTORS = Path(__file__).parent / "vectors"


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false — but in CI, fail: CI installs
    everything (.ci/run), so a missing tool there is a broken pipeline, not a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_tool(name: str, package: str | None = None) -> str:
    path = shutil.which(name)
    require(path is not None, f"'{name}' not found (Debian package {package or name})")
    assert path is not None
    return path


@pytest.fixture
def vector():
    def load(relative: str) -> Path:
        path = VECTORS / relative
        assert path.exists(), f"missing vector {relative}"
        return path

    return load


class Clock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _postgres_schema_url(base: str) -> Iterator[str]:
    schema = f"gt_{secrets.token_hex(6)}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govtrust.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    require(bool(base), "TEST_DATABASE_URL is not set (PostgreSQL tests)")
    assert base is not None
    yield from _postgres_schema_url(base)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis (TEST_REDIS_URL; .ci/run sets it when 127.0.0.1:6379 answers);
    the test's rate-limit keys (``govtrust:ratelimit:test-*``) are removed afterwards."""
    url = os.environ.get("TEST_REDIS_URL")
    require(bool(url), "TEST_REDIS_URL is not set (Redis tests)")
    assert url is not None
    yield url
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter("govtrust:ratelimit:test-*"):
        client.delete(key)
    client.close()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return Config(
        data_dir=tmp_path / "instance",
        database_url=database_url,
        master_key=secrets.token_hex(32),
        testing=True,
    )


@pytest.fixture
def hub(config: Config, clock: Clock) -> Iterator[Hub]:
    h = Hub(config, clock=clock)
    h.migrate()
    yield h
    h.close()
