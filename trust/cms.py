"""CMS SignedData (RFC 5652 §5), small and strict, for every GovTrust signing family.

What is produced
----------------
``ContentInfo { id-signedData, SignedData v1|v3 }`` in DER with exactly one
SignerInfo (v1, ``issuerAndSerialNumber``) and the signed attributes
content-type, message-digest and (for :func:`sign_detached`) signing-time
(RFC 5652 §11.1–11.3), plus whatever the caller adds (the RFC 3161 TSA adds
ESS signing-certificate-v2). The signature always covers the DER of the signed
attributes (§5.4), never the content directly.

=======  ========================  ==================================  ==============
family   digestAlgorithm           signatureAlgorithm                  standard
=======  ========================  ==================================  ==============
sm2      SM3 1.2.156.10197.1.401   SM2-with-SM3 1.2.156.10197.1.501    GB/T 35275
p256     SHA-256                   ecdsa-with-SHA256                   RFC 5753, 5754
rsa      SHA-256 (NULL params)     rsaEncryption, NULL (as OpenSSL)    RFC 5754 §3.2
ed25519  SHA-512                   id-Ed25519                          RFC 8419 §3
=======  ========================  ==================================  ==============

SM2 signatures use the GM/T 0009 default signer ID ``1234567812345678``, as
:mod:`trust.crypto` does. By default SM2 structures use id-data/id-signedData
(what OpenSSL and Tongsuo write); ``gm_content_types=True`` selects the GB/T
35275 content types 1.2.156.10197.6.1.4.2.1 (data) and .2.2 (signedData).

What is accepted
----------------
The whole input must be DER as :func:`trust.der.check_der` checks it in one
pass (BER indefinite lengths, non-minimal lengths and integers, unsorted SET
OF, the signed attributes' order included → ``not_der``; the order of the
certificates is not checked, as OpenSSL's PKCS#7 writer keeps it as given, nor
are DEFAULT values that should have been left out), at most
:data:`MAX_CMS_SIZE` bytes, with one SignerInfo (unless ``allow_multiple_signers``), signed attributes present with exactly one
content-type equal to eContentType, exactly one message-digest, at most one
signing-time, no repeated attribute types, no unsigned attributes (unless the
caller lists their types as ignorable), and a digest/signature algorithm pair
from the table above (the verifier also takes sha256WithRSAEncryption,
ecdsa with id-ecPublicKey as the signature OID, and SM2 labelled 1.2.156.10197.1.301.1).

Verification proves that the embedded (or supplied) signer certificate's key
signed the attributes and that the content digest matches. It does **not**
validate the certificate path unless ``roots`` is given; the result says which
(``path_validated``).

Every failure is a :class:`CmsError` with a stable ``code``: ``malformed``,
``not_der``, ``too_large``, ``not_detached``, ``no_content``, ``digest_mismatch``,
``digest_algorithm_mismatch``, ``bad_signature``, ``unsupported_algorithm``,
``unsupported_attribute``, ``missing_attribute``, ``content_type_mismatch``,
``multiple_signers``, ``signer_not_found``, ``invalid_argument``, and for a path
checked against ``roots`` the :class:`~trust.errors.CertificateError` code
(``cert_expired``, ``cert_untrusted_root`` …) unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509

from .algorithms import OID, KeyFamily, SignatureAlgorithm, signature_algorithm
from .crypto import Signer
from .der import DerError, check_der, check_set_order
from .errors import CertificateError, TrustError, UnsupportedAlgorithm
from .hashes import digest as _digest
from .pki import Certificate, Name, load_certificate, validate_path
from .sigenc import SigEncoding

__all__ = [
    "CmsError",
    "CmsVerification",
    "SignerVerification",
    "MAX_CMS_SIZE",
    "ID_DATA",
    "ID_SIGNED_DATA",
    "ID_CT_TST_INFO",
    "DIGEST_OIDS",
    "hash_data",
    "sign_detached",
    "sign_encapsulated",
    "verify_detached",
    "verify_encapsulated",
]

MAX_CMS_SIZE: Final = 1024 * 1024
MAX_CERTIFICATES: Final = 16
MAX_SIGNERS: Final = 8

ID_DATA: Final = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA: Final = "1.2.840.113549.1.7.2"
ID_CT_TST_INFO: Final = "1.2.840.113549.1.9.16.1.4"  # RFC 3161 §2.4.2
_ATTR_CONTENT_TYPE: Final = "1.2.840.113549.1.9.3"
_ATTR_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
_ATTR_SIGNING_TIME: Final = "1.2.840.113549.1.9.5"
# SHA-512 is needed only by Ed25519 in CMS (RFC 8419 §3), and SHA-1 only to match
# ESS signing-certificate (v1) hashes written by others; neither signs anything here.
_SHA512: Final = "2.16.840.1.101.3.4.2.3"
_SHA1: Final = "1.3.14.3.2.26"

#: hash name → digest AlgorithmIdentifier OID
DIGEST_OIDS: Final = {
    "sm3": OID.SM3,
    "sha256": OID.SHA256,
    "sha384": OID.SHA384,
    "sha512": _SHA512,
    "sha1": _SHA1,
}
_DIGEST_NAMES: Final = {oid: name for name, oid in DIGEST_OIDS.items()}
_DIGEST_SIZES: Final = {"sm3": 32, "sha256": 32, "sha384": 48, "sha512": 64, "sha1": 20}


def hash_data(name: str, data: bytes) -> bytes:
    """Digest ``data`` with one of :data:`DIGEST_OIDS`' hash names."""
    if name in ("sha512", "sha1"):
        return hashlib.new(name, data).digest()
    if name not in DIGEST_OIDS:
        raise CmsError(f"unknown digest {name!r}", code="unsupported_algorithm")
    return _digest(name, data)


