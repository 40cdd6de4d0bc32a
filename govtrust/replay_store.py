"""The counter verifier's replay cache in the hub database, shared by every worker
process and every instance on one database.

``govtrust serve`` runs two worker processes by default: with an in-memory
:class:`verifier.licenses.ReplayCache` per process, a screenshot of a QR shown
again within its freshness window would pass whenever it reached the other
worker. Here a presentation's replay key (SHA-256 of the key-binding token's
signed content, see :mod:`verifier.licenses`) is a primary key: the first
insert wins, any later one — in this process or another — is a replay.
Rows older than the TTL are deleted now and then.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, Database, UTCDateTime, utcnow

__all__ = ["DatabaseReplayCache", "ReplaySeen"]

#: Prune expired rows on about one insert in this many.
PRUNE_ONE_IN: Final = 200


class ReplaySeen(Base):
    """A presentation seen by a counter verifier (no personal data: a hash)."""

    __tablename__ = "verifier_replay"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256, hex
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class DatabaseReplayCache:
    """``check_and_add`` like :class:`verifier.licenses.ReplayCache`, in the database."""

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = 330.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._db, self._ttl, self._clock = db, timedelta(seconds=ttl), clock

    def check_and_add(self, key: bytes) -> bool:
        """True if ``key`` was seen within the TTL (a replay); records it either way."""
        digest = hashlib.sha256(key).hexdigest()
        now = self._clock()
        try:
            with self._db.write() as s:
                seen = s.scalar(select(ReplaySeen.seen_at).where(ReplaySeen.key == digest))
                if seen is not None and now - seen < self._ttl:
                    return True
                if seen is not None:  # seen long ago: a new sighting
                    s.execute(delete(ReplaySeen).where(ReplaySeen.key == digest))
                s.add(ReplaySeen(key=digest, seen_at=now))
                s.flush()
                if secrets.randbelow(PRUNE_ONE_IN) == 0:
                    s.execute(delete(ReplaySeen).where(ReplaySeen.seen_at < now - self._ttl))
        except IntegrityError:
            return True  # another worker recorded it first
        return False
