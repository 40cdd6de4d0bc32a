"""The national hub's PKI: roots per family, issuing CAs, certificates for hub keys.

Hierarchy per family (SM2, ECDSA P-256, RSA for PDF readers)::

    国家政务服务平台 <family> 根 CA          (key purpose ca, owner hub:root, 20 years)
      └─ 国家政务服务平台 <family> 运营 CA    (key purpose ca, owner hub:ca, 10 years, pathlen 0)
           └─ end-entity certificates for hub keys (trust_list, tsa, …; 2 years)

Private keys stay in the key store; certificates are public and live in
``hub_certificates``. Verifiers pin the root certificates.

Revocation (RFC 5280 §5): :meth:`HubPki.crl` gives each root's and each
issuing CA's X.509 v2 CRL, signed by that CA's key. The revoked certificates
come from a ``revocations`` source (the hub wires in the seal registry's
revoked seals); each CA lists only what it issued (issuer name and key
identifier). nextUpdate is thisUpdate + 24 h; a CRL is reused for at most an
hour and regenerated at once when the revoked set changes, so a revocation is
in the next CRL fetched from this process. The cRLNumber is thisUpdate in
microseconds since the epoch: increasing without stored state. Seal
certificates name the CRL's URL (``<base>/pki/crl/<alg>.crl``) in a
cRLDistributionPoints extension when the hub knows its base URL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, Database, UTCDateTime, utcnow
from keys import KeyPurpose, KeyState, KeyStore
from trust import CertificateError, KeyFamily
from trust.pki import (
    Certificate,
    issue_ca,
    issue_crl,
    issue_end_entity,
    issue_root,
    load_certificate,
)

__all__ = ["HubCertificate", "HubPki", "FAMILIES", "CRL_VALIDITY", "CRL_PATH"]

# (signature algorithm, family, display name)
FAMILIES: Final = (
    ("SM2", KeyFamily.SM2, "SM2"),
    ("ES256", KeyFamily.P256, "ECC"),
    ("RS256", KeyFamily.RSA, "RSA"),
)
ROOT_OWNER: Final = "hub:root"
CA_OWNER: Final = "hub:ca"
ORG: Final = "国家政务服务平台"
_ROOT_LIFE: Final = timedelta(days=20 * 365)
_CA_LIFE: Final = timedelta(days=10 * 365)
_EE_LIFE: Final = timedelta(days=2 * 365)
#: nextUpdate − thisUpdate of the hub's CRLs.
CRL_VALIDITY: Final = timedelta(hours=24)
#: A CRL whose revoked set has not changed is reused this long.
_CRL_REUSE: Final = timedelta(hours=1)
#: Where the HTTP app serves the CRLs: ``/pki/crl/ES256.crl``, ``/pki/crl/ES256-root.crl``.
CRL_PATH: Final = "/pki/crl/"
#: The revoked certificates: (certificate, time of revocation) pairs.
Revocations = Callable[[], Iterable[tuple[Certificate, datetime]]]
_PURPOSE_NAMES: Final = {
    "trust_list": "信任列表签名",
    "tsa": "时间戳",
    "log": "透明日志",
    "status_list": "状态列表",
    "id_token": "身份令牌",
    "seal": "电子印章",
    "license": "电子证照",
    "access_token": "访问令牌",
}


class HubCertificate(Base):
    """A certificate the hub issued for one of its own keys."""

    __tablename__ = "hub_certificates"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(8))  # root | ca | ee
    purpose: Mapped[str] = mapped_column(String(32))
    algorithm: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HubPki:
    """Creates and finds the hub's certificates."""

    def __init__(
        self,
        db: Database,
        keys: KeyStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        revocations: Revocations | None = None,
        base_url: str | None = None,
    ) -> None:
        self._db = db
        self._keys = keys
        self._clock = clock
        self._revocations = revocations
        self._base_url = base_url.rstrip("/") if base_url else None
        self._crls: dict[tuple[str, bool], tuple[frozenset[tuple[int, datetime]], datetime, bytes]]
        self._crls = {}
        self._crl_lock = threading.Lock()
        self._crl_number = 0

    # ------------------------------------------------------------------ queries

    def roots(self) -> list[Certificate]:
        """Every hub root certificate still valid now (pin these)."""
        return self._certs(role="root")

    def cas(self) -> list[Certificate]:
        return self._certs(role="ca")

    def certificate_for(self, kid: str) -> Certificate | None:
        """The newest valid certificate for key ``kid``."""
        certs = self._certs(kid=kid)
        return certs[-1] if certs else None

    def chain_for(self, kid: str) -> tuple[Certificate, ...]:
        """(end-entity, issuing CA) for a hub key; the root is not included."""
        leaf = self.certificate_for(kid)
        if leaf is None:
            raise CertificateError(f"key {kid} has no certificate", code="cert_missing")
        for ca in self.cas():
            if ca.subject == leaf.issuer and ca.ski == leaf.aki:
                return (leaf, ca)
        raise CertificateError(f"no issuing CA for {kid}", code="cert_unknown_issuer")

    def _certs(self, *, role: str | None = None, kid: str | None = None) -> list[Certificate]:
        now = self._clock()
        with self._db.session() as s:
            stmt = select(HubCertificate).where(
                HubCertificate.not_after > now, HubCertificate.not_before <= now
            )
            if role is not None:
                stmt = stmt.where(HubCertificate.role == role)
            if kid is not None:
                stmt = stmt.where(HubCertificate.kid == kid)
            rows = s.scalars(stmt.order_by(HubCertificate.not_before, HubCertificate.serial)).all()
            return [load_certificate(r.der) for r in rows]

    # ------------------------------------------------------------------ creation

    def ensure(self) -> list[str]:
        """Create missing roots, issuing CAs and certificates for the hub's
        trust-list keys (idempotent). Returns the subjects created."""
        created: list[str] = []
        for alg, _family, label in FAMILIES:
            root_key = self._active_key(KeyPurpose.CA, ROOT_OWNER, alg)
            root = self.certificate_for(root_key)
            if root is None:
                root = issue_root(
                    self._keys.signer_for(root_key, KeyPurpose.CA),
                    f"CN={ORG} {label} 根 CA,O={ORG},C=CN",
                    not_before=self._clock() - timedelta(minutes=5),
                    not_after=self._clock() + _ROOT_LIFE,
                    path_length=1,
                )
                self._store(root, root_key, "root", "ca", alg)
                created.append(str(root.subject))
            ca_key = self._active_key(KeyPurpose.CA, CA_OWNER, alg)
            if self.certificate_for(ca_key) is None:
                ca = issue_ca(
                    self._keys.signer_for(root_key, KeyPurpose.CA),
                    root,
                    self._keys.get(ca_key).public_key,
                    f"CN={ORG} {label} 运营 CA,O={ORG},C=CN",
                    not_before=self._clock() - timedelta(minutes=5),
                    not_after=min(self._clock() + _CA_LIFE, root.not_after),
                    path_length=0,
                )
                self._store(ca, ca_key, "ca", "ca", alg)
                created.append(str(ca.subject))
        for purpose in (KeyPurpose.TRUST_LIST, KeyPurpose.TSA):
            for info in self._keys.list(purpose=purpose, owner="hub", states=(KeyState.ACTIVE,)):
                if self.certificate_for(info.kid) is None:
                    created.append(str(self.certify(info.kid).subject))
        return created

    def certify(
        self, kid: str, *, subject: str | None = None, not_after: datetime | None = None
    ) -> Certificate:
        """Issue an end-entity certificate for key ``kid`` under the hub's issuing CA
        of its family (the key's purpose becomes the certificate's purpose). The
        subject defaults to a hub name; seals pass their holder's."""
        info = self._keys.get(kid)
        alg = info.algorithm.name
        ca_key = self._active_key(KeyPurpose.CA, CA_OWNER, alg, create=False)
        ca = self.certificate_for(ca_key)
        if ca is None:
            raise CertificateError(
                f"no issuing CA for {alg}; run govtrust init", code="cert_missing"
            )
        name = _PURPOSE_NAMES.get(info.purpose.value, info.purpose.value)
        cert = issue_end_entity(
            self._keys.signer_for(ca_key, KeyPurpose.CA),
            ca,
            info.public_key,
            subject or f"CN={ORG} {name} ({alg} {kid[:8]}),O={ORG},C=CN",
            purpose=info.purpose.value,
            not_before=self._clock() - timedelta(minutes=5),
            not_after=min(
                not_after or self._clock() + _EE_LIFE, self._clock() + _EE_LIFE, ca.not_after
            ),
            crl_urls=[url]
            if info.purpose is KeyPurpose.SEAL and (url := self.crl_url(alg))
            else (),
        )
        self._store(cert, kid, "ee", info.purpose.value, alg)
        return cert

    # ------------------------------------------------------------------ revocation

    def crl_url(self, alg: str, *, root: bool = False) -> str | None:
        """The URL the app serves :meth:`crl` at (``None`` without a base URL)."""
        if self._base_url is None:
            return None
        return f"{self._base_url}{CRL_PATH}{alg}{'-root' if root else ''}.crl"

    def crl(self, alg: str, *, root: bool = False) -> bytes:
        """The current DER CRL of the ``alg`` family's issuing CA (``root=True``:
        of the root, which certifies only the issuing CAs). Raises
        :class:`CertificateError` (``cert_missing``) for an unknown family or
        before ``govtrust init``."""
        if alg not in {a for a, _f, _l in FAMILIES}:
            raise CertificateError(f"no CRL for {alg!r}", code="cert_missing")
        owner = ROOT_OWNER if root else CA_OWNER
        ca_kid = self._active_key(KeyPurpose.CA, owner, alg, create=False)
        ca = self.certificate_for(ca_kid)
        if ca is None:
            raise CertificateError(f"no {owner} certificate for {alg}", code="cert_missing")
        entries = frozenset(
            (cert.serial, when.replace(microsecond=0))
            for cert, when in (self._revocations() if self._revocations else ())
            if cert.issuer.matches(ca.subject) and (cert.aki is None or cert.aki == ca.ski)
        )
        now = self._clock().replace(microsecond=0)
        key = (alg, root)
        with self._crl_lock:
            hit = self._crls.get(key)
            if hit is not None and hit[0] == entries and hit[1] <= now < hit[1] + _CRL_REUSE:
                return hit[2]
            der = issue_crl(
                self._keys.signer_for(ca_kid, KeyPurpose.CA),
                ca,
                sorted((serial, when, None) for serial, when in entries),
                this_update=now,
                next_update=now + CRL_VALIDITY,
                crl_number=self._next_crl_number(),
            )
            self._crls[key] = (entries, now, der)
            return der

    def _next_crl_number(self) -> int:
        # Microseconds since the epoch (increasing across restarts and workers, no
        # stored state), and strictly increasing within this process.
        self._crl_number = max(self._crl_number + 1, int(self._clock().timestamp() * 1_000_000))
        return self._crl_number

    def _active_key(self, purpose: KeyPurpose, owner: str, alg: str, *, create: bool = True) -> str:
        for info in self._keys.list(purpose=purpose, owner=owner, states=(KeyState.ACTIVE,)):
            if info.algorithm.name == alg:
                return info.kid
        if not create:
            raise CertificateError(f"no active {owner} {alg} key", code="cert_missing")
        return self._keys.generate(purpose, alg, owner=owner, label=f"{owner} {alg}").kid

    def _store(self, cert: Certificate, kid: str, role: str, purpose: str, alg: str) -> None:
        with self._db.write() as s:
            s.add(
                HubCertificate(
                    serial=format(cert.serial, "x"),
                    kid=kid,
                    role=role,
                    purpose=purpose,
                    algorithm=alg,
                    subject=str(cert.subject)[:300],
                    der=cert.der,
                    not_before=cert.not_before,
                    not_after=cert.not_after,
                    created_at=self._clock(),
                )
            )
