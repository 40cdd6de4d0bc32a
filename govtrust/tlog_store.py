"""The hub's transparency log: an RFC 9162 Merkle tree kept in the database.

Every trust-relevant event is one leaf (DESIGN.md "Trust model"). Services
call :meth:`TransparencyLog.append` *inside their own write transaction*
(:class:`govtrust.events.EventLog`), so an event is in the log if and only if
the change it describes was committed.

Leaf bytes (the input to the RFC 9162 §2.1.1 leaf hash ``SHA-256(0x00 || leaf)``)
are the canonical JSON of ``{"kind": kind, "data": data, "v": 1}``: UTF-8,
keys sorted, no whitespace (``separators=(",", ":")``), non-ASCII characters
written as themselves (``ensure_ascii=False``), no NaN or infinities. Anyone
holding an entry can rebuild the bytes and the hash; ``v`` versions the
format.

Storage (:mod:`govtrust.tlog_models`): leaf hashes in ``log_leaves``, every
complete perfect subtree of height ≥ 1 in ``log_nodes``, the head (size,
root) in one locked row. An append costs O(log n) reads and writes: the
right edge of the tree (:class:`trust.tlog.Frontier`) is rebuilt from stored
subtrees, extended, and the subtrees it completes are inserted. Proofs are
answered from the stored subtrees with :func:`trust.tlog.subtree_hash`; the
tree is never recomputed. Checkpoints are C2SP tlog-checkpoint bodies in C2SP
signed notes, signed with the hub's ``log`` key under the key name = origin.

Appends are serialised by the head row: ``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the caller's write transaction (``Database.write()``,
``BEGIN IMMEDIATE``) already holds the database write lock. Indexes are
therefore unique and gap-free across threads, processes and machines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from govtrust.db import Database, utcnow
from trust import Signer
from trust.tlog import (
    EMPTY_ROOT,
    HASH_SIZE,
    Checkpoint,
    Frontier,
    LogError,
    consistency_proof,
    format_checkpoint,
    inclusion_proof,
    key_id,
    leaf_hash,
    parse_note,
    sign_note,
    subtree_hash,
)

from .tlog_models import LogCheckpoint, LogHead, LogLeaf, LogNode

__all__ = [
    "LEAF_VERSION",
    "MAX_ENTRIES",
    "MAX_LEAF_SIZE",
    "Entry",
    "Head",
    "LogRangeError",
    "TransparencyLog",
    "decode_leaf",
    "encode_leaf",
    "log_origin",
]

LEAF_VERSION: Final = 1
MAX_ENTRIES: Final = 1000  # per entries() call
MAX_LEAF_SIZE: Final = 64 * 1024
MAX_KIND: Final = 64
# Indexes and sizes are stored as signed 64-bit integers (BIGINT).
MAX_INDEX: Final = (1 << 63) - 1

_HEAD_ID: Final = 1
_PLACEHOLDER: Final = bytes(HASH_SIZE)

_leaves: Table = LogLeaf.__table__  # type: ignore[assignment]
_nodes: Table = LogNode.__table__  # type: ignore[assignment]
_head: Table = LogHead.__table__  # type: ignore[assignment]


def _select_head_for_update(_db: Database) -> Any:
    return (
        select(_head.c.size, _head.c.root)
        .where(_head.c.id == bindparam("head_id"))
        .with_for_update()
    )


def _insert_leaves(_db: Database) -> Any:
    return insert(_leaves)


def _insert_nodes(_db: Database) -> Any:
    return insert(_nodes)


def _update_head(_db: Database) -> Any:
    return (
        update(_head)
        .where(_head.c.id == bindparam("head_id"))
        .values(size=bindparam("new_size"), root=bindparam("new_root"))
    )


class LogRangeError(LogError):
    """A request names an index, size or range that this log cannot answer."""

    code = "log_out_of_range"


# --------------------------------------------------------------------------- leaf format


def encode_leaf(kind: str, data: Mapping[str, Any]) -> bytes:
    """The canonical leaf bytes of one event (module docstring)."""
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_KIND or not kind.isprintable():
        raise LogError(f"event kind must be 1 to {MAX_KIND} printable characters")
    if not isinstance(data, Mapping):
        raise LogError("event data must be a JSON object")
    try:
        text = json.dumps(
            {"kind": kind, "data": dict(data), "v": LEAF_VERSION},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
        raw = text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise LogError(f"event data is not canonical JSON: {exc}") from None
    if len(raw) > MAX_LEAF_SIZE:
        raise LogError(f"event is larger than {MAX_LEAF_SIZE} bytes")
    return raw


def decode_leaf(raw: bytes) -> tuple[str, dict[str, Any]]:
    """``(kind, data)`` of stored leaf bytes; :class:`LogError` if they are not a v1 leaf."""
    try:
        obj = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise LogError("leaf is not UTF-8 JSON") from None
    if (
        not isinstance(obj, dict)
        or obj.get("v") != LEAF_VERSION
        or set(obj) != {"kind", "data", "v"}
        or not isinstance(obj["kind"], str)
        or not isinstance(obj["data"], dict)
    ):
        raise LogError(f"leaf is not a version {LEAF_VERSION} event")
    return obj["kind"], obj["data"]


def log_origin(base_url: str) -> str:
    """The checkpoint origin (and note key name): ``<host[:port]>/govtrust/log``."""
    host = urlsplit(base_url).netloc.rpartition("@")[2].lower()
    if not host:
        raise LogError(f"cannot take a host from base URL {base_url!r}")
    return f"{host}/govtrust/log"


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Head:
    """The current tree: ``size`` leaves with Merkle tree hash ``root``."""

    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored leaf, as stored: nothing here has been checked."""

    index: int
    leaf_hash: bytes
    kind: str
    leaf: bytes
    created_at: datetime

    @property
    def hash_matches(self) -> bool:
        """Does the stored leaf hash still match the stored leaf bytes?"""
        return leaf_hash(self.leaf) == self.leaf_hash

    @property
    def data(self) -> dict[str, Any] | None:
        """The event data, or ``None`` when the stored bytes are not a v1 leaf."""
        try:
            return decode_leaf(self.leaf)[1]
        except LogError:
            return None


