"""Making electronic seals and electronic signatures (GB/T 38540-2020, "v4").

The producing side of :mod:`seal_service.ses` (which parses and verifies).
Flask-free and database-free; keys stay behind a :class:`trust.crypto.Signer`.

Standard: GB/T 38540-2020 *信息安全技术 安全电子签章密码技术规范*.

* Clause 6 电子印章 — data format ``SESeal ::= SEQUENCE { eSealInfo
  SES_SealInfo, cert OCTET STRING, signAlgID OBJECT IDENTIFIER, signedValue BIT
  STRING }`` with ``SES_SealInfo ::= SEQUENCE { header SES_Header, esID
  IA5String, property SES_ESPropertyInfo, picture SES_ESPictrueInfo, extDatas
  ExtensionDatas OPTIONAL }``. :func:`make_seal` writes ``SES_Header`` { "ES", 4,
  Vid }, ``SES_ESPropertyInfo`` with ``certListType`` 1 (the holders'
  certificates, DER), GeneralizedTime dates, a PNG ``SES_ESPictrueInfo`` (type
  "png", width and height in whole millimetres) and ``signedValue`` = the
  maker's SM2 signature over DER(SES_SealInfo), ``signAlgID`` SM3withSM2
  (1.2.156.10197.1.501).
* Clause 7 电子签章 — data format ``SES_Signature ::= SEQUENCE { toSign
  TBS_Sign, cert OCTET STRING, signatureAlgID OBJECT IDENTIFIER, signature BIT
  STRING, timeStamp [0] BIT STRING OPTIONAL }`` with ``TBS_Sign ::= SEQUENCE {
  version INTEGER, eseal SESeal, timeInfo GeneralizedTime, dataHash BIT STRING,
  propertyInfo IA5String, extDatas ExtensionDatas OPTIONAL }``.
  :func:`sign_digest` writes version 4, the seal exactly as given, the signing
  time (UTC, whole seconds), the caller's 32-byte SM3 ``dataHash`` ("hash mode":
  the document itself never leaves the agency), ``propertyInfo``, the signer's
  certificate and its SM2 signature over DER(TBS_Sign). No time-stamp and no
  extensions are written.

GB/T 38540 seals are SM2/SM3 only: a maker or signer whose algorithm is not SM2
is refused (:class:`SealingError`, code ``unsupported_algorithm``) rather than
labelled ecdsa-with-SHA256, which no GB/T 38540 reader expects.

Every refusal is a :class:`SealingError` with a stable ``code``; every output is
parsed back with :mod:`seal_service.ses` and its signature verified before it
is returned, so a faulty :class:`~trust.crypto.Signer` cannot produce a seal
or signature that does not verify.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

from asn1crypto import core

from trust.algorithms import OID, KeyFamily
from trust.crypto import Signer
from trust.errors import TrustError
from trust.hashes import digest, sm3
from trust.pki import Certificate

from .report import Check, CheckStatus
from .ses import (
    Seal,
    SealFormatError,
    SESCertInfoList,
    SESealV4,
    SESESPictrueInfo,
    SESESPropertyInfoV4,
    SESSealInfoV4,
    SESSignatureV4,
    TBSSignV4,
    _seal_checks,
    _signature_check,
    _signer_in_seal,
    _Text,
    _Time,
    _validity_check,
    parse_seal,
    parse_signature,
    verify_seal,
)

__all__ = [
    "SES_VERSION",
    "DATA_HASH_SIZE",
    "SealingError",
    "make_seal",
    "sign_digest",
    "sign_data",
]

SES_VERSION: Final = 4
DATA_HASH_SIZE: Final = 32  # SM3
_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"


class SealingError(TrustError):
    """A seal or signature cannot be made from these inputs.

    Codes: ``invalid_argument``, ``unsupported_algorithm``, ``key_mismatch``,
    ``maker_certificate_not_valid``, ``malformed_seal``, ``unsupported_seal_version``,
    ``seal_signature_invalid``, ``seal_not_valid``, ``signer_not_in_seal``,
    ``signer_certificate_not_valid``, ``bad_data_hash``, ``self_check_failed``.
    """

    code = "sealing_error"


# --------------------------------------------------------------------------- input checks


def _instant(value: datetime, what: str) -> datetime:
    """A timezone-aware instant, in UTC, truncated to whole seconds."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise SealingError(f"{what} must be a timezone-aware datetime", code="invalid_argument")
    return value.astimezone(UTC).replace(microsecond=0)


