"""Participant registry tables (GovTrust trust model, DESIGN.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govtrust.db import Base, UTCDateTime, utcnow

__all__ = ["Participant", "RoleGrant", "LicenseTypeGrant", "ParticipantKey", "ParticipantEvent"]


class Participant(Base):
    """参与方: the hub, a provincial platform, a department or one of their sub-units."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    division: Mapped[str | None] = mapped_column(String(6), nullable=True)
    uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, unique=True)
    uscc_is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_list_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="RoleGrant.role"
    )
    license_types: Mapped[list[LicenseTypeGrant]] = relationship(
        cascade="all, delete-orphan", order_by="LicenseTypeGrant.license_type"
    )
    keys: Mapped[list[ParticipantKey]] = relationship(
        cascade="all, delete-orphan", order_by="ParticipantKey.id"
    )

    __mapper_args__ = {"version_id_col": version}


class RoleGrant(Base):
    """A role held by a participant: relying_party, license_issuer, seal_holder, seal_maker, tsa."""

    __tablename__ = "participant_roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="roles")

    __table_args__ = (UniqueConstraint("participant_id", "role", name="uq_participant_roles_role"),)


class LicenseTypeGrant(Base):
    """A license type (GB/T 36902 type code) a license_issuer may issue."""

    __tablename__ = "participant_license_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    license_type: Mapped[str] = mapped_column(String(64))
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "participant_id", "license_type", name="uq_participant_license_types_type"
        ),
    )


class ParticipantKey(Base):
    """A public key (and optional certificate chain) registered for one purpose."""

    __tablename__ = "participant_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    kid: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    algorithm: Mapped[str] = mapped_column(String(16))
    jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    chain_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("participant_id", "kid", name="uq_participant_keys_kid"),)


class ParticipantEvent(Base):
    """Who did what to a participant, and when (also a transparency-log leaf)."""

    __tablename__ = "participant_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
