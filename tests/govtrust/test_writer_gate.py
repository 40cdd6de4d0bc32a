"""The SQLite writer gate (govtrust.db.WriterGate): writers queue in the kernel
(a thread lock, then flock across processes) instead of in SQLite's sleeping
busy handler; SQLite's own lock still decides correctness."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from govtrust.db import Database


def _counter_db(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    with db.write() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER)"))
        s.execute(text("INSERT OR IGNORE INTO c VALUES (1, 0)"))
    return db


def _bump(db: Database, times: int) -> None:
    for _ in range(times):
        with db.write() as s:
            n = s.execute(text("SELECT n FROM c WHERE id = 1")).scalar_one()
            s.execute(text("UPDATE c SET n = :n WHERE id = 1"), {"n": n + 1})


def test_gate_only_for_sqlite_files(tmp_path: Path) -> None:
    assert Database(f"sqlite:///{tmp_path / 'a.sqlite'}")._gate is not None
    assert Database("sqlite://")._gate is None
    assert Database("sqlite:///:memory:")._gate is None
    assert Database("postgresql+psycopg://postgres@127.0.0.1:5432/test")._gate is None


def test_lock_file_beside_the_database(tmp_path: Path) -> None:
    db = _counter_db(tmp_path / "hub.sqlite")
    assert (tmp_path / "hub.sqlite-writers.lock").exists()
    db.dispose()


def test_one_gate_per_file_and_process(tmp_path: Path) -> None:
    """Database objects on one file share a gate (and its one open lock file)."""
    a = Database(f"sqlite:///{tmp_path / 'same.sqlite'}")
    b = Database(f"sqlite:///{tmp_path}/../{tmp_path.name}/same.sqlite")
    other = Database(f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert a._gate is not None and a._gate is b._gate and other._gate is not a._gate


def test_threads_and_processes_lose_no_update(tmp_path: Path) -> None:
    """Read-modify-write under db.write() from 4 threads here and 2 other processes:
    every increment lands."""
    path = tmp_path / "count.sqlite"
    db = _counter_db(path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from test_writer_gate import _counter_db, _bump;"
        "from pathlib import Path; _bump(_counter_db(Path(sys.argv[1])), 50)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    here = str(Path(__file__).parent)
    children = [
        subprocess.Popen([sys.executable, "-c", code, str(path), here], env=env) for _ in range(2)
    ]
    threads = [threading.Thread(target=_bump, args=(db, 50)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [c.wait(120) for c in children] == [0, 0]
    with db.session() as s:
        assert s.execute(text("SELECT n FROM c")).scalar_one() == 300
    db.dispose()


def test_a_writer_waits_for_the_holder_and_enters_when_it_leaves(tmp_path: Path) -> None:
    db = _counter_db(tmp_path / "w.sqlite")
    inside, release, entered = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        with db.write():
            inside.set()
            release.wait(10)

    def waiter() -> None:
        with db.write():
            entered.set()

    h = threading.Thread(target=holder)
    h.start()
    assert inside.wait(10)
    w = threading.Thread(target=waiter)
    w.start()
    assert not entered.wait(0.3)  # queued behind the holder
    release.set()
    assert entered.wait(10)
    h.join(10)
    w.join(10)
    db.dispose()


def test_another_process_holding_the_gate_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    db = _counter_db(path)
    lock = f"{path}-writers.lock"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR);"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
            lock,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "held"
    entered = threading.Event()

    def writer() -> None:
        _bump(db, 1)
        entered.set()

    t = threading.Thread(target=writer)
    t.start()
    assert not entered.wait(0.5)
    child.stdin.close()
    assert child.wait(10) == 0
    assert entered.wait(10)
    t.join(10)
    child.stdout.close()
    db.dispose()


def test_reentrant_in_one_thread(tmp_path: Path) -> None:
    """A thread already holding the gate passes through (no self-deadlock)."""
    db = _counter_db(tmp_path / "r.sqlite")
    assert db._gate is not None
    with db.write(), db._gate.hold(), db._gate.hold():
        pass
    _bump(db, 1)  # and the gate is free again afterwards
    db.dispose()


def test_a_forked_child_has_its_own_gate(tmp_path: Path) -> None:
    """Forked while a thread of the parent holds the gate: the child neither
    inherits the held thread lock nor shares the parent's flock."""
    db = _counter_db(tmp_path / "f.sqlite")
    assert db._gate is not None
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with db.write():
            inside.set()
            release.wait(20)

    h = threading.Thread(target=holder)
    h.start()
    assert inside.wait(10)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: can it take the gate while the parent holds it?
        got = threading.Event()

        def take() -> None:
            assert db._gate is not None
            with db._gate.hold():
                got.set()

        threading.Thread(target=take, daemon=True).start()
        blocked = not got.wait(0.5)
        os.write(write, b"blocked" if blocked else b"entered")
        os._exit(0)
    os.close(write)
    started = time.monotonic()
    answer = os.read(read, 16)
    os.close(read)
    release.set()
    h.join(10)
    os.waitpid(pid, 0)
    assert answer == b"blocked", answer
    assert time.monotonic() - started < 10
    db.dispose()


def test_lock_files_are_closed_with_their_databases(tmp_path: Path) -> None:
    import gc

    def open_lock_files() -> int:
        return sum(
            1
            for fd in os.listdir("/proc/self/fd")
            if os.path.realpath(f"/proc/self/fd/{fd}").startswith(str(tmp_path))
        )

    for i in range(20):
        db = _counter_db(tmp_path / f"db{i}.sqlite")
        db.dispose()
        del db
    gc.collect()
    assert open_lock_files() == 0
