"""Database rows of the seal registry and of every sealing operation.

Field names follow GB/T 38540-2020 where the standard has them (esID 印章标识,
SES_ESPropertyInfo: name 印章名称, type 印章类型, validStart/validEnd 有效期,
picture 印章图像); the rest is GovTrust's lifecycle and audit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, UTCDateTime, utcnow

__all__ = ["SealOperation", "SealEvent", "SealRecord"]


class SealRecord(Base):
    """One electronic seal (电子印章) of a ``seal_holder`` participant."""

    __tablename__ = "seals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # esID 印章标识
    holder_id: Mapped[str] = mapped_column(String(64), index=True)  # 印章持有单位 (participant)
    kind: Mapped[str] = mapped_column(String(16))  # official 公章 | contract | finance | legal_rep
    name: Mapped[str] = mapped_column(String(200))  # 印章名称
    algorithm: Mapped[str] = mapped_column(String(16))  # SM2 | ES256 | RS256
    maker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 制章者 (SM2)
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # keys.KeyStore kid
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # DER
    ses_seal: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # SESeal v4 DER
    image_png: Mapped[bytes] = mapped_column(LargeBinary)  # 印章图像 (transparent PNG)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)  # validStart
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)  # validEnd
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SealEvent(Base):
    """Lifecycle history of a seal (also a transparency-log leaf)."""

    __tablename__ = "seal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seal_id: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SealOperation(Base):
    """One use of a seal: who sealed what (by digest), when, and the result that was
    returned — stored, with its log leaf, before the response is sent. The result
    is kept so that a retry with the same ``Idempotency-Key`` gets the same bytes."""

    __tablename__ = "seal_operations"
    __table_args__ = (
        UniqueConstraint("client_id", "idempotency_key", name="uq_seal_operations_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seal_id: Mapped[str] = mapped_column(String(40), index=True)
    client_id: Mapped[str] = mapped_column(String(100))  # OAuth client or operator
    format: Mapped[str] = mapped_column(String(8))  # ses | cms | ofd | pdf
    digest_alg: Mapped[str] = mapped_column(String(16))  # of the document as received
    digest: Mapped[str] = mapped_column(String(128))  # hex
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(80))
    result: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
