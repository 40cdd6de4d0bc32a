"""The participant registry: onboarding, lifecycle, roles, license-type grants, keys.

Lifecycle (DESIGN.md "Trust model")::

    applied → approved → active ⇄ suspended
        ↘        ↘         ↘          ↘
                       revoked (terminal)

Every change records who acted and when (``participant_events``) and appends
a transparency-log event in the same transaction.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from govtrust.db import Database, utcnow
from govtrust.events import EventLog, NullEventLog
from trust import InvalidKey, TrustError, load_public_key, public_key_from_jwk, signature_algorithm
from trust.identifiers import SeedParticipant, is_valid_division, validate_uscc

from .models import LicenseTypeGrant, Participant, ParticipantEvent, ParticipantKey, RoleGrant

__all__ = [
    "Registry",
    "Role",
    "Status",
    "RegistryError",
    "ParticipantView",
    "KeyView",
    "LEVELS",
]

LEVELS: Final = ("national", "provincial", "department", "county", "agency")
_SLUG_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


class Role(StrEnum):
    RELYING_PARTY = "relying_party"
    LICENSE_ISSUER = "license_issuer"
    SEAL_HOLDER = "seal_holder"
    SEAL_MAKER = "seal_maker"
    TSA = "tsa"


class Status(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


_TRANSITIONS: Final[dict[str, tuple[set[Status], Status]]] = {
    "approve": ({Status.APPLIED}, Status.APPROVED),
    "activate": ({Status.APPROVED}, Status.ACTIVE),
    "suspend": ({Status.ACTIVE}, Status.SUSPENDED),
    "reinstate": ({Status.SUSPENDED}, Status.ACTIVE),
    "revoke": ({Status.APPLIED, Status.APPROVED, Status.ACTIVE, Status.SUSPENDED}, Status.REVOKED),
}


class RegistryError(TrustError):
    """A registry request that cannot be carried out."""

    code = "registry_error"


@dataclass(frozen=True)
class KeyView:
    kid: str
    purpose: str
    algorithm: str
    jwk: Mapping[str, Any]
    chain_pem: str | None
    status: str
    registered_at: datetime


@dataclass(frozen=True)
class ParticipantView:
    """A read-only snapshot of one participant."""

    id: str
    name_zh: str
    name_en: str
    level: str
    division: str | None
    uscc: str | None
    uscc_is_demo: bool
    parent_id: str | None
    status: Status
    status_list_uri: str | None
    roles: tuple[str, ...]
    license_types: tuple[str, ...]
    keys: tuple[KeyView, ...] = field(default=())
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.roles


# Hot-path statements (Registry.find with keys=False), built once per database.
def _participant_row(_db: Database) -> Any:
    return select(Participant.__table__).where(Participant.id == bindparam("pid"))


def _participant_roles(_db: Database) -> Any:
    return select(RoleGrant.role).where(RoleGrant.participant_id == bindparam("pid"))


def _participant_types(_db: Database) -> Any:
    return select(LicenseTypeGrant.license_type).where(
        LicenseTypeGrant.participant_id == bindparam("pid")
    )


def _view(p: Participant) -> ParticipantView:
    return ParticipantView(
        id=p.id,
        name_zh=p.name_zh,
        name_en=p.name_en,
        level=p.level,
        division=p.division,
        uscc=p.uscc,
        uscc_is_demo=p.uscc_is_demo,
        parent_id=p.parent_id,
        status=Status(p.status),
        status_list_uri=p.status_list_uri,
        roles=tuple(sorted(r.role for r in p.roles)),
        license_types=tuple(sorted(g.license_type for g in p.license_types)),
        keys=tuple(
            KeyView(
                k.kid, k.purpose, k.algorithm, dict(k.jwk), k.chain_pem, k.status, k.registered_at
            )
            for k in p.keys
        ),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


class Registry:
    """Participants of the GovTrust federation, kept in the database."""

    def __init__(
        self,
        db: Database,
        *,
        log: EventLog | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._log: EventLog = log or NullEventLog()
        self._clock = clock

    # ---------------------------------------------------------------- reading

    def get(self, participant_id: str) -> ParticipantView:
        with self._db.session() as s:
            return _view(self._load(s, participant_id))

    def find(self, participant_id: str, *, keys: bool = True) -> ParticipantView | None:
        """The participant, or None. With ``keys=False`` its keys are not read and
        the view's ``keys`` is empty: for the status, role and license-type checks
        of hot paths (issuing, sealing), where reading every key cost more than the
        rest of the check."""
        if not keys:
            return self._find_without_keys(participant_id)
        with self._db.session() as s:
            p = self._query(s).where(Participant.id == participant_id)
            found = s.scalars(p).first()
            return _view(found) if found else None

    def _find_without_keys(self, participant_id: str) -> ParticipantView | None:
        """:meth:`find` with ``keys=False``: three prebuilt Core reads, no ORM."""
        db = self._db
        args = {"pid": participant_id}
        with db.connection() as c:
            row = c.execute(db.statement(_participant_row), args).first()
            if row is None:
                return None
            roles = sorted(c.execute(db.statement(_participant_roles), args).scalars())
            types = sorted(c.execute(db.statement(_participant_types), args).scalars())
        return ParticipantView(
            id=row.id,
            name_zh=row.name_zh,
            name_en=row.name_en,
            level=row.level,
            division=row.division,
            uscc=row.uscc,
            uscc_is_demo=row.uscc_is_demo,
            parent_id=row.parent_id,
            status=Status(row.status),
            status_list_uri=row.status_list_uri,
            roles=tuple(roles),
            license_types=tuple(types),
            keys=(),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def list(
        self, *, status: Status | str | None = None, role: Role | str | None = None
    ) -> builtins.list[ParticipantView]:
        with self._db.session() as s:
            stmt = self._query(s).order_by(Participant.level, Participant.id)
            if status is not None:
                stmt = stmt.where(Participant.status == Status(status).value)
            if role is not None:
                stmt = stmt.where(Participant.roles.any(RoleGrant.role == Role(role).value))
            return [_view(p) for p in s.scalars(stmt).all()]

    def events(
        self, participant_id: str | None = None, *, limit: int = 100
    ) -> builtins.list[ParticipantEvent]:
        with self._db.session() as s:
            stmt = select(ParticipantEvent).order_by(ParticipantEvent.id.desc()).limit(limit)
            if participant_id is not None:
                stmt = stmt.where(ParticipantEvent.participant_id == participant_id)
            return list(s.scalars(stmt).all())

    # ---------------------------------------------------------------- onboarding

    def apply(
        self,
        *,
        id: str,
        name_zh: str,
        name_en: str,
        level: str,
        actor: str,
        division: str | None = None,
        uscc: str | None = None,
        uscc_is_demo: bool = False,
        parent_id: str | None = None,
    ) -> ParticipantView:
        """Onboarding request: a new participant in state *applied*."""
        self._check_fields(id, name_zh, name_en, level, division, uscc)
        now = self._clock()
        try:
            with self._db.write() as s:
                if parent_id is not None and s.get(Participant, parent_id) is None:
                    raise RegistryError(f"unknown parent {parent_id!r}", code="unknown_parent")
                if s.get(Participant, id) is not None:
                    raise RegistryError(f"participant {id!r} exists", code="participant_exists")
                p = Participant(
                    id=id,
                    name_zh=name_zh.strip(),
                    name_en=name_en.strip(),
                    level=level,
                    division=division,
                    uscc=uscc,
                    uscc_is_demo=uscc_is_demo,
                    parent_id=parent_id,
                    status=Status.APPLIED.value,
                    created_at=now,
                    updated_at=now,
                )
                s.add(p)
                s.flush()
                self._event(
                    s,
                    p,
                    "participant.applied",
                    actor,
                    {
                        "name_zh": p.name_zh,
                        "name_en": p.name_en,
                        "level": level,
                        "division": division,
                        "uscc": uscc,
                        "parent": parent_id,
                    },
                )
        except IntegrityError:
            raise RegistryError(
                "participant id or USCC already registered", code="participant_exists"
            ) from None
        return self.get(id)

    def seed(
        self, participants: Iterable[SeedParticipant], *, actor: str = "system:init"
    ) -> builtins.list[str]:
        """Create the seed participants that are missing, straight to *active* (idempotent)."""
        created = []
        for sp in participants:
            if self.find(sp.id) is not None:
                continue
            self.apply(
                id=sp.id,
                name_zh=sp.name_zh,
                name_en=sp.name_en,
                level=sp.level,
                actor=actor,
                division=sp.division,
                uscc=sp.uscc,
                uscc_is_demo=sp.uscc_is_demo,
                parent_id=sp.parent,
            )
            self.approve(sp.id, actor=actor)
            self.activate(sp.id, actor=actor)
            created.append(sp.id)
        return created

    # ---------------------------------------------------------------- lifecycle

    def approve(self, participant_id: str, *, actor: str, reason: str = "") -> ParticipantView:
        return self._transition(participant_id, "approve", actor, reason)

    def activate(self, participant_id: str, *, actor: str, reason: str = "") -> ParticipantView:
        return self._transition(participant_id, "activate", actor, reason)

    def suspend(self, participant_id: str, *, actor: str, reason: str = "") -> ParticipantView:
        return self._transition(participant_id, "suspend", actor, reason)

    def reinstate(self, participant_id: str, *, actor: str, reason: str = "") -> ParticipantView:
        return self._transition(participant_id, "reinstate", actor, reason)

    def revoke(self, participant_id: str, *, actor: str, reason: str = "") -> ParticipantView:
        return self._transition(participant_id, "revoke", actor, reason)

    def _transition(
        self, participant_id: str, action: str, actor: str, reason: str
    ) -> ParticipantView:
        allowed, target = _TRANSITIONS[action]
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            current = Status(p.status)
            if current not in allowed:
                raise RegistryError(
                    f"cannot {action} a participant that is {current}", code="invalid_transition"
                )
            p.status = target.value
            p.updated_at = self._clock()
            self._event(
                s,
                p,
                f"participant.{target.value}",
                actor,
                {"from": current.value, "to": target.value, "reason": reason},
            )
        return self.get(participant_id)

    # ---------------------------------------------------------------- grants

    def grant_role(self, participant_id: str, role: Role | str, *, actor: str) -> ParticipantView:
        role = Role(role)
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            self._require_not_revoked(p)
            if any(r.role == role.value for r in p.roles):
                return _view(p)
            p.roles.append(RoleGrant(role=role.value, granted_by=actor, granted_at=self._clock()))
            p.updated_at = self._clock()
            self._event(s, p, "participant.role_granted", actor, {"role": role.value})
        return self.get(participant_id)

    def revoke_role(self, participant_id: str, role: Role | str, *, actor: str) -> ParticipantView:
        role = Role(role)
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            kept = [r for r in p.roles if r.role != role.value]
            if len(kept) == len(p.roles):
                raise RegistryError(f"{participant_id} does not hold {role}", code="role_not_held")
            p.roles = kept
            if role is Role.LICENSE_ISSUER:
                p.license_types = []
            p.updated_at = self._clock()
            self._event(s, p, "participant.role_revoked", actor, {"role": role.value})
        return self.get(participant_id)

    def grant_license_type(
        self, participant_id: str, license_type: str, *, actor: str
    ) -> ParticipantView:
        code = license_type.strip()
        if not code or len(code) > 64 or not code.isprintable():
            raise RegistryError("invalid license type code", code="invalid_license_type")
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            self._require_not_revoked(p)
            if not any(r.role == Role.LICENSE_ISSUER.value for r in p.roles):
                raise RegistryError(
                    f"{participant_id} is not a license_issuer", code="role_required"
                )
            if any(g.license_type == code for g in p.license_types):
                return _view(p)
            p.license_types.append(
                LicenseTypeGrant(license_type=code, granted_by=actor, granted_at=self._clock())
            )
            p.updated_at = self._clock()
            self._event(s, p, "participant.license_type_granted", actor, {"license_type": code})
        return self.get(participant_id)

    def revoke_license_type(
        self, participant_id: str, license_type: str, *, actor: str
    ) -> ParticipantView:
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            kept = [g for g in p.license_types if g.license_type != license_type]
            if len(kept) == len(p.license_types):
                raise RegistryError("license type not granted", code="license_type_not_granted")
            p.license_types = kept
            p.updated_at = self._clock()
            self._event(
                s, p, "participant.license_type_revoked", actor, {"license_type": license_type}
            )
        return self.get(participant_id)

    def set_status_list_uri(
        self, participant_id: str, uri: str | None, *, actor: str
    ) -> ParticipantView:
        if uri is not None and not uri.startswith(("https://", "http://")):
            raise RegistryError("status list location must be an http(s) URI", code="invalid_uri")
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            p.status_list_uri = uri
            p.updated_at = self._clock()
            self._event(s, p, "participant.status_list_uri", actor, {"uri": uri})
        return self.get(participant_id)

    # ---------------------------------------------------------------- keys

    def register_key(
        self,
        participant_id: str,
        *,
        purpose: str,
        algorithm: str,
        actor: str,
        public_key_pem: bytes | None = None,
        jwk: Mapping[str, Any] | None = None,
        chain_pem: str | None = None,
        kid: str | None = None,
    ) -> KeyView:
        """Register a public key (PEM/JWK, or the first certificate of ``chain_pem``)."""
        alg = signature_algorithm(algorithm)
        try:
            if jwk is not None:
                pub = public_key_from_jwk(jwk)
            elif public_key_pem is not None:
                pub = load_public_key(public_key_pem)
            elif chain_pem:
                pub = load_public_key(chain_pem.encode())
            else:
                raise RegistryError("a key needs a PEM, a JWK or a certificate", code="key_missing")
        except InvalidKey as exc:
            raise RegistryError(f"invalid key: {exc.message}", code="invalid_key") from None
        if pub.family is not alg.family:
            raise RegistryError(f"{alg.name} does not fit a {pub.family} key", code="invalid_key")
        kid = kid or pub.thumbprint()[:22]
        now = self._clock()
        try:
            with self._db.write() as s:
                p = self._load(s, participant_id, lock=True)
                self._require_not_revoked(p)
                rec = ParticipantKey(
                    kid=kid,
                    purpose=purpose,
                    algorithm=alg.name,
                    jwk=pub.jwk(kid=kid, alg=alg.jose, use="sig"),
                    chain_pem=chain_pem,
                    status="active",
                    registered_by=actor,
                    registered_at=now,
                )
                p.keys.append(rec)
                p.updated_at = now
                s.flush()
                self._event(
                    s,
                    p,
                    "participant.key_registered",
                    actor,
                    {
                        "kid": kid,
                        "purpose": purpose,
                        "algorithm": alg.name,
                        "thumbprint": pub.thumbprint(),
                    },
                )
        except IntegrityError:
            raise RegistryError(f"key {kid} already registered", code="key_exists") from None
        return KeyView(kid, purpose, alg.name, rec.jwk, chain_pem, "active", now)

    def retire_key(self, participant_id: str, kid: str, *, actor: str) -> None:
        with self._db.write() as s:
            p = self._load(s, participant_id, lock=True)
            for k in p.keys:
                if k.kid == kid and k.status == "active":
                    k.status = "retired"
                    p.updated_at = self._clock()
                    self._event(s, p, "participant.key_retired", actor, {"kid": kid})
                    return
        raise RegistryError(f"no active key {kid}", code="key_not_found")

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _query(s: Session):  # type: ignore[no-untyped-def]
        return select(Participant).options(
            selectinload(Participant.roles),
            selectinload(Participant.license_types),
            selectinload(Participant.keys),
        )

    def _load(self, s: Session, participant_id: str, *, lock: bool = False) -> Participant:
        stmt = self._query(s).where(Participant.id == participant_id)
        if lock:
            stmt = stmt.with_for_update(of=Participant)
        p: Participant | None = s.scalars(stmt).first()
        if p is None:
            raise RegistryError(
                f"unknown participant {participant_id!r}", code="unknown_participant"
            )
        return p

    @staticmethod
    def _require_not_revoked(p: Participant) -> None:
        if p.status == Status.REVOKED.value:
            raise RegistryError(f"{p.id} is revoked", code="participant_revoked")

    def _event(
        self, s: Session, p: Participant, kind: str, actor: str, detail: dict[str, Any]
    ) -> None:
        at = self._clock()
        index = self._log.append(
            s, kind, {"participant": p.id, "actor": actor, "at": at.isoformat(), **detail}
        )
        s.add(
            ParticipantEvent(
                participant_id=p.id,
                action=kind,
                actor=actor,
                at=at,
                detail=detail,
                log_index=index if index >= 0 else None,
            )
        )

    @staticmethod
    def _check_fields(
        id: str, name_zh: str, name_en: str, level: str, division: str | None, uscc: str | None
    ) -> None:
        if not id or len(id) > 64 or not set(id) <= _SLUG_CHARS or not id[0].isalpha():
            raise RegistryError("id must be a lowercase ASCII slug", code="invalid_id")
        if not name_zh.strip() or not name_en.strip() or len(name_zh) > 200 or len(name_en) > 200:
            raise RegistryError("Chinese and English names are required", code="invalid_name")
        if level not in LEVELS:
            raise RegistryError(f"level must be one of {LEVELS}", code="invalid_level")
        if division is not None and not is_valid_division(division):
            raise RegistryError(f"unknown GB/T 2260 division {division}", code="invalid_division")
        if uscc is not None:
            try:
                validate_uscc(uscc)
            except TrustError as exc:
                raise RegistryError(
                    f"invalid unified social credit code: {exc.message}", code="invalid_uscc"
                ) from None
