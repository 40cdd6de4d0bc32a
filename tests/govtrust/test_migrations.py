"""Migrations: idempotent upgrade, and the models match what the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from govtrust.db import Database
from govtrust.models import Base


def test_upgrade_is_idempotent_and_matches_models(hub):
    hub.migrate()  # second run: nothing to do, no error
    with hub.db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    tables = set(inspect(hub.db.engine).get_table_names())
    assert {"key_records", "alembic_version"} <= tables


def test_sqlite_is_wal_with_full_sync(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path):
    """Two writers: the second waits for the first instead of failing on lock upgrade."""
    import threading

    from sqlalchemy import text

    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.write() as s:
        s.execute(text("CREATE TABLE t (n INTEGER)"))
        s.execute(text("INSERT INTO t VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                with db.write() as s:
                    n = s.execute(text("SELECT n FROM t")).scalar_one()
                    s.execute(text("UPDATE t SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        assert s.execute(text("SELECT n FROM t")).scalar_one() == 200
