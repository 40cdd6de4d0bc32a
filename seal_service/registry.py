"""The seal registry: seals of ``seal_holder`` participants and their lifecycle.

applied → approved (by the seal maker 制章者, or the hub for RSA/ECDSA seals) →
active ⇄ suspended → revoked; a seal past ``valid_to`` is *expired* whatever its
stored status. Every transition is a ``seal_events`` row and a transparency-log
leaf written in the same transaction, so the public log shows every seal ever
made and every revocation (verifiers learn revocations offline from the log and
the trust-list bundle).

Approval creates the seal's key (``keys.KeyStore``, purpose ``seal``, one key per
seal, software or HSM custody) and its X.509 seal certificate under the hub's
issuing CA of the family, subject = seal name and holder. An SM2 seal also gets
its GB/T 38540 ``SESeal`` (v4), made and signed by the maker's own SM2 key —
the structure OFD signatures and detached SES signatures embed.

Database-bound, Flask-free. The sealing operations themselves are in
:mod:`seal_service.service`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from govtrust.db import Database, utcnow
from govtrust.events import EventLog, NullEventLog
from keys import KeyPurpose, KeyStore
from trust.crypto import Signer
from trust.errors import TrustError
from trust.pki import Certificate, load_certificate

from .image import seal_png
from .models import SealEvent, SealRecord
from .sealing import make_seal

__all__ = [
    "ALGORITHMS",
    "SealError",
    "SealKind",
    "SealRegistry",
    "SealStatus",
    "SealView",
]

#: Seal key algorithms: SM2 for GB/T 38540 (OFD, SES); ES256/RS256 for PAdES and CMS.
ALGORITHMS: Final = ("SM2", "ES256", "RS256")
DEFAULT_VALIDITY: Final = timedelta(days=3 * 365)
SIGNER_CACHE_SECONDS: Final = 5.0
MAKER_OWNER_PREFIX: Final = "seal-maker:"


class SealKind(StrEnum):
    """印章类型 (the kinds of GB/T 38540 §6 and of the issue)."""

    OFFICIAL = "official"  # 公章
    CONTRACT = "contract"  # 合同专用章
    FINANCE = "finance"  # 财务专用章
    LEGAL_REP = "legal_rep"  # 法定代表人名章


KIND_NAMES_ZH: Final = {
    SealKind.OFFICIAL: "公章",
    SealKind.CONTRACT: "合同专用章",
    SealKind.FINANCE: "财务专用章",
    SealKind.LEGAL_REP: "法定代表人名章",
}


class SealStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"  # computed from valid_to, never stored


class SealError(TrustError):
    """A refused seal registry operation (``code`` says which rule)."""

    code = "seal_error"


_TRANSITIONS: Final[dict[str, tuple[frozenset[SealStatus], SealStatus]]] = {
    "activate": (frozenset({SealStatus.APPROVED}), SealStatus.ACTIVE),
    "suspend": (frozenset({SealStatus.ACTIVE}), SealStatus.SUSPENDED),
    "reinstate": (frozenset({SealStatus.SUSPENDED}), SealStatus.ACTIVE),
    "revoke": (
        frozenset(
            {SealStatus.APPLIED, SealStatus.APPROVED, SealStatus.ACTIVE, SealStatus.SUSPENDED}
        ),
        SealStatus.REVOKED,
    ),
}


@dataclass(frozen=True)
class SealView:
    """A read-only snapshot of one seal (no key material)."""

    id: str
    holder_id: str
    kind: SealKind
    name: str
    algorithm: str
    maker_id: str | None
    key_id: str | None
    certificate_der: bytes | None
    ses_seal_der: bytes | None
    image_png: bytes
    width_mm: int
    height_mm: int
    valid_from: datetime
    valid_to: datetime
    status: SealStatus
    created_at: datetime

    @property
    def certificate(self) -> Certificate | None:
        return load_certificate(self.certificate_der) if self.certificate_der else None

    def as_json(self) -> dict[str, Any]:
        """The public description (no image bytes, no key material)."""
        cert = self.certificate
        return {
            "id": self.id,
            "holder": self.holder_id,
            "kind": self.kind.value,
            "kind_zh": KIND_NAMES_ZH[self.kind],
            "name": self.name,
            "algorithm": self.algorithm,
            "maker": self.maker_id,
            "status": self.status.value,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "width_mm": self.width_mm,
            "height_mm": self.height_mm,
            "certificate_serial": format(cert.serial, "x") if cert is not None else None,
        }


# Module-level names: inside SealRegistry, ``list`` is its own method.
_SealList = list[SealView]
_EventList = list[SealEvent]


class SealRegistry:
    """Seals: apply, approve, activate, suspend, reinstate, revoke; find and list."""

    def __init__(
        self,
        db: Database,
        *,
        keys: KeyStore,
        pki: Any,
        participants: Any,
        log: EventLog | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_revoked: Callable[[SealView], object] | None = None,
    ) -> None:
        self._on_revoked = on_revoked  # e.g. publish a trust list naming the revoked seal
        self._signers: dict[
            str, tuple[float, tuple[Signer, Certificate, tuple[Certificate, ...]]]
        ] = {}
        self._db = db
        self._keys = keys
        self._pki = pki  # govtrust.hubpki.HubPki (certify, chain_for)
        self._participants = participants  # govtrust.registry.Registry (find)
        self._log: EventLog = log or NullEventLog()
        self._clock = clock

    # ------------------------------------------------------------------ queries

    def get(self, seal_id: str) -> SealView:
        """The seal (read on every sealing call, so a prebuilt Core statement)."""
        if not isinstance(seal_id, str):
            raise SealError(f"no seal {seal_id!r}", code="seal_unknown")
        db = self._db
        with db.connection() as conn:
            row = conn.execute(db.statement(_seal_by_id), {"seal_id": seal_id}).first()
        if row is None:
            raise SealError(f"no seal {seal_id!r}", code="seal_unknown")
        return self._view(row)

    def list(self, *, holder_id: str | None = None) -> _SealList:
        with self._db.session() as s:
            stmt = select(SealRecord).order_by(SealRecord.holder_id, SealRecord.id)
            if holder_id is not None:
                stmt = stmt.where(SealRecord.holder_id == holder_id)
            return [self._view(r) for r in s.scalars(stmt).all()]

    def revoked(self) -> _SealList:
        """Seals that must not be accepted any more (published to verifiers)."""
        return [v for v in self.list() if v.status is SealStatus.REVOKED]

    def revoked_certificates(self) -> list[tuple[Certificate, datetime]]:
        """(seal certificate, time of revocation) of every revoked seal that had a
        certificate — what the hub's CRLs list (:meth:`govtrust.hubpki.HubPki.crl`).
        The time is that of the ``seal.revoked`` event."""
        with self._db.session() as s:
            rows = s.execute(
                select(SealRecord.certificate, SealRecord.updated_at, SealEvent.at)
                .outerjoin(
                    SealEvent,
                    (SealEvent.seal_id == SealRecord.id) & (SealEvent.action == "seal.revoked"),
                )
                .where(
                    SealRecord.status == SealStatus.REVOKED.value,
                    SealRecord.certificate.is_not(None),
                )
                .order_by(SealRecord.id)
            ).all()
        return [(load_certificate(der), at or updated) for der, updated, at in rows]

    def events(self, seal_id: str) -> _EventList:
        with self._db.session() as s:
            return list(
                s.scalars(
                    select(SealEvent).where(SealEvent.seal_id == seal_id).order_by(SealEvent.id)
                ).all()
            )

    def signer(self, seal: SealView) -> tuple[Signer, Certificate, tuple[Certificate, ...]]:
        """(signer, seal certificate, issuing chain without the root) of an approved seal.

        Cached per process for :data:`SIGNER_CACHE_SECONDS` by key id: loading the key
        and the chain is most of a seal's cost otherwise. The seal's status is not
        cached — callers read it (:meth:`get`) on every use — so a suspended or
        revoked seal is refused at once; a retired key stops working within the TTL."""
        if seal.key_id is None or seal.certificate_der is None:
            raise SealError(f"seal {seal.id} has no key yet", code="seal_not_approved")
        now = time.monotonic()
        hit = self._signers.get(seal.key_id)
        if hit is not None and now - hit[0] < SIGNER_CACHE_SECONDS:
            return hit[1]
        cert = load_certificate(seal.certificate_der)
        chain = tuple(c for c in self._pki.chain_for(seal.key_id)[1:])
        entry = (self._keys.signer_for(seal.key_id, KeyPurpose.SEAL), cert, chain)
        self._signers[seal.key_id] = (now, entry)
        return entry

    # ------------------------------------------------------------------ lifecycle

    def apply(
        self,
        *,
        holder_id: str,
        kind: SealKind | str,
        name: str,
        algorithm: str,
        actor: str,
        maker_id: str | None = None,
        image_png: bytes | None = None,
        width_mm: int | None = None,
        valid_for: timedelta = DEFAULT_VALIDITY,
    ) -> SealView:
        """A seal application by (or for) ``holder_id``, which must be an active
        ``seal_holder``. SM2 seals name their maker (an active ``seal_maker``).
        The image is generated (round red seal, 42 mm; square 22 mm name seal for
        ``legal_rep``) unless one is uploaded (checked by the caller)."""
        try:
            kind = SealKind(kind)
        except ValueError:
            raise SealError(f"unknown seal kind {kind!r}", code="invalid_kind") from None
        if algorithm not in ALGORITHMS:
            raise SealError(
                f"seal algorithm must be one of {', '.join(ALGORITHMS)}", code="invalid_algorithm"
            )
        name = (name or "").strip()
        if not name or len(name) > 100 or not name.isprintable():
            raise SealError(
                "a seal needs a printable name of 1–100 characters", code="invalid_name"
            )
        holder = self._active_participant(holder_id, "seal_holder")
        if algorithm == "SM2":
            if maker_id is None:
                raise SealError("an SM2 seal is made by a seal maker", code="maker_required")
            self._active_participant(maker_id, "seal_maker")
        elif maker_id is not None:
            self._active_participant(maker_id, "seal_maker")
        if image_png is None:
            diameter = 22.0 if kind is SealKind.LEGAL_REP else 42.0
            image_png = seal_png(
                organisation=holder.name_zh,
                seal_name=name if kind is SealKind.LEGAL_REP else _seal_label(kind, name),
                kind=kind.value,
                diameter_mm=diameter,
                code=holder.uscc if kind is SealKind.OFFICIAL and holder.uscc else None,
            )
            width_mm = int(diameter)
        size = int(width_mm or 42)
        now = self._clock()
        seal_id = f"ES{now:%Y%m%d}{secrets.token_hex(6).upper()}"
        row = SealRecord(
            id=seal_id,
            holder_id=holder.id,
            kind=kind.value,
            name=name,
            algorithm=algorithm,
            maker_id=maker_id,
            image_png=image_png,
            width_mm=size,
            height_mm=size,
            valid_from=now,
            valid_to=now + valid_for,
            status=SealStatus.APPLIED.value,
            created_at=now,
            updated_at=now,
        )
        with self._db.write() as s:
            s.add(row)
            s.flush()
            self._event(
                s,
                row,
                "seal.applied",
                actor,
                {"holder": holder.id, "kind": kind.value, "name": name, "algorithm": algorithm},
            )
        return self.get(seal_id)

    def approve(self, seal_id: str, *, actor: str) -> SealView:
        """The maker's approval: the seal's key, certificate and (SM2) SESeal are made."""
        seal = self.get(seal_id)
        if seal.status is not SealStatus.APPLIED:
            raise SealError(
                f"cannot approve a seal that is {seal.status}", code="invalid_transition"
            )
        holder = self._active_participant(seal.holder_id, "seal_holder")
        key = self._keys.generate(
            KeyPurpose.SEAL, seal.algorithm, owner=seal.id, label=f"seal {seal.id}"
        )
        cert = self._pki.certify(
            key.kid,
            subject=f"CN={_dn(seal.name)},O={_dn(holder.name_zh)},C=CN",
            not_after=seal.valid_to,
        )
        ses_seal = None
        if seal.algorithm == "SM2":
            assert seal.maker_id is not None
            maker_signer, maker_cert = self._maker_key(seal.maker_id)
            ses_seal = make_seal(
                maker=maker_signer,
                maker_cert=maker_cert,
                holder_certs=[cert],
                es_id=seal.id,
                name=seal.name,
                seal_type=2 if seal.kind is SealKind.LEGAL_REP else 1,
                created=self._clock(),
                valid_start=max(seal.valid_from, cert.not_before),
                valid_end=min(seal.valid_to, cert.not_after),
                picture_png=seal.image_png,
                picture_width_mm=seal.width_mm,
                picture_height_mm=seal.height_mm,
            )
        with self._db.write() as s:
            row = self._load(s, seal_id)
            if row.status != SealStatus.APPLIED.value:  # approved concurrently
                raise SealError("the seal was changed meanwhile", code="invalid_transition")
            row.key_id = key.kid
            row.certificate = cert.der
            row.ses_seal = ses_seal
            row.valid_to = min(row.valid_to, cert.not_after)
            row.status = SealStatus.APPROVED.value
            row.updated_at = self._clock()
            self._event(
                s,
                row,
                "seal.approved",
                actor,
                {"key": key.kid, "certificate_serial": format(cert.serial, "x")},
            )
        return self.get(seal_id)

    def activate(self, seal_id: str, *, actor: str, reason: str = "") -> SealView:
        return self._transition(seal_id, "activate", actor, reason)

    def suspend(self, seal_id: str, *, actor: str, reason: str = "") -> SealView:
        return self._transition(seal_id, "suspend", actor, reason)

    def reinstate(self, seal_id: str, *, actor: str, reason: str = "") -> SealView:
        return self._transition(seal_id, "reinstate", actor, reason)

    def revoke(self, seal_id: str, *, actor: str, reason: str = "") -> SealView:
        seal = self._transition(seal_id, "revoke", actor, reason)
        if self._on_revoked is not None:
            self._on_revoked(seal)
        return seal

    # ------------------------------------------------------------------ internals

    def _transition(self, seal_id: str, action: str, actor: str, reason: str) -> SealView:
        allowed, target = _TRANSITIONS[action]
        with self._db.write() as s:
            row = self._load(s, seal_id)
            current = SealStatus(row.status)
            if current not in allowed:
                raise SealError(
                    f"cannot {action} a seal that is {current}", code="invalid_transition"
                )
            if target is SealStatus.ACTIVE and row.valid_to <= self._clock():
                raise SealError("the seal has expired", code="seal_expired")
            row.status = target.value
            row.updated_at = self._clock()
            self._event(
                s,
                row,
                f"seal.{target.value}",
                actor,
                {"from": current.value, "to": target.value, "reason": reason},
            )
        return self.get(seal_id)

    def _load(self, s: Session, seal_id: str) -> SealRecord:
        row = s.get(SealRecord, seal_id, with_for_update=not self._db.is_sqlite)
        if row is None:
            raise SealError(f"no seal {seal_id!r}", code="seal_unknown")
        return row

    def _event(
        self, s: Session, row: SealRecord, action: str, actor: str, detail: dict[str, Any]
    ) -> None:
        at = self._clock()
        index = self._log.append(
            s, action, {"seal": row.id, "actor": actor, "at": at.isoformat(), **detail}
        )
        s.add(
            SealEvent(
                seal_id=row.id,
                action=action,
                actor=actor[:100],
                at=at,
                detail=detail,
                log_index=index if index >= 0 else None,
            )
        )

    def _active_participant(self, participant_id: str, role: str) -> Any:
        p = self._participants.find(participant_id, keys=False)
        if p is None:
            raise SealError(f"no participant {participant_id!r}", code="unknown_participant")
        if p.status.value != "active":
            raise SealError(f"{participant_id} is not active", code="participant_inactive")
        if not p.has_role(role):
            raise SealError(f"{participant_id} is not a {role}", code="role_missing")
        return p

    def _maker_key(self, maker_id: str) -> tuple[Signer, Certificate]:
        """The maker's SM2 seal-making key and certificate (created on first use)."""
        owner = MAKER_OWNER_PREFIX + maker_id
        maker = self._active_participant(maker_id, "seal_maker")
        infos = [
            i
            for i in self._keys.list(purpose=KeyPurpose.SEAL, owner=owner)
            if i.algorithm.name == "SM2" and i.state.value == "active"
        ]
        kid = infos[0].kid if infos else None
        if kid is None:
            kid = self._keys.generate(KeyPurpose.SEAL, "SM2", owner=owner, label="seal maker").kid
        cert = self._pki.certificate_for(kid)
        if cert is None:
            cert = self._pki.certify(
                kid, subject=f"CN={_dn(maker.name_zh)} 制章,O={_dn(maker.name_zh)},C=CN"
            )
        return self._keys.signer_for(kid, KeyPurpose.SEAL), cert

    def _view(self, row: Any) -> SealView:
        """The view of a SealRecord (or a Core row with its columns)."""
        status = SealStatus(row.status)
        if status in (SealStatus.ACTIVE, SealStatus.SUSPENDED, SealStatus.APPROVED) and (
            row.valid_to <= self._clock()
        ):
            status = SealStatus.EXPIRED
        return SealView(
            id=row.id,
            holder_id=row.holder_id,
            kind=SealKind(row.kind),
            name=row.name,
            algorithm=row.algorithm,
            maker_id=row.maker_id,
            key_id=row.key_id,
            certificate_der=row.certificate,
            ses_seal_der=row.ses_seal,
            image_png=row.image_png,
            width_mm=row.width_mm,
            height_mm=row.height_mm,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            status=status,
            created_at=row.created_at,
        )


def _seal_by_id(_db: Database) -> Any:
    table = SealRecord.__table__
    return select(*table.c).where(table.c.id == bindparam("seal_id"))


def _seal_label(kind: SealKind, name: str) -> str:
    """The text below the star: the seal's own name for contract/finance seals
    (e.g. 合同专用章), nothing extra for the official seal."""
    if kind is SealKind.OFFICIAL:
        return ""
    return KIND_NAMES_ZH[kind] if name.endswith(KIND_NAMES_ZH[kind]) else name


def _dn(value: str) -> str:
    """A value safe inside our DN string syntax (no separators)."""
    return "".join(ch for ch in value if ch not in ',+="\\<>;#').strip()[:64] or "-"
