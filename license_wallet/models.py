"""Database rows of issued e-licenses, their lifecycle events and the issuers'
Token Status Lists (draft-ietf-oauth-status-list).

Field names follow GB/T 36903 where it has them (电子证照标识 ``identifier``,
证照类型代码 ``type_code``, 有效期起止 ``valid_from``/``valid_until``); the rest is
GovTrust's lifecycle and audit. Status indexes are allocated by one atomic
``UPDATE … RETURNING`` on the list's row (:mod:`license_wallet.service`);
``UNIQUE (status_list_id, status_idx)`` is the backstop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, UTCDateTime, utcnow

__all__ = ["LicenseEvent", "LicenseRecord", "StatusListRecord"]


class StatusListRecord(Base):
    """One Token Status List of one issuer (``bits`` = 2: valid, revoked, suspended).

    ``next_index`` is the next free slot (``0 .. size``); a full list is never
    reused, the issuer gets the next one (``seq`` + 1). ``version`` grows on every
    status change, so a cached signed list knows it is stale."""

    __tablename__ = "license_status_lists"
    __table_args__ = (UniqueConstraint("issuer_id", "seq", name="uq_license_status_lists_seq"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<issuer>.<seq>"
    issuer_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    bits: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    next_index: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    #: The path of the list's URI under the hub's base URL: ``/sl/<id>`` (short, so
    #: that the credentials that name it fit smaller QR codes); NULL for lists made
    #: before migration 0013, which keep ``/api/license/v1/status/<id>.cwt``.
    uri_path: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LicenseRecord(Base):
    """One issued e-license (电子证照) and the credential exactly as issued."""

    __tablename__ = "licenses"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_idx", name="uq_licenses_status_slot"),
        UniqueConstraint("client_id", "idempotency_key", name="uq_licenses_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(160), unique=True)  # 电子证照标识
    type_code: Mapped[str] = mapped_column(String(32), index=True)  # 证照类型代码
    issuer_id: Mapped[str] = mapped_column(String(64), index=True)  # participant
    holder_subject: Mapped[str] = mapped_column(String(128), index=True)  # account sub
    holder_key_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # 长期
    status: Mapped[str] = mapped_column(String(16), index=True)  # valid|revoked|suspended
    status_list_id: Mapped[str] = mapped_column(String(80))
    status_idx: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(64))  # keys.KeyStore kid of the issuer key
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    credential: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Sign1 with disclosures
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Idempotency-Key of the API request that issued it (same key, same body → same license).
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LicenseEvent(Base):
    """Lifecycle history of a license (also a transparency-log leaf), and refused
    attempts on another issuer's license (audit, no leaf)."""

    __tablename__ = "license_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    license_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
