"""Verdicts on e-license QR presentations (the counter's question: may I accept this?).

:func:`verify_license_qr` runs :func:`license_wallet.credential.verify_presentation`
against what a :class:`LicenseTrust` says (issuer keys, issuer state and the
license types each issuer is authorised for, status lists, freshness of the
trust data), consults a :class:`ReplayCache`, and folds every outcome into a
:class:`LicenseVerdict` — it never raises for bad input.

Verdicts and reason codes (stable; the counter page and the CLI translate them):

=====================================  ==============  ============================================
reason                                 verdict         meaning
=====================================  ==============  ============================================
``malformed``                          INDETERMINATE   not a readable presentation (prefix, Base45,
                                                       zlib, CBOR, COSE structure, claims)
``unsupported_version``                INDETERMINATE   another envelope prefix than ``GT1:``
``bad_signature``                      INVALID         the issuer's signature does not verify
``untrusted_issuer``                   INVALID         the issuer or its key is not in the trust data
``issuer_inactive``                    INVALID         the issuer is suspended or revoked in the registry
``issuer_not_authorized_for_type``     INVALID         the issuer may not issue this license type
``expired`` / ``not_yet_valid``        INVALID         outside the license's validity
``revoked`` / ``suspended``            INVALID         per the issuer's status list
``status_unknown``                     INDETERMINATE   no usable status list in the trust data
``holder_binding_missing``             INVALID         a presentation without its key-binding token
                                                       (a copied credential)
``disclosure_not_signed``              INVALID         a disclosed claim whose digest the issuer
                                                       did not sign
``holder_binding_invalid``             INVALID         the key-binding token does not verify under the
                                                       credential's holder key, or binds other data
``presentation_expired``               INVALID         the key-binding token is too old (or from the
                                                       future)
``nonce_mismatch``                     INVALID         not the nonce this verifier asked for
``replayed``                           INVALID         this very presentation was seen before
``stale_trust_data``                   INDETERMINATE   the trust data is older than allowed
=====================================  ==============  ============================================

The replay cache is keyed on the key-binding token's *signed content*
(protected header and payload: issue time, ``sd_hash``, nonce, audience), not
on its signature bytes: an ECDSA signature can be re-encoded as (r, n − s)
without the key, so keying on the signature would let a copied QR pass twice.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from license_wallet.credential import VerifiedLicense, verify_presentation
from license_wallet.errors import (
    LicenseRevoked,
    LicenseSuspended,
    MalformedPresentation,
    PresentationRejected,
)
from license_wallet.qr import PREFIX, decode_qr_text
from trust.cose import decode_cbor, decode_sign1
from trust.crypto import PublicKey
from trust.errors import MalformedInput, TrustError

__all__ = [
    "VALID",
    "INVALID",
    "INDETERMINATE",
    "IssuerInfo",
    "LicenseTrust",
    "LicenseVerdict",
    "ReplayCache",
    "ReplayStore",
    "verify_license_qr",
]

VALID: Final = "VALID"
INVALID: Final = "INVALID"
INDETERMINATE: Final = "INDETERMINATE"

#: The longest QR text looked at (version 40, alphanumeric mode, holds 4,296 characters).
MAX_QR_TEXT: Final = 4_296

# Codes of license_wallet.credential → our reasons; a PresentationRejected code not
# listed here becomes the generic INVALID reason ``invalid`` (see _reason()).
_REJECTED: Final[Mapping[str, str]] = {
    "license_signature_invalid": "bad_signature",
    "license_alg_not_allowed": "bad_signature",
    "license_issuer_unknown": "untrusted_issuer",
    "license_expired": "expired",
    "cwt_expired": "expired",
    "license_not_yet_valid": "not_yet_valid",
    "cwt_not_yet_valid": "not_yet_valid",
    "license_iat_in_future": "not_yet_valid",
    "cwt_iat_in_future": "not_yet_valid",
    "disclosure_unknown": "disclosure_not_signed",
    "disclosure_duplicate": "holder_binding_invalid",
    "kb_invalid": "holder_binding_invalid",
    "kb_signature": "holder_binding_invalid",
    "kb_sd_hash_mismatch": "holder_binding_invalid",
    "holder_key_mismatch": "holder_binding_invalid",
    "kb_stale": "presentation_expired",
    "kb_in_future": "presentation_expired",
    "kb_freshness": "presentation_expired",
    "kb_nonce_mismatch": "nonce_mismatch",
    "kb_nonce": "nonce_mismatch",
    "kb_aud_mismatch": "audience_mismatch",
    "kb_aud": "audience_mismatch",
    "license_status_unknown": "status_unknown",
}
_INDETERMINATE_REASONS: Final = frozenset(
    {"malformed", "unsupported_version", "status_unknown", "stale_trust_data"}
)


@dataclass(frozen=True, slots=True)
class IssuerInfo:
    """What the trust data says about one license issuer."""

    participant_id: str
    name_zh: str
    name_en: str
    active: bool
    license_types: frozenset[str]  #: type codes it is authorised to issue


class LicenseTrust(Protocol):
    """The verifier's offline view of the federation (the synced trust bundle)."""

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        """The issuer's entry, or None when the trust data does not know it."""

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> Iterable[PublicKey]:
        """The issuer's license keys (all of them when ``kid`` is None)."""

    def status(self, uri: str, index: int) -> int | None:
        """The status at ``index`` of the list at ``uri``, None if the list is not held."""

    def stale(self, now: datetime) -> str | None:
        """Why the trust data may not be used at ``now`` (too old), else None."""

    # Optional: ``status_signer(uri) -> str | None``, the issuer whose status-list key
    # signed the list held for ``uri``; a list signed by another issuer than the
    # credential's makes the status unknown.


