"""Electronic seals and electronic signatures (SES): parsing and verification.

Standards (clauses named by title; ASN.1 modules as printed in the standards):

* GM/T 0031-2014 *安全电子签章密码技术规范* ("v1"): 电子印章数据格式
  (``SESeal ::= SEQUENCE { eSealInfo SES_SealInfo, signInfo SES_SignInfo }``)
  and 电子签章数据格式 (``SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature }``).
* GB/T 38540-2020 *信息安全技术 安全电子签章密码技术规范* ("v4"): clause 6
  电子印章, data format ``SESeal ::= SEQUENCE { eSealInfo, cert, signAlgID,
  signedValue }``, and clause 7 电子签章, data format ``SES_Signature ::=
  SEQUENCE { toSign TBS_Sign, cert, signatureAlgID, signature, timeStamp [0]
  BIT STRING OPTIONAL }``.
* "v5": the GB/T 38540 structures with an optional ``[0] timeStamp`` on the
  seal as well (``SES_Header.version`` = 5), as produced by ofdrw.

What each signature covers (checked against the ofdrw sample files):

* v1 maker signature (``SES_SignInfo.signData``): DER of
  ``SEQUENCE { SES_SealInfo, cert, signatureAlgorithm }``;
* v4/v5 maker signature (``SESeal.signedValue``): DER of ``SES_SealInfo``;
* signer's signature (all versions): DER of ``TBS_Sign``.

Parsing auto-detects the version from the shape of the outer SEQUENCE
(2 elements → v1, 4 or 5 → v4/v5, told apart by ``SES_Header.version``).
Every malformed input raises :class:`SealFormatError` and nothing else; the
exact bytes each signature covers are kept as received, never re-encoded.
A v4/v5 SES_Signature's ``timeStamp`` is verified as an RFC 3161 token over
the signature value (:func:`timestamp_check`); the seal's own ``timeStamp``
is read but not verified.
Verification returns values (:mod:`seal_service.report`), never raises for a
bad signature.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import tsp as asn1_tsp

from trust.algorithms import OID, by_oid
from trust.errors import CertificateError, TrustError, UnsupportedAlgorithm
from trust.hashes import digest
from trust.pki import Certificate, load_certificate, validate_path
from trust.sigenc import SigEncoding

from .report import Check, CheckResult, SignatureReport, SubIndication
from .tsa import TimestampInfo, TsaError, verify_timestamp_token

__all__ = [
    "MAX_SES_SIZE",
    "MAX_DER_DEPTH",
    "SealFormatError",
    "SealPicture",
    "ExtData",
    "Seal",
    "SESSignature",
    "parse_seal",
    "parse_signature",
    "verify_seal",
    "verify_signature",
    "chain_check",
    "timestamp_check",
]

MAX_SES_SIZE: Final = 10 * 1024 * 1024
MAX_DER_DEPTH: Final = 32
MAX_DER_ELEMENTS: Final = 20_000


class SealFormatError(TrustError):
    """The seal or signature data is not a well-formed SES structure."""

    code = "malformed"


# --------------------------------------------------------------------------- DER pre-scan


def _header(data: bytes, pos: int, limit: int) -> tuple[bool, int, int]:
    """(constructed, content start, content end) of the TLV at ``pos``; definite lengths only."""
    if pos >= limit:
        raise SealFormatError("truncated DER (tag)")
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:  # high tag number form
        for _ in range(4):
            if pos >= limit:
                raise SealFormatError("truncated DER (tag)")
            more = data[pos] & 0x80
            pos += 1
            if not more:
                break
        else:
            raise SealFormatError("DER tag number too large")
    if pos >= limit:
        raise SealFormatError("truncated DER (length)")
    octet = data[pos]
    pos += 1
    if octet == 0x80:
        raise SealFormatError("indefinite length (BER) is not DER")
    if octet < 0x80:
        length = octet
    else:
        count = octet & 0x7F
        if count > 4 or pos + count > limit:
            raise SealFormatError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > limit:
        raise SealFormatError("truncated DER (content shorter than its length)")
    return bool(first & 0x20), pos, pos + length


def _scan_der(data: bytes) -> int:
    """Check that ``data`` is one DER element with bounded nesting and element count.

    Returns the number of direct children of the outer element. Runs before any
    ASN.1 library sees the bytes, so depth and work are bounded up front.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SealFormatError("SES data must be bytes")
    if len(data) > MAX_SES_SIZE:
        raise SealFormatError(f"SES data larger than {MAX_SES_SIZE} bytes")
    if len(data) == 0:
        raise SealFormatError("empty SES data")
    data = bytes(data)
    if data[0] != 0x30:
        raise SealFormatError("SES data must start with a SEQUENCE")
    constructed, start, end = _header(data, 0, len(data))
    if end != len(data):
        raise SealFormatError("trailing bytes after the SES structure")
    stack: list[list[int]] = [[start, end]]
    children = 0
    elements = 0
    while stack:
        frame = stack[-1]
        if frame[0] == frame[1]:
            stack.pop()
            continue
        is_constructed, c_start, c_end = _header(data, frame[0], frame[1])
        frame[0] = c_end
        elements += 1
        if elements > MAX_DER_ELEMENTS:
            raise SealFormatError("too many DER elements")
        if len(stack) == 1:
            children += 1
        if is_constructed:
            if len(stack) >= MAX_DER_DEPTH:
                raise SealFormatError(f"DER nested deeper than {MAX_DER_DEPTH} levels")
            stack.append([c_start, c_end])
    return children