class CmsError(TrustError):
    """A CMS structure could not be produced or does not verify."""

    code = "cms_error"


@dataclass(frozen=True, slots=True)
class _Family:
    algorithm: str  # GovTrust signature algorithm name
    digest: str  # hash name for message-digest
    signature_oid: str  # what we write
    null_params: bool  # RSA: NULL parameters; everything else: absent
    accepted_oids: frozenset[str]  # what we read


_FAMILIES: Final = {
    KeyFamily.SM2: _Family(
        "SM2", "sm3", OID.SM3_WITH_SM2, False, frozenset({OID.SM3_WITH_SM2, OID.SM2_SIGN})
    ),
    KeyFamily.P256: _Family(
        "ES256", "sha256", OID.ECDSA_SHA256, False, frozenset({OID.ECDSA_SHA256, OID.EC_PUBLIC_KEY})
    ),
    KeyFamily.RSA: _Family(
        "RS256", "sha256", OID.RSA_ENCRYPTION, True, frozenset({OID.RSA_ENCRYPTION, OID.RSA_SHA256})
    ),
    KeyFamily.ED25519: _Family("EdDSA", "sha512", OID.ED25519, False, frozenset({OID.ED25519})),
}

# --------------------------------------------------------------------------- strict ASN.1 shapes
# Local shapes instead of asn1crypto's: eContent is always an OCTET STRING (RFC 5652
# §5.2, also for PKCS#7-era TSTInfo) and ContentInfo must hold SignedData.


class _EncapsulatedContentInfo(asn1_core.Sequence):  # type: ignore[misc]
    _fields = [
        ("content_type", asn1_cms.ContentType),
        ("content", asn1_core.OctetString, {"explicit": 0, "optional": True}),
    ]


class _CertificateList(asn1_core.SequenceOf):  # type: ignore[misc]
    """CertificateSet read in the order written, without DER's SET OF sorting.

    OpenSSL's PKCS#7 code (``openssl ts -reply``) writes the certificates as an
    ordered SEQUENCE OF under the [0] tag. Certificates are not covered by the
    signature and each is parsed strictly on its own, so their order is let be;
    everything else must be DER.
    """

    _child_spec = asn1_cms.CertificateChoices


class _SignedData(asn1_core.Sequence):  # type: ignore[misc]
    _fields = [
        ("version", asn1_cms.CMSVersion),
        ("digest_algorithms", asn1_cms.DigestAlgorithms),
        ("encap_content_info", _EncapsulatedContentInfo),
        ("certificates", _CertificateList, {"implicit": 0, "optional": True}),
        ("crls", asn1_cms.RevocationInfoChoices, {"implicit": 1, "optional": True}),
        ("signer_infos", asn1_cms.SignerInfos),
    ]


