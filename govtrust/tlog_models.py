"""Transparency-log tables (DESIGN.md "Trust model" → Transparency log).

* ``log_leaves`` — one row per entry: its index, RFC 9162 leaf hash, event
  kind, the canonical leaf bytes (see :mod:`govtrust.tlog_store`) and when it
  was appended;
* ``log_nodes`` — every complete perfect subtree of height ≥ 1, keyed by
  (level, index): the subtree over leaves ``[idx << level, (idx + 1) << level)``.
  Height 0 is ``log_leaves.leaf_hash``. About one row per leaf in all;
* ``log_head`` — a single row (``id = 1``): current size and root. Appenders
  lock it, which serialises appends across workers and machines;
* ``log_checkpoints`` — signed C2SP checkpoints, one per published size.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, UTCDateTime, utcnow

__all__ = ["LogLeaf", "LogNode", "LogHead", "LogCheckpoint"]


class LogLeaf(Base):
    __tablename__ = "log_leaves"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogNode(Base):
    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class LogCheckpoint(Base):
    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