@dataclass(frozen=True, slots=True)
class LicenseVerdict:
    """The verdict on one QR presentation; JSON-ready through :meth:`as_dict`."""

    verdict: str
    reasons: tuple[str, ...]
    detail: str = ""
    issuer: IssuerInfo | None = None
    license: VerifiedLicense | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "detail": self.detail,
        }
        if self.issuer is not None:
            out["issuer"] = {
                "id": self.issuer.participant_id,
                "name_zh": self.issuer.name_zh,
                "name_en": self.issuer.name_en,
            }
        lic = self.license
        if lic is not None:
            out["license"] = {
                "type_code": lic.type_code,
                "type_name_zh": lic.type_name_zh,
                "type_name_en": lic.type_name_en,
                "identifier": lic.identifier,
                "fields": dict(lic.fields),
                "valid_from": lic.valid_from.isoformat(),
                "valid_until": None if lic.valid_until is None else lic.valid_until.isoformat(),
                "presented_at": lic.kb_issued_at.isoformat(),
                "checks": list(lic.checks),
            }
        return out


class ReplayStore(Protocol):
    """Where presentations already seen are remembered (:class:`ReplayCache` in
    memory; the hub keeps one in its database, shared by every worker)."""

    def check_and_add(self, key: bytes) -> bool:
        """True if ``key`` was seen within the store's TTL; records it either way."""


