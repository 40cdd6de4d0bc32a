"""E-license credentials with selective disclosure and holder binding, on COSE_Sign1.

The issuer signs a CWT (RFC 8392) in a COSE_Sign1 (RFC 9052) whose claims
carry the license's fields as salted digests, after SD-JWT (RFC 9901) and
SD-CWT (draft-ietf-spice-sd-cwt); the holder shows a subset of the fields and
proves possession of the key in ``cnf`` (RFC 8747) with a key-binding token.
Pure Python on :mod:`trust.cose` and :mod:`trust.crypto`; no Flask, no SQL.
docs/licenses.md is the normative description; the layout in brief:

Credential (COSE_Sign1, tag 18), signed by the issuer (SM2 -65601 or ES256 -7)::

    protected   = {1: alg, 4: kid, 16: "gt-lic"}
    unprotected = {-65537: [disclosure, ...]}   # as issued; {} inside a presentation
    payload     = {
        1: iss (text),  6: iat,  5: nbf,  4: exp (absent = 长期 / no end date),
        8: {1: COSE_Key}   # cnf: the holder's P-256 key, {1: 2, -1: 1, -2: x, -3: y sign}
        65535: {"status_list": {"idx": uint, "uri": text}},   # Token Status List
        -65538: GB/T 36904 identifier without its constant "1.2.156.3005.2."
                (text; its type code is the license type),
        -65539: digests (bytes: n × 16, sorted ascending, no duplicates),
    }
    disclosure  = bstr .cbor [salt: bstr(16), label: uint, value: text]
    digest      = SHA-256(disclosure bytes)[:16]

Presentation (CBOR array)::

    [credential (bstr), [disclosure (bstr), ...], kb (bstr)]
    kb = COSE_Sign1 by the holder key, ES256 only:
         protected {1: -7, 16: "gt-kb"}, payload {6: iat, -65540: sd_hash,
         39: nonce (bytes, optional), 3: aud (text, optional)}
    sd_hash = SHA-256(deterministic CBOR of [credential, [disclosure, ...]])[:16]

QR text: ``GT1:`` + Base45(zlib(presentation)) (:mod:`license_wallet.qr`).

Why 16-byte (128-bit) digests: a version 20-M QR holds 970 alphanumeric
characters, i.e. about 640 bytes after Base45, and a credential carries one
digest per schema field (up to 16); at 32 bytes the digests alone would take
half the symbol. The security need is second-preimage resistance: the issuer
chooses the salts and signs the digests, so a holder who wants to change a
value must find another disclosure with the same digest — 2^128 work at 16
bytes. Birthday collisions (2^64) only help whoever builds the disclosures,
the issuer, who can sign anything anyway. The same argument covers
``sd_hash``, which the holder signs over data the holder chose.

Every verification failure raises a :class:`~license_wallet.errors.
CredentialError` subclass with a stable ``code``; no other exception escapes
:func:`verify_presentation`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

import cbor2

from trust.algorithms import COSE_ALG_SM2, KeyFamily
from trust.cose import (
    CoseError,
    CoseSign1,
    CwtClaims,
    CwtError,
    check_cwt_times,
    decode_cbor,
    decode_sign1,
    encode_deterministic,
    sign1,
    verify_sign1,
)
from trust.crypto import (
    PublicKey,
    Signer,
    b64url,
    b64url_decode,
    public_key_from_jwk,
    public_key_from_point,
)
from trust.errors import InvalidKey, MalformedInput, TrustError

from .errors import (
    CredentialError,
    InvalidLicenseFields,
    InvalidLicenseIdentifier,
    LicenseRevoked,
    LicenseSuspended,
    MalformedPresentation,
    PresentationRejected,
    UnknownLicenseType,
)
from .identifier import LICENSE_ID_PREFIX, LicenseIdentifier, parse_identifier
from .qr import QrError, decode_qr_text, encode_qr_text, render_qr
from .status_list import StatusType
from .types import (
    HolderCodeType,
    LicenseType,
    example_fields,
    license_type,
    license_types,
    validate_field,
    validate_fields,
)

__all__ = [
    "ALG_ES256",
    "ALG_SM2",
    "CHECKS",
    "DIGEST_SIZE",
    "MAX_KB_AGE",
    "IssuerKeyLookup",
    "StatusLookup",
    "VerifiedLicense",
    "issue_credential",
    "present",
    "present_qr_text",
    "presented_identifier",
    "qr_versions",
    "verify_presentation",
]

ALG_SM2: Final = COSE_ALG_SM2
ALG_ES256: Final = -7

#: Bytes of every disclosure digest and of ``sd_hash`` (SHA-256 truncated; see above).
DIGEST_SIZE: Final = 16
SALT_SIZE: Final = 16
#: Default maximum age of a key-binding token, seconds.
MAX_KB_AGE: Final = 300
#: Clock skew tolerated between wallet and verifier (SECURITY.md: at most 15 s).
DEFAULT_LEEWAY: Final = 15

TYP_CREDENTIAL: Final = "gt-lic"
TYP_KB: Final = "gt-kb"

H_TYP: Final = 16  # RFC 9596
H_DISCLOSURES: Final = -65537  # private-use COSE header label

CLAIM_ISS, CLAIM_AUD, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT = 1, 3, 4, 5, 6
CLAIM_CNF: Final = 8
CLAIM_CNONCE: Final = 39  # RFC 9200
CLAIM_STATUS: Final = 65535  # draft-ietf-oauth-status-list, CWT "status"
CLAIM_LICENSE_ID: Final = -65538  # private-use CWT claim keys (< -65536)
CLAIM_DIGESTS: Final = -65539
CLAIM_SD_HASH: Final = -65540

CNF_COSE_KEY: Final = 1  # RFC 8747 §3.1
KTY_EC2, CRV_P256 = 2, 1  # RFC 9053 §7.1

MAX_PRESENTATION: Final = 8 * 1024
MAX_DISCLOSURES: Final = 64
MAX_DISCLOSURE_SIZE: Final = 1024
MAX_ISSUER_ID: Final = 64
MAX_URI: Final = 256
MAX_NONCE: Final = 64
MAX_AUD: Final = 256
MAX_TIME: Final = 253_402_300_799  # 9999-12-31T23:59:59Z: every NumericDate fits a datetime

#: Issuer keys for ``(iss, kid)``; every key returned is tried.
IssuerKeyLookup = Callable[[str, bytes | None], Sequence[PublicKey]]
#: Status of index ``idx`` in the list at ``uri`` (a :class:`StatusType` value).
StatusLookup = Callable[[str, int], int]


CHECKS: Final = (
    "envelope",
    "bounded_decoding",
    "issuer_signature",
    "claims",
    "validity",
    "disclosures",
    "kb_signature",
    "kb_freshness",
    "kb_nonce",
    "kb_aud",
    "sd_hash",
    "status",
)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:DIGEST_SIZE]


def _epoch(value: datetime | int | float, what: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{what} must be timezone-aware")
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a datetime or epoch seconds")
    return int(value)


def _from_epoch(value: int | float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


# --------------------------------------------------------------------------- holder key


def _holder_key(key: PublicKey | Mapping[Any, Any]) -> PublicKey:
    """A P-256 public key from a :class:`PublicKey`, a JWK or a COSE_Key map."""
    if isinstance(key, PublicKey):
        pub = key
    elif isinstance(key, Mapping) and "kty" in key:
        pub = public_key_from_jwk(key)
    elif isinstance(key, Mapping):
        pub = _cose_key_to_public(key)
    else:
        raise InvalidKey("holder key must be a PublicKey, a JWK or a COSE_Key")
    if pub.family is not KeyFamily.P256:
        raise InvalidKey("the holder key must be an EC P-256 key")
    return pub


def _cose_key(pub: PublicKey) -> dict[int, Any]:
    """The compressed COSE_Key (RFC 9053 §7.1.1: ``y`` as the sign bit)."""
    jwk = pub.jwk()
    x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    return {1: KTY_EC2, -1: CRV_P256, -2: x, -3: bool(y[-1] & 1)}


def _cose_key_to_public(key: Mapping[Any, Any]) -> PublicKey:
    if set(key) - {1, -1, -2, -3, 2, 3}:
        raise InvalidKey("unexpected COSE_Key parameters")
    if key.get(1) != KTY_EC2 or key.get(-1) != CRV_P256 or isinstance(key.get(1), bool):
        raise InvalidKey("COSE_Key must be EC2 P-256")
    if 3 in key and key[3] != ALG_ES256:
        raise InvalidKey("COSE_Key alg must be ES256")
    x, y = key.get(-2), key.get(-3)
    if not isinstance(x, bytes) or len(x) != 32:
        raise InvalidKey("COSE_Key x must be 32 bytes")
    if isinstance(y, bool):
        return public_key_from_point(KeyFamily.P256, bytes([0x03 if y else 0x02]) + x)
    if isinstance(y, bytes) and len(y) == 32:
        return public_key_from_jwk({"kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)})
    raise InvalidKey("COSE_Key y must be a bool or 32 bytes")


# --------------------------------------------------------------------------- issuance


def _identifier(identifier: LicenseIdentifier | str) -> LicenseIdentifier:
    if isinstance(identifier, LicenseIdentifier):
        return parse_identifier(str(identifier))
    return parse_identifier(identifier)


def _compact_id(lid: LicenseIdentifier) -> str:
    return str(lid)[len(LICENSE_ID_PREFIX) + 1 :]


def _expand_id(compact: object) -> LicenseIdentifier:
    if not isinstance(compact, str) or compact.startswith(LICENSE_ID_PREFIX):
        raise InvalidLicenseIdentifier(code="license_id_bad_prefix", field="prefix")
    return parse_identifier(f"{LICENSE_ID_PREFIX}.{compact}")


def _disclosure(label: int, value: str) -> bytes:
    return encode_deterministic([secrets.token_bytes(SALT_SIZE), label, value])


def issue_credential(
    signer: Signer,
    alg: int | str,
    *,
    issuer_id: str,
    type_code: str,
    identifier: LicenseIdentifier | str,
    fields: Mapping[str, str],
    holder_public_key: PublicKey | Mapping[Any, Any],
    valid_from: datetime | int,
    valid_until: datetime | int | None,
    status_uri: str,
    status_index: int,
    issued_at: datetime | int,
    kid: bytes | None = None,
) -> bytes:
    """Issue a license credential: a COSE_Sign1 whose unprotected header carries
    every disclosure (for the wallet; presentations drop the header).

    ``fields`` are checked with :func:`~license_wallet.types.validate_fields`;
    ``identifier`` must parse and name ``type_code``; ``valid_until`` None
    means no end date (长期). ``alg`` must be the signer's algorithm, SM2
    (-65601) or ES256 (-7). Raises :class:`InvalidLicenseFields`,
    :class:`UnknownLicenseType`, :class:`InvalidLicenseIdentifier`,
    :class:`~trust.errors.InvalidKey`, ``ValueError``/``TypeError`` on bad
    arguments.
    """
    lt = license_type(type_code)
    clean = validate_fields(lt.code, fields)
    lid = _identifier(identifier)
    if lid.type_code != lt.code:
        raise InvalidLicenseIdentifier(
            "the identifier names another license type",
            code="license_id_bad_type_code",
            field="type_code",
        )
    holder = _holder_key(holder_public_key)
    if signer.algorithm.cose not in (ALG_SM2, ALG_ES256):
        raise ValueError("license credentials are signed with SM2 or ES256")
    if not isinstance(issuer_id, str) or not 0 < len(issuer_id) <= MAX_ISSUER_ID:
        raise ValueError(f"issuer_id must be 1..{MAX_ISSUER_ID} characters")
    if not isinstance(status_uri, str) or not 0 < len(status_uri) <= MAX_URI:
        raise ValueError(f"status_uri must be 1..{MAX_URI} characters")
    if isinstance(status_index, bool) or not isinstance(status_index, int) or status_index < 0:
        raise ValueError("status_index must be a non-negative integer")
    nbf = _epoch(valid_from, "valid_from")
    iat = _epoch(issued_at, "issued_at")
    exp = None if valid_until is None else _epoch(valid_until, "valid_until")
    if exp is not None and exp <= nbf:
        raise ValueError("valid_until must be after valid_from")

    disclosures = [_disclosure(f.label, clean[f.key]) for f in lt.fields if f.key in clean]
    digests = {_digest(d) for d in disclosures}
    while len(digests) < lt.digest_slots:
        digests.add(secrets.token_bytes(DIGEST_SIZE))  # decoys: indistinguishable
    claims: dict[int, Any] = {
        CLAIM_ISS: issuer_id,
        CLAIM_IAT: iat,
        CLAIM_NBF: nbf,
        CLAIM_CNF: {CNF_COSE_KEY: _cose_key(holder)},
        CLAIM_STATUS: {"status_list": {"idx": status_index, "uri": status_uri}},
        CLAIM_LICENSE_ID: _compact_id(lid),
        CLAIM_DIGESTS: b"".join(sorted(digests)),
    }
    if exp is not None:
        claims[CLAIM_EXP] = exp
    return sign1(
        encode_deterministic(claims),
        signer,
        alg=alg,
        kid=kid,
        protected_extra={H_TYP: TYP_CREDENTIAL},
        unprotected={H_DISCLOSURES: disclosures},
    )


# --------------------------------------------------------------------------- presentation


def _malformed(code: str, message: str, detail: str | None = None) -> MalformedPresentation:
    return MalformedPresentation(message, code=code, detail=detail)


def _rejected(code: str, message: str) -> PresentationRejected:
    return PresentationRejected(message, code=code)


def _strip_unprotected(msg: CoseSign1) -> bytes:
    body = [msg.protected_bytes, {}, msg.payload, msg.signature]
    return encode_deterministic(cbor2.CBORTag(18, body))


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 0x100:
        return bytes([major << 5 | 24, length])
    if length < 0x10000:
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + length.to_bytes(4, "big")


def _sd_hash(credential: bytes, disclosures: Sequence[bytes]) -> bytes:
    """SHA-256/128 of the deterministic CBOR ``[credential, [disclosures…]]``
    (written out directly: byte strings in arrays have one encoding)."""
    parts = [b"\x82", _cbor_head(2, len(credential)), credential]
    parts.append(_cbor_head(4, len(disclosures)))
    for d in disclosures:
        parts += (_cbor_head(2, len(d)), d)
    return _digest(b"".join(parts))


def present(
    credential: bytes,
    disclosures_to_show: Iterable[str] | str,
    holder_signer: Signer,
    *,
    now: datetime | int,
    nonce: bytes | None = None,
    aud: str | None = None,
) -> bytes:
    """Build a presentation (CBOR bytes) of an issued ``credential``.

    ``disclosures_to_show``: field keys, or ``"full"`` (every field the
    credential has) or ``"minimal"`` (the type's minimal fields it has). A key
    outside the schema raises :class:`InvalidLicenseFields` ``field_unknown``,
    one the credential lacks ``field_missing``. ``holder_signer`` must be the
    ES256 signer of the credential's ``cnf`` key (else :class:`CredentialError`
    ``holder_key_mismatch``). Encode the result with
    :func:`~license_wallet.qr.encode_qr_text`, or call :func:`present_qr_text`.
    """
    try:
        msg = decode_sign1(credential)
        claims = decode_cbor(msg.payload)
        lt = license_type(_expand_id(claims[CLAIM_LICENSE_ID]).type_code)
        holder = _cose_key_to_public(claims[CLAIM_CNF][CNF_COSE_KEY])
        issued = msg.unprotected.get(H_DISCLOSURES, [])
        by_key: dict[str, bytes] = {}
        for raw in issued:
            _salt, label, _value = decode_cbor(raw)
            spec = lt.field_by_label(label)
            if spec is not None:
                by_key[spec.key] = raw
    except (TrustError, KeyError, TypeError, ValueError) as exc:
        raise _malformed(
            "credential_malformed", f"not an issued license credential: {exc}"
        ) from None
    if holder_signer.algorithm.cose != ALG_ES256:
        raise CredentialError("the key-binding token is signed with ES256", code="kb_alg")
    if holder_signer.public_key != holder:
        raise CredentialError("not the credential's holder key", code="holder_key_mismatch")
    if isinstance(disclosures_to_show, str):
        if disclosures_to_show == "full":
            wanted = [k for k in lt.keys if k in by_key]
        elif disclosures_to_show == "minimal":
            wanted = [k for k in lt.minimal_keys if k in by_key]
        else:
            raise ValueError('a preset is "full" or "minimal"; pass keys as a list')
    else:
        wanted = list(disclosures_to_show)
        for key in wanted:
            if lt.field(key) is None:
                raise InvalidLicenseFields(code="field_unknown", field=key)
            if key not in by_key:
                raise InvalidLicenseFields(code="field_missing", field=key)
    chosen = set(wanted)
    shown = [by_key[k] for k in lt.keys if k in chosen]  # schema order: deterministic
    cred = _strip_unprotected(msg)
    kb_claims: dict[int, Any] = {
        CLAIM_IAT: _epoch(now, "now"),
        CLAIM_SD_HASH: _sd_hash(cred, shown),
    }
    if nonce is not None:
        if not isinstance(nonce, bytes) or not 0 < len(nonce) <= MAX_NONCE:
            raise ValueError(f"nonce must be 1..{MAX_NONCE} bytes")
        kb_claims[CLAIM_CNONCE] = nonce
    if aud is not None:
        if not isinstance(aud, str) or not 0 < len(aud) <= MAX_AUD:
            raise ValueError(f"aud must be 1..{MAX_AUD} characters")
        kb_claims[CLAIM_AUD] = aud
    kb = sign1(
        encode_deterministic(kb_claims),
        holder_signer,
        alg=ALG_ES256,
        protected_extra={H_TYP: TYP_KB},
    )
    return encode_deterministic([cred, shown, kb])


def present_qr_text(
    credential: bytes,
    disclosures_to_show: Iterable[str] | str,
    holder_signer: Signer,
    *,
    now: datetime | int,
    nonce: bytes | None = None,
    aud: str | None = None,
) -> str:
    """:func:`present`, then the ``GT1:`` QR text."""
    return encode_qr_text(
        present(credential, disclosures_to_show, holder_signer, now=now, nonce=nonce, aud=aud)
    )


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class VerifiedLicense:
    """What a verified presentation establishes. Only disclosed fields appear."""

    issuer: str  #: ``iss``: the issuing participant
    kid: bytes | None
    alg: int  #: the issuer's COSE algorithm
    type_code: str
    type_name_zh: str
    type_name_en: str
    identifier: str  #: GB/T 36904 电子证照标识
    issuer_code: str  #: the issuer USCC inside the identifier
    fields: Mapping[str, str]  #: disclosed fields, by ASCII key
    valid_from: datetime
    valid_until: datetime | None  #: None: no end date (长期)
    issued_at: datetime
    status_uri: str
    status_index: int
    status: StatusType | None  #: None when no status lookup was given
    kb_issued_at: datetime  #: the key-binding token's iat
    holder_key: PublicKey = field(repr=False)
    nonce: bytes | None = None
    aud: str | None = None
    checks: tuple[str, ...] = ()  #: the checks performed, in order


def _as_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_claim(claims: Mapping[Any, Any], key: int) -> int | None:
    value = claims.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TIME:
        raise _malformed("credential_malformed", f"claim {key} must be an integer NumericDate")
    return value


def _decode_outer(data: str | bytes) -> tuple[bytes, list[bytes], bytes]:
    if isinstance(data, str):
        try:
            raw = decode_qr_text(data, max_output=MAX_PRESENTATION)
        except QrError as exc:
            raise _malformed("presentation_malformed", exc.message, exc.code) from None
    elif isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        raise _malformed("presentation_malformed", "expected QR text or bytes")
    try:
        outer = decode_cbor(raw, max_size=MAX_PRESENTATION, max_depth=2, max_items=200)
    except MalformedInput as exc:
        raise _malformed("presentation_malformed", exc.message, exc.code) from None
    if (
        not isinstance(outer, list)
        or len(outer) != 3
        or not isinstance(outer[0], bytes)
        or not isinstance(outer[1], list)
        or not isinstance(outer[2], bytes)
        or len(outer[1]) > MAX_DISCLOSURES
        or not all(isinstance(d, bytes) for d in outer[1])
    ):
        raise _malformed("presentation_malformed", "expected [credential, [disclosures], kb]")
    return outer[0], outer[1], outer[2]


def _bstr_at(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """The byte string whose head is at ``pos`` (preferred encoding only), and the
    position after it; None for anything else."""
    if pos >= len(data):
        return None
    head = data[pos]
    if 0x40 <= head < 0x58:
        start, length = pos + 1, head - 0x40
    elif head == 0x58 and pos + 1 < len(data) and data[pos + 1] >= 0x18:
        start, length = pos + 2, data[pos + 1]
    elif head == 0x59 and pos + 2 < len(data) and data[pos + 1] != 0:
        start, length = pos + 3, int.from_bytes(data[pos + 1 : pos + 3], "big")
    else:
        return None
    end = start + length
    return (data[start:end], end) if end <= len(data) else None


def _int_at(data: bytes, pos: int) -> tuple[int, int] | None:
    """The integer (major type 0 or 1, preferred encoding) at ``pos`` and the position
    after it; None for anything else."""
    if pos >= len(data):
        return None
    head = data[pos]
    major, info = head >> 5, head & 0x1F
    if major > 1:
        return None
    if info < 24:
        value, end = info, pos + 1
    elif info in (24, 25, 26):
        size = 1 << (info - 24)
        end = pos + 1 + size
        if end > len(data):
            return None
        value = int.from_bytes(data[pos + 1 : end], "big")
        if value < (24 if size == 1 else 1 << (4 * size)):
            return None  # not the preferred encoding
    else:
        return None
    return (-1 - value if major else value), end


def _protected_fast(data: bytes) -> dict[int | str, Any] | None:
    """``{1: alg, 4: kid, 16: typ}`` (kid optional) in deterministic encoding, read
    directly; None for anything else."""
    if len(data) < 4 or data[0] not in (0xA2, 0xA3) or data[1] != 0x01:
        return None
    part = _int_at(data, 2)
    if part is None:
        return None
    alg, pos = part
    out: dict[int | str, Any] = {1: alg}
    if data[0] == 0xA3:
        if pos >= len(data) or data[pos] != 0x04:
            return None
        kid = _bstr_at(data, pos + 1)
        if kid is None:
            return None
        out[4], pos = kid
    if pos + 2 > len(data) or data[pos] != 0x10 or not 0x60 <= data[pos + 1] < 0x78:
        return None
    end = pos + 2 + data[pos + 1] - 0x60
    if end != len(data):
        return None
    try:
        out[16] = data[pos + 2 : end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return out


def _sign1_fast(data: bytes, typ: str) -> CoseSign1 | None:
    """``18([protected, {}, payload, signature])`` with ``protected`` = {1: alg,
    4: kid, 16: typ} read directly when ``data`` is exactly that (what issuers and
    wallets write); None for anything else, which :func:`trust.cose.decode_sign1`
    then reads or refuses with its reason. The same checks either way."""
    if len(data) > MAX_PRESENTATION or data[:2] != b"\xd2\x84":
        return None
    part = _bstr_at(data, 2)
    if part is None or not part[0]:
        return None
    protected_bytes, pos = part
    if pos >= len(data) or data[pos] != 0xA0:
        return None
    part = _bstr_at(data, pos + 1)
    if part is None:
        return None
    payload, pos = part
    part = _bstr_at(data, pos)
    if part is None or part[1] != len(data):
        return None
    signature = part[0]
    protected = _protected_fast(protected_bytes)
    if protected is None or protected.get(16) != typ:
        return None
    alg, kid = protected[1], protected.get(4)
    return CoseSign1(
        protected_bytes=protected_bytes,
        protected=MappingProxyType(protected),
        unprotected=MappingProxyType({}),
        payload=payload,
        signature=signature,
        alg=alg,
        alg_protected=True,
        kid=kid,
        tags=(18,),
    )


def _decode_cose(data: bytes, code: str, typ: str) -> CoseSign1:
    fast = _sign1_fast(data, typ)
    if fast is not None:
        return fast
    try:
        msg = decode_sign1(data, max_size=MAX_PRESENTATION, max_depth=6)
    except MalformedInput as exc:
        raise _malformed(code, exc.message, exc.code) from None
    except CoseError as exc:
        raise _malformed(code, exc.message, exc.code) from None
    if msg.tags != (18,) or msg.protected.get(H_TYP) != typ:
        raise _malformed(code, f"expected a tagged COSE_Sign1 with typ {typ!r}")
    if msg.unprotected:
        raise _malformed(code, "a presented COSE_Sign1 has an empty unprotected header")
    return msg


def _payload_map(msg: CoseSign1, code: str) -> Mapping[Any, Any]:
    try:
        claims = decode_cbor(msg.payload, max_size=MAX_PRESENTATION, max_depth=4)
    except MalformedInput as exc:
        raise _malformed(code, exc.message, exc.code) from None
    if not isinstance(claims, dict):
        raise _malformed(code, "the payload is not a map")
    return claims


def _verify_issuer(
    msg: CoseSign1,
    iss: str,
    issuer_keys: IssuerKeyLookup,
    allowed_algs: Collection[int],
) -> None:
    if msg.alg not in allowed_algs or msg.alg not in (ALG_SM2, ALG_ES256):
        raise _rejected("license_alg_not_allowed", f"COSE alg {msg.alg} not allowed")
    try:
        keys = list(issuer_keys(iss, msg.kid))
    except (TrustError, LookupError, ValueError) as exc:
        raise _rejected("license_issuer_unknown", f"issuer key lookup failed: {exc}") from None
    if not keys:
        raise _rejected("license_issuer_unknown", f"no key for issuer {iss!r}")
    for key in keys:
        try:
            verify_sign1(msg, key, allowed_algs=[msg.alg])
        except CoseError:
            continue
        return
    raise _rejected("license_signature_invalid", "the issuer signature does not verify")


@dataclass(frozen=True, slots=True)
class _Claims:
    iss: str
    iat: int
    nbf: int
    exp: int | None
    lt: LicenseType
    identifier: LicenseIdentifier
    digests: frozenset[bytes]
    holder: PublicKey
    status_idx: int
    status_uri: str


def _parse_claims(c: Mapping[Any, Any]) -> _Claims:
    def bad(message: str) -> MalformedPresentation:
        return _malformed("credential_malformed", message)

    known = {
        CLAIM_ISS,
        CLAIM_IAT,
        CLAIM_NBF,
        CLAIM_EXP,
        CLAIM_CNF,
        CLAIM_STATUS,
        CLAIM_LICENSE_ID,
        CLAIM_DIGESTS,
    }
    if set(c) - known:
        raise bad("unknown claims")
    iss = c.get(CLAIM_ISS)
    if not isinstance(iss, str) or not 0 < len(iss) <= MAX_ISSUER_ID:
        raise bad("iss")
    iat, nbf, exp = _int_claim(c, CLAIM_IAT), _int_claim(c, CLAIM_NBF), _int_claim(c, CLAIM_EXP)
    if iat is None or nbf is None:
        raise bad("iat and nbf are required")
    try:
        lid = _expand_id(c.get(CLAIM_LICENSE_ID))
    except InvalidLicenseIdentifier as exc:
        raise _rejected("license_id_invalid", f"bad identifier: {exc.code}") from None
    try:
        lt = license_type(lid.type_code)
    except UnknownLicenseType:
        raise _rejected("license_type_unknown", "unknown license type") from None
    raw = c.get(CLAIM_DIGESTS)
    if not isinstance(raw, bytes) or len(raw) != lt.digest_slots * DIGEST_SIZE:
        raise bad("digests")
    digests = [raw[i : i + DIGEST_SIZE] for i in range(0, len(raw), DIGEST_SIZE)]
    if any(a >= b for a, b in zip(digests, digests[1:], strict=False)):
        raise bad("digests must be sorted and unique")
    cnf = c.get(CLAIM_CNF)
    if not isinstance(cnf, dict) or set(cnf) != {CNF_COSE_KEY}:
        raise bad("cnf")
    if not isinstance(cnf[CNF_COSE_KEY], dict):
        raise bad("cnf COSE_Key")
    try:
        holder = _cose_key_to_public(cnf[CNF_COSE_KEY])
    except (InvalidKey, MalformedInput) as exc:
        raise _rejected("holder_key_invalid", exc.message) from None
    status = c.get(CLAIM_STATUS)
    ref = status.get("status_list") if isinstance(status, dict) and len(status) == 1 else None
    if (
        not isinstance(ref, dict)
        or set(ref) != {"idx", "uri"}
        or not _as_int(ref["idx"])
        or ref["idx"] < 0
        or not isinstance(ref["uri"], str)
        or not 0 < len(ref["uri"]) <= MAX_URI
    ):
        raise bad("status")
    return _Claims(iss, iat, nbf, exp, lt, lid, frozenset(digests), holder, ref["idx"], ref["uri"])


def _check_times(cl: _Claims, now: float, leeway: int) -> None:
    cwt = CwtClaims(iss=cl.iss, exp=cl.exp, nbf=cl.nbf, iat=cl.iat)
    try:
        check_cwt_times(cwt, now=now, leeway=leeway, require_exp=False)
    except CwtError as exc:
        code = {
            "cwt_expired": "license_expired",
            "cwt_not_yet_valid": "license_not_yet_valid",
            "cwt_iat_in_future": "license_iat_in_future",
        }.get(exc.code, "credential_malformed")
        raise _rejected(code, exc.message) from None


def _check_value(lt: LicenseType, key: str, value: str, shown: Mapping[str, str]) -> str:
    code_types: Sequence[HolderCodeType] = lt.holder_code_types
    if key == "holder_code" and "holder_code_type" in shown:
        declared = shown["holder_code_type"]
        if declared not in {t.value for t in lt.holder_code_types}:
            raise InvalidLicenseFields(code="field_inconsistent", field="holder_code_type")
        code_types = [HolderCodeType(declared)]
    last: InvalidLicenseFields | None = None
    for code_type in code_types:
        try:
            return validate_field(lt.code, key, value, holder_code_type=code_type)
        except InvalidLicenseFields as exc:
            last = exc
    assert last is not None
    raise last


def _disclosure_fast(raw: bytes) -> list[Any] | None:
    """``[salt (16-byte bstr), label (uint), value (tstr)]`` read directly when ``raw``
    is exactly that, in preferred encoding (what every issuer writes); None for
    anything else, which :func:`~trust.cose.decode_cbor` then reads or refuses."""
    n = len(raw)
    if n < 20 or n > MAX_DISCLOSURE_SIZE or raw[0] != 0x83 or raw[1] != 0x50:
        return None
    pos = 18
    first = raw[pos]
    if first < 0x18:
        label, pos = first, pos + 1
    elif first == 0x18 and raw[pos + 1] >= 0x18:
        label, pos = raw[pos + 1], pos + 2
    elif first == 0x19 and raw[pos + 1] != 0:
        label, pos = int.from_bytes(raw[pos + 1 : pos + 3], "big"), pos + 3
    else:
        return None
    if pos >= n:
        return None
    head = raw[pos]
    if 0x60 <= head < 0x78:
        length, pos = head - 0x60, pos + 1
    elif head == 0x78 and pos + 1 < n and raw[pos + 1] >= 0x18:
        length, pos = raw[pos + 1], pos + 2
    elif head == 0x79 and pos + 2 < n and raw[pos + 1] != 0:
        length, pos = int.from_bytes(raw[pos + 1 : pos + 3], "big"), pos + 3
    else:
        return None
    if pos + length != n:
        return None
    try:
        value = raw[pos:].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return [raw[2:18], label, value]


def _open_disclosures(cl: _Claims, disclosures: Sequence[bytes]) -> dict[str, str]:
    seen: set[bytes] = set()
    by_label: dict[int, str] = {}
    for raw in disclosures:
        d = _digest(raw)
        if d not in cl.digests:
            raise _rejected("disclosure_unknown", "a disclosure is not in the signed digests")
        if d in seen:
            raise _rejected("disclosure_duplicate", "a disclosure is shown twice")
        seen.add(d)
        item = _disclosure_fast(raw)
        if item is None:  # not the usual shape: the general decoder decides (and explains)
            try:
                item = decode_cbor(raw, max_size=MAX_DISCLOSURE_SIZE, max_depth=1, max_items=4)
            except MalformedInput as exc:
                raise _malformed("disclosure_malformed", exc.message, exc.code) from None
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not isinstance(item[0], bytes)
            or len(item[0]) != SALT_SIZE
            or not _as_int(item[1])
            or not isinstance(item[2], str)
        ):
            raise _malformed("disclosure_malformed", "expected [salt, label, value]")
        _, label, value = item
        if cl.lt.field_by_label(label) is None:
            raise _rejected("disclosure_invalid", f"label {label} is not in the type's schema")
        if label in by_label:
            raise _rejected("disclosure_duplicate", f"label {label} disclosed twice")
        by_label[label] = value
    shown: dict[str, str] = {}
    for spec in cl.lt.fields:  # schema order; holder_code_type (3) before use below
        if spec.label in by_label:
            shown[spec.key] = by_label[spec.label]
    for key, value in list(shown.items()):
        try:
            shown[key] = _check_value(cl.lt, key, value, shown)
        except InvalidLicenseFields as exc:
            raise _rejected("disclosure_invalid", f"{key}: {exc.code}") from None
    return shown


def presented_identifier(presentation: str | bytes) -> LicenseIdentifier:
    """The 电子证照标识 named inside a presentation (QR text or CBOR), read with the
    verifier's bounded decoders and **no signature checked** — for routing (which
    license is this?), never for trust. Raises :class:`MalformedPresentation`."""
    cred_bytes, _disclosures, _kb = _decode_outer(presentation)
    claims = _payload_map(
        _decode_cose(cred_bytes, "credential_malformed", TYP_CREDENTIAL), "credential_malformed"
    )
    return _expand_id(claims.get(CLAIM_LICENSE_ID))


def verify_presentation(
    presentation: str | bytes,
    *,
    issuer_keys: IssuerKeyLookup,
    now: datetime | int | float,
    allowed_algs: Collection[int] = (ALG_SM2, ALG_ES256),
    max_kb_age: int = MAX_KB_AGE,
    expected_nonce: bytes | None = None,
    expected_aud: str | None = None,
    status_lookup: StatusLookup | None = None,
    leeway: int = DEFAULT_LEEWAY,
) -> VerifiedLicense:
    """Verify a presentation (QR text or its CBOR bytes); return what it proves.

    Steps, each failing with a typed error (codes in
    :class:`~license_wallet.errors.MalformedPresentation` and
    :class:`~license_wallet.errors.PresentationRejected`): envelope and bounded
    decoding; the issuer's COSE_Sign1 (``typ``, algorithm allow-list, every
    key ``issuer_keys(iss, kid)`` returns); the claims; validity (``nbf``,
    ``exp``, ``iat`` with ``leeway``); every disclosure's digest in the signed
    list, once, and its value valid for the type; the key-binding token's
    ES256 signature under ``cnf``; its age (≤ ``max_kb_age``, not in the
    future); ``expected_nonce`` and ``expected_aud`` when given; ``sd_hash``
    over the exact credential and disclosures; the status via
    ``status_lookup(uri, idx)`` when given (:class:`LicenseRevoked`,
    :class:`LicenseSuspended`, else ``license_status_unknown``).

    A replay cache (seen once) is the caller's: key it on the kb signature.
    """
    if not 0 <= leeway <= DEFAULT_LEEWAY:
        raise ValueError(f"leeway must be 0..{DEFAULT_LEEWAY} seconds")
    t = float(_epoch(now, "now")) if not isinstance(now, float) else now
    checks: list[str] = ["envelope"]
    cred_bytes, disclosures, kb_bytes = _decode_outer(presentation)
    cred = _decode_cose(cred_bytes, "credential_malformed", TYP_CREDENTIAL)
    kb = _decode_cose(kb_bytes, "kb_malformed", TYP_KB)
    raw_claims = _payload_map(cred, "credential_malformed")
    checks.append("bounded_decoding")

    iss = raw_claims.get(CLAIM_ISS)
    if not isinstance(iss, str) or not 0 < len(iss) <= MAX_ISSUER_ID:
        raise _malformed("credential_malformed", "iss must be text")
    _verify_issuer(cred, iss, issuer_keys, allowed_algs)
    checks.append("issuer_signature")

    cl = _parse_claims(raw_claims)
    checks.append("claims")
    _check_times(cl, t, leeway)
    checks.append("validity")
    shown = _open_disclosures(cl, disclosures)
    checks.append("disclosures")

    if kb.alg != ALG_ES256:
        raise _rejected("kb_invalid", "the key-binding token must be ES256")
    try:
        verify_sign1(kb, cl.holder, allowed_algs=[ALG_ES256])
    except CoseError:
        raise _rejected("kb_invalid", "the key-binding signature does not verify") from None
    checks.append("kb_signature")
    kbc = _payload_map(kb, "kb_malformed")
    if set(kbc) - {CLAIM_IAT, CLAIM_SD_HASH, CLAIM_CNONCE, CLAIM_AUD}:
        raise _malformed("kb_malformed", "unknown key-binding claims")
    kb_iat, sd_hash = kbc.get(CLAIM_IAT), kbc.get(CLAIM_SD_HASH)
    nonce, aud = kbc.get(CLAIM_CNONCE), kbc.get(CLAIM_AUD)
    if (
        not isinstance(kb_iat, int)
        or isinstance(kb_iat, bool)
        or not isinstance(sd_hash, bytes)
        or (nonce is not None and not isinstance(nonce, bytes))
        or (aud is not None and not isinstance(aud, str))
    ):
        raise _malformed("kb_malformed", "iat, sd_hash, nonce or aud has the wrong type")
    if kb_iat > t + leeway:
        raise _rejected("kb_in_future", "the key-binding token is issued in the future")
    if t - kb_iat > max_kb_age:
        raise _rejected("kb_stale", f"the key-binding token is older than {max_kb_age} s")
    checks.append("kb_freshness")
    if expected_nonce is not None:
        if nonce is None or not hmac.compare_digest(nonce, expected_nonce):
            raise _rejected("kb_nonce_mismatch", "the nonce is not the verifier's")
        checks.append("kb_nonce")
    if expected_aud is not None:
        if aud != expected_aud:
            raise _rejected("kb_aud_mismatch", "the audience is not this verifier")
        checks.append("kb_aud")
    if not hmac.compare_digest(sd_hash, _sd_hash(cred_bytes, disclosures)):
        raise _rejected("kb_sd_hash_mismatch", "sd_hash does not bind these disclosures")
    checks.append("sd_hash")

    status: StatusType | None = None
    if status_lookup is not None:
        status = _status(status_lookup, cl.status_uri, cl.status_idx)
        checks.append("status")
    return VerifiedLicense(
        issuer=cl.iss,
        kid=cred.kid,
        alg=cred.alg,
        type_code=cl.lt.code,
        type_name_zh=cl.lt.name_zh,
        type_name_en=cl.lt.name_en,
        identifier=str(cl.identifier),
        issuer_code=cl.identifier.issuer_code,
        fields=shown,
        valid_from=_from_epoch(cl.nbf),
        valid_until=None if cl.exp is None else _from_epoch(cl.exp),
        issued_at=_from_epoch(cl.iat),
        status_uri=cl.status_uri,
        status_index=cl.status_idx,
        status=status,
        holder_key=cl.holder,
        kb_issued_at=_from_epoch(kb_iat),
        nonce=nonce,
        aud=aud,
        checks=tuple(checks),
    )


def _status(lookup: StatusLookup, uri: str, idx: int) -> StatusType:
    try:
        value = lookup(uri, idx)
    except (TrustError, LookupError, ValueError, OSError) as exc:
        raise _rejected("license_status_unknown", f"status lookup failed: {exc}") from None
    if value == StatusType.VALID:
        return StatusType.VALID
    if value == StatusType.INVALID:
        raise LicenseRevoked("the license is revoked")
    if value == StatusType.SUSPENDED:
        raise LicenseSuspended("the license is suspended")
    raise _rejected("license_status_unknown", f"unrecognised status value {value!r}")


# --------------------------------------------------------------------------- QR sizes


def qr_versions(*, error: str = "M") -> list[dict[str, Any]]:
    """Issue, present and render every catalogue type's example license
    (:func:`~license_wallet.types.example_fields`) with SM2 and ES256 issuers,
    full and minimal disclosure, with a nonce; one row per case:
    ``{"type", "name_zh", "alg", "disclosure", "fields", "bytes", "chars", "version"}``.
    """
    from trust.crypto import generate_private_key

    from .identifier import build_identifier

    holder = generate_private_key("p256").signer("ES256")
    issuers = {
        "SM2": generate_private_key("sm2").signer("SM2"),
        "ES256": generate_private_key("p256").signer("ES256"),
    }
    issuer_uscc = "113300000024820150"
    t0 = 1_795_000_000
    rows: list[dict[str, Any]] = []
    for lt in license_types():
        fields = example_fields(lt.code)
        lid = build_identifier(lt.code, issuer_uscc, "330100202600012345", 1)
        for name, signer in issuers.items():
            cred = issue_credential(
                signer,
                signer.algorithm.cose,
                issuer_id="zj-gat",
                type_code=lt.code,
                identifier=lid,
                fields=fields,
                holder_public_key=holder.public_key,
                valid_from=t0,
                valid_until=t0 + 20 * 365 * 86400,
                # as LicenseService builds it for a hub at this address
                status_uri="https://trust.zwfw.gov.cn/sl/zj-gat.1",
                status_index=1_234_567,
                issued_at=t0,
                kid=b"zjgat-01",
            )
            for disclosure in ("full", "minimal"):
                body = present(cred, disclosure, holder, now=t0 + 60, nonce=b"\x5a" * 8)
                text = encode_qr_text(body)
                rows.append(
                    {
                        "type": lt.slug,
                        "name_zh": lt.name_zh,
                        "alg": name,
                        "disclosure": disclosure,
                        "fields": len(fields if disclosure == "full" else lt.minimal_keys),
                        "bytes": len(body),
                        "chars": len(text),
                        "version": render_qr(text, error=error).version,
                    }
                )
    return rows
