"""Database table for key records (the private part is never stored in plaintext)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, UTCDateTime, utcnow

__all__ = ["KeyRecord"]


class KeyRecord(Base):
    __tablename__ = "key_records"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64), default="hub", index=True)
    state: Mapped[str] = mapped_column(String(16))
    backend: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    public_key_der: Mapped[bytes] = mapped_column(LargeBinary)
    # software backend: envelope-encrypted PKCS#8; pkcs11 backend: NULL
    private_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # pkcs11 backend: the token object's label; software backend: NULL
    external_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retiring_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verify_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        # At most one active key per (purpose, owner, algorithm): enforced by the
        # database so that concurrent rotations cannot both win.
        Index(
            "uq_key_records_one_active",
            "purpose",
            "owner",
            "algorithm",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )
