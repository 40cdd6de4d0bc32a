"""JSON Web Signature (RFC 7515) over GovTrust's algorithm table, strict by design.

Compact and General JSON serializations. Rules from RFC 8725 (JWT BCP) that
apply to every caller:

* the caller names the algorithms it accepts; ``none`` and anything outside
  the allow-list is refused; the key's family must fit the algorithm;
* unknown ``crit`` parameters are refused (RFC 7515 §4.1.11);
* ``jku``, ``x5u`` and embedded ``jwk`` are never followed; ``x5c`` is only
  returned to the caller, who must chain it to a trust anchor;
* headers must be JSON objects without duplicate members;
* (r, s) signatures must be the fixed-width JOSE form (RFC 7518 §3.4).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .algorithms import SignatureAlgorithm, by_jose
from .crypto import PublicKey, Signer, b64url, b64url_decode
from .errors import MalformedInput, TrustError, UnsupportedAlgorithm
from .sigenc import SigEncoding

__all__ = [
    "JWSError",
    "JWSSignature",
    "sign_compact",
    "parse_compact",
    "sign_general",
    "parse_general",
    "canonical_json",
    "strict_json_loads",
]

MAX_JWS_SIZE: Final = 4 * 1024 * 1024
_UNDERSTOOD_CRIT: Final[frozenset[str]] = frozenset()


class JWSError(TrustError):
    """The JWS is malformed or not acceptable."""

    code = "jws_invalid"


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JWSError(f"duplicate JSON member {key!r}", code="malformed")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise JWSError(f"non-standard JSON constant {name}", code="malformed")


def strict_json_loads(data: bytes | str) -> Any:
    """JSON with duplicate members and NaN/Infinity refused."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, JWSError):
            raise
        raise JWSError(f"invalid JSON: {exc}", code="malformed") from None


@dataclass(frozen=True, slots=True)
class JWSSignature:
    """One signature of a JWS: its decoded protected header and raw bytes."""

    header: Mapping[str, Any]
    protected_b64: str
    signature: bytes
    algorithm: SignatureAlgorithm

    def signing_input(self, payload_b64: str) -> bytes:
        return f"{self.protected_b64}.{payload_b64}".encode("ascii")

    def verify(self, payload_b64: str, key: PublicKey) -> bool:
        """True iff this signature verifies with ``key`` (family must fit the algorithm)."""
        if key.family is not self.algorithm.family:
            return False
        return key.verify(
            self.algorithm,
            self.signing_input(payload_b64),
            self.signature,
            encoding=SigEncoding.RAW,
        )


def _protected(signer: Signer, header: Mapping[str, Any] | None) -> str:
    h = dict(header or {})
    h["alg"] = signer.algorithm.jose
    if signer.key_id and "kid" not in h:
        h["kid"] = signer.key_id
    return b64url(canonical_json(h))


def _decode_header(
    protected_b64: str, allowed: Collection[str]
) -> tuple[dict[str, Any], SignatureAlgorithm]:
    try:
        raw = b64url_decode(protected_b64)
    except MalformedInput:
        raise JWSError("protected header is not base64url", code="malformed") from None
    header = strict_json_loads(raw)
    if not isinstance(header, dict):
        raise JWSError("protected header is not a JSON object", code="malformed")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise JWSError(f"algorithm {alg!r} not allowed", code="alg_not_allowed")
    try:
        algorithm = by_jose(alg)
    except UnsupportedAlgorithm:
        raise JWSError(f"unknown algorithm {alg!r}", code="alg_not_allowed") from None
    crit = header.get("crit")
    if crit is not None:
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise JWSError("malformed crit", code="malformed")
        unknown = set(crit) - _UNDERSTOOD_CRIT
        if unknown:
            raise JWSError(
                f"unsupported critical header(s) {sorted(unknown)}", code="crit_unsupported"
            )
    return header, algorithm


def sign_compact(payload: bytes, signer: Signer, header: Mapping[str, Any] | None = None) -> str:
    """Compact serialization ``header.payload.signature``."""
    protected = _protected(signer, header)
    payload_b64 = b64url(payload)
    sig = signer.sign_raw(f"{protected}.{payload_b64}".encode("ascii"))
    return f"{protected}.{payload_b64}.{b64url(sig)}"


def parse_compact(
    token: str | bytes, *, allowed: Collection[str]
) -> tuple[bytes, str, JWSSignature]:
    """Split and decode a compact JWS. Returns (payload, payload_b64, signature);
    the caller verifies the signature with a key it trusts."""
    if not allowed:
        raise JWSError("an empty algorithm allow-list accepts nothing", code="alg_not_allowed")
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise JWSError("JWS is not ASCII", code="malformed") from None
    if len(token) > MAX_JWS_SIZE:
        raise JWSError("JWS too large", code="too_large")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("compact JWS must have three parts", code="malformed")
    header, algorithm = _decode_header(parts[0], allowed)
    try:
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except MalformedInput:
        raise JWSError("JWS part is not base64url", code="malformed") from None
    return payload, parts[1], JWSSignature(header, parts[0], signature, algorithm)


def sign_general(
    payload: bytes, signers: Sequence[tuple[Signer, Mapping[str, Any] | None]]
) -> dict[str, Any]:
    """General JSON serialization with one signature per signer (RFC 7515 §7.2.1)."""
    if not signers:
        raise JWSError("at least one signer is required")
    payload_b64 = b64url(payload)
    signatures = []
    for signer, header in signers:
        protected = _protected(signer, header)
        sig = signer.sign_raw(f"{protected}.{payload_b64}".encode("ascii"))
        signatures.append({"protected": protected, "signature": b64url(sig)})
    return {"payload": payload_b64, "signatures": signatures}


def parse_general(
    document: bytes | str | Mapping[str, Any], *, allowed: Collection[str]
) -> tuple[bytes, str, list[JWSSignature]]:
    """Decode a General JSON serialization JWS. Signatures whose algorithm is not
    in ``allowed`` are skipped (a verifier may support only one family); the
    caller verifies the rest."""
    if not allowed:
        raise JWSError("an empty algorithm allow-list accepts nothing", code="alg_not_allowed")
    if isinstance(document, (bytes, str)):
        if len(document) > MAX_JWS_SIZE:
            raise JWSError("JWS too large", code="too_large")
        document = strict_json_loads(document)
    if not isinstance(document, Mapping):
        raise JWSError("JWS JSON must be an object", code="malformed")
    payload_b64 = document.get("payload")
    sigs = document.get("signatures")
    if not isinstance(payload_b64, str) or not isinstance(sigs, list) or not sigs:
        raise JWSError("JWS JSON needs payload and signatures", code="malformed")
    if len(sigs) > 16:
        raise JWSError("too many signatures", code="malformed")
    try:
        payload = b64url_decode(payload_b64)
    except MalformedInput:
        raise JWSError("payload is not base64url", code="malformed") from None
    out: list[JWSSignature] = []
    for entry in sigs:
        if not isinstance(entry, Mapping) or set(entry) - {"protected", "signature", "header"}:
            raise JWSError("malformed signature entry", code="malformed")
        if "header" in entry:
            raise JWSError("unprotected headers are not accepted", code="malformed")
        protected = entry.get("protected")
        sig_b64 = entry.get("signature")
        if not isinstance(protected, str) or not isinstance(sig_b64, str):
            raise JWSError("malformed signature entry", code="malformed")
        try:
            header, algorithm = _decode_header(protected, allowed)
        except JWSError as exc:
            if exc.code == "alg_not_allowed":
                continue
            raise
        try:
            signature = b64url_decode(sig_b64)
        except MalformedInput:
            raise JWSError("signature is not base64url", code="malformed") from None
        out.append(JWSSignature(header, protected, signature, algorithm))
    return payload, payload_b64, out
