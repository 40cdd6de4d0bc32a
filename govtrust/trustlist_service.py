"""Publishing the signed trust list at the hub (format: docs/trust-list.md).

Each publication takes the next sequence number inside one write transaction
(the primary key makes a duplicate impossible even across instances), is
signed with the hub's SM2 and ES256 trust-list keys, stored, and recorded in
the transparency log in that same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Integer, LargeBinary, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, Database, UTCDateTime, utcnow
from govtrust.events import EventLog
from govtrust.hubpki import HubPki
from govtrust.registry import Registry, Status
from keys import KeyPurpose, KeyState, KeyStore
from trust.jws import canonical_json
from trust.trustlist import TrustListSigner, build_payload, sign_trust_list

__all__ = ["TrustListPublication", "TrustListService", "Published"]

DEFAULT_VALIDITY: Final = timedelta(hours=24)
_LISTED: Final = (Status.ACTIVE, Status.SUSPENDED, Status.REVOKED)


class TrustListPublication(Base):
    __tablename__ = "trust_list_publications"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_update: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Published:
    sequence: int
    digest: str
    document: bytes
    issued_at: datetime
    next_update: datetime

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


class TrustListService:
    def __init__(
        self,
        db: Database,
        *,
        registry: Registry,
        keys: KeyStore,
        pki: HubPki,
        log: EventLog,
        clock: Callable[[], datetime] = utcnow,
        extensions: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._keys = keys
        self._pki = pki
        self._log = log
        self._clock = clock
        self._extensions = extensions  # other components' signed additions (docs/trust-list.md)

    def _participants(self) -> list[dict[str, Any]]:
        out = []
        for p in self._registry.list():
            if p.status not in _LISTED:
                continue
            entry: dict[str, Any] = {
                "id": p.id,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "level": p.level,
                "status": p.status.value,
                "roles": list(p.roles),
                "license_types": list(p.license_types),
                "keys": [
                    {
                        "kid": k.kid,
                        "purpose": k.purpose,
                        "alg": k.algorithm,
                        "jwk": dict(k.jwk),
                        "x5c": _x5c(k.chain_pem),
                    }
                    for k in p.keys
                    if k.status == "active"
                ],
            }
            for name, value in (
                ("division", p.division),
                ("uscc", p.uscc),
                ("parent", p.parent_id),
                ("status_list", p.status_list_uri),
            ):
                if value is not None:
                    entry[name] = value
            out.append(entry)
        return out

    def _signers(self) -> list[TrustListSigner]:
        signers = []
        for info in self._keys.list(
            purpose=KeyPurpose.TRUST_LIST, owner="hub", states=(KeyState.ACTIVE,)
        ):
            if self._pki.certificate_for(info.kid) is None:
                self._pki.certify(info.kid)
            signers.append(
                TrustListSigner(
                    self._keys.signer_for(info.kid, KeyPurpose.TRUST_LIST),
                    self._pki.chain_for(info.kid),
                )
            )
        return signers

    def publish(
        self, *, validity: timedelta = DEFAULT_VALIDITY, announced_roots: tuple[bytes, ...] = ()
    ) -> Published:
        """Sign and store the next trust list."""
        now = self._clock()
        participants = self._participants()
        roots = [c.der for c in self._pki.roots()]
        extensions = dict(self._extensions()) if self._extensions is not None else None
        signers = self._signers()
        for attempt in range(5):
            try:
                with self._db.write() as s:
                    self._db.serialize(s, "trust_list.sequence")
                    last = s.scalar(select(func.max(TrustListPublication.sequence))) or 0
                    sequence = last + 1
                    payload = build_payload(
                        sequence=sequence,
                        issuer="hub",
                        issued_at=now,
                        next_update=now + validity,
                        participants=participants,
                        roots=roots,
                        announced_roots=announced_roots,
                        extensions=extensions,
                    )
                    document = sign_trust_list(payload, signers)
                    digest = hashlib.sha256(document).hexdigest()
                    s.add(
                        TrustListPublication(
                            sequence=sequence,
                            digest=digest,
                            document=document,
                            issued_at=now,
                            next_update=now + validity,
                        )
                    )
                    s.flush()  # another instance took this number → IntegrityError → retry
                    self._log.append(
                        s,
                        "trust_list.published",
                        {
                            "sequence": sequence,
                            "sha256": digest,
                            "payload_sha256": hashlib.sha256(payload).hexdigest(),
                            "participants": len(participants),
                            "issued_at": now.isoformat(),
                        },
                    )
                return Published(sequence, digest, document, now, now + validity)
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def latest(self) -> Published | None:
        with self._db.session() as s:
            row = s.scalars(
                select(TrustListPublication).order_by(TrustListPublication.sequence.desc()).limit(1)
            ).first()
            if row is None:
                return None
            return Published(row.sequence, row.digest, row.document, row.issued_at, row.next_update)

    def up_to_date(self) -> Published:
        """The latest list if it still says what the registry, the hub roots and the
        components' extensions say now (a license issuer's first key, a new ID-token
        or log key, a revoked seal), else a new one — what offline verifiers must be
        given (``GET /verifier/bundle.json``), since they learn keys nowhere else."""
        latest = self.current()
        announced: list[str] = []
        try:
            doc = json.loads(latest.document)
            payload = json.loads(
                base64.urlsafe_b64decode(doc["payload"] + "=" * (-len(doc["payload"]) % 4))
            )
            announced = list(payload.get("announced_roots", []))
            said = (payload["participants"], payload["roots"], payload.get("extensions"))
        except (ValueError, KeyError, TypeError):
            return self.publish()
        roots = [base64.b64encode(c.der).decode() for c in self._pki.roots()]
        extensions = dict(self._extensions()) if self._extensions is not None else None
        participants = sorted(self._participants(), key=lambda p: p["id"])
        now = json.loads(canonical_json([participants, roots, extensions or None]))
        if now != [said[0], said[1], said[2]]:
            keep = tuple(base64.b64decode(r) for r in announced)
            return self.publish(announced_roots=keep)
        return latest

    def current(self, *, refresh_before: timedelta = timedelta(hours=1)) -> Published:
        """The latest list, publishing a new one when none exists or it is about to expire."""
        latest = self.latest()
        if latest is None or latest.next_update - refresh_before <= self._clock():
            return self.publish()
        return latest


def _x5c(chain_pem: str | None) -> list[str]:
    if not chain_pem:
        return []
    from trust.pki import load_certificates

    return [base64.b64encode(c.der).decode() for c in load_certificates(chain_pem.encode())]