# --------------------------------------------------------------------------- ASN.1 schemas


class _Time(core.Choice):
    # v1 uses UTCTime, v4/v5 GeneralizedTime; real files mix them, so accept both.
    _alternatives = [("utc", core.UTCTime), ("general", core.GeneralizedTime)]


class _Text(core.Choice):
    _alternatives = [
        ("utf8", core.UTF8String),
        ("printable", core.PrintableString),
        ("ia5", core.IA5String),
        ("bmp", core.BMPString),
    ]


class _Bytes(core.Choice):
    # GM/T 0031 says BIT STRING; some v1 producers write OCTET STRING.
    _alternatives = [("bits", core.OctetBitString), ("octets", core.OctetString)]


class SESHeader(core.Sequence):
    """SES_Header ::= SEQUENCE { ID IA5String ("ES"), version INTEGER, Vid IA5String }"""

    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class SESESPictrueInfo(core.Sequence):
    """SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER, height INTEGER }"""

    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SESExtData(core.Sequence):
    """ExtData ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }"""

    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class SESExtensionDatas(core.SequenceOf):
    _child_spec = SESExtData


class SESCertInfoList(core.SequenceOf):
    """CertInfoList ::= SEQUENCE OF OCTET STRING (DER certificates)"""

    _child_spec = core.OctetString


class SESCertDigestObj(core.Sequence):
    """CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }"""

    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class SESCertDigestList(core.SequenceOf):
    _child_spec = SESCertDigestObj


class SESESPropertyInfoV1(core.Sequence):
    """GM/T 0031-2014: { type, name, certList SEQUENCE OF OCTET STRING, createDate, validStart, validEnd }"""

    _fields = [
        ("type", core.Integer),
        ("name", _Text),
        ("cert_list", SESCertInfoList),
        ("create_date", _Time),
        ("valid_start", _Time),
        ("valid_end", _Time),
    ]


class SESESPropertyInfoV4(core.Sequence):
    """GB/T 38540-2020: { type, name, certListType, certList SES_CertList, createDate, validStart, validEnd }

    ``SES_CertList`` is a CHOICE of two SEQUENCE OF types with the same tag, told
    apart by ``certListType`` (1 = certificates, 2 = certificate digests).
    """

    _fields = [
        ("type", core.Integer),
        ("name", _Text),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", _Time),
        ("valid_start", _Time),
        ("valid_end", _Time),
    ]


class SESSealInfoV1(core.Sequence):
    _fields = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESESPropertyInfoV1),
        ("picture", SESESPictrueInfo),
        ("ext_datas", SESExtensionDatas, {"optional": True}),
    ]


class SESSealInfoV4(core.Sequence):
    _fields = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESESPropertyInfoV4),
        ("picture", SESESPictrueInfo),
        ("ext_datas", SESExtensionDatas, {"optional": True}),
    ]


class SESSignInfoV1(core.Sequence):
    """GM/T 0031-2014 SES_SignInfo ::= SEQUENCE { cert OCTET STRING, signatureAlgorithm OID, signData BIT STRING }"""

    _fields = [
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
        ("sign_data", core.OctetBitString),
    ]


class SESealV1(core.Sequence):
    """GM/T 0031-2014 SESeal ::= SEQUENCE { eSealInfo SES_SealInfo, signInfo SES_SignInfo }"""

    _fields = [("seal_info", SESSealInfoV1), ("sign_info", SESSignInfoV1)]


class SESealV4(core.Sequence):
    """GB/T 38540-2020 SESeal ::= SEQUENCE { eSealInfo, cert OCTET STRING, signAlgID OID,
    signedValue BIT STRING [, timeStamp [0] BIT STRING (v5)] }"""

    _fields = [
        ("seal_info", SESSealInfoV4),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
        ("time_stamp", core.Any, {"optional": True}),
    ]


