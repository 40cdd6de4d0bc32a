"""Sealing operations: one code path for the HTTP API, the console and the CLI.

:meth:`SealingService.seal` applies one seal of the caller's to one document:

* ``ofd`` — an OFD package sealed per GB/T 33190 ch. 18 (SM2 seals);
* ``pdf`` — a PAdES seal with a visible seal image (RSA/ECDSA seals), at level
  B-T (a time-stamp from the hub's TSA; the default) or B-LT (plus a /DSS with
  the hub's CA certificates and fresh CRLs — :meth:`SealingService.pdf_validation_context`);
* ``ses`` — a detached GB/T 38540 ``SES_Signature`` over any file or over an SM3
  digest the agency computed (hash mode: the document never leaves it);
* ``cms`` — a detached CMS SignedData (RFC 5652; GB/T 35275 algorithm OIDs for
  SM2) over any file or a digest (SM3 for SM2 seals, SHA-256 otherwise).

The rules of SECURITY.md "Seals", in order:

1. object-level authorisation — the caller's participant must hold the seal;
   otherwise :class:`SealForbidden` (HTTP 403) and an audit event
   (``seal.denied``, a log leaf too);
2. the seal must be active and within its validity;
3. the digest is computed here from the uploaded bytes (or taken from the
   hash-mode request) and the signature binds exactly that digest;
4. the operation row and its log leaf are committed before the result is
   returned; with an ``Idempotency-Key`` the same key and the same request
   give the same stored result, the same key with another request is
   :class:`IdempotencyConflict` (HTTP 422) — also when two such requests race.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from govtrust.db import Database, insert_now, utcnow
from govtrust.events import EventLog, NullEventLog
from trust.cms import sign_detached
from trust.errors import TrustError
from trust.hashes import sm3

from .models import SealOperation
from .registry import SealError, SealRegistry, SealStatus, SealView

__all__ = [
    "FORMATS",
    "PADES_LEVELS",
    "IdempotencyConflict",
    "SealForbidden",
    "SealRequest",
    "SealResult",
    "SealingService",
]

FORMATS: Final = ("ofd", "pdf", "ses", "cms")
MEDIA_TYPES: Final = {
    "ofd": "application/ofd",
    "pdf": "application/pdf",
    "ses": "application/octet-stream",
    "cms": "application/pkcs7-signature",
}
DIGEST_SIZES: Final = {"sm3": 32, "sha256": 32}
#: PAdES levels a PDF seal can be asked for (ETSI EN 319 142-1 §6); the first is the default.
PADES_LEVELS: Final = ("B-T", "B-LT")
DEFAULT_PADES_LEVEL: Final = PADES_LEVELS[0]
#: Families of the hub PKI whose CAs sign PDF seal and TSA certificates.
_PDF_FAMILIES: Final = ("ES256", "RS256")


class SealForbidden(TrustError):
    """The caller may not use this seal (it is not the holder's)."""

    code = "seal_forbidden"


class IdempotencyConflict(TrustError):
    """The Idempotency-Key was used before for a different request."""

    code = "idempotency_conflict"


@dataclass(frozen=True)
class SealRequest:
    """What to seal and how. Exactly one of ``document`` and ``digest`` (hash mode,
    ``ses`` and ``cms`` only). Pages are 1-based; positions in millimetres from
    the page's top-left corner (OFD) or bottom-left corner (PDF)."""

    seal_id: str
    format: str
    document: bytes | None = None
    digest: bytes | None = None
    digest_alg: str | None = None
    page: int = 1
    x_mm: float = 20.0
    y_mm: float = 20.0
    cross_page: bool = False
    property_info: str = ""
    level: str = DEFAULT_PADES_LEVEL  # PAdES level, for format pdf only

    def fingerprint(self) -> str:
        """SHA-256 over everything that determines the result (for idempotency)."""
        h = hashlib.sha256()
        meta = {
            "seal": self.seal_id,
            "format": self.format,
            "digest_alg": self.digest_alg,
            "page": self.page,
            "x": self.x_mm,
            "y": self.y_mm,
            "cross": self.cross_page,
            "property": self.property_info,
            "mode": "document" if self.document is not None else "digest",
        }
        if self.level != DEFAULT_PADES_LEVEL:  # keeps fingerprints of earlier requests
            meta["level"] = self.level
        h.update(json.dumps(meta, sort_keys=True).encode())
        h.update(b"\0")
        h.update(self.document if self.document is not None else (self.digest or b""))
        return h.hexdigest()


@dataclass(frozen=True)
class SealResult:
    operation_id: str
    seal_id: str
    format: str
    media_type: str
    data: bytes
    digest_alg: str
    digest_hex: str
    created_at: datetime
    replayed: bool = False
    log_index: int | None = None


class SealingService:
    """Seal documents with registered seals (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        *,
        registry: SealRegistry,
        log: EventLog | None = None,
        clock: Callable[[], datetime] = utcnow,
        timestamper: Any = None,
        pki: Any = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._log: EventLog = log or NullEventLog()
        self._clock = clock
        self._timestamper = timestamper  # a pyHanko TimeStamper for PAdES B-T, or None
        self._pki = pki  # govtrust.hubpki.HubPki (roots, cas, crl) for PAdES B-LT, or None

    def seal(
        self,
        request: SealRequest,
        *,
        holder_id: str,
        client_id: str,
        idempotency_key: str | None = None,
    ) -> SealResult:
        """Apply the seal for ``holder_id`` (the caller's participant), recorded under
        ``client_id`` (the OAuth client or operator)."""
        if request.format not in FORMATS:
            raise SealError(f"format must be one of {', '.join(FORMATS)}", code="invalid_format")
        if request.level not in PADES_LEVELS:
            raise SealError(f"level must be one of {', '.join(PADES_LEVELS)}", code="invalid_level")
        if request.level != DEFAULT_PADES_LEVEL and request.format != "pdf":
            raise SealError("a PAdES level applies to format pdf only", code="invalid_level")
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise SealError(
                "Idempotency-Key must have 1–200 characters", code="invalid_idempotency_key"
            )
        fingerprint = request.fingerprint()
        if idempotency_key is not None:
            earlier = self._stored(client_id, idempotency_key, fingerprint)
            if earlier is not None:
                return earlier
        seal = self._registry.get(request.seal_id)
        if seal.holder_id != holder_id:
            self._deny(seal, holder_id, client_id)
        if seal.status is not SealStatus.ACTIVE:
            raise SealError(f"seal {seal.id} is {seal.status}", code=f"seal_{seal.status.value}")
        now = self._clock()
        if not seal.valid_from <= now < seal.valid_to:
            raise SealError(f"seal {seal.id} is not valid now", code="seal_expired")
        data, digest_alg, digest_hex = self._apply(seal, request, now)
        return self._record(
            seal, request, data, digest_alg, digest_hex, client_id, idempotency_key, fingerprint
        )

    # ------------------------------------------------------------------ the formats

    def _apply(self, seal: SealView, req: SealRequest, now: datetime) -> tuple[bytes, str, str]:
        signer, cert, chain = self._registry.signer(seal)
        if req.format in ("ofd", "pdf"):
            if req.document is None or req.digest is not None:
                raise SealError(
                    f"{req.format} sealing needs the document", code="document_required"
                )
        elif (req.document is None) == (req.digest is None):
            raise SealError(
                "give exactly one of the document and its digest", code="invalid_request"
            )
        if req.format == "ofd":
            if seal.algorithm != "SM2" or seal.ses_seal_der is None:
                raise SealError(
                    "OFD documents are sealed with SM2 seals", code="wrong_seal_algorithm"
                )
            from .ofd_sign import seal_ofd

            assert req.document is not None
            out = seal_ofd(
                req.document,
                seal_der=seal.ses_seal_der,
                signer=signer,
                signer_cert=cert,
                sign_time=now,
                page=req.page,
                x_mm=req.x_mm,
                y_mm=req.y_mm,
                cross_page=req.cross_page,
            )
            return out, "sm3", sm3(req.document).hex()
        if req.format == "pdf":
            if seal.algorithm == "SM2":
                raise SealError(
                    "PDF documents are sealed with RSA or ECDSA seals", code="wrong_seal_algorithm"
                )
            from .pades import seal_pdf

            assert req.document is not None
            level = req.level
            if self._timestamper is None:
                if level != DEFAULT_PADES_LEVEL:
                    raise SealError(
                        f"{level} needs the hub's time-stamping authority", code="invalid_level"
                    )
                level = "B-B"
            context = self.pdf_validation_context() if level == "B-LT" else None
            out = seal_pdf(
                req.document,
                signer=signer,
                certificate=cert,
                chain=chain,
                seal_png=seal.image_png,
                page=req.page - 1,
                x_mm=req.x_mm,
                y_mm=req.y_mm,
                size_mm=seal.width_mm,
                level=level,
                timestamper=self._timestamper,
                validation_context=context,
                name=seal.name,
            )
            return out, "sha256", hashlib.sha256(req.document).hexdigest()
        hash_name = "sm3" if seal.algorithm == "SM2" else "sha256"
        if req.digest is not None:
            if (req.digest_alg or hash_name) != hash_name:
                raise SealError(
                    f"a {seal.algorithm} seal signs {hash_name} digests",
                    code="wrong_digest_algorithm",
                )
            if len(req.digest) != DIGEST_SIZES[hash_name]:
                raise SealError(f"a {hash_name} digest has 32 bytes", code="bad_digest")
            digest = req.digest
        else:
            assert req.document is not None
            digest = (
                sm3(req.document) if hash_name == "sm3" else hashlib.sha256(req.document).digest()
            )
        if req.format == "ses":
            if seal.algorithm != "SM2" or seal.ses_seal_der is None:
                raise SealError(
                    "SES signatures are made with SM2 seals", code="wrong_seal_algorithm"
                )
            from .sealing import sign_digest

            out = sign_digest(
                seal_der=seal.ses_seal_der,
                signer=signer,
                signer_cert=cert,
                data_hash=digest,
                property_info=req.property_info[:200],
                sign_time=now,
            )
        else:
            out = sign_detached(
                signer, cert, digest=(hash_name, digest), signing_time=now, chain=chain
            )
        return out, hash_name, digest.hex()

    def pdf_validation_context(self) -> Any:
        """The pyHanko ``ValidationContext`` a B-LT seal is validated and embedded
        with: the hub's ECDSA and RSA roots as the only trust anchors, their issuing
        CAs, and the current CRLs of those roots and CAs from the hub itself
        (:meth:`govtrust.hubpki.HubPki.crl`). Revocation data is required for every
        certificate of the seal's and the TSA's paths; nothing is fetched from the
        network; the validation time is the hub's clock. A seal certificate on a
        CRL makes sealing fail (``pades_signing_failed``)."""
        if self._pki is None:
            raise SealError("B-LT needs the hub PKI's CRLs", code="invalid_level")
        from asn1crypto import crl as asn1_crl
        from asn1crypto import x509 as asn1_x509
        from pyhanko_certvalidator import ValidationContext

        def asn1(certs: Any) -> list[asn1_x509.Certificate]:
            return [
                asn1_x509.Certificate.load(c.der)
                for c in certs
                if c.signature_algorithm.name in _PDF_FAMILIES
            ]

        return ValidationContext(
            trust_roots=asn1(self._pki.roots()),
            other_certs=asn1(self._pki.cas()),
            crls=[
                asn1_crl.CertificateList.load(self._pki.crl(alg, root=root))
                for alg in _PDF_FAMILIES
                for root in (False, True)
            ],
            ocsps=[],
            allow_fetching=False,
            revocation_mode="require",
            moment=self._clock(),
        )

    # ------------------------------------------------------------------ records

    def _record(
        self,
        seal: SealView,
        req: SealRequest,
        data: bytes,
        digest_alg: str,
        digest_hex: str,
        client_id: str,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> SealResult:
        op_id = str(uuid.uuid4())
        now = self._clock()
        with self._db.write() as s:
            if idempotency_key is not None:
                # Twins racing with one key: the second waits here (advisory lock on
                # PostgreSQL; SQLite's write lock already serialises), then replays.
                self._db.serialize(s, f"seal-idempotency:{client_id}:{idempotency_key}")
                existing = s.scalar(
                    select(SealOperation).where(
                        SealOperation.client_id == client_id,
                        SealOperation.idempotency_key == idempotency_key,
                    )
                )
                if existing is not None:  # a concurrent twin committed first
                    return self._replay(existing, fingerprint)
            index = self._log.append(
                s,
                "seal.used",
                {
                    "seal": seal.id,
                    "holder": seal.holder_id,
                    "client": client_id,
                    "format": req.format,
                    "digest_alg": digest_alg,
                    "digest": digest_hex,
                    "operation": op_id,
                    "at": now.isoformat(),
                },
            )
            insert_now(
                s,
                SealOperation(
                    id=op_id,
                    seal_id=seal.id,
                    client_id=client_id[:100],
                    format=req.format,
                    digest_alg=digest_alg,
                    digest=digest_hex,
                    idempotency_key=idempotency_key,
                    request_hash=fingerprint,
                    media_type=MEDIA_TYPES[req.format],
                    result=data,
                    created_at=now,
                    log_index=index if index >= 0 else None,
                ),
            )
        return SealResult(
            operation_id=op_id,
            seal_id=seal.id,
            format=req.format,
            media_type=MEDIA_TYPES[req.format],
            data=data,
            digest_alg=digest_alg,
            digest_hex=digest_hex,
            created_at=now,
            log_index=index if index >= 0 else None,
        )

    def _stored(self, client_id: str, key: str, fingerprint: str) -> SealResult | None:
        with self._db.session() as s:
            row = s.scalar(
                select(SealOperation).where(
                    SealOperation.client_id == client_id, SealOperation.idempotency_key == key
                )
            )
            return self._replay(row, fingerprint) if row is not None else None

    @staticmethod
    def _replay(row: SealOperation, fingerprint: str) -> SealResult:
        if row.request_hash != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was used for a different request", code="idempotency_conflict"
            )
        return SealResult(
            operation_id=row.id,
            seal_id=row.seal_id,
            format=row.format,
            media_type=row.media_type,
            data=row.result,
            digest_alg=row.digest_alg,
            digest_hex=row.digest,
            created_at=row.created_at,
            replayed=True,
            log_index=row.log_index,
        )

    def _deny(self, seal: SealView, holder_id: str, client_id: str) -> None:
        with self._db.write() as s:
            self._log.append(
                s,
                "seal.denied",
                {
                    "seal": seal.id,
                    "caller": holder_id,
                    "client": client_id,
                    "at": self._clock().isoformat(),
                },
            )
        raise SealForbidden(f"seal {seal.id} does not belong to {holder_id}")

    def operations(self, *, seal_id: str | None = None, limit: int = 100) -> list[SealOperation]:
        with self._db.session() as s:
            stmt = select(SealOperation).order_by(SealOperation.created_at.desc()).limit(limit)
            if seal_id is not None:
                stmt = stmt.where(SealOperation.seal_id == seal_id)
            return list(s.scalars(stmt).all())