# --------------------------------------------------------------------------- storage access


class _Nodes:
    """Batched reads of stored perfect subtrees: ``(level, index) → hash``.

    Proof requests are the hot path and their statements are tiny, so they go
    to the driver as plain SQL (one round trip for any number of subtrees):
    SQLAlchemy's statement construction costs more than the query itself.
    """

    @staticmethod
    def fetch(
        conn: Connection | Session, keys: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        if isinstance(conn, Session):
            conn = conn.connection()
        leaves = sorted({i for lv, i in keys if lv == 0})
        inner = sorted({(lv, i) for lv, i in keys if lv > 0})
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        parts: list[str] = []
        params: list[int] = []
        if leaves:
            parts.append(
                f"SELECT 0, idx, leaf_hash FROM log_leaves WHERE idx IN "
                f"({', '.join([mark] * len(leaves))})"
            )
            params.extend(leaves)
        if inner:
            # OR of (level, idx) pairs, not a row-value IN: SQLite scans the whole
            # table for ``(level, idx) IN (VALUES …)`` but probes the key for this.
            pair = f"(level = {mark} AND idx = {mark})"
            parts.append(
                f"SELECT level, idx, hash FROM log_nodes WHERE {' OR '.join([pair] * len(inner))}"
            )
            params.extend(x for key in inner for x in key)
        if not parts:
            return {}
        rows = conn.exec_driver_sql(" UNION ALL ".join(parts), tuple(params))
        return {(int(lv), int(i)): bytes(h) for lv, i, h in rows}

    @staticmethod
    def lookup(found: Mapping[tuple[int, int], bytes]) -> Callable[[int, int], bytes]:
        def node(level: int, index: int) -> bytes:
            h = found.get((level, index))
            if h is None or len(h) != HASH_SIZE:
                raise LogError(
                    f"storage lacks the subtree at level {level}, index {index}",
                    code="log_corrupt",
                )
            return h

        return node


class _Reader:
    """A :class:`trust.tlog.HashReader` over a ``node(level, index)`` function."""

    def __init__(self, node: Callable[[int, int], bytes]) -> None:
        self._node = node

    def subtree(self, start: int, end: int) -> bytes:
        return subtree_hash(start, end, self._node)


_T = TypeVar("_T")


def _frontier_keys(size: int) -> list[tuple[int, int]]:
    keys, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def _check_int(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INDEX:
        raise LogRangeError(f"{what} must be an integer in [0, 2**63)")
    return value


# --------------------------------------------------------------------------- the log


class TransparencyLog:
    """The hub's transparency log (implements :class:`govtrust.events.EventLog`).

    ``signer`` returns the current checkpoint signer (the hub's active ``log``
    key); it is called when a checkpoint is made, so key rotation takes effect
    without a restart. A log without a signer can append and prove, not sign.
    """

    def __init__(
        self,
        db: Database,
        *,
        origin: str,
        signer: Callable[[], Signer] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        Checkpoint(origin, 0, EMPTY_ROOT)  # validates the origin line
        self._db = db
        self.origin = origin
        self._signer = signer
        self._clock = clock

    # ------------------------------------------------------------------ appending

    def append(self, session: Session, kind: str, data: Mapping[str, Any]) -> int:
        """Append one event inside ``session``'s write transaction; returns its index."""
        return self.append_many(session, [(kind, data)])[0]

    def append_many(
        self, session: Session, events: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[int]:
        """Append events in order inside ``session``'s write transaction; returns their
        indexes (consecutive). One head lock, one frontier load, two bulk inserts."""
        encoded = [(kind, encode_leaf(kind, data)) for kind, data in events]
        if not encoded:
            return []
        conn = session.connection()
        head = self._lock_head(conn)
        found = _Nodes.fetch(conn, _frontier_keys(head.size))
        frontier = Frontier.load(head.size, _Nodes.lookup(found))
        if frontier.root() != head.root:
            # Stored subtrees and head disagree: refuse to build on a damaged tree.
            raise LogError("stored subtrees do not match the log head", code="log_corrupt")
        now = self._clock()
        leaf_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        for kind, raw in encoded:
            h = leaf_hash(raw)
            index = frontier.size
            frontier, created = frontier.append(h)
            leaf_rows.append(
                {"idx": index, "leaf_hash": h, "kind": kind, "data": raw, "created_at": now}
            )
            node_rows.extend({"level": lv, "idx": i, "hash": nh} for lv, i, nh in created[1:])
        if frontier.size - 1 > MAX_INDEX:
            raise LogError("the log is full")
        # Prebuilt Core statements (Database.statement): the ORM's per-call statement
        # construction cost more than these few indexed writes.
        conn.execute(self._db.statement(_insert_leaves), leaf_rows)
        if node_rows:
            conn.execute(self._db.statement(_insert_nodes), node_rows)
        conn.execute(
            self._db.statement(_update_head),
            {"head_id": _HEAD_ID, "new_size": frontier.size, "new_root": frontier.root()},
        )
        return [row["idx"] for row in leaf_rows]

    def _lock_head(self, conn: Connection) -> Head:
        row = conn.execute(
            self._db.statement(_select_head_for_update), {"head_id": _HEAD_ID}
        ).first()
        if row is None:
            # Migrations create the row; this covers a schema made another way.
            values = {"id": _HEAD_ID, "size": 0, "root": EMPTY_ROOT}
            ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(ins(LogHead).values(**values).on_conflict_do_nothing())
            row = conn.execute(
                self._db.statement(_select_head_for_update), {"head_id": _HEAD_ID}
            ).one()
        return Head(int(row.size), bytes(row.root))

    # ------------------------------------------------------------------ reading

    def head(self) -> Head:
        with self._db.engine.connect() as s:
            return self._read_head(s)

    @staticmethod
    def _read_head(conn: Connection | Session) -> Head:
        row = conn.execute(select(LogHead.size, LogHead.root).where(LogHead.id == _HEAD_ID)).first()
        return Head(0, EMPTY_ROOT) if row is None else Head(int(row.size), bytes(row.root))

    def root(self, size: int) -> bytes:
        """The tree hash at a past (or the current) ``size``."""
        _check_int(size, "size")
        if size == 0:
            return EMPTY_ROOT
        return self._prove(size, lambda r: r.subtree(0, size))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
        _check_int(index, "index")
        _check_int(size, "size")
        if index >= size:
            raise LogRangeError(f"index {index} is not in a tree of {size} entries")
        return self._prove(size, lambda r: inclusion_proof(index, size, r))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 consistency proof from the tree of ``old`` leaves to that of ``new``."""
        _check_int(old, "old size")
        _check_int(new, "new size")
        if old > new:
            raise LogRangeError(f"old size {old} is larger than new size {new}")
        if new == 0:
            return []
        return self._prove(new, lambda r: consistency_proof(old, new, r))

    def _prove(self, size: int, compute: Callable[[_Reader], _T]) -> _T:
        """Run ``compute`` (size ≥ 1) on stored subtrees, reading them in one query.

        ``compute`` runs twice: first on placeholders, to learn which subtrees it
        reads (the shape of a proof does not depend on hash values), then on
        the fetched hashes. Leaf ``size - 1`` is fetched too: leaves are
        gap-free, so its presence shows that the log has reached ``size``
        without reading the head.
        """
        wanted: set[tuple[int, int]] = {(0, size - 1)}

        def record(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return _PLACEHOLDER

        compute(_Reader(record))
        with self._db.engine.connect() as conn:
            if not self._db.is_sqlite:
                # One statement needs no transaction: skip BEGIN/ROLLBACK round trips.
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            found = _Nodes.fetch(conn, wanted)
            if (0, size - 1) not in found:
                head = self._read_head(conn)
                if size > head.size:
                    raise LogRangeError(f"size {size} is beyond the log ({head.size} entries)")
        return compute(_Reader(_Nodes.lookup(found)))

    def entries(self, start: int, end: int) -> list[Entry]:
        """Entries ``[start, end)`` (at most :data:`MAX_ENTRIES`; fewer past the end of the log)."""
        _check_int(start, "start")
        _check_int(end, "end")
        if end <= start:
            raise LogRangeError("end must be greater than start")
        if end - start > MAX_ENTRIES:
            raise LogRangeError(f"at most {MAX_ENTRIES} entries per request")
        with self._db.engine.connect() as s:
            rows = s.execute(
                select(_leaves)
                .where(_leaves.c.idx >= start, _leaves.c.idx < end)
                .order_by(_leaves.c.idx)
            ).all()
        return [self._entry(r) for r in rows]

    def entry(self, index: int) -> Entry | None:
        _check_int(index, "index")
        with self._db.engine.connect() as s:
            row = s.execute(select(_leaves).where(_leaves.c.idx == index)).first()
        return None if row is None else self._entry(row)

    def recent(self, limit: int = 50) -> list[Entry]:
        """The last ``limit`` entries, newest first."""
        with self._db.engine.connect() as s:
            stmt = select(_leaves).order_by(_leaves.c.idx.desc())
            rows = s.execute(stmt.limit(max(0, min(limit, MAX_ENTRIES)))).all()
        return [self._entry(r) for r in rows]

    def find_leaf(self, hash_: bytes) -> int | None:
        """The lowest index whose stored leaf hash is ``hash_``, or ``None``."""
        if not isinstance(hash_, bytes) or len(hash_) != HASH_SIZE:
            raise LogRangeError(f"a leaf hash is {HASH_SIZE} bytes")
        with self._db.engine.connect() as s:
            found = s.scalar(select(func.min(_leaves.c.idx)).where(_leaves.c.leaf_hash == hash_))
        return None if found is None else int(found)

    @staticmethod
    def _entry(row: Any) -> Entry:
        return Entry(
            index=int(row.idx),
            leaf_hash=bytes(row.leaf_hash),
            kind=row.kind,
            leaf=bytes(row.data),
            created_at=row.created_at,
        )

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self) -> str:
        """The signed checkpoint note of the current head, made on first request.

        Workers racing to make the same checkpoint insert-or-ignore on the size
        and return whichever note was stored. The hub refuses to sign a tree
        smaller than one it signed before (a restored backup, a truncation), or
        a second root for a size it signed: that is what a fork or rollback
        would look like to everyone else.
        """
        with self._db.engine.connect() as s:
            head = self._read_head(s)
            newest = s.scalar(select(func.max(LogCheckpoint.size)))
            row = s.execute(
                select(LogCheckpoint.root, LogCheckpoint.note).where(
                    LogCheckpoint.size == head.size
                )
            ).first()
        if newest is not None and newest > head.size:
            raise LogError(
                f"a checkpoint for {newest} entries was published but the log holds {head.size}",
                code="log_rollback",
            )
        if row is not None and bytes(row.root) != head.root:
            raise LogError(f"a different root was published for size {head.size}", code="log_fork")
        signer = self._current_signer()
        if row is not None and self._signed_by(row.note, signer):
            return str(row.note)
        body = format_checkpoint(Checkpoint(self.origin, head.size, head.root))
        note = sign_note(body, [(self.origin, signer)])
        with self._db.write() as s:
            if row is None:
                values = {
                    "size": head.size,
                    "root": head.root,
                    "note": note,
                    "created_at": self._clock(),
                }
                dialect = s.get_bind().dialect.name
                ins = pg_insert if dialect == "postgresql" else sqlite_insert
                s.execute(ins(LogCheckpoint).values(**values).on_conflict_do_nothing())
            else:
                # The log key was rotated since this size was signed: re-sign the same body.
                s.execute(
                    update(LogCheckpoint)
                    .where(LogCheckpoint.size == head.size, LogCheckpoint.note == row.note)
                    .values(note=note)
                )
            stored = s.execute(
                select(LogCheckpoint.root, LogCheckpoint.note).where(
                    LogCheckpoint.size == head.size
                )
            ).one()
        if bytes(stored.root) != head.root:
            raise LogError(f"a different root was published for size {head.size}", code="log_fork")
        return str(stored.note)

    def _current_signer(self) -> Signer:
        if self._signer is None:
            raise LogError("this log has no checkpoint key", code="log_no_key")
        return self._signer()

    def _signed_by(self, note: str, signer: Signer) -> bool:
        try:
            want = key_id(self.origin, signer.public_key)
            return any(
                sig.name == self.origin and sig.key_id == want
                for sig in parse_note(note).signatures
            )
        except LogError:
            return False