class _ContentInfo(asn1_core.Sequence):  # type: ignore[misc]
    _fields = [
        ("content_type", asn1_cms.ContentType),
        ("content", _SignedData, {"explicit": 0}),
    ]


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
    UnicodeError,
)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class SignerVerification:
    """One SignerInfo that verified."""

    certificate: Certificate
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: str
    signing_time: datetime | None
    signed_attributes: tuple[tuple[str, bytes], ...] = field(repr=False)
    """(attribute type OID, DER of the single attribute value) in encoded order."""
    path: tuple[Certificate, ...] = field(default=(), repr=False)

    def attribute(self, oid: str) -> bytes | None:
        """DER of the value of signed attribute ``oid``, or None if absent."""
        return next((v for o, v in self.signed_attributes if o == oid), None)


@dataclass(frozen=True, slots=True)
class CmsVerification:
    """A verified SignedData. ``verified`` is always True: failures raise."""

    content_type: str
    outer_content_type: str
    signers: tuple[SignerVerification, ...]
    certificates: tuple[Certificate, ...] = field(repr=False)
    content: bytes | None = field(repr=False)
    path_validated: bool
    verified: bool = True

    @property
    def signer_certificate(self) -> Certificate:
        return self.signers[0].certificate

    @property
    def signing_time(self) -> datetime | None:
        return self.signers[0].signing_time

    @property
    def digest_algorithm(self) -> str:
        return self.signers[0].digest_algorithm

    @property
    def signature_algorithm(self) -> SignatureAlgorithm:
        return self.signers[0].signature_algorithm


# --------------------------------------------------------------------------- signing


def _family_for(signer: Signer) -> _Family:
    fam = _FAMILIES.get(signer.algorithm.family)
    if fam is None or fam.algorithm != signer.algorithm.name:
        raise CmsError(
            f"{signer.algorithm.name} is not a CMS algorithm here "
            f"(one of {', '.join(f.algorithm for f in _FAMILIES.values())})",
            code="unsupported_algorithm",
        )
    return fam


def _alg_id(oid: str, null: bool) -> dict[str, Any]:
    value: dict[str, Any] = {"algorithm": oid}
    if null:
        value["parameters"] = asn1_core.Null()
    return value


def _attribute(oid: str, value_der: bytes) -> bytes:
    """DER of an Attribute with one value (``value_der``, itself DER)."""
    body = (
        bytes(asn1_core.ObjectIdentifier(oid).dump())
        + b"\x31"
        + _length(len(value_der))
        + value_der
    )
    return b"\x30" + _length(len(body)) + body