class ReplayCache:
    """Presentations seen within ``ttl`` seconds (bounded, thread-safe, in memory).

    ``ttl`` should be at least the accepted key-binding age plus leeway: after
    that a replay is refused as ``presentation_expired`` anyway.
    """

    def __init__(
        self,
        *,
        ttl: float = 330.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_entries <= 0:
            raise ValueError("ttl and max_entries must be positive")
        self._ttl, self._max, self._clock = ttl, max_entries, clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_add(self, key: bytes) -> bool:
        """True if ``key`` was seen within the TTL (a replay); records it either way."""
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at < self._ttl and len(self._seen) < self._max:
                    break
                del self._seen[oldest]
            previous = self._seen.get(key)
            if previous is not None and now - previous < self._ttl:
                return True
            self._seen[key] = now
            self._seen.move_to_end(key)
            return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


def _replay_key(presentation: bytes) -> bytes:
    """SHA-256 over the key-binding token's protected header and payload."""
    outer = decode_cbor(presentation)
    kb = decode_sign1(outer[2])
    return hashlib.sha256(kb.protected_bytes + b"\x00" + kb.payload).digest()


def _without_key_binding(presentation: bytes) -> bool:
    """[credential, disclosures] with no third element: the bare credential."""
    if presentation[:1] != b"\x82":  # not an array of two: nothing to look at more closely
        return False
    try:
        outer = decode_cbor(presentation, max_depth=2, max_items=200)
    except MalformedInput:
        return False  # verify_presentation reports it as malformed
    return isinstance(outer, list) and len(outer) == 2 and isinstance(outer[0], bytes)


def _reason(exc: TrustError) -> str:
    if isinstance(exc, LicenseRevoked):
        return "revoked"
    if isinstance(exc, LicenseSuspended):
        return "suspended"
    if isinstance(exc, MalformedPresentation | MalformedInput):
        return "malformed"
    if isinstance(exc, PresentationRejected):
        return _REJECTED.get(exc.code, "invalid")
    return "malformed"


def _verdict(reason: str) -> str:
    return INDETERMINATE if reason in _INDETERMINATE_REASONS else INVALID


def verify_license_qr(
    text: str | bytes,
    trust: LicenseTrust,
    *,
    now: datetime | None = None,
    replay_cache: ReplayStore | None = None,
    expected_nonce: bytes | None = None,
    expected_aud: str | None = None,
    max_presentation_age: int = 300,
) -> LicenseVerdict:
    """The verdict on a scanned QR text (what a keyboard-wedge scanner types).

    Never raises for bad input. ``now`` defaults to the current time (UTC).
    """
    now = now or datetime.now(UTC)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            return LicenseVerdict(INDETERMINATE, ("malformed",), "the QR text is not ASCII")
    if not isinstance(text, str):
        return LicenseVerdict(INDETERMINATE, ("malformed",), "the QR content must be text")
    text = text.strip()
    if len(text) > MAX_QR_TEXT:
        return LicenseVerdict(
            INDETERMINATE, ("malformed",), f"longer than {MAX_QR_TEXT} characters"
        )
    if not text.startswith(PREFIX) and ":" in text[:8]:
        return LicenseVerdict(
            INDETERMINATE,
            ("unsupported_version",),
            f"envelope {text.split(':', 1)[0]!r}: this verifier reads {PREFIX!r}",
        )
    try:
        presentation = decode_qr_text(text)
    except TrustError as exc:
        return LicenseVerdict(INDETERMINATE, ("malformed",), exc.message)
    why_stale = trust.stale(now)
    if why_stale is not None:
        return LicenseVerdict(INDETERMINATE, ("stale_trust_data",), why_stale)

    def keys(iss: str, kid: bytes | None) -> list[PublicKey]:
        return list(trust.issuer_keys(iss, kid)) if trust.issuer(iss) is not None else []

    def status(uri: str, idx: int) -> int:
        value = trust.status(uri, idx)
        if value is None:
            raise LookupError(f"no status list {uri} in the trust data")
        return value

    try:
        if _without_key_binding(presentation):
            return LicenseVerdict(
                INVALID, ("holder_binding_missing",), "no key-binding token: a copied credential"
            )
        lic = verify_presentation(
            presentation,
            issuer_keys=keys,
            now=now,
            max_kb_age=max_presentation_age,
            expected_nonce=expected_nonce,
            expected_aud=expected_aud,
            status_lookup=status,
        )
    except TrustError as exc:
        reason = _reason(exc)
        issuer = None
        return LicenseVerdict(_verdict(reason), (reason,), exc.message, issuer)

    issuer = trust.issuer(lic.issuer)
    if issuer is None:  # keys() returned none, so verify_presentation refused already
        return LicenseVerdict(INVALID, ("untrusted_issuer",), lic.issuer)
    signer_of = getattr(trust, "status_signer", None)  # optional: who signed that list
    if callable(signer_of) and signer_of(lic.status_uri) not in (None, lic.issuer):
        return LicenseVerdict(
            INDETERMINATE,
            ("status_unknown",),
            f"the status list {lic.status_uri} is signed by another issuer",
            issuer,
            lic,
        )
    if not issuer.active:
        return LicenseVerdict(
            INVALID, ("issuer_inactive",), f"{issuer.name_zh} is not active", issuer, lic
        )
    if lic.type_code not in issuer.license_types:
        return LicenseVerdict(
            INVALID,
            ("issuer_not_authorized_for_type",),
            f"{issuer.name_zh} may not issue {lic.type_name_zh}",
            issuer,
            lic,
        )
    if replay_cache is not None and replay_cache.check_and_add(_replay_key(presentation)):
        return LicenseVerdict(
            INVALID, ("replayed",), "this presentation was already shown", issuer, lic
        )
    return LicenseVerdict(VALID, (), "", issuer, lic)
