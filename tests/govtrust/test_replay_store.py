"""The counter's replay cache in the hub database: one answer for every worker
(SQLite and PostgreSQL), expiry after the TTL, exactly one first sighting under
concurrency."""

from __future__ import annotations

import threading
from typing import Any

from govtrust.db import Database
from govtrust.replay_store import DatabaseReplayCache


def test_seen_once_across_workers(hub: Any) -> None:
    first = DatabaseReplayCache(hub.db, clock=hub.clock)
    other_db = Database(hub.config.database_url)
    try:
        seen_across(hub, first, DatabaseReplayCache(other_db, clock=hub.clock))
    finally:
        other_db.dispose()


def seen_across(hub: Any, first: DatabaseReplayCache, other_worker: DatabaseReplayCache) -> None:
    assert first.check_and_add(b"kb-1") is False
    assert first.check_and_add(b"kb-1") is True
    assert other_worker.check_and_add(b"kb-1") is True  # another process, same database
    assert other_worker.check_and_add(b"kb-2") is False
    hub.clock.advance(seconds=331)
    assert first.check_and_add(b"kb-1") is False  # long ago: a new sighting
    assert other_worker.check_and_add(b"kb-1") is True


def test_one_first_sighting_under_concurrency(hub: Any) -> None:
    dbs = [Database(hub.config.database_url) for _ in range(6)]
    stores = [DatabaseReplayCache(db) for db in dbs]
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(len(stores))

    def run(store: DatabaseReplayCache) -> None:
        start.wait()
        seen = store.check_and_add(b"the same presentation")
        with lock:
            results.append(seen)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in dbs:
        db.dispose()
    assert sorted(results) == [False] + [True] * 5