def _one_tlv(value: bytes) -> bytes:
    """``value`` if it is exactly one BER/DER TLV (an attribute value), else CmsError."""
    if not isinstance(value, bytes):
        raise CmsError("an attribute value must be DER bytes", code="invalid_argument")
    try:
        asn1_core.Asn1Value.load(value, strict=True)
    except _PARSE_ERRORS:
        raise CmsError("an attribute value must be one DER TLV", code="invalid_argument") from None
    return value


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _signing_time(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise CmsError("signing_time must be timezone-aware", code="invalid_argument")
    value = value.astimezone(UTC).replace(microsecond=0)
    # RFC 5652 §11.3: UTCTime for 1950–2049, GeneralizedTime otherwise.
    if 1950 <= value.year < 2050:
        return bytes(asn1_core.UTCTime(value).dump())
    return bytes(asn1_core.GeneralizedTime(value).dump())


def _resolve_digest(fam: _Family, content: bytes | None, digest: tuple[str, bytes] | None) -> bytes:
    if (content is None) == (digest is None):
        raise CmsError("give exactly one of content or digest", code="invalid_argument")
    if content is not None:
        if not isinstance(content, bytes | bytearray | memoryview):
            raise CmsError("content must be bytes", code="invalid_argument")
        return hash_data(fam.digest, bytes(content))
    assert digest is not None
    try:
        name, value = digest
    except (TypeError, ValueError):
        raise CmsError("digest must be (hash name, bytes)", code="invalid_argument") from None
    if name != fam.digest:
        raise CmsError(
            f"{fam.algorithm} in CMS digests with {fam.digest}, not {name!r}",
            code="digest_algorithm_mismatch",
        )
    if not isinstance(value, bytes) or len(value) != _DIGEST_SIZES[name]:
        raise CmsError(f"a {name} digest is {_DIGEST_SIZES[name]} bytes", code="invalid_argument")
    return value


def _sign(
    signer: Signer,
    certificate: Certificate,
    *,
    message_digest: bytes,
    fam: _Family,
    content_type: str,
    econtent: bytes | None,
    signing_time: datetime | None,
    chain: Sequence[Certificate],
    extra_signed_attributes: Sequence[tuple[str, bytes]],
    gm_content_types: bool,
) -> bytes:
    if not isinstance(certificate, Certificate):
        raise CmsError("certificate must be a trust.pki.Certificate", code="invalid_argument")
    if signer.public_key != certificate.public_key:
        raise CmsError("the signer's key is not the certificate's key", code="invalid_argument")
    reserved = {_ATTR_CONTENT_TYPE, _ATTR_MESSAGE_DIGEST, _ATTR_SIGNING_TIME}
    extra_oids = [oid for oid, _ in extra_signed_attributes]
    if reserved & set(extra_oids) or len(set(extra_oids)) != len(extra_oids):
        raise CmsError("extra signed attributes repeat a type", code="invalid_argument")
    attrs = [
        _attribute(_ATTR_CONTENT_TYPE, bytes(asn1_core.ObjectIdentifier(content_type).dump())),
        _attribute(_ATTR_MESSAGE_DIGEST, bytes(asn1_core.OctetString(message_digest).dump())),
    ]
    if signing_time is not None:
        attrs.append(_attribute(_ATTR_SIGNING_TIME, _signing_time(signing_time)))
    for oid, value in extra_signed_attributes:
        attrs.append(_attribute(oid, _one_tlv(value)))
    # DER SET OF (X.690 §11.6, RFC 5652 §5.4): the encodings in ascending order. Each
    # attribute is a whole TLV, so none is a prefix of another and bytes order is
    # DER's. Built by hand: asn1crypto's re-encoding (dump(force=True)) parses and
    # re-serialises every value, 3.7 ms for an ESS signing-certificate-v2 alone.
    body = b"".join(sorted(attrs))
    to_sign = b"\x31" + _length(len(body)) + body
    signature = signer.sign(to_sign)
    if not signer.public_key.verify(signer.algorithm, to_sign, signature, encoding=SigEncoding.DER):
        raise CmsError("the signer produced a signature that does not verify", code="bad_signature")

    asn1_cert = asn1_x509.Certificate.load(certificate.der)
    signer_info = asn1_cms.SignerInfo(
        {
            "version": "v1",
            "sid": asn1_cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": asn1_cert.issuer, "serial_number": certificate.serial},
            ),
            "digest_algorithm": _alg_id(DIGEST_OIDS[fam.digest], fam.null_params),
            "signed_attrs": asn1_cms.CMSAttributes.load(to_sign),
            "signature_algorithm": _alg_id(fam.signature_oid, fam.null_params),
            "signature": signature,
        }
    )
    certs: list[bytes] = []
    for c in (certificate, *chain):
        if c.der not in certs:
            certs.append(c.der)
    encap: dict[str, Any] = {"content_type": content_type}
    if econtent is not None:
        encap["content"] = econtent
    # RFC 5652 §5.1: v3 when eContentType is not id-data; GB/T 35275 §8.1 keeps v1.
    version = "v1" if content_type in (ID_DATA, OID.GM_CMS_DATA) else "v3"
    signed_data = _SignedData(
        {
            "version": version,
            "digest_algorithms": [_alg_id(DIGEST_OIDS[fam.digest], fam.null_params)],
            "encap_content_info": _EncapsulatedContentInfo(encap),
            # DER SET OF order (X.690 §11.6), though readers take any order
            "certificates": [asn1_x509.Certificate.load(d) for d in sorted(certs)],
            "signer_infos": [signer_info],
        }
    )
    outer = OID.GM_CMS_SIGNED_DATA if gm_content_types else ID_SIGNED_DATA
    # No force=True: it would re-encode the embedded certificates, whose DER is kept
    # as received; every part built here is encoded on first dump anyway.
    return bytes(_ContentInfo({"content_type": outer, "content": signed_data}).dump())