class TBSSignV1(core.Sequence):
    """GM/T 0031-2014 TBS_Sign ::= SEQUENCE { version, eseal, timeInfo BIT STRING,
    dataHash BIT STRING, propertyInfo IA5String, cert OCTET STRING, signatureAlgorithm OID }"""

    _fields = [
        ("version", core.Integer),
        ("eseal", SESealV1),
        ("time_info", _Bytes),
        ("data_hash", _Bytes),
        ("property_info", core.IA5String),
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


class TBSSignV4(core.Sequence):
    """GB/T 38540-2020 TBS_Sign ::= SEQUENCE { version, eseal, timeInfo GeneralizedTime,
    dataHash BIT STRING, propertyInfo IA5String, extDatas [0] ExtensionDatas OPTIONAL }"""

    _fields = [
        ("version", core.Integer),
        ("eseal", SESealV4),
        ("time_info", _Time),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", core.Any, {"optional": True}),
    ]


class SESSignatureV1(core.Sequence):
    """GM/T 0031-2014 SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT STRING }"""

    _fields = [("to_sign", TBSSignV1), ("signature", core.OctetBitString)]


class SESSignatureV4(core.Sequence):
    """GB/T 38540-2020 SES_Signature ::= SEQUENCE { toSign, cert OCTET STRING,
    signatureAlgID OID, signature BIT STRING, timeStamp [0] BIT STRING OPTIONAL }"""

    _fields = [
        ("to_sign", TBSSignV4),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.Any, {"optional": True}),
    ]


# --------------------------------------------------------------------------- parsed values


@dataclass(frozen=True, slots=True)
class SealPicture:
    """SES_ESPictrueInfo: image type (``PNG``, ``ofd``, ``GIF`` …), bytes and size in mm."""

    type: str
    data: bytes = field(repr=False)
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ExtData:
    oid: str
    critical: bool
    value: bytes = field(repr=False)


@dataclass(frozen=True, eq=False)
class Seal:
    """A parsed electronic seal (SESeal), any version.

    ``certs`` are the seal holder's certificates (certListType 1, or v1);
    ``cert_digests`` the (hash name, digest) pairs of certListType 2.
    ``signed_bytes`` are exactly the bytes the maker signed (see module docstring).
    """

    version: int
    header_id: str
    header_version: int
    vendor_id: str
    es_id: str
    type: int
    name: str
    cert_list_type: int
    certs: tuple[Certificate, ...]
    cert_digests: tuple[tuple[str, bytes], ...]
    create_date: datetime
    valid_start: datetime
    valid_end: datetime
    picture: SealPicture
    ext_datas: tuple[ExtData, ...]
    maker_cert: Certificate
    maker_signature_algorithm: str
    maker_signature: bytes = field(repr=False)
    signed_bytes: bytes = field(repr=False)
    time_stamp: bytes | None = field(repr=False)
    der: bytes = field(repr=False)


@dataclass(frozen=True, eq=False)
class SESSignature:
    """A parsed electronic signature (SES_Signature), any version.

    ``tbs_bytes`` are the DER bytes of TBS_Sign as received (what the signer signed).
    ``time_info`` is the claimed signing time; ``None`` when a v1 ``timeInfo`` holds
    something other than a time (for example a time-stamp token).
    """

    version: int
    tbs_bytes: bytes = field(repr=False)
    data_hash: bytes
    property_info: str
    time_info: datetime | None
    time_info_raw: bytes = field(repr=False)
    signer_cert: Certificate
    signature_algorithm: str
    signature: bytes = field(repr=False)
    seal: Seal
    time_stamp: bytes | None = field(repr=False)
    ext_datas: tuple[ExtData, ...] = field(repr=False)
    der: bytes = field(repr=False)


# --------------------------------------------------------------------------- parsing

_PARSE_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    LookupError,
    NotImplementedError,
    ArithmeticError,
    EOFError,
)


def _time(value: Any) -> datetime:
    native = value.native
    if not isinstance(native, datetime):
        raise ValueError("time out of range")
    if native.tzinfo is None:
        # GeneralizedTime without "Z": no offset is known; GovTrust reads it as UTC.
        native = native.replace(tzinfo=UTC)
    return native.astimezone(UTC)


def _int(value: Any) -> int:
    native = value.native
    if not isinstance(native, int) or isinstance(native, bool):
        raise ValueError("integer expected")
    return native


def _str(value: Any) -> str:
    native = value.native
    if not isinstance(native, str):
        raise ValueError("string expected")
    return native


