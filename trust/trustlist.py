"""The GovTrust signed trust list: format, verification and the client's rules.

The national hub publishes the participant registry — participants, roles,
authorised license types, keys (JWK) and certificate chains, status-list
locations — as one JSON document (docs/trust-list.md), signed as a JWS in the
General JSON serialization (RFC 7515 §7.2.1) with the hub's trust-list keys in
both families: ``SM2`` for domestic verifiers and ``ES256`` for everyone else.
Each signature's protected header carries ``x5c``: the signing certificate and
its intermediates, which must chain to a pinned hub root (purpose
``trust_list``).

Client rules (TUF-style, SECURITY.md "Trust data"):

* roots are pinned; an empty root set trusts nothing (an error, not a pass);
* at least one signature must chain to a pinned root and verify; a signature
  that chains to a pinned root but does not verify rejects the document;
* the sequence number never goes back (rollback), and one sequence number
  never names two different documents (equivocation);
* a list past ``next_update`` + grace is stale; one issued in the future is refused;
* a new root is followed only when announced in a list signed under a root
  already pinned; the pinned set then becomes ``roots ∪ announced_roots``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from .crypto import Signer
from .errors import CertificateError, TrustError
from .files import atomic_write
from .jws import JWSError, canonical_json, parse_general, sign_general, strict_json_loads
from .pki import Certificate, load_certificate, validate_path

__all__ = [
    "TRUST_LIST_TYPE",
    "TrustListError",
    "ListedKey",
    "ListedParticipant",
    "TrustList",
    "TrustListSigner",
    "TrustListClient",
    "build_payload",
    "sign_trust_list",
    "verify_trust_list",
]

TRUST_LIST_TYPE: Final = "govtrust-trust-list"
JWS_TYP: Final = "govtrust-trust-list+jws"
FORMAT_VERSION: Final = 1
ALLOWED_ALGS: Final = frozenset({"SM2", "ES256"})
MAX_DOCUMENT: Final = 16 * 1024 * 1024


class TrustListError(TrustError):
    """The trust list is not acceptable; ``code`` says why."""

    code = "trust_list_invalid"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise TrustListError(f"{name} must be a string", code="malformed")
    try:
        dt = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise TrustListError(f"{name} is not YYYY-MM-DDTHH:MM:SSZ", code="malformed") from None
    return dt.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ListedKey:
    kid: str
    purpose: str
    alg: str
    jwk: Mapping[str, Any]
    x5c: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedParticipant:
    id: str
    name_zh: str
    name_en: str
    level: str
    status: str
    division: str | None = None
    uscc: str | None = None
    parent: str | None = None
    roles: tuple[str, ...] = ()
    license_types: tuple[str, ...] = ()
    keys: tuple[ListedKey, ...] = ()
    status_list: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class TrustList:
    """A verified trust list. Lookups of anything absent return ``None``/``False``:
    an empty list trusts nothing."""

    sequence: int
    issuer: str
    issued_at: datetime
    next_update: datetime
    participants: Mapping[str, ListedParticipant]
    roots: tuple[bytes, ...]
    announced_roots: tuple[bytes, ...]
    payload: bytes = field(repr=False)
    extensions: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()

    def participant(self, participant_id: str) -> ListedParticipant | None:
        return self.participants.get(participant_id)

    def is_authorised(self, participant_id: str, license_type: str) -> bool:
        """An active ``license_issuer`` authorised for ``license_type``."""
        p = self.participants.get(participant_id)
        return bool(
            p and p.active and "license_issuer" in p.roles and license_type in p.license_types
        )

    def has_role(self, participant_id: str, role: str) -> bool:
        p = self.participants.get(participant_id)
        return bool(p and p.active and role in p.roles)

    def keys_for(self, participant_id: str, purpose: str) -> list[ListedKey]:
        p = self.participants.get(participant_id)
        return [k for k in p.keys if k.purpose == purpose] if p else []

    def find_keys(self, kid: str) -> list[tuple[ListedParticipant, ListedKey]]:
        """Every (participant, key) with this ``kid`` — several may share one."""
        return [(p, k) for p in self.participants.values() for k in p.keys if k.kid == kid]


# ----------------------------------------------------------------------------- building


def build_payload(
    *,
    sequence: int,
    issuer: str,
    issued_at: datetime,
    next_update: datetime,
    participants: Iterable[Mapping[str, Any]],
    roots: Sequence[bytes],
    announced_roots: Sequence[bytes] = (),
    extensions: Mapping[str, Any] | None = None,
) -> bytes:
    """The canonical payload bytes (docs/trust-list.md)."""
    if sequence < 1:
        raise TrustListError("sequence numbers start at 1", code="malformed")
    if next_update <= issued_at:
        raise TrustListError("next_update must follow issued_at", code="malformed")
    doc: dict[str, Any] = {
        "type": TRUST_LIST_TYPE,
        "version": FORMAT_VERSION,
        "issuer": issuer,
        "sequence": sequence,
        "issued_at": _iso(issued_at),
        "next_update": _iso(next_update),
        "roots": [base64.b64encode(r).decode() for r in roots],
        "announced_roots": [base64.b64encode(r).decode() for r in announced_roots],
        "participants": sorted((dict(p) for p in participants), key=lambda p: p["id"]),
    }
    if extensions:
        doc["extensions"] = dict(extensions)
    return canonical_json(doc)


@dataclass(frozen=True)
class TrustListSigner:
    """A trust-list signing key and its certificate chain (leaf first, root excluded)."""

    signer: Signer
    chain: tuple[Certificate, ...]


def sign_trust_list(payload: bytes, signers: Sequence[TrustListSigner]) -> bytes:
    """Sign ``payload`` with every signer (normally one SM2 and one ES256)."""
    entries = []
    for s in signers:
        if s.signer.algorithm.jose not in ALLOWED_ALGS:
            raise TrustListError(
                f"{s.signer.algorithm.name} cannot sign trust lists", code="alg_not_allowed"
            )
        header = {"typ": JWS_TYP, "x5c": [base64.b64encode(c.der).decode() for c in s.chain]}
        entries.append((s.signer, header))
    return json.dumps(sign_general(payload, entries), indent=1).encode()


# ----------------------------------------------------------------------------- reading


def _str(d: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise TrustListError(f"{key} must be a string", code="malformed")
    return v


def _strs(d: Mapping[str, Any], key: str) -> tuple[str, ...]:
    v = d.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TrustListError(f"{key} must be a list of strings", code="malformed")
    return tuple(v)


def _b64_list(d: Mapping[str, Any], key: str) -> tuple[bytes, ...]:
    out = []
    for item in _strs(d, key):
        try:
            out.append(base64.b64decode(item, validate=True))
        except ValueError:
            raise TrustListError(f"{key} holds invalid base64", code="malformed") from None
    return tuple(out)


def _parse_payload(payload: bytes) -> TrustList:
    doc = strict_json_loads(payload)
    if not isinstance(doc, dict):
        raise TrustListError("payload is not a JSON object", code="malformed")
    if doc.get("type") != TRUST_LIST_TYPE:
        raise TrustListError("not a GovTrust trust list", code="malformed")
    if doc.get("version") != FORMAT_VERSION:
        raise TrustListError(
            f"unsupported version {doc.get('version')!r}", code="unsupported_version"
        )
    seq = doc.get("sequence")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise TrustListError("sequence must be a positive integer", code="malformed")
    parts = doc.get("participants")
    if not isinstance(parts, list):
        raise TrustListError("participants must be a list", code="malformed")
    participants: dict[str, ListedParticipant] = {}
    for p in parts:
        if not isinstance(p, dict):
            raise TrustListError("participant must be an object", code="malformed")
        keys = []
        for k in p.get("keys", []):
            if not isinstance(k, dict) or not isinstance(k.get("jwk"), dict):
                raise TrustListError("malformed key entry", code="malformed")
            keys.append(
                ListedKey(
                    kid=_str(k, "kid") or "",
                    purpose=_str(k, "purpose") or "",
                    alg=_str(k, "alg") or "",
                    jwk=k["jwk"],
                    x5c=_strs(k, "x5c"),
                )
            )
        lp = ListedParticipant(
            id=_str(p, "id") or "",
            name_zh=_str(p, "name_zh") or "",
            name_en=_str(p, "name_en") or "",
            level=_str(p, "level") or "",
            status=_str(p, "status") or "",
            division=_str(p, "division", optional=True),
            uscc=_str(p, "uscc", optional=True),
            parent=_str(p, "parent", optional=True),
            roles=_strs(p, "roles"),
            license_types=_strs(p, "license_types"),
            keys=tuple(keys),
            status_list=_str(p, "status_list", optional=True),
        )
        if lp.id in participants:
            raise TrustListError(f"participant {lp.id} listed twice", code="malformed")
        participants[lp.id] = lp
    ext = doc.get("extensions", {})
    if not isinstance(ext, dict):
        raise TrustListError("extensions must be an object", code="malformed")
    return TrustList(
        sequence=seq,
        issuer=_str(doc, "issuer") or "",
        issued_at=_parse_time(doc.get("issued_at"), "issued_at"),
        next_update=_parse_time(doc.get("next_update"), "next_update"),
        participants=participants,
        roots=_b64_list(doc, "roots"),
        announced_roots=_b64_list(doc, "announced_roots"),
        payload=payload,
        extensions=ext,
    )


def verify_trust_list(
    document: bytes,
    *,
    roots: Sequence[bytes],
    at: datetime,
    algorithms: Iterable[str] = ALLOWED_ALGS,
) -> TrustList:
    """Check the signatures against pinned ``roots`` (certificate DER). Freshness,
    rollback and root rotation are the :class:`TrustListClient`'s job."""
    if not roots:
        raise TrustListError(
            "no pinned roots: an empty trust policy trusts nothing", code="no_trust_anchor"
        )
    if len(document) > MAX_DOCUMENT:
        raise TrustListError("trust list too large", code="too_large")
    allowed = set(algorithms) & ALLOWED_ALGS
    try:
        root_certs = [load_certificate(r) for r in roots]
        payload, payload_b64, signatures = parse_general(document, allowed=allowed)
    except JWSError as exc:
        raise TrustListError(exc.message, code="malformed") from None
    except CertificateError as exc:
        raise TrustListError(
            f"pinned root unusable: {exc.message}", code="no_trust_anchor"
        ) from None
    good = 0
    for sig in signatures:
        if sig.header.get("typ") != JWS_TYP:
            raise TrustListError("wrong JWS typ", code="malformed")
        x5c = sig.header.get("x5c")
        if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
            raise TrustListError("signature without x5c chain", code="malformed")
        try:
            chain = [load_certificate(base64.b64decode(c, validate=True)) for c in x5c]
            validate_path(
                chain[0], intermediates=chain[1:], roots=root_certs, at=at, purpose="trust_list"
            )
        except (CertificateError, ValueError):
            continue  # not ours to judge: signed under a root this client does not pin
        if not sig.verify(payload_b64, chain[0].public_key):
            raise TrustListError(
                "a signature under a pinned root does not verify", code="bad_signature"
            )
        good += 1
    if good == 0:
        raise TrustListError("no signature chains to a pinned hub root", code="untrusted_signer")
    return _parse_payload(payload)


