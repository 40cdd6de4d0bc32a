"""Database plumbing: SQLAlchemy 2.0 declarative base, engines and sessions.

SQLite is the embedded default, opened in WAL mode with ``synchronous=FULL``
(anything issued or sealed must survive a power cut once acknowledged) and
foreign keys on. PostgreSQL is used through ``DATABASE_URL`` with the same
models and migrations. Uniqueness under concurrency is the database's job:
constraints, atomic conditional updates and row locks, never Python memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, create_engine, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "Database", "UTCDateTime", "insert_now", "utcnow"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)

        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so that
        # "BEGIN IMMEDIATE" can take the write lock up front (see Database.write).
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            mode = conn.info.pop("sqlite_begin", "BEGIN")
            conn.exec_driver_sql(mode)

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class WriterGate:
    """A first-come-first-served queue for the writers of one SQLite file.

    SQLite lets one writer in at a time; the others wait in its busy handler,
    which sleeps and retries with growing pauses (1, 2, 5, … up to 100 ms). Under
    load that leaves cores idle while the lock is free, and a worker process whose
    few requests keep losing the race falls far behind the other (seen in
    benchmarks/seal: one of two workers at 40 % CPU, p99 800 ms). The gate makes
    them wait in the kernel instead: a thread lock among the threads of a process,
    then ``flock`` on ``<database>-writers.lock`` among processes, both taken
    before ``BEGIN IMMEDIATE`` and released after ``COMMIT``/``ROLLBACK``, so the
    next writer wakes the moment the lock is released. It only orders writers
    that use it; SQLite's own lock and busy handler still decide correctness, so
    a writer that does not take the gate (another program, ``sqlite3``) is safe.

    A thread that already holds the gate passes straight through (a nested write
    transaction then waits on SQLite as it did without the gate). The lock file
    is opened per process (after a fork the child opens its own)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0
        self._after_fork()
        _GATES.add(self)

    def _after_fork(self) -> None:
        # A fork taken while another thread held the gate must not leave the child
        # with a thread lock nobody will release, or with the parent's lock file
        # description (flock would then count the parent's hold as the child's).
        self._lock = threading.Lock()
        self._local = threading.local()
        fd, self._fd = self._fd, None
        if fd is not None and self._pid != os.getpid():
            os.close(fd)  # the child's copy; the parent's stays open and keeps its lock

    def __del__(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._pid == os.getpid():
            try:
                os.close(fd)
            except OSError:  # pragma: no cover - already closed at interpreter exit
                pass

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        if getattr(self._local, "held", False):
            yield
            return
        with self._lock:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False
                fcntl.flock(fd, fcntl.LOCK_UN)


_GATES: weakref.WeakSet[WriterGate] = weakref.WeakSet()
_GATES_BY_PATH: weakref.WeakValueDictionary[str, WriterGate] = weakref.WeakValueDictionary()
_GATES_LOCK = threading.Lock()


def _reset_gates_in_child() -> None:
    for gate in list(_GATES):
        gate._after_fork()


os.register_at_fork(after_in_child=_reset_gates_in_child)


def _writer_gate(engine: Engine) -> WriterGate | None:
    """The gate for a SQLite file database; None for memory databases and others."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database) + "-writers.lock"
    with _GATES_LOCK:  # one gate per file and process, shared by its Database objects
        gate = _GATES_BY_PATH.get(path)
        if gate is None:
            gate = _GATES_BY_PATH[path] = WriterGate(path)
        return gate


class Database:
    """An engine and a session factory for one database URL."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._unit: ContextVar[Session | None] = ContextVar(
            f"govtrust_db_unit_{id(self)}", default=None
        )
        self._statements: dict[Callable[[Database], Any], Any] = {}
        self._gate = _writer_gate(self.engine)

    @contextmanager
    def _writer(self) -> Iterator[None]:
        if self._gate is None:
            yield
        else:
            with self._gate.hold():
                yield

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error.
        Inside :meth:`unit` it is the unit's session (reads see the unit's writes)."""
        joined = self._unit.get()
        if joined is not None:
            yield joined
            return
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One write transaction for a whole step of a request: every :meth:`write` and
        :meth:`session` entered inside it (in this thread or task) joins it, so the
        step commits once — one ``BEGIN IMMEDIATE``/fsync instead of one per helper —
        and all of it or none of it lands.

        Blocks that join a unit must not catch database errors and carry on (the
        transaction is spoilt for everyone): write conflicts as ``INSERT … ON
        CONFLICT`` instead. Keep slow work (password hashing, network) outside.
        Nested units join the outer one."""
        joined = self._unit.get()
        if joined is not None:
            yield joined
            return
        with self.write() as session:
            token = self._unit.set(session)
            try:
                yield session
            finally:
                self._unit.reset(token)

    def statement(self, build: Callable[[Database], Any]) -> Any:
        """The statement ``build(self)`` returns, built once per database and kept.

        For the hot paths: a statement whose values are bound parameters
        (``bindparam``) and that is executed with a parameter dict compiles once
        and is reused, where building it per call costs more than running it.
        ``build`` receives the database so that it can use :meth:`insert` (the
        dialect's ``ON CONFLICT``)."""
        stmt = self._statements.get(build)
        if stmt is None:
            stmt = self._statements[build] = build(self)
        return stmt

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Connection]:
        """A Core connection in a transaction, without an ORM session: the unit's
        connection inside :meth:`unit`, else a new transaction (``BEGIN IMMEDIATE``
        on SQLite when ``write``) committed on success and rolled back on error."""
        joined = self._unit.get()
        if joined is not None:
            yield joined.connection()
            return
        if not write:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._writer(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
            with conn.begin():
                yield conn

    def insert(self, table: Any) -> Any:
        """``INSERT`` with this dialect's ``ON CONFLICT`` support (SQLite or PostgreSQL)."""
        return (sqlite_insert if self.is_sqlite else postgresql_insert)(table)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that will write. On SQLite it takes the write lock at BEGIN
        (``BEGIN IMMEDIATE``), so concurrent writers queue on ``busy_timeout``
        instead of failing with "database is locked" when a read lock is upgraded.
        Inside :meth:`unit` it is the unit's transaction."""
        joined = self._unit.get()
        if joined is not None:
            yield joined
            return
        with self._writer(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def serialize(self, session: Session, name: str) -> None:
        """Serialise writers of ``name`` until this transaction ends: a transaction-scoped
        advisory lock on PostgreSQL; on SQLite the write transaction already holds the
        database write lock."""
        if self.is_sqlite:
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def dispose(self) -> None:
        self.engine.dispose()


def insert_now(session: Session | Connection, *rows: Base) -> None:
    """INSERT ``rows`` at once, in order, with Core statements on the session's
    connection, or on the connection given (same transaction) — several times cheaper per row than the ORM's
    unit of work, for the write-only rows of hot paths (events, codes, grants).

    The objects are not attached to the session and nothing is read back
    (autoincrement ids stay unset); column defaults apply to attributes not set.
    Do not mix with pending ``session.add`` objects that these rows depend on."""
    conn = session.connection() if isinstance(session, Session) else session
    for row in rows:
        statement, columns = _insert_plan(type(row))
        state = vars(row)
        # The statement is built once per model; the values travel as parameters, so
        # the compiled form is reused (no per-value coercion or cache-key work).
        conn.execute(statement, {col: state[attr] for attr, col in columns if attr in state})


_INSERT_PLANS: dict[type, tuple[Any, tuple[tuple[str, str], ...]]] = {}


def _insert_plan(model: type) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """``INSERT`` for a model's table and its (attribute, column) pairs, made once."""
    plan = _INSERT_PLANS.get(model)
    if plan is None:
        mapper: Any = sa_inspect(model)
        table: Table = mapper.local_table
        columns = tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs)
        plan = _INSERT_PLANS[model] = (table.insert(), columns)
    return plan