def _bytes(value: Any) -> bytes:
    if isinstance(value, core.OctetBitString):
        contents = value.contents
        if not contents or contents[0] != 0:
            raise ValueError("BIT STRING with unused bits where whole octets are required")
    native = value.native
    if not isinstance(native, bytes):
        raise ValueError("octets expected")
    return native


def _cert(der: bytes, what: str) -> Certificate:
    try:
        return load_certificate(der)
    except CertificateError as exc:
        raise SealFormatError(f"{what}: {exc.message} ({exc.code})") from None


def _tagged(value: Any, spec: type[core.Asn1Value]) -> Any | None:
    """The content of an optional ``[0]`` element, tagged explicitly (as ofdrw writes it)
    or implicitly; ``None`` when absent."""
    if isinstance(value, core.Void):
        return None
    try:
        return value.parse(spec, {"explicit": 0})
    except ValueError:
        return value.parse(spec, {"implicit": 0})


def _tagged_bit_string(value: Any) -> bytes | None:
    inner = _tagged(value, core.OctetBitString)
    return None if inner is None else _bytes(inner)


def _tagged_ext_datas(value: Any) -> tuple[ExtData, ...]:
    inner = _tagged(value, SESExtensionDatas)
    return () if inner is None else _ext_datas(inner)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _ext_datas(value: Any) -> tuple[ExtData, ...]:
    if isinstance(value, core.Void):
        return ()
    out = []
    for item in value:
        critical = item["critical"].native
        out.append(ExtData(item["extn_id"].dotted, bool(critical), _bytes(item["extn_value"])))
    return tuple(out)


def _picture(value: Any) -> SealPicture:
    return SealPicture(
        _str(value["type"]), _bytes(value["data"]), _int(value["width"]), _int(value["height"])
    )


def _seal_from_asn1(seal: Any, version_hint: int) -> Seal:
    info = seal["seal_info"]
    header = info["header"]
    prop = info["property"]
    header_version = _int(header["version"])
    certs: list[Certificate] = []
    digests: list[tuple[str, bytes]] = []
    if version_hint == 1:
        cert_list_type = 1
        certs = [_cert(_bytes(c), "seal holder certificate") for c in prop["cert_list"]]
        sign_info = seal["sign_info"]
        maker_cert_der = _bytes(sign_info["cert"])
        alg_oid = sign_info["signature_algorithm"].dotted
        maker_signature = _bytes(sign_info["sign_data"])
        # GM/T 0031-2014: signData signs SEQUENCE { SES_SealInfo, cert, signatureAlgorithm }.
        body = info.dump() + sign_info["cert"].dump() + sign_info["signature_algorithm"].dump()
        signed_bytes = b"\x30" + _der_length(len(body)) + body
        time_stamp = None
        version = 1
    else:
        cert_list_type = _int(prop["cert_list_type"])
        raw_list = prop["cert_list"].dump()
        if cert_list_type == 1:
            for c in SESCertInfoList.load(raw_list, strict=True):
                certs.append(_cert(_bytes(c), "seal holder certificate"))
        elif cert_list_type == 2:
            for d in SESCertDigestList.load(raw_list, strict=True):
                digests.append((_str(d["type"]), _bytes(d["value"])))
        else:
            raise ValueError(f"unknown certListType {cert_list_type}")
        maker_cert_der = _bytes(seal["cert"])
        alg_oid = seal["sign_alg_id"].dotted
        maker_signature = _bytes(seal["signed_value"])
        signed_bytes = info.dump()  # GB/T 38540-2020: signedValue signs SES_SealInfo
        time_stamp = _tagged_bit_string(seal["time_stamp"])
        version = 5 if header_version == 5 or time_stamp is not None else 4
    if not certs and not digests:
        raise ValueError("the seal names no signer certificate")
    return Seal(
        version=version,
        header_id=_str(header["id"]),
        header_version=header_version,
        vendor_id=_str(header["vid"]),
        es_id=_str(info["es_id"]),
        type=_int(prop["type"]),
        name=_str(prop["name"].chosen),
        cert_list_type=cert_list_type,
        certs=tuple(certs),
        cert_digests=tuple(digests),
        create_date=_time(prop["create_date"].chosen),
        valid_start=_time(prop["valid_start"].chosen),
        valid_end=_time(prop["valid_end"].chosen),
        picture=_picture(info["picture"]),
        ext_datas=_ext_datas(info["ext_datas"]),
        maker_cert=_cert(maker_cert_der, "seal maker certificate"),
        maker_signature_algorithm=alg_oid,
        maker_signature=maker_signature,
        signed_bytes=bytes(signed_bytes),
        time_stamp=time_stamp,
        der=bytes(seal.dump()),
    )