def _generalized(value: datetime) -> _Time:
    return _Time(name="general", value=value)


def _ia5(value: str, what: str, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or not value.isascii() or (not value and not empty_ok):
        kind = "an ASCII string" if empty_ok else "a non-empty ASCII string"
        raise SealingError(f"{what} must be {kind} (IA5String)", code="invalid_argument")
    return value


def _check_sm2(signer: Signer, cert: Certificate, who: str) -> None:
    if signer.algorithm.family is not KeyFamily.SM2 or signer.algorithm.oid != OID.SM3_WITH_SM2:
        raise SealingError(
            f"the {who} signs with {signer.algorithm.name}; GB/T 38540 seals need SM2 (SM3withSM2)",
            code="unsupported_algorithm",
        )
    if signer.public_key != cert.public_key:
        raise SealingError(
            f"the {who}'s key is not the key of its certificate ({cert.subject})",
            code="key_mismatch",
        )


def _mm(value: float, what: str) -> int:
    """GB/T 38540 SES_ESPictrueInfo width/height are INTEGER millimetres."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SealingError(f"{what} must be a number of millimetres", code="invalid_argument")
    mm = int(math.floor(value + 0.5))
    if mm <= 0:
        raise SealingError(f"{what} must be at least 1 mm (got {value})", code="invalid_argument")
    return mm


# --------------------------------------------------------------------------- seals


def make_seal(
    *,
    maker: Signer,
    maker_cert: Certificate,
    holder_certs: Sequence[Certificate],
    es_id: str,
    name: str,
    seal_type: int,
    created: datetime,
    valid_start: datetime,
    valid_end: datetime,
    picture_png: bytes,
    picture_width_mm: float,
    picture_height_mm: float,
    vid: str = "GovTrust",
) -> bytes:
    """Make a GB/T 38540-2020 v4 electronic seal (``SESeal``, DER, the ``.esl`` file).

    ``holder_certs`` are the seal holder's certificates (certListType 1); the
    signer of a later :func:`sign_digest` must be one of them. Times must be
    timezone-aware; they are written in UTC with whole seconds. The picture size
    is rounded to whole millimetres (the standard's INTEGER).
    """
    _check_sm2(maker, maker_cert, "seal maker")
    certs = tuple(holder_certs)
    if not certs or not all(isinstance(c, Certificate) for c in certs):
        raise SealingError("a seal needs at least one holder certificate", code="invalid_argument")
    _ia5(es_id, "es_id")
    _ia5(vid, "vid")
    if not isinstance(name, str) or not name.strip():
        raise SealingError("the seal needs a name", code="invalid_argument")
    if isinstance(seal_type, bool) or not isinstance(seal_type, int) or seal_type < 0:
        raise SealingError("seal_type must be a non-negative integer", code="invalid_argument")
    created = _instant(created, "created")
    valid_start = _instant(valid_start, "valid_start")
    valid_end = _instant(valid_end, "valid_end")
    if valid_end <= valid_start:
        raise SealingError("valid_end must be after valid_start", code="invalid_argument")
    if not maker_cert.valid_at(created):
        raise SealingError(
            f"the seal maker certificate ({maker_cert.subject}) is not valid at {created.isoformat()}",
            code="maker_certificate_not_valid",
        )
    if not isinstance(picture_png, bytes | bytearray) or not bytes(picture_png).startswith(
        _PNG_MAGIC
    ):
        raise SealingError("picture_png must be a PNG image", code="invalid_argument")
    width = _mm(picture_width_mm, "picture_width_mm")
    height = _mm(picture_height_mm, "picture_height_mm")

    info = SESSealInfoV4(
        {
            "header": {"id": "ES", "version": SES_VERSION, "vid": vid},
            "es_id": es_id,
            "property": SESESPropertyInfoV4(
                {
                    "type": seal_type,
                    "name": _Text(name="utf8", value=name),
                    "cert_list_type": 1,
                    "cert_list": SESCertInfoList([c.der for c in certs]),
                    "create_date": _generalized(created),
                    "valid_start": _generalized(valid_start),
                    "valid_end": _generalized(valid_end),
                }
            ),
            "picture": SESESPictrueInfo(
                {"type": "png", "data": bytes(picture_png), "width": width, "height": height}
            ),
        }
    )
    info_der: bytes = info.dump()
    seal_der: bytes = SESealV4(
        {
            "seal_info": SESSealInfoV4.load(info_der),
            "cert": maker_cert.der,
            "sign_alg_id": OID.SM3_WITH_SM2,
            "signed_value": maker.sign(info_der),
        }
    ).dump()

    try:
        seal = parse_seal(seal_der)
    except SealFormatError as exc:  # pragma: no cover - our own encoder
        raise SealingError(
            f"the new seal does not parse: {exc.message}", code="self_check_failed"
        ) from None
    result = verify_seal(seal, at=valid_start)
    if result.status("seal_signature") is not CheckStatus.PASSED:
        raise SealingError(
            "the maker's signature on the new seal does not verify: "
            + result.check("seal_signature").detail,
            code="self_check_failed",
        )
    return seal_der


# --------------------------------------------------------------------------- signatures


def _lists(seal: Seal, cert: Certificate) -> bool:
    if any(c.der == cert.der for c in seal.certs):
        return True
    for hash_name, value in seal.cert_digests:
        kind = hash_name.lower()
        # as seal_service.ses: a named SM3 or SHA-256 digest, otherwise either
        if kind in ("sm3", OID.SM3):
            names: tuple[str, ...] = ("sm3",)
        elif kind in ("sha256", "sha-256", OID.SHA256):
            names = ("sha256",)
        else:
            names = ("sm3", "sha256")
        if any(digest(h, cert.der) == value for h in names):
            return True
    return False


@lru_cache(maxsize=256)
def _checked_seal(seal_der: bytes) -> tuple[Seal, Check]:
    """The parsed seal and its maker-signature check, which depend on the bytes
    alone: an agency seals with the same few seals all day, and parsing and
    verifying each one again cost more than the SM2 signature being made. The
    time-dependent checks are made at every signature."""
    seal = parse_seal(seal_der)
    checks = _seal_checks(seal, when=None, roots=(), intermediates=())
    return seal, checks["seal_signature"]


def sign_digest(
    *,
    seal_der: bytes,
    signer: Signer,
    signer_cert: Certificate,
    data_hash: bytes,
    property_info: str,
    sign_time: datetime,
) -> bytes:
    """Make a GB/T 38540-2020 v4 electronic signature (``SES_Signature``, DER).

    ``data_hash`` is the 32-byte SM3 digest of the signed data (for OFD: of
    Signature.xml), computed by the caller. Refused (:class:`SealingError`) when
    the seal is malformed, not v4/v5, its maker signature does not verify, it is
    not valid at ``sign_time``; when the signer certificate is not among the
    seal's certificates or not valid at ``sign_time``; and when ``data_hash`` is
    not 32 bytes.
    """
    if not isinstance(data_hash, bytes | bytearray) or len(data_hash) != DATA_HASH_SIZE:
        size = len(data_hash) if isinstance(data_hash, bytes | bytearray) else "no"
        raise SealingError(
            f"data_hash must be a {DATA_HASH_SIZE}-byte SM3 digest (got {size} bytes)",
            code="bad_data_hash",
        )
    data_hash = bytes(data_hash)
    _ia5(property_info, "property_info", empty_ok=True)
    sign_time = _instant(sign_time, "sign_time")
    _check_sm2(signer, signer_cert, "signer")
    try:
        seal, maker_signature = _checked_seal(bytes(seal_der))
    except SealFormatError as exc:
        raise SealingError(f"not a valid seal: {exc.message}", code="malformed_seal") from None
    if seal.version not in (4, 5):
        raise SealingError(
            f"a v{seal.version} seal cannot go into a GB/T 38540 v4 signature",
            code="unsupported_seal_version",
        )
    if maker_signature.status is not CheckStatus.PASSED:
        raise SealingError(
            "the seal maker's signature does not verify: " + maker_signature.detail,
            code="seal_signature_invalid",
        )
    validity = _validity_check(
        "seal_validity", "the seal", seal.valid_start, seal.valid_end, sign_time
    )
    if validity.status is not CheckStatus.PASSED:
        raise SealingError(validity.detail, code="seal_not_valid")
    if not _lists(seal, signer_cert):
        raise SealingError(
            f"the signer certificate ({signer_cert.subject}) is not one of the seal's certificates",
            code="signer_not_in_seal",
        )
    if not signer_cert.valid_at(sign_time):
        raise SealingError(
            f"the signer certificate ({signer_cert.subject}) is not valid at {sign_time.isoformat()}",
            code="signer_certificate_not_valid",
        )

    tbs = TBSSignV4(
        {
            "version": SES_VERSION,
            "eseal": SESealV4.load(seal.der),  # kept byte for byte
            "time_info": _generalized(sign_time),
            "data_hash": core.OctetBitString(data_hash),
            "property_info": property_info,
        }
    )
    tbs_der: bytes = tbs.dump()
    sig_der: bytes = SESSignatureV4(
        {
            "to_sign": TBSSignV4.load(tbs_der),
            "cert": signer_cert.der,
            "signature_alg_id": OID.SM3_WITH_SM2,
            "signature": signer.sign(tbs_der),
        }
    ).dump()

    try:
        parsed = parse_signature(sig_der)
    except SealFormatError as exc:  # pragma: no cover - our own encoder
        raise SealingError(
            f"the new signature does not parse: {exc.message}", code="self_check_failed"
        ) from None
    # Self-check of what was just made: it parses back, carries the digest, its
    # SM2 signature verifies (a fault while signing must not leave the hub) and
    # its signer is one of the seal's. The seal maker's signature over the seal
    # was verified above (_checked_seal) and is byte for byte the same here.
    if parsed.data_hash != data_hash:  # pragma: no cover - our own encoder
        raise SealingError("the new signature lost its dataHash", code="self_check_failed")
    for check in (
        _signature_check(
            "signature",
            parsed.signer_cert,
            parsed.signature_algorithm,
            parsed.tbs_bytes,
            parsed.signature,
            "signer",
        ),
        _signer_in_seal(parsed),
    ):
        if check.status is not CheckStatus.PASSED:
            raise SealingError(
                f"the new signature fails its self-check: {check.detail}",
                code="self_check_failed",
            )
    if parsed.tbs_bytes != tbs_der or parsed.seal.der != seal.der:  # pragma: no cover
        raise SealingError("the new signature re-encodes what was signed", code="self_check_failed")
    return sig_der


def sign_data(
    *,
    seal_der: bytes,
    signer: Signer,
    signer_cert: Certificate,
    data: bytes,
    property_info: str,
    sign_time: datetime,
) -> bytes:
    """:func:`sign_digest` over ``SM3(data)``."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SealingError("data must be bytes", code="invalid_argument")
    return sign_digest(
        seal_der=seal_der,
        signer=signer,
        signer_cert=signer_cert,
        data_hash=sm3(bytes(data)),
        property_info=property_info,
        sign_time=sign_time,
    )