# ----------------------------------------------------------------------------- client


@dataclass
class _State:
    sequence: int = 0
    digest: str = ""
    roots: list[str] = field(default_factory=list)


class TrustListClient:
    """A verifier's view of the hub's trust list: pinned roots, highest sequence
    seen and the current list, persisted in ``state_dir``."""

    STATE_FILE: Final = "trust-list-state.json"
    LIST_FILE: Final = "trust-list.jws.json"

    def __init__(
        self,
        *,
        roots: Sequence[bytes],
        state_dir: Path,
        grace: timedelta = timedelta(hours=24),
        max_clock_skew: timedelta = timedelta(minutes=5),
        algorithms: Iterable[str] = ALLOWED_ALGS,
    ) -> None:
        if not roots:
            raise TrustListError(
                "no pinned roots: an empty trust policy trusts nothing", code="no_trust_anchor"
            )
        self._state_dir = Path(state_dir)
        self._grace = grace
        self._skew = max_clock_skew
        self._algorithms = frozenset(algorithms)
        self._state = self._load_state()
        if not self._state.roots:
            self._state.roots = [base64.b64encode(r).decode() for r in roots]

    @property
    def sequence(self) -> int:
        return self._state.sequence

    @property
    def roots(self) -> list[bytes]:
        return [base64.b64decode(r) for r in self._state.roots]

    def check(self, document: bytes, *, now: datetime) -> TrustList:
        """Verify ``document`` under every rule without changing the client's state."""
        tl = verify_trust_list(document, roots=self.roots, at=now, algorithms=self._algorithms)
        if tl.issued_at > now + self._skew:
            raise TrustListError("trust list issued in the future", code="not_yet_valid")
        if tl.sequence < self._state.sequence:
            raise TrustListError(
                f"sequence {tl.sequence} is older than {self._state.sequence}", code="rollback"
            )
        if tl.sequence == self._state.sequence and tl.digest != self._state.digest:
            raise TrustListError(
                "two different lists with one sequence number", code="equivocation"
            )
        if now > tl.next_update + self._grace:
            raise TrustListError(f"stale: next update was due {_iso(tl.next_update)}", code="stale")
        return tl

    def accept(self, document: bytes, *, now: datetime) -> TrustList:
        """:meth:`check`, then remember the sequence, follow announced roots, store the list."""
        tl = self.check(document, now=now)
        new_roots = list(dict.fromkeys(tl.roots + tl.announced_roots))
        self._state = _State(
            sequence=tl.sequence,
            digest=tl.digest,
            roots=[base64.b64encode(r).decode() for r in new_roots] or self._state.roots,
        )
        self._state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self._state_dir / self.LIST_FILE, document)
        atomic_write(self._state_dir / self.STATE_FILE, json.dumps(self._state.__dict__).encode())
        return tl

    def current(self, *, now: datetime) -> TrustList:
        """The stored list, re-verified; stale data is refused, never silently used."""
        path = self._state_dir / self.LIST_FILE
        if not path.exists():
            raise TrustListError("no trust list has been accepted yet", code="no_trust_list")
        return self.check(path.read_bytes(), now=now)

    def _load_state(self) -> _State:
        path = self._state_dir / self.STATE_FILE
        if not path.exists():
            return _State()
        try:
            raw = json.loads(path.read_text())
            return _State(
                sequence=int(raw["sequence"]),
                digest=str(raw["digest"]),
                roots=[str(r) for r in raw["roots"]],
            )
        except (ValueError, KeyError, TypeError):
            raise TrustListError("trust-list state file is corrupt", code="state_corrupt") from None