def _version_of(children: int, what: str) -> int:
    if children == 2:
        return 1
    if children in (4, 5):
        return 4
    raise SealFormatError(f"{what} with {children} elements matches no SES version")


def parse_seal(data: bytes) -> Seal:
    """Parse an electronic seal (``.esl``; SESeal v1, v4 or v5)."""
    version = _version_of(_scan_der(data), "SESeal")
    data = bytes(data)
    try:
        schema = SESealV1 if version == 1 else SESealV4
        return _seal_from_asn1(schema.load(data, strict=True), version)
    except SealFormatError:
        raise
    except TrustError as exc:
        raise SealFormatError(f"not a valid SESeal: {exc.message}") from None
    except _PARSE_ERRORS as exc:
        raise SealFormatError(f"not a valid SESeal ({type(exc).__name__}: {exc})") from None


_ASCII_TIME = re.compile(rb"^(\d{12}|\d{14})(\.\d{1,6})?Z$")


def _v1_time_info(raw: bytes) -> datetime | None:
    """GM/T 0031 timeInfo is a BIT STRING: a UTCTime/GeneralizedTime text, a DER time, or a token."""
    text = raw.strip(b"\x00")
    if _ASCII_TIME.match(text):
        cls = core.UTCTime if len(text.split(b".")[0]) == 13 else core.GeneralizedTime
        tag = b"\x17" if cls is core.UTCTime else b"\x18"
        try:
            return _time(cls.load(tag + _der_length(len(text)) + text, strict=True))
        except _PARSE_ERRORS:
            return None
    if raw[:1] in (b"\x17", b"\x18"):
        try:
            return _time(_Time.load(raw, strict=True).chosen)
        except _PARSE_ERRORS:
            return None
    return None


