"""Database plumbing: SQLAlchemy 2.0 declarative base, engines and sessions.

SQLite is the embedded default, opened in WAL mode with ``synchronous=FULL``
(anything issued or sealed must survive a power cut once acknowledged) and
foreign keys on. PostgreSQL is used through ``DATABASE_URL`` with the same
models and migrations. Uniqueness under concurrency is the database's job:
constraints, atomic conditional updates and row locks, never Python memory.
"""

from __future__ import annotations

import hashlib
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
        with self.engine.connect() as conn:
            if write and self.is_sqlite:
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
        with self.engine.connect() as conn:
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
