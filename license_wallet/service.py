"""The e-license issuing service: issue, revoke, suspend, reinstate; status lists.

Database-bound, Flask-free; the HTTP API (:mod:`license_wallet.api`) and the CLI
(``govtrust license``) call the same methods. Builds on the format code:
:func:`~license_wallet.credential.issue_credential` (COSE_Sign1 with selective
disclosure), :mod:`license_wallet.identifier` (GB/T 36904) and
:class:`~license_wallet.status_list.StatusList` (draft-ietf-oauth-status-list).

Rules:

* The issuer must be an **active** ``license_issuer`` participant of the
  registry, hold a USCC (the identifier embeds it) and be granted the type
  (``participant_license_types`` holds the catalogue's 证照类型代码, e.g.
  ``11100000000013338W001``, as published in the trust list).
* Each issuer signs with its own ``license`` key (owner
  ``license-issuer:<participant>``), created on first use with the issuer's
  algorithm (:data:`ISSUER_ALGORITHMS`, SM2 by default), and its status list
  with its own ``status_list`` key of the same algorithm (one purpose per key).
* The status index is allocated by one atomic ``UPDATE … SET next_index =
  next_index + 1 … RETURNING`` inside the issuing transaction (``BEGIN
  IMMEDIATE`` on SQLite, the row lock on PostgreSQL): unique, never reused, and
  gap-free (a failed issuance rolls its index back). ``UNIQUE (status_list_id,
  status_idx)`` is the backstop.
* The license row, its ``license.issued`` event and its transparency-log leaf
  are written in one transaction before the credential is returned; so are
  the lifecycle changes (valid → revoked is final, valid ⇄ suspended).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govtrust.db import Database, utcnow
from govtrust.events import EventLog, NullEventLog
from keys import KeyPurpose, KeyState, KeyStore
from trust.algorithms import KeyFamily
from trust.cose import encode_deterministic, sign1
from trust.crypto import PublicKey, Signer, b64url, public_key_from_jwk
from trust.errors import InvalidKey, TrustError

from .credential import issue_credential
from .errors import LicenseError
from .identifier import build_identifier
from .models import LicenseEvent, LicenseRecord, StatusListRecord
from .status_list import StatusList, StatusType
from .types import license_type, validate_fields

__all__ = [
    "DEFAULT_LIST_SIZE",
    "ISSUER_ALGORITHMS",
    "STATUS_LIST_MEDIA_TYPE",
    "Idempotency",
    "IssueRequest",
    "BatchItemResult",
    "LicenseService",
    "LicenseServiceError",
    "LicenseStatus",
    "LicenseView",
    "StatusListToken",
]

#: Slots per status list (2 bits each: 256 KiB uncompressed, a few hundred bytes
#: compressed while few are revoked). A full list is followed by the next one.
DEFAULT_LIST_SIZE: Final = 1 << 20
OWNER_PREFIX: Final = "license-issuer:"
#: Issuers whose license keys are ES256; every other issuer signs with SM2.
ISSUER_ALGORITHMS: Final[Mapping[str, str]] = {"gd": "ES256", "samr": "ES256"}
STATUS_LIST_MEDIA_TYPE: Final = "application/statuslist+cwt"
#: Status-list URIs are ``<base>/sl/<list>`` (short: every credential carries one);
#: lists made before migration 0013 keep ``<base>/api/license/v1/status/<list>.cwt``.
SHORT_STATUS_PATH: Final = "/sl/"
LEGACY_STATUS_PATH: Final = "/api/license/v1/status/"
#: CWT claim keys of draft-ietf-oauth-status-list (§5.2, IANA CWT registry).
CLAIM_SUB, CLAIM_EXP, CLAIM_IAT, CLAIM_TTL, CLAIM_STATUS_LIST = 2, 4, 6, 65534, 65533
STATUS_TOKEN_LIFETIME: Final = timedelta(hours=24)
#: Verifiers re-fetch after this long (``ttl`` claim and ``Cache-Control: max-age``).
STATUS_TOKEN_TTL: Final = 300
#: Registry states in which an issuer (and its keys) appear in the trust list.
_LISTED_STATES: Final = frozenset({"active", "suspended", "revoked"})
#: A cached token is re-signed when older than this even if nothing changed; a
#: list unchanged since the previous token is then compressed with Zopfli (see
#: :meth:`LicenseService.status_list_token`).
STATUS_TOKEN_REFRESH: Final = timedelta(hours=1)
COSE_KID_LENGTH: Final = 8
#: How long an issuer's active key id is remembered (rotation is seen within this).
KEY_CACHE_SECONDS: Final = 5.0
MAX_BATCH: Final = 1000


class LicenseStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


_STATUS_VALUE: Final = {
    LicenseStatus.VALID: StatusType.VALID,
    LicenseStatus.REVOKED: StatusType.INVALID,
    LicenseStatus.SUSPENDED: StatusType.SUSPENDED,
}

_TRANSITIONS: Final[dict[str, tuple[frozenset[LicenseStatus], LicenseStatus]]] = {
    "revoke": (frozenset({LicenseStatus.VALID, LicenseStatus.SUSPENDED}), LicenseStatus.REVOKED),
    "suspend": (frozenset({LicenseStatus.VALID}), LicenseStatus.SUSPENDED),
    "reinstate": (frozenset({LicenseStatus.SUSPENDED}), LicenseStatus.VALID),
}


class LicenseServiceError(LicenseError):
    """A refused issuing or lifecycle request; ``code`` says which rule:
    ``unknown_participant``, ``participant_inactive``, ``role_missing``,
    ``license_type_not_granted``, ``issuer_without_uscc``, ``holder_key_invalid``,
    ``invalid_validity``, ``idempotency_conflict``, ``license_unknown``, ``license_forbidden`` (another
    issuer's license), ``invalid_transition``, ``status_list_unknown``,
    ``batch_too_large``."""

    code = "license_service_error"


@dataclass(frozen=True)
class LicenseView:
    """A read-only snapshot of one license (the credential bytes included: they
    hold no secret of the issuer; the disclosures are the holder's data)."""

    id: str
    identifier: str
    type_code: str
    issuer_id: str
    holder_subject: str
    holder_key_jwk: Mapping[str, Any]
    fields: Mapping[str, str]
    valid_from: datetime
    valid_until: datetime | None
    status: LicenseStatus
    status_list_id: str
    status_idx: int
    status_uri: str
    key_id: str
    issued_at: datetime
    credential: bytes
    log_index: int | None
    replayed: bool = False  #: returned again for a repeated Idempotency-Key

    def as_json(self, *, with_credential: bool = True) -> dict[str, Any]:
        lt = license_type(self.type_code)
        out: dict[str, Any] = {
            "id": self.id,
            "identifier": self.identifier,
            "type_code": self.type_code,
            "type_name": lt.name_zh,
            "type_slug": lt.slug,
            "issuer": self.issuer_id,
            "holder": self.holder_subject,
            "fields": dict(self.fields),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "status": self.status.value,
            "status_list": {"uri": self.status_uri, "idx": self.status_idx},
            "kid": self.key_id,
            "issued_at": self.issued_at.isoformat(),
            "log_index": self.log_index,
        }
        if with_credential:
            out["credential"] = b64url(self.credential)
        return out


@dataclass(frozen=True)
class IssueRequest:
    """One license to issue (an item of :meth:`LicenseService.issue_batch`)."""

    issuer_id: str
    type_code: str
    holder_subject: str
    holder_key_jwk: Mapping[str, Any]
    fields: Mapping[str, str]
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class BatchItemResult:
    index: int
    license: LicenseView | None = None
    error: str | None = None  #: the error code
    message: str | None = None
    field: str | None = None  #: the license field at fault, when one is

    @property
    def ok(self) -> bool:
        return self.license is not None


@dataclass(frozen=True)
class StatusListToken:
    """A signed status list (CWT, draft-ietf-oauth-status-list §5.2)."""

    list_id: str
    issuer_id: str
    version: int
    token: bytes
    issued_at: datetime
    expires_at: datetime
    ttl: int = STATUS_TOKEN_TTL
    etag: str = field(default="")
    compact: bool = False  #: ``lst`` compressed with Zopfli (a settled list)


_LicenseList = list[LicenseView]
#: (client id, Idempotency-Key, SHA-256 of the request body, hex)
Idempotency = tuple[str, str, str]
_LISTS: Table = StatusListRecord.__table__  # type: ignore[assignment]


class LicenseService:
    """Licenses of ``license_issuer`` participants: issue, lifecycle, status lists."""

    def __init__(
        self,
        db: Database,
        *,
        keys: KeyStore,
        participants: Any,
        base_url: str,
        log: EventLog | None = None,
        clock: Callable[[], datetime] = utcnow,
        list_size: int = DEFAULT_LIST_SIZE,
        algorithms: Mapping[str, str] = ISSUER_ALGORITHMS,
    ) -> None:
        self._db = db
        self._keys = keys
        self._participants = participants  # govtrust.registry.Registry (find)
        self._base_url = base_url.rstrip("/")
        self._log: EventLog = log or NullEventLog()
        self._clock = clock
        self._list_size = list_size
        self._algorithms = dict(algorithms)
        self._key_lock = threading.Lock()
        self._tokens: dict[str, StatusListToken] = {}
        self._kids: dict[tuple[str, KeyPurpose], tuple[float, str]] = {}
        self._uri_paths: dict[str, str] = {}  # list id -> its URI's path (never changes)

    # ------------------------------------------------------------------ URIs

    def status_uri(self, list_id: str) -> str:
        """The URI that credentials and the list's token name for one status list:
        ``<base>/sl/<list>``, or for a list made before migration 0013 the long
        form ``<base>/api/license/v1/status/<list>.cwt`` (both are served)."""
        path = self._uri_paths.get(list_id)
        if path is None:
            with self._db.session() as s:
                stored = s.scalar(
                    select(StatusListRecord.uri_path).where(StatusListRecord.id == list_id)
                )
            path = stored or f"{LEGACY_STATUS_PATH}{list_id}.cwt"
            if len(self._uri_paths) < 10_000:
                self._uri_paths[list_id] = path
        return f"{self._base_url}{path}"

    def list_for_uri(self, uri: str) -> str | None:
        """The id of this hub's status list that ``uri`` names exactly, or None."""
        if not uri.startswith(self._base_url + "/"):
            return None
        path = uri[len(self._base_url) :]
        if path.startswith(SHORT_STATUS_PATH):
            list_id = path[len(SHORT_STATUS_PATH) :]
        elif path.startswith(LEGACY_STATUS_PATH) and path.endswith(".cwt"):
            list_id = path[len(LEGACY_STATUS_PATH) : -len(".cwt")]
        else:
            return None
        if not list_id or len(list_id) > 80 or "/" in list_id:
            return None
        return list_id if self.status_uri(list_id) == uri else None

    # ------------------------------------------------------------------ keys

    def algorithm_for(self, issuer_id: str) -> str:
        return self._algorithms.get(issuer_id, "SM2")

    def _issuer_key(self, issuer_id: str, purpose: KeyPurpose) -> tuple[str, Signer]:
        """(kid, signer) of the issuer's active key for ``purpose``, made on first use."""
        owner = OWNER_PREFIX + issuer_id
        hit = self._kids.get((issuer_id, purpose))
        if hit is not None and time.monotonic() - hit[0] < KEY_CACHE_SECONDS:
            return hit[1], self._keys.signer_for(hit[1], purpose)
        with self._key_lock:
            active = self._keys.list(purpose=purpose, owner=owner, states=(KeyState.ACTIVE,))
            if not active:
                info = self._keys.generate(
                    purpose,
                    self.algorithm_for(issuer_id),
                    owner=owner,
                    label=f"{purpose} {issuer_id}",
                )
                kid = info.kid
            else:
                kid = active[-1].kid
            self._kids[(issuer_id, purpose)] = (time.monotonic(), kid)
        return kid, self._keys.signer_for(kid, purpose)

    def _ensure_issuer_key(self, issuer_id: str, purpose: KeyPurpose) -> None:
        """Make the issuer's key for ``purpose`` if it has none (no signer needed)."""
        hit = self._kids.get((issuer_id, purpose))
        if hit is None or time.monotonic() - hit[0] >= KEY_CACHE_SECONDS:
            self._issuer_key(issuer_id, purpose)

    def ensure_issuer_keys(self, issuer_id: str) -> list[str]:
        """The issuer's license and status-list keys (created when missing)."""
        self._issuer(issuer_id)
        return [
            self._issuer_key(issuer_id, p)[0] for p in (KeyPurpose.LICENSE, KeyPurpose.STATUS_LIST)
        ]

    def issuers(self) -> list[dict[str, Any]]:
        """Every listed license issuer (active, suspended or revoked: ``status``)
        with its published keys (active and retiring license and status-list
        keys) — what verifiers need; an inactive issuer's keys stay listed so that
        verifiers can say "issuer inactive" rather than "unknown". ``cose_kid`` is
        the COSE ``kid`` (base64url) the credentials carry."""
        out = []
        for p in self._participants.list():
            if p.status.value not in _LISTED_STATES or "license_issuer" not in p.roles:
                continue
            keys = []
            for purpose in (KeyPurpose.LICENSE, KeyPurpose.STATUS_LIST):
                for info in self._published(p.id, purpose):
                    keys.append(
                        {
                            "kid": info.kid,
                            "cose_kid": b64url(_cose_kid(info.kid)),
                            "purpose": purpose.value,
                            "alg": info.algorithm.name,
                            "state": info.state.value,
                            "jwk": info.public_key.jwk(kid=info.kid),
                        }
                    )
            out.append(
                {
                    "id": p.id,
                    "name_zh": p.name_zh,
                    "name_en": p.name_en,
                    "uscc": p.uscc,
                    "status": p.status.value,
                    "license_types": list(p.license_types),
                    "keys": keys,
                }
            )
        return out

    def _published(self, issuer_id: str, purpose: KeyPurpose) -> list[Any]:
        now = self._clock()
        return [
            k
            for k in self._keys.list(
                purpose=purpose,
                owner=OWNER_PREFIX + issuer_id,
                states=(KeyState.ACTIVE, KeyState.RETIRING),
            )
            if k.state is KeyState.ACTIVE or (k.verify_until is not None and k.verify_until > now)
        ]

    def issuer_keys(self) -> Callable[[str, bytes | None], Sequence[PublicKey]]:
        """An ``issuer_keys`` lookup for :func:`~license_wallet.credential.
        verify_presentation`: the license keys of ``iss`` (only while it is an
        active license issuer) whose COSE kid matches (every key when no kid)."""

        def lookup(iss: str, kid: bytes | None) -> Sequence[PublicKey]:
            p = self._participants.find(iss) if isinstance(iss, str) else None
            if p is None or p.status.value != "active" or not p.has_role("license_issuer"):
                return []
            return [
                k.public_key
                for k in self._published(iss, KeyPurpose.LICENSE)
                if kid is None or _cose_kid(k.kid) == kid
            ]

        return lookup

    # ------------------------------------------------------------------ queries

    def get(self, license_id: str) -> LicenseView:
        with self._db.session() as s:
            row = s.get(LicenseRecord, license_id) if isinstance(license_id, str) else None
            if row is None:
                raise LicenseServiceError(f"no license {license_id!r}", code="license_unknown")
            return self._view(row)

    def list_for_holder(self, holder_subject: str) -> _LicenseList:
        with self._db.session() as s:
            rows = s.scalars(
                select(LicenseRecord)
                .where(LicenseRecord.holder_subject == holder_subject)
                .order_by(LicenseRecord.issued_at, LicenseRecord.id)
            ).all()
            return [self._view(r) for r in rows]

    def list_for_issuer(self, issuer_id: str, *, limit: int = 1000) -> _LicenseList:
        with self._db.session() as s:
            rows = s.scalars(
                select(LicenseRecord)
                .where(LicenseRecord.issuer_id == issuer_id)
                .order_by(LicenseRecord.issued_at, LicenseRecord.id)
                .limit(limit)
            ).all()
            return [self._view(r) for r in rows]

    def events(self, license_id: str) -> list[LicenseEvent]:
        with self._db.session() as s:
            return list(
                s.scalars(
                    select(LicenseEvent)
                    .where(LicenseEvent.license_id == license_id)
                    .order_by(LicenseEvent.id)
                ).all()
            )

    def status_of(self, uri: str, idx: int) -> int:
        """A ``status_lookup`` for :func:`verify_presentation` over this hub's own
        lists (raises :class:`LicenseServiceError` for a list it does not serve)."""
        list_id = self.list_for_uri(uri) if isinstance(uri, str) else None
        if list_id is None:
            raise LicenseServiceError("not one of this hub's lists", code="status_list_unknown")
        with self._db.session() as s:
            rec = s.get(StatusListRecord, list_id)
            if rec is None:
                raise LicenseServiceError("no such list", code="status_list_unknown")
            if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < rec.size:
                raise LicenseServiceError("index outside the list", code="status_list_unknown")
            status = s.scalar(
                select(LicenseRecord.status).where(
                    LicenseRecord.status_list_id == list_id, LicenseRecord.status_idx == idx
                )
            )
        return int(_STATUS_VALUE[LicenseStatus(status)]) if status else int(StatusType.VALID)

    # ------------------------------------------------------------------ issuance

    def issue(
        self,
        issuer_id: str,
        type_code: str,
        holder_subject: str,
        holder_key_jwk: Mapping[str, Any],
        fields: Mapping[str, str],
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        *,
        actor: str,
        idempotency: Idempotency | None = None,
    ) -> LicenseView:
        """Issue one license; the row, its event and its log leaf are committed
        before this returns. Raises :class:`LicenseServiceError`,
        :class:`~license_wallet.errors.InvalidLicenseFields`,
        :class:`~license_wallet.errors.UnknownLicenseType`.

        With ``idempotency`` (client, key, request hash): a license already issued
        for (client, key) is returned again (``replayed``) when the hash matches,
        and refused (``idempotency_conflict``) when it does not — also when two
        requests race (the unique constraint decides)."""
        if idempotency is not None:
            found = self.find_idempotent(idempotency)
            if found is not None:
                return found
        issuer = self._issuer(issuer_id)
        lt = license_type(type_code)
        if lt.code not in issuer.license_types:
            raise LicenseServiceError(
                f"{issuer_id} may not issue {lt.name_zh} ({lt.code})",
                code="license_type_not_granted",
            )
        if not issuer.uscc:
            raise LicenseServiceError(
                f"{issuer_id} has no USCC for the identifier", code="issuer_without_uscc"
            )
        clean = validate_fields(lt.code, fields)
        if not isinstance(holder_subject, str) or not 0 < len(holder_subject) <= 128:
            raise LicenseServiceError("holder subject: 1–128 characters", code="holder_invalid")
        holder_jwk = _holder_jwk(holder_key_jwk)
        now = self._clock().replace(microsecond=0)
        start = _utc(valid_from or now, "valid_from")
        end = _utc(valid_until, "valid_until") if valid_until is not None else None
        if end is not None and end <= start:
            raise LicenseServiceError(
                "valid_until must be after valid_from", code="invalid_validity"
            )
        kid, signer = self._issuer_key(issuer.id, KeyPurpose.LICENSE)
        self._ensure_issuer_key(issuer.id, KeyPurpose.STATUS_LIST)  # published with the first
        license_id = secrets.token_hex(16)
        serial = f"{now:%Y}{_random_serial(12)}"
        identifier = build_identifier(lt.code, issuer.uscc, serial, 1)
        try:
            return self._store(
                issuer, lt.code, identifier, signer, kid, license_id, holder_subject,
                holder_jwk, clean, start, end, now, actor, idempotency,
            )  # fmt: skip
        except IntegrityError:
            found = self.find_idempotent(idempotency) if idempotency is not None else None
            if found is None:
                raise
            return found

    def find_idempotent(self, idempotency: Idempotency) -> LicenseView | None:
        """The license issued for (client, key), if any; ``idempotency_conflict``
        when it was issued for another request body."""
        client_id, key, request_hash = idempotency
        with self._db.session() as s:
            row = s.scalar(
                select(LicenseRecord).where(
                    LicenseRecord.client_id == client_id, LicenseRecord.idempotency_key == key
                )
            )
            if row is None:
                return None
            if row.request_hash != request_hash:
                raise LicenseServiceError(
                    "Idempotency-Key reused for another request", code="idempotency_conflict"
                )
            return replace(self._view(row), replayed=True)

    def _store(
        self,
        issuer: Any,
        type_code: str,
        identifier: Any,
        signer: Signer,
        kid: str,
        license_id: str,
        holder_subject: str,
        holder_jwk: dict[str, Any],
        clean: dict[str, str],
        start: datetime,
        end: datetime | None,
        now: datetime,
        actor: str,
        idempotency: Idempotency | None,
    ) -> LicenseView:
        lt = license_type(type_code)
        with self._db.unit() as s:
            list_id, idx = self._allocate(s, issuer.id)
            credential = issue_credential(
                signer,
                signer.algorithm.cose,
                issuer_id=issuer.id,
                type_code=lt.code,
                identifier=identifier,
                fields=clean,
                holder_public_key=holder_jwk,
                valid_from=start,
                valid_until=end,
                status_uri=self.status_uri(list_id),
                status_index=idx,
                issued_at=now,
                kid=_cose_kid(kid),
            )
            row = LicenseRecord(
                id=license_id,
                identifier=str(identifier),
                type_code=lt.code,
                issuer_id=issuer.id,
                holder_subject=holder_subject,
                holder_key_jwk=holder_jwk,
                fields=clean,
                valid_from=start,
                valid_until=end,
                status=LicenseStatus.VALID.value,
                status_list_id=list_id,
                status_idx=idx,
                key_id=kid,
                issued_at=now,
                updated_at=now,
                credential=credential,
                client_id=idempotency[0] if idempotency else None,
                idempotency_key=idempotency[1] if idempotency else None,
                request_hash=idempotency[2] if idempotency else None,
            )
            s.add(row)
            s.flush()
            row.log_index = self._event(
                s,
                row,
                "license.issued",
                actor,
                {
                    "issuer": issuer.id,
                    "type": lt.code,
                    "identifier": str(identifier),
                    "status_list": list_id,
                    "idx": idx,
                    "kid": kid,
                },
            )
            return self._view(row)

    def issue_batch(self, items: Sequence[IssueRequest], *, actor: str) -> list[BatchItemResult]:
        """Issue each item in its own transaction: an item is issued whole or not at
        all, and every failure is reported with its index and code."""
        if len(items) > MAX_BATCH:
            raise LicenseServiceError(
                f"a batch has at most {MAX_BATCH} items", code="batch_too_large"
            )
        results = []
        for i, item in enumerate(items):
            try:
                view = self.issue(
                    item.issuer_id,
                    item.type_code,
                    item.holder_subject,
                    item.holder_key_jwk,
                    item.fields,
                    item.valid_from,
                    item.valid_until,
                    actor=actor,
                )
            except TrustError as exc:
                results.append(
                    BatchItemResult(
                        i, error=exc.code, message=exc.message, field=getattr(exc, "field", None)
                    )
                )
            else:
                results.append(BatchItemResult(i, license=view))
        return results

    def _allocate(self, s: Session, issuer_id: str) -> tuple[str, int]:
        """The next free slot of the issuer's current list, atomically; a new list
        when the current one is full."""
        lists = _LISTS
        for _ in range(8):
            current = s.execute(
                select(StatusListRecord.id, StatusListRecord.seq)
                .where(
                    StatusListRecord.issuer_id == issuer_id,
                    StatusListRecord.next_index < StatusListRecord.size,
                )
                .order_by(StatusListRecord.seq)
                .limit(1)
            ).first()
            if current is not None:
                idx = s.execute(
                    update(lists)
                    .where(lists.c.id == current.id, lists.c.next_index < lists.c.size)
                    .values(next_index=lists.c.next_index + 1)
                    .returning(lists.c.next_index)
                ).scalar()
                if idx is not None:
                    return current.id, int(idx) - 1
            top = s.scalar(
                select(StatusListRecord.seq)
                .where(StatusListRecord.issuer_id == issuer_id)
                .order_by(StatusListRecord.seq.desc())
                .limit(1)
            )
            seq = (top or 0) + 1
            now = self._clock()
            s.execute(
                self._db.insert(lists)
                .values(
                    id=f"{issuer_id}.{seq}",
                    issuer_id=issuer_id,
                    seq=seq,
                    uri_path=f"{SHORT_STATUS_PATH}{issuer_id}.{seq}",
                    bits=2,
                    size=self._list_size,
                    next_index=0,
                    version=0,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
            )
        raise LicenseServiceError("could not allocate a status index", code="status_list_full")

    # ------------------------------------------------------------------ lifecycle

    def revoke(
        self, license_id: str, *, actor: str, reason: str = "", issuer_id: str | None = None
    ) -> LicenseView:
        return self._transition(license_id, "revoke", actor, reason, issuer_id)

    def suspend(
        self, license_id: str, *, actor: str, reason: str = "", issuer_id: str | None = None
    ) -> LicenseView:
        return self._transition(license_id, "suspend", actor, reason, issuer_id)

    def reinstate(
        self, license_id: str, *, actor: str, reason: str = "", issuer_id: str | None = None
    ) -> LicenseView:
        return self._transition(license_id, "reinstate", actor, reason, issuer_id)

    def check_owner(
        self, license_id: str, issuer_id: str, *, actor: str, action: str
    ) -> LicenseView:
        """The license if ``issuer_id`` issued it; otherwise an audit event
        (``license.access_denied``, also a log leaf) and ``license_forbidden``."""
        view = self.get(license_id)
        if view.issuer_id != issuer_id:
            with self._db.unit() as s:
                at = self._clock()
                detail = {"caller": issuer_id, "owner": view.issuer_id, "attempted": action}
                index = self._log.append(
                    s,
                    "license.access_denied",
                    {"license": license_id, "actor": actor, "at": at.isoformat(), **detail},
                )
                s.add(
                    LicenseEvent(
                        license_id=license_id,
                        action="license.access_denied",
                        actor=actor[:100],
                        at=at,
                        detail=detail,
                        log_index=index if index >= 0 else None,
                    )
                )
            raise LicenseServiceError(
                "this license was issued by another participant", code="license_forbidden"
            )
        return view

    def _transition(
        self, license_id: str, action: str, actor: str, reason: str, issuer_id: str | None
    ) -> LicenseView:
        if issuer_id is not None:
            self.check_owner(license_id, issuer_id, actor=actor, action=action)
        allowed, target = _TRANSITIONS[action]
        with self._db.unit() as s:
            row = s.get(LicenseRecord, license_id, with_for_update=not self._db.is_sqlite)
            if row is None:
                raise LicenseServiceError(f"no license {license_id!r}", code="license_unknown")
            current = LicenseStatus(row.status)
            if current not in allowed:
                raise LicenseServiceError(
                    f"cannot {action} a license that is {current.value}",
                    code="invalid_transition",
                )
            now = self._clock()
            row.status = target.value
            row.updated_at = now
            lists = _LISTS
            s.execute(
                update(lists)
                .where(lists.c.id == row.status_list_id)
                .values(version=lists.c.version + 1, updated_at=now)
            )
            self._event(
                s,
                row,
                f"license.{target.value}" if action != "reinstate" else "license.reinstated",
                actor,
                {
                    "from": current.value,
                    "to": target.value,
                    "reason": reason[:200],
                    "status_list": row.status_list_id,
                    "idx": row.status_idx,
                },
            )
            return self._view(row)

    # ------------------------------------------------------------------ status lists

    def status_lists(self, issuer_id: str | None = None) -> list[str]:
        with self._db.session() as s:
            stmt = select(StatusListRecord.id).order_by(
                StatusListRecord.issuer_id, StatusListRecord.seq
            )
            if issuer_id is not None:
                stmt = stmt.where(StatusListRecord.issuer_id == issuer_id)
            return list(s.scalars(stmt).all())

    def status_list_token(self, list_id: str) -> StatusListToken:
        """The signed Status List Token (CWT, COSE_Sign1 by the issuer's
        ``status_list`` key): protected ``{1: alg, 4: kid, 16:
        "application/statuslist+cwt"}``, claims ``{2: sub (= the list's URI),
        6: iat, 4: exp, 65534: ttl, 65533: {"bits": 2, "lst": zlib}}``. Cached
        until a status of the list changes (or the token is an hour old).
        ``list_id`` may also name an issuer: its first list."""
        with self._db.session() as s:
            rec = s.get(StatusListRecord, list_id) if isinstance(list_id, str) else None
            if rec is None and isinstance(list_id, str):
                rec = s.scalar(
                    select(StatusListRecord)
                    .where(StatusListRecord.issuer_id == list_id)
                    .order_by(StatusListRecord.seq)
                    .limit(1)
                )
            if rec is None:
                raise LicenseServiceError(f"no status list {list_id!r}", code="status_list_unknown")
            now = self._clock()
            cached = self._tokens.get(rec.id)
            if (
                cached is not None
                and cached.version == rec.version
                and now - cached.issued_at < STATUS_TOKEN_REFRESH
            ):
                return cached
            version, size, bits, issuer_id, rid = (
                rec.version,
                rec.size,
                rec.bits,
                rec.issuer_id,
                rec.id,
            )
            changed = s.execute(
                select(LicenseRecord.status_idx, LicenseRecord.status).where(
                    LicenseRecord.status_list_id == rid,
                    LicenseRecord.status != LicenseStatus.VALID.value,
                )
            ).all()
        # A change is published at once with zlib (0.07 s for 2^20 entries); a list
        # that has not changed since its previous token — re-signed only because
        # that token aged — is compressed with Zopfli instead: about 10 % smaller
        # (the 10^7 entries at 1 % revoked target, benchmarks/license) for about
        # 1.3 s of CPU per 2^20 entries, at most once per list per refresh period.
        compact = cached is not None and cached.version == version
        sl = StatusList(size, bits)
        for idx, status in changed:
            sl.set(idx, _STATUS_VALUE[LicenseStatus(status)])
        kid, signer = self._issuer_key(issuer_id, KeyPurpose.STATUS_LIST)
        iat = now.replace(microsecond=0)
        exp = iat + STATUS_TOKEN_LIFETIME
        claims = {
            CLAIM_SUB: self.status_uri(rid),
            CLAIM_IAT: int(iat.timestamp()),
            CLAIM_EXP: int(exp.timestamp()),
            CLAIM_TTL: STATUS_TOKEN_TTL,
            CLAIM_STATUS_LIST: {"bits": bits, "lst": sl.compress(small=compact)},
        }
        token = sign1(
            encode_deterministic(claims),
            signer,
            alg=signer.algorithm.cose,
            kid=_cose_kid(kid),
            protected_extra={16: STATUS_LIST_MEDIA_TYPE},
        )
        result = StatusListToken(
            list_id=rid,
            issuer_id=issuer_id,
            version=version,
            token=token,
            issued_at=iat,
            expires_at=exp,
            etag=hashlib.sha256(token).hexdigest()[:32],
            compact=compact,
        )
        self._tokens[rid] = result
        return result

    # ------------------------------------------------------------------ internals

    def _issuer(self, issuer_id: str) -> Any:
        p = self._participants.find(issuer_id, keys=False) if isinstance(issuer_id, str) else None
        if p is None:
            raise LicenseServiceError(f"no participant {issuer_id!r}", code="unknown_participant")
        if p.status.value != "active":
            raise LicenseServiceError(f"{issuer_id} is not active", code="participant_inactive")
        if not p.has_role("license_issuer"):
            raise LicenseServiceError(f"{issuer_id} is not a license_issuer", code="role_missing")
        return p

    def _event(
        self, s: Session, row: LicenseRecord, action: str, actor: str, detail: dict[str, Any]
    ) -> int | None:
        at = self._clock()
        index = self._log.append(
            s, action, {"license": row.id, "actor": actor, "at": at.isoformat(), **detail}
        )
        log_index = index if index >= 0 else None
        s.add(
            LicenseEvent(
                license_id=row.id,
                action=action,
                actor=actor[:100],
                at=at,
                detail=detail,
                log_index=log_index,
            )
        )
        return log_index

    def _view(self, row: LicenseRecord) -> LicenseView:
        return LicenseView(
            id=row.id,
            identifier=row.identifier,
            type_code=row.type_code,
            issuer_id=row.issuer_id,
            holder_subject=row.holder_subject,
            holder_key_jwk=dict(row.holder_key_jwk),
            fields=dict(row.fields),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            status=LicenseStatus(row.status),
            status_list_id=row.status_list_id,
            status_idx=row.status_idx,
            status_uri=self.status_uri(row.status_list_id),
            key_id=row.key_id,
            issued_at=row.issued_at,
            credential=row.credential,
            log_index=row.log_index,
        )


_SERIAL_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise LicenseServiceError(f"{name} must be an aware datetime", code="invalid_validity")
    return value.astimezone(UTC).replace(microsecond=0)


def _random_serial(n: int) -> str:
    return "".join(secrets.choice(_SERIAL_ALPHABET) for _ in range(n))


def _cose_kid(kid: str) -> bytes:
    """The COSE ``kid`` of a key-store key: its first 8 characters (a QR byte
    budget; verifiers try every key sharing a kid, and an issuer has few keys)."""
    return kid[:COSE_KID_LENGTH].encode()


def _holder_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The holder's public P-256 JWK, normalised (private members refused)."""
    try:
        pub = public_key_from_jwk(jwk)
    except (InvalidKey, TrustError, TypeError, ValueError) as exc:
        raise LicenseServiceError(f"holder key: {exc}", code="holder_key_invalid") from None
    if pub.family is not KeyFamily.P256:
        raise LicenseServiceError("the holder key must be EC P-256", code="holder_key_invalid")
    return pub.jwk()