def sign_detached(
    signer: Signer,
    certificate: Certificate,
    *,
    content: bytes | None = None,
    digest: tuple[str, bytes] | None = None,
    signing_time: datetime,
    chain: Sequence[Certificate] = (),
    content_type: str | None = None,
    gm_content_types: bool = False,
    extra_signed_attributes: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """A detached SignedData (DER ContentInfo) over ``content`` or its ``digest``.

    ``digest`` is ``(hash name, digest bytes)`` with the family's hash (``sm3``,
    ``sha256``, or ``sha512`` for Ed25519). ``content_type`` defaults to id-data,
    or GB/T 35275 data with ``gm_content_types``. ``chain`` certificates are
    embedded after the signer's.
    """
    fam = _family_for(signer)
    if signing_time is None:
        raise CmsError("signing_time is required", code="invalid_argument")
    md = _resolve_digest(fam, content, digest)
    ctype = content_type or (OID.GM_CMS_DATA if gm_content_types else ID_DATA)
    return _sign(
        signer,
        certificate,
        message_digest=md,
        fam=fam,
        content_type=ctype,
        econtent=None,
        signing_time=signing_time,
        chain=chain,
        extra_signed_attributes=extra_signed_attributes,
        gm_content_types=gm_content_types,
    )


def sign_encapsulated(
    signer: Signer,
    certificate: Certificate,
    *,
    content: bytes,
    content_type: str,
    signing_time: datetime | None = None,
    chain: Sequence[Certificate] = (),
    include_certificates: bool = True,
    gm_content_types: bool = False,
    extra_signed_attributes: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """A SignedData that carries ``content`` (eContent), e.g. an RFC 3161 TSTInfo.

    With ``include_certificates=False`` no certificate is embedded (RFC 3161
    certReq absent or false); the verifier must then be given the signer's.
    """
    fam = _family_for(signer)
    der = _sign(
        signer,
        certificate,
        message_digest=hash_data(fam.digest, content),
        fam=fam,
        content_type=content_type,
        econtent=content,
        signing_time=signing_time,
        chain=chain,
        extra_signed_attributes=extra_signed_attributes,
        gm_content_types=gm_content_types,
    )
    if include_certificates:
        return der
    # The same SignedData without its certificates, assembled from the parts' DER as
    # written (asn1crypto's forced re-encoding of it took 75 ms, see trust.der).
    ci = _ContentInfo.load(der)
    sd = ci["content"]
    body = b"".join(
        bytes(sd[name].dump())
        for name in ("version", "digest_algorithms", "encap_content_info", "signer_infos")
    )
    signed_data = b"\x30" + _length(len(body)) + body
    explicit = b"\xa0" + _length(len(signed_data)) + signed_data
    oid = bytes(ci["content_type"].dump())
    return b"\x30" + _length(len(oid) + len(explicit)) + oid + explicit


# --------------------------------------------------------------------------- verification


def _err(message: str, code: str) -> CmsError:
    return CmsError(message, code=code)


def _load(der: bytes) -> Any:
    if not isinstance(der, bytes | bytearray | memoryview):
        raise _err("CMS input must be bytes", "malformed")
    der = bytes(der)
    if len(der) > MAX_CMS_SIZE:
        raise _err(f"CMS input larger than {MAX_CMS_SIZE} bytes", "too_large")
    try:
        ci = _ContentInfo.load(der, strict=True)
        ci._parse_children(recurse=True)  # every part parsed here, not on first use
    except _PARSE_ERRORS as exc:
        raise _err(f"not a CMS SignedData ({type(exc).__name__})", "malformed") from None
    try:
        check_der(der)
    except DerError as exc:
        raise _err(f"CMS input is not DER: {exc}", "not_der") from None
    return ci


def _params_ok(alg: Any, null_allowed: bool, null_required: bool = False) -> bool:
    params = alg["parameters"]
    absent = isinstance(params, asn1_core.Void)
    null = not absent and bytes(params.dump()) == b"\x05\x00"
    if null_required:
        return null or absent
    return absent or (null and null_allowed)


def _parse_signer_algorithms(si: Any, cert: Certificate) -> tuple[_Family, str]:
    family = cert.public_key.family
    fam = _FAMILIES.get(family)
    if fam is None:
        raise _err(f"{family} keys are not accepted in CMS", "unsupported_algorithm")
    sig_alg = si["signature_algorithm"]
    sig_oid = sig_alg["algorithm"].dotted
    if sig_oid not in fam.accepted_oids:
        raise _err(
            f"signature algorithm {sig_oid} does not fit a {family} key", "unsupported_algorithm"
        )
    rsa = family is KeyFamily.RSA
    if not _params_ok(sig_alg, null_allowed=family is not KeyFamily.ED25519, null_required=rsa):
        raise _err(f"bad parameters for {sig_oid}", "unsupported_algorithm")
    dig_alg = si["digest_algorithm"]
    dig_name = _DIGEST_NAMES.get(dig_alg["algorithm"].dotted)
    if dig_name != fam.digest:
        raise _err(
            f"digest algorithm {dig_alg['algorithm'].dotted} does not fit {fam.algorithm}",
            "unsupported_algorithm",
        )
    if not _params_ok(dig_alg, null_allowed=True):
        raise _err("digest algorithm parameters must be absent or NULL", "unsupported_algorithm")
    return fam, dig_name


def _find_signer(sid: Any, candidates: Sequence[Certificate]) -> Certificate:
    if sid.name == "issuer_and_serial_number":
        issuer = Name.from_der(bytes(sid.chosen["issuer"].dump()))
        serial = sid.chosen["serial_number"].native
        for c in candidates:
            if c.serial == serial and c.issuer.matches(issuer):
                return c
    elif sid.name == "subject_key_identifier":
        ski = bytes(sid.chosen.native)
        for c in candidates:
            if c.ski == ski:
                return c
    raise _err("the signer's certificate is not in the SignedData", "signer_not_found")


def _signed_attributes(si: Any) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(DER of the SET OF to verify, [(type, DER value)]) with RFC 5652 §5.3 rules."""
    attrs = si["signed_attrs"]
    if isinstance(attrs, asn1_core.Void) or len(attrs) == 0:
        raise _err("SignerInfo has no signed attributes", "missing_attribute")
    contents = bytes(attrs.contents)
    try:  # [0] IMPLICIT hides the SET tag from check_der: its order is checked here
        check_set_order([bytes(a.dump()) for a in attrs], "signed attributes")
    except DerError as exc:
        raise _err(f"CMS input is not DER: {exc}", "not_der") from None
    # §5.4: the signature covers the explicit SET OF tag, not the [0] IMPLICIT one.
    set_der = b"\x31" + _length(len(contents)) + contents
    out: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for attr in attrs:
        oid = attr["type"].dotted
        if oid in seen:
            raise _err(f"signed attribute {oid} appears twice", "malformed")
        seen.add(oid)
        values = list(attr["values"])
        if len(values) != 1:
            raise _err(f"signed attribute {oid} must have exactly one value", "malformed")
        out.append((oid, bytes(values[0].dump())))
    return set_der, out


def _one(attrs: Sequence[tuple[str, bytes]], oid: str, what: str) -> bytes:
    for o, value in attrs:
        if o == oid:
            return value
    raise _err(f"the {what} signed attribute is missing", "missing_attribute")


def _verify_signer(
    si: Any,
    certificates: Sequence[Certificate],
    econtent_type: str,
    content: bytes | None,
    digest: tuple[str, bytes] | None,
    ignore_unsigned: Collection[str],
) -> SignerVerification:
    cert = _find_signer(si["sid"], certificates)
    version = si["version"].native
    expected_version = "v1" if si["sid"].name == "issuer_and_serial_number" else "v3"
    if version != expected_version:
        raise _err(f"SignerInfo {version} does not fit its sid", "malformed")
    fam, dig_name = _parse_signer_algorithms(si, cert)
    unsigned = si["unsigned_attrs"]
    if not isinstance(unsigned, asn1_core.Void):
        for attr in unsigned:
            if attr["type"].dotted not in ignore_unsigned:
                raise _err(
                    f"unsigned attribute {attr['type'].dotted} is not accepted",
                    "unsupported_attribute",
                )
    set_der, attrs = _signed_attributes(si)

    ct_value = asn1_core.ObjectIdentifier.load(
        _one(attrs, _ATTR_CONTENT_TYPE, "content-type"), strict=True
    )
    if ct_value.dotted != econtent_type:
        raise _err("content-type attribute differs from eContentType", "content_type_mismatch")
    md = asn1_core.OctetString.load(
        _one(attrs, _ATTR_MESSAGE_DIGEST, "message-digest"), strict=True
    ).native
    signing_time: datetime | None = None
    st_der = next((v for o, v in attrs if o == _ATTR_SIGNING_TIME), None)
    if st_der is not None:
        st = asn1_cms.Time.load(st_der, strict=True).native
        if not isinstance(st, datetime) or st.tzinfo is None:
            raise _err("bad signing-time", "malformed")
        signing_time = st.astimezone(UTC)

    if content is not None:
        expected = hash_data(dig_name, content)
    else:
        assert digest is not None
        name, expected = digest
        if name != dig_name:
            raise _err(
                f"the SignedData digests with {dig_name}, a {name!r} digest was given",
                "digest_algorithm_mismatch",
            )
    if not isinstance(md, bytes) or len(md) != _DIGEST_SIZES[dig_name]:
        raise _err("message-digest has the wrong length", "digest_mismatch")
    if not hmac.compare_digest(md, expected):
        raise _err("message-digest does not match the content", "digest_mismatch")

    signature = bytes(si["signature"].native)
    try:
        ok = cert.public_key.verify(fam.algorithm, set_der, signature, encoding=SigEncoding.DER)
    except UnsupportedAlgorithm:
        ok = False
    if not ok:
        raise _err("the signature does not verify with the signer's key", "bad_signature")
    return SignerVerification(
        certificate=cert,
        signature_algorithm=signature_algorithm(fam.algorithm),
        digest_algorithm=dig_name,
        signing_time=signing_time,
        signed_attributes=tuple(attrs),
    )


def _verify(
    der: bytes,
    *,
    detached: bool,
    content: bytes | None,
    digest: tuple[str, bytes] | None,
    content_types: Collection[str] | None,
    extra_certificates: Sequence[Certificate],
    allow_multiple_signers: bool,
    ignore_unsigned_attributes: Collection[str],
    roots: Collection[Certificate] | None,
    intermediates: Collection[Certificate],
    at: datetime | None,
    purpose: str | None,
) -> CmsVerification:
    ci = _load(der)
    try:
        return _verify_parsed(
            ci,
            detached=detached,
            content=content,
            digest=digest,
            content_types=content_types,
            extra_certificates=extra_certificates,
            allow_multiple_signers=allow_multiple_signers,
            ignore_unsigned_attributes=ignore_unsigned_attributes,
            roots=roots,
            intermediates=intermediates,
            at=at,
            purpose=purpose,
        )
    except CmsError:
        raise
    except CertificateError as exc:
        raise _err(f"certificate: {exc.message}", exc.code) from None
    except TrustError as exc:
        raise _err(exc.message, "malformed") from None
    except _PARSE_ERRORS as exc:
        raise _err(f"malformed CMS ({type(exc).__name__})", "malformed") from None


def _verify_parsed(
    ci: Any,
    *,
    detached: bool,
    content: bytes | None,
    digest: tuple[str, bytes] | None,
    content_types: Collection[str] | None,
    extra_certificates: Sequence[Certificate],
    allow_multiple_signers: bool,
    ignore_unsigned_attributes: Collection[str],
    roots: Collection[Certificate] | None,
    intermediates: Collection[Certificate],
    at: datetime | None,
    purpose: str | None,
) -> CmsVerification:
    outer = ci["content_type"].dotted
    if outer not in (ID_SIGNED_DATA, OID.GM_CMS_SIGNED_DATA):
        raise _err(f"content type {outer} is not signedData", "malformed")
    sd = ci["content"]
    if sd["version"].native not in ("v1", "v3"):
        raise _err(f"SignedData {sd['version'].native} is not supported", "malformed")
    encap = sd["encap_content_info"]
    econtent_type = encap["content_type"].dotted
    if content_types is not None and econtent_type not in content_types:
        raise _err(f"eContentType {econtent_type} is not expected here", "content_type_mismatch")
    econtent_field = encap["content"]
    has_econtent = not isinstance(econtent_field, asn1_core.Void)
    if detached:
        if has_econtent:
            raise _err("expected a detached SignedData, found eContent", "not_detached")
    else:
        if not has_econtent:
            raise _err("the SignedData carries no eContent", "no_content")
        content = bytes(econtent_field.native)
        digest = None

    cert_field = sd["certificates"]
    embedded: list[Certificate] = []
    if not isinstance(cert_field, asn1_core.Void):
        if len(cert_field) > MAX_CERTIFICATES:
            raise _err("too many certificates", "malformed")
        for choice in cert_field:
            if choice.name != "certificate":
                raise _err(f"certificate choice {choice.name} not supported", "malformed")
            embedded.append(load_certificate(bytes(choice.chosen.dump())))
    candidates = [*embedded, *(c for c in extra_certificates if c not in embedded)]

    infos = list(sd["signer_infos"])
    if not infos:
        raise _err("SignedData has no SignerInfo", "malformed")
    if len(infos) > 1 and not allow_multiple_signers:
        raise _err(f"{len(infos)} signers, one expected", "multiple_signers")
    if len(infos) > MAX_SIGNERS:
        raise _err("too many signers", "multiple_signers")
    listed_digests = {a["algorithm"].dotted for a in sd["digest_algorithms"]}

    signers = []
    for si in infos:
        result = _verify_signer(
            si, candidates, econtent_type, content, digest, ignore_unsigned_attributes
        )
        if DIGEST_OIDS[result.digest_algorithm] not in listed_digests:
            raise _err("digestAlgorithms does not list the signer's digest", "malformed")
        signers.append(result)

    validated = False
    if roots is not None:
        when = at if at is not None else signers[0].signing_time
        if when is None:
            raise _err("no instant to validate the path at", "invalid_argument")
        pool = [*candidates, *intermediates]
        checked = []
        for s in signers:
            path = validate_path(
                s.certificate, intermediates=pool, roots=roots, at=when, purpose=purpose
            )
            checked.append(
                SignerVerification(
                    s.certificate,
                    s.signature_algorithm,
                    s.digest_algorithm,
                    s.signing_time,
                    s.signed_attributes,
                    tuple(path),
                )
            )
        signers = checked
        validated = True
    return CmsVerification(
        content_type=econtent_type,
        outer_content_type=ci["content_type"].dotted,
        signers=tuple(signers),
        certificates=tuple(embedded),
        content=None if detached else content,
        path_validated=validated,
    )


def _check_digest_arg(content: bytes | None, digest: tuple[str, bytes] | None) -> None:
    if (content is None) == (digest is None):
        raise _err("give exactly one of content or digest", "invalid_argument")
    if content is not None and not isinstance(content, bytes | bytearray | memoryview):
        raise _err("content must be bytes", "invalid_argument")
    if digest is not None:
        if (
            not isinstance(digest, tuple)
            or len(digest) != 2
            or digest[0] not in DIGEST_OIDS
            or not isinstance(digest[1], bytes)
        ):
            raise _err("digest must be (hash name, bytes)", "invalid_argument")


def verify_detached(
    der: bytes,
    *,
    content: bytes | None = None,
    digest: tuple[str, bytes] | None = None,
    content_types: Collection[str] | None = (ID_DATA, OID.GM_CMS_DATA),
    extra_certificates: Sequence[Certificate] = (),
    allow_multiple_signers: bool = False,
    ignore_unsigned_attributes: Collection[str] = (),
    roots: Collection[Certificate] | None = None,
    intermediates: Collection[Certificate] = (),
    at: datetime | None = None,
    purpose: str | None = None,
) -> CmsVerification:
    """Verify a detached SignedData over ``content`` or its ``digest`` (name, bytes).

    With ``roots``, each signer certificate's path is validated at ``at``
    (default: the signing-time) for ``purpose``; otherwise only the signature
    is checked and ``path_validated`` is False. Raises :class:`CmsError`.
    """
    _check_digest_arg(content, digest)
    return _verify(
        der,
        detached=True,
        content=None if content is None else bytes(content),
        digest=digest,
        content_types=content_types,
        extra_certificates=extra_certificates,
        allow_multiple_signers=allow_multiple_signers,
        ignore_unsigned_attributes=ignore_unsigned_attributes,
        roots=roots,
        intermediates=intermediates,
        at=at,
        purpose=purpose,
    )


def verify_encapsulated(
    der: bytes,
    *,
    content_types: Collection[str],
    extra_certificates: Sequence[Certificate] = (),
    allow_multiple_signers: bool = False,
    ignore_unsigned_attributes: Collection[str] = (),
    roots: Collection[Certificate] | None = None,
    intermediates: Collection[Certificate] = (),
    at: datetime | None = None,
    purpose: str | None = None,
) -> CmsVerification:
    """Verify a SignedData that carries its content; ``result.content`` holds it."""
    return _verify(
        der,
        detached=False,
        content=None,
        digest=None,
        content_types=content_types,
        extra_certificates=extra_certificates,
        allow_multiple_signers=allow_multiple_signers,
        ignore_unsigned_attributes=ignore_unsigned_attributes,
        roots=roots,
        intermediates=intermediates,
        at=at,
        purpose=purpose,
    )