def parse_signature(data: bytes) -> SESSignature:
    """Parse an electronic signature (``SignedValue.dat``; SES_Signature v1, v4 or v5)."""
    version = _version_of(_scan_der(data), "SES_Signature")
    data = bytes(data)
    try:
        if version == 1:
            sig = SESSignatureV1.load(data, strict=True)
            tbs = sig["to_sign"]
            seal = _seal_from_asn1(tbs["eseal"], 1)
            time_raw = _bytes(tbs["time_info"].chosen)
            return SESSignature(
                version=1,
                tbs_bytes=bytes(tbs.dump()),
                data_hash=_bytes(tbs["data_hash"].chosen),
                property_info=_str(tbs["property_info"]),
                time_info=_v1_time_info(time_raw),
                time_info_raw=time_raw,
                signer_cert=_cert(_bytes(tbs["cert"]), "signer certificate"),
                signature_algorithm=tbs["signature_algorithm"].dotted,
                signature=_bytes(sig["signature"]),
                seal=seal,
                time_stamp=None,
                ext_datas=(),
                der=data,
            )
        sig = SESSignatureV4.load(data, strict=True)
        tbs = sig["to_sign"]
        seal = _seal_from_asn1(tbs["eseal"], 4)
        tbs_version = _int(tbs["version"])
        time_stamp = _tagged_bit_string(sig["time_stamp"])
        return SESSignature(
            version=5 if 5 in (tbs_version, seal.version) or time_stamp is not None else 4,
            tbs_bytes=bytes(tbs.dump()),
            data_hash=_bytes(tbs["data_hash"]),
            property_info=_str(tbs["property_info"]),
            time_info=_time(tbs["time_info"].chosen),
            time_info_raw=bytes(tbs["time_info"].chosen.contents),
            signer_cert=_cert(_bytes(sig["cert"]), "signer certificate"),
            signature_algorithm=sig["signature_alg_id"].dotted,
            signature=_bytes(sig["signature"]),
            seal=seal,
            time_stamp=time_stamp,
            ext_datas=_tagged_ext_datas(tbs["ext_datas"]),
            der=data,
        )
    except SealFormatError:
        raise
    except TrustError as exc:
        raise SealFormatError(f"not a valid SES_Signature: {exc.message}") from None
    except _PARSE_ERRORS as exc:
        raise SealFormatError(f"not a valid SES_Signature ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------- verification

_DIGEST_NAMES: Final = {
    "sm3": "sm3",
    OID.SM3: "sm3",
    "sha256": "sha256",
    "sha-256": "sha256",
    OID.SHA256: "sha256",
}


def _signature_check(
    name: str, cert: Certificate, alg_oid: str, data: bytes, signature: bytes, who: str
) -> Check:
    """Verify a signature; an unknown algorithm or one that does not fit the key fails.

    (Every SES signature is SM2 with SM3; an identifier that is unknown or names
    another family is treated as a broken signature, not as "maybe valid".)
    """
    try:
        alg = by_oid(alg_oid)
        ok = cert.public_key.verify(alg, data, signature, encoding=SigEncoding.ANY)
    except UnsupportedAlgorithm as exc:
        return Check.failed(name, SubIndication.SIG_CRYPTO_FAILURE, f"{who}: {exc.message}")
    if not ok:
        return Check.failed(
            name,
            SubIndication.SIG_CRYPTO_FAILURE,
            f"{who}'s {alg.name} signature does not verify with {cert.subject}'s key",
        )
    return Check.passed(name, f"{who}'s {alg.name} signature verifies ({cert.subject})")


def _validity_check(name: str, what: str, start: datetime, end: datetime, at: datetime) -> Check:
    if at < start:
        return Check.failed(
            name,
            SubIndication.NOT_YET_VALID,
            f"{what} is valid from {start.isoformat()}, not yet at {at.isoformat()}",
        )
    if at > end:
        return Check.failed(
            name,
            SubIndication.EXPIRED,
            f"{what} expired {end.isoformat()}, before {at.isoformat()}",
        )
    return Check.passed(name, f"{what} valid {start.isoformat()} – {end.isoformat()}")


_CHAIN_SUB: Final = {
    "cert_unknown_issuer": SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    "cert_untrusted_root": SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    "cert_path_length": SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    "cert_not_ca": SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    "cert_key_usage": SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    "cert_unsupported_critical_extension": SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    "cert_bad_signature": SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
}


def chain_check(
    name: str,
    cert: Certificate,
    *,
    roots: Collection[Certificate],
    intermediates: Collection[Certificate] = (),
    at: datetime,
) -> Check:
    """Path validation of ``cert`` to ``roots`` at ``at``, as a :class:`Check`.

    No anchors, or none that matches → INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
    (missing CA material is never a failure). A certificate on the path outside
    its validity at ``at`` → FAILED / EXPIRED or NOT_YET_VALID.
    """
    if not roots:
        return Check.indeterminate(
            name, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no trust anchors given"
        )
    try:
        path = validate_path(cert, intermediates=intermediates, roots=roots, at=at)
    except CertificateError as exc:
        if exc.code == "cert_expired":
            return Check.failed(name, SubIndication.EXPIRED, exc.message)
        if exc.code == "cert_not_yet_valid":
            return Check.failed(name, SubIndication.NOT_YET_VALID, exc.message)
        sub = _CHAIN_SUB.get(exc.code, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE)
        return Check.indeterminate(name, sub, f"{exc.message} ({exc.code})")
    return Check.passed(name, " → ".join(str(c.subject) for c in path))


def _utc(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise TypeError("at must be a timezone-aware datetime")
    return at.astimezone(UTC)


_NO_TIME: Final = "no signing time to judge validity at"


def _seal_checks(
    seal: Seal,
    *,
    when: datetime | None,
    roots: Collection[Certificate],
    intermediates: Collection[Certificate],
) -> dict[str, Check]:
    """The checks on a seal, judged at ``when`` (``None``: no time known)."""
    checks = {
        "seal_signature": _signature_check(
            "seal_signature",
            seal.maker_cert,
            seal.maker_signature_algorithm,
            seal.signed_bytes,
            seal.maker_signature,
            "seal maker",
        )
    }
    names = ("seal_validity", "seal_maker_certificate_validity", "seal_maker_chain")
    if when is None:
        for name in names:
            checks[name] = Check.indeterminate(name, SubIndication.NO_POE, _NO_TIME)
        return checks
    checks["seal_validity"] = _validity_check(
        "seal_validity", "the seal", seal.valid_start, seal.valid_end, when
    )
    checks["seal_maker_certificate_validity"] = _validity_check(
        "seal_maker_certificate_validity",
        f"the seal maker certificate ({seal.maker_cert.subject})",
        seal.maker_cert.not_before,
        seal.maker_cert.not_after,
        when,
    )
    checks["seal_maker_chain"] = chain_check(
        "seal_maker_chain",
        seal.maker_cert,
        roots=roots,
        intermediates=(*intermediates, *seal.certs),
        at=when,
    )
    return checks


def verify_seal(
    seal: Seal,
    *,
    at: datetime,
    roots: Collection[Certificate] = (),
    intermediates: Collection[Certificate] = (),
) -> CheckResult:
    """Verify an electronic seal on its own at instant ``at`` (timezone-aware).

    Checks, in order: ``seal_signature`` (the maker's signature over the bytes of
    its version), ``seal_validity`` (validStart ≤ at ≤ validEnd),
    ``seal_maker_certificate_validity`` and ``seal_maker_chain`` (INDETERMINATE
    / NO_CERTIFICATE_CHAIN_FOUND without matching ``roots``).
    """
    checks = _seal_checks(seal, when=_utc(at), roots=roots, intermediates=intermediates)
    return CheckResult.of(checks.values())


def _signer_in_seal(sig: SESSignature) -> Check:
    name = "signer_in_seal"
    seal = sig.seal
    der = sig.signer_cert.der
    if seal.certs:
        if any(c.der == der for c in seal.certs):
            return Check.passed(name, "the signer certificate is listed in the seal")
    for hash_name, value in seal.cert_digests:
        candidates = (
            [_DIGEST_NAMES[hash_name.lower()]]
            if hash_name.lower() in _DIGEST_NAMES
            else ["sm3", "sha256"]
        )
        if any(digest(h, der) == value for h in candidates):
            return Check.passed(name, f"the signer certificate's {hash_name} digest is in the seal")
    return Check.failed(
        name,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
        f"the signer certificate ({sig.signer_cert.subject}) is not one of the seal's certificates",
    )


# --------------------------------------------------------------------------- signature time-stamps

#: Message-imprint hashes a signature time-stamp may use (no SHA-1).
_TIMESTAMP_DIGESTS: Final = ("sm3", "sha256", "sha384", "sha512")

#: TsaError code → (failed?, sub-indication) for the ``timestamp`` check. Codes
#: not listed (malformed, not_der, too_large, missing attributes …) are a
#: broken token: FAILED / FORMAT_FAILURE.
_TSA_SUB: Final = {
    "imprint_mismatch": (True, SubIndication.HASH_FAILURE),
    "digest_mismatch": (True, SubIndication.HASH_FAILURE),
    "bad_signature": (True, SubIndication.SIG_CRYPTO_FAILURE),
    "signing_certificate_mismatch": (True, SubIndication.SIG_CONSTRAINTS_FAILURE),
    "tsa_certificate_purpose": (True, SubIndication.SIG_CONSTRAINTS_FAILURE),
    "cert_expired": (True, SubIndication.EXPIRED),
    "cert_not_yet_valid": (True, SubIndication.NOT_YET_VALID),
    "unsupported_algorithm": (False, SubIndication.CRYPTO_CONSTRAINTS_FAILURE),
    "signer_not_found": (False, SubIndication.NO_SIGNING_CERTIFICATE_FOUND),
}


class _TokenContentInfo(core.Sequence):  # type: ignore[misc]
    """ContentInfo holding a SignedData whatever the OID (RFC 5652 or GB/T 35275 signedData)."""

    _fields = [
        ("content_type", core.ObjectIdentifier),
        ("content", asn1_cms.SignedData, {"explicit": 0}),
    ]


def _imprint_algorithm(token: bytes) -> str:
    """The token's message-imprint hash, read leniently only to choose what to hash.

    The token is verified strictly afterwards; anything unreadable here yields
    ``sm3`` and the strict verification reports the real problem.
    """
    try:
        signed = _TokenContentInfo.load(token)["content"]
        tst = asn1_tsp.TSTInfo.load(bytes(signed["encap_content_info"]["content"]))
        name = tst["message_imprint"]["hash_algorithm"]["algorithm"].native
    except _PARSE_ERRORS:
        return "sm3"
    return name if name in _TIMESTAMP_DIGESTS else "sm3"


def timestamp_check(
    sig: SESSignature,
    *,
    trusted_certs: Collection[Certificate],
    intermediates: Collection[Certificate] = (),
) -> tuple[Check, TimestampInfo | None]:
    """Verify ``sig.time_stamp`` as an RFC 3161 token over the signature value.

    GB/T 38540-2020 clause 7 (SES_Signature): ``timeStamp`` is "对签名值的时间戳",
    a time-stamp on the signature value, i.e. the message imprint is the hash
    of the octets of the ``signature`` BIT STRING. The TSA path is validated to
    ``trusted_certs`` at genTime: no trusted certificate, or none that anchors
    the TSA → INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND; a token that does not
    verify or covers other bytes → FAILED. Returns the check and, when it
    passed, the verified token.
    """
    name = "timestamp"
    token = sig.time_stamp
    if token is None:
        return Check.skipped(name, "no signature time-stamp"), None
    if not trusted_certs:
        return (
            Check.indeterminate(
                name,
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                "a signature time-stamp is present but no trusted TSA certificate was given",
            ),
            None,
        )
    alg = _imprint_algorithm(token)
    try:
        info = verify_timestamp_token(
            token,
            digest_alg=alg,
            data=sig.signature,
            trusted_certs=tuple(trusted_certs),
            intermediates=tuple(intermediates),
        )
    except TsaError as exc:
        code = exc.code or "malformed"
        detail = f"signature time-stamp: {exc.message} ({code})"
        if code in _CHAIN_SUB:
            return Check.indeterminate(name, _CHAIN_SUB[code], detail), None
        failed, sub = _TSA_SUB.get(code, (True, SubIndication.FORMAT_FAILURE))
        if failed:
            return Check.failed(name, sub, detail), None
        return Check.indeterminate(name, sub, detail), None
    except TrustError as exc:  # defensive: the TSA layer should raise only TsaError
        return (
            Check.failed(
                name, SubIndication.FORMAT_FAILURE, f"signature time-stamp: {exc.message}"
            ),
            None,
        )
    return (
        Check.passed(
            name,
            f"time-stamped at {info.gen_time.isoformat()} by {info.tsa_certificate.subject}"
            f" ({alg} imprint of the signature value)",
        ),
        info,
    )


def verify_signature(
    sig: SESSignature,
    *,
    data_hash: bytes | None,
    at: datetime | None = None,
    roots: Collection[Certificate] = (),
    intermediates: Collection[Certificate] = (),
    extra_checks: Sequence[Check] = (),
    tsa_roots: Collection[Certificate] | None = None,
) -> SignatureReport:
    """Verify an electronic signature (SES_Signature).

    ``data_hash`` is the digest the caller computed over the signed document (for
    OFD: SM3 of Signature.xml); ``None`` skips that comparison. Validity of the
    seal, the signer certificate and the maker certificate is judged at ``at``,
    by default the signing time: the genTime of a valid signature time-stamp
    (see :func:`timestamp_check`; trusted TSA anchors are ``tsa_roots``, by
    default ``roots``), else the claimed TBS_Sign.timeInfo — so a seal that has
    since expired still verifies. ``extra_checks`` (from a container format) are
    folded into the report; a ``timestamp`` check is added when the signature
    carries a time-stamp.
    """
    checks: list[Check] = list(extra_checks)
    if data_hash is None:
        checks.append(Check.skipped("data_hash", "no document digest given"))
    elif data_hash == sig.data_hash:
        checks.append(Check.passed("data_hash", "TBS_Sign.dataHash matches the document"))
    else:
        checks.append(
            Check.failed(
                "data_hash",
                SubIndication.HASH_FAILURE,
                f"TBS_Sign.dataHash {sig.data_hash.hex()} ≠ document digest {bytes(data_hash).hex()}",
            )
        )
    checks.append(
        _signature_check(
            "signature",
            sig.signer_cert,
            sig.signature_algorithm,
            sig.tbs_bytes,
            sig.signature,
            "signer",
        )
    )
    checks.append(_signer_in_seal(sig))
    ts_check, ts_info = timestamp_check(
        sig,
        trusted_certs=roots if tsa_roots is None else tsa_roots,
        intermediates=intermediates,
    )
    signing_time = ts_info.gen_time if ts_info is not None else sig.time_info
    when = _utc(at) if at is not None else signing_time
    seal = _seal_checks(sig.seal, when=when, roots=roots, intermediates=intermediates)
    if when is None:
        signer_validity = Check.indeterminate(
            "signer_certificate_validity", SubIndication.NO_POE, _NO_TIME
        )
        signer_chain = Check.indeterminate("signer_chain", SubIndication.NO_POE, _NO_TIME)
    else:
        signer_validity = _validity_check(
            "signer_certificate_validity",
            f"the signer certificate ({sig.signer_cert.subject})",
            sig.signer_cert.not_before,
            sig.signer_cert.not_after,
            when,
        )
        signer_chain = chain_check(
            "signer_chain",
            sig.signer_cert,
            roots=roots,
            intermediates=(*intermediates, *sig.seal.certs, sig.seal.maker_cert),
            at=when,
        )
    checks += [
        seal["seal_signature"],
        seal["seal_validity"],
        signer_validity,
        seal["seal_maker_certificate_validity"],
        signer_chain,
        seal["seal_maker_chain"],
    ]
    if sig.time_stamp is not None:
        checks.append(ts_check)
    return SignatureReport.of(
        checks,
        signer_subject=str(sig.signer_cert.subject),
        seal_name=sig.seal.name,
        seal_id=sig.seal.es_id,
        signing_time=signing_time,
        validation_time=when,
    )
