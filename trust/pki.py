"""X.509 certificates and certification paths for GovTrust (RFC 5280; GM/T 0015 for SM2).

Issuance
--------
The TBSCertificate (RFC 5280 §4.1) is assembled and DER-encoded here with
asn1crypto and signed by any :class:`~trust.crypto.Signer`, so software keys,
HSM keys and SM2 keys (which pyca/cryptography's builder cannot sign) go
through the same code. Every certificate is X.509 v3 with:

* a random positive serial of 127 bits (126 random; 16 octets, top bit clear;
  RFC 5280 §4.1.2.2 allows at most 20 octets, CA/B BR 7.1 wants ≥ 64 random bits);
* validity as UTCTime up to 2049 and GeneralizedTime from 2050, whole seconds,
  ``Z`` (RFC 5280 §4.1.2.5);
* names with UTF8String values (``C`` and ``serialNumber`` PrintableString,
  ``DC`` and ``emailAddress`` IA5String; RFC 5280 §4.1.2.4, Appendix A), so
  ``CN=国家政务服务平台 SM2 根 CA`` is encoded as written;
* subjectKeyIdentifier = SHA-1 of the subjectPublicKey bits (RFC 5280
  §4.2.1.2 method 1) for every family, SM2 included: it is an identifier, not
  a security primitive, and it matches what OpenSSL computes;
* authorityKeyIdentifier (keyIdentifier), basicConstraints (critical, also on
  end-entity certificates), keyUsage (critical), extendedKeyUsage from
  :data:`KEY_PURPOSES`, subjectAltName for DNS names and URIs.

Signature AlgorithmIdentifiers (tbs ``signature`` and outer
``signatureAlgorithm``): SM2 → SM3withSM2 1.2.156.10197.1.501 with parameters
absent (GM/T 0015, signer ID ``1234567812345678`` of GM/T 0009);
ES256/ES384 → ecdsa-with-SHA256/384, absent (RFC 5758 §3.2); RS256 →
sha256WithRSAEncryption with NULL (RFC 4055 §5); PS256 → RSASSA-PSS with
explicit SHA-256, MGF1-SHA-256, salt 32, trailer 1 (RFC 4055 §3.1, the exact
encoding of CA/B BR §7.1.3.2.1); EdDSA → id-Ed25519, absent (RFC 8410 §3).

Key purposes
------------
An end-entity key has one purpose (DESIGN.md); :data:`KEY_PURPOSES` maps it to
keyUsage and extendedKeyUsage. Every purpose asserts digitalSignature;
``seal`` adds contentCommitment (nonRepudiation) and id-kp-documentSigning
(RFC 9336); ``tsa`` carries id-kp-timeStamping as the only, critical EKU
(RFC 3161 §2.3); the other purposes carry one GovTrust private EKU each, under
the arc :data:`GOVTRUST_EKU_ARC` — a UUID-derived OID (ITU-T X.667, arc 2.25)
that needs no registration — non-critical, so other software ignores it.

Path validation
---------------
:func:`validate_path` implements the subset of RFC 5280 §6 that GovTrust
needs: chain building by issuer/subject name (§7.1 comparison) narrowed by
AKI/SKI, backtracking over alternative issuers, signature of every link with
the issuer key and the certificate's own signatureAlgorithm (which must equal
the tbs ``signature`` field, §4.1.1.2), validity of every certificate at the
given instant, basicConstraints cA and keyCertSign on every issuer,
pathLenConstraint (§6.1.4 (l), (m)), refusal of critical extensions it does not
process, purpose (keyUsage/EKU) of the leaf, a trust anchor that is byte-for-byte
one of ``roots``, at most :data:`MAX_PATH_LENGTH` certificates, no loops.
Trust anchors' self-signatures are not checked (RFC 5280 §6.1.1 (d): the
anchor is trusted as given). Not implemented: name constraints, policies,
revocation (GovTrust uses status lists and the signed trust list instead);
a certificate that makes any of them critical is rejected.

Revocation lists
----------------
:func:`issue_crl` makes an X.509 v2 CRL (RFC 5280 §5): version v2, the
issuer's subject as issuer, thisUpdate/nextUpdate (same time rules as
certificates), one entry per revoked serial (sorted, no duplicates) with a
reasonCode entry extension unless the reason is unspecified (§5.3.1: then the
extension is omitted), and the CRL extensions authorityKeyIdentifier (§5.2.1)
and cRLNumber (§5.2.3). The TBSCertList is DER-encoded with asn1crypto and
signed by any :class:`~trust.crypto.Signer` — SM2 (SM3withSM2), ECDSA and RSA
alike — with the same AlgorithmIdentifiers as certificates. The issuer must
be a CA asserting cRLSign. :func:`load_crl` parses one
(:class:`CertificateRevocationList`), whose :meth:`~CertificateRevocationList.verify`
checks the signature with the issuer's key, the issuer name and key
identifier, and freshness. Delta CRLs and indirect CRLs are not produced.

Errors
------
Every failure is a :class:`~trust.errors.CertificateError` with one of these
codes: ``malformed`` (not a certificate), ``cert_unsupported_algorithm``
(signature algorithm outside :mod:`trust.algorithms`), ``cert_invalid_key``
(public key refused by :mod:`trust.crypto`), ``invalid_name``,
``issuance_refused``, ``issuance_failed``, and from validation
``cert_expired``, ``cert_not_yet_valid``, ``cert_bad_signature``,
``cert_not_ca``, ``cert_path_length``, ``cert_key_usage``,
``cert_unknown_issuer``, ``cert_untrusted_root``,
``cert_unsupported_critical_extension``; for CRLs ``crl_malformed``,
``crl_bad_signature``, ``crl_wrong_issuer``, ``crl_not_yet_valid``,
``crl_stale``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from .algorithms import OID, KeyFamily, SignatureAlgorithm, by_oid
from .crypto import PublicKey, Signer, load_public_key
from .errors import CertificateError, InvalidKey, UnsupportedAlgorithm
from .sigenc import SigEncoding

__all__ = [
    "Name",
    "NameLike",
    "Extension",
    "Certificate",
    "KeyPurpose",
    "KEY_PURPOSES",
    "GOVTRUST_EKU_ARC",
    "EKU_TIME_STAMPING",
    "EKU_DOCUMENT_SIGNING",
    "EKU_ANY",
    "MAX_PATH_LENGTH",
    "MAX_CERTIFICATE_SIZE",
    "key_identifier",
    "issue_root",
    "issue_ca",
    "issue_end_entity",
    "issue_certificate_unsafe",
    "load_certificate",
    "load_certificates",
    "validate_path",
    "CRL_REASONS",
    "MAX_CRL_SIZE",
    "RevokedCertificate",
    "CertificateRevocationList",
    "issue_crl",
    "load_crl",
]

MAX_PATH_LENGTH: Final = 8  # certificates in a path, leaf and anchor included
MAX_CERTIFICATE_SIZE: Final = 64 * 1024
MAX_BUNDLE_SIZE: Final = 4 * 1024 * 1024
_MAX_LINK_CHECKS: Final = 256  # bound on backtracking work per validation

# Extension OIDs (RFC 5280 §4.2.1)
_EXT_SKI: Final = "2.5.29.14"
_EXT_KEY_USAGE: Final = "2.5.29.15"
_EXT_SAN: Final = "2.5.29.17"
_EXT_BASIC_CONSTRAINTS: Final = "2.5.29.19"
_EXT_AKI: Final = "2.5.29.35"
_EXT_EKU: Final = "2.5.29.37"
_EXT_CRL_DISTRIBUTION_POINTS: Final = "2.5.29.31"
# Extensions whose semantics validate_path processes; any other critical one is refused.
_UNDERSTOOD: Final = frozenset(
    {_EXT_SKI, _EXT_KEY_USAGE, _EXT_SAN, _EXT_BASIC_CONSTRAINTS, _EXT_AKI, _EXT_EKU}
)

EKU_ANY: Final = "2.5.29.37.0"
EKU_TIME_STAMPING: Final = "1.3.6.1.5.5.7.3.8"  # RFC 3161 §2.3
EKU_DOCUMENT_SIGNING: Final = "1.3.6.1.5.5.7.3.36"  # RFC 9336
#: GovTrust's own OID arc: 2.25.<UUID c453c827-a242-4728-b402-8193c1dcf11d> (ITU-T X.667).
GOVTRUST_EKU_ARC: Final = "2.25.260963707435137666906721756309274554653"

_TO_ASN1_KU: Final = {"content_commitment": "non_repudiation"}
_FROM_ASN1_KU: Final = {"non_repudiation": "content_commitment"}
KEY_USAGE_NAMES: Final = frozenset(
    {
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    }
)


def _ce(message: str, code: str) -> CertificateError:
    return CertificateError(message, code=code)


def _utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- names

_UTF8, _PRINTABLE, _IA5 = "utf8", "printable", "ia5"

# (short name as written in RFC 4514 strings, OID, string type, upper bound of RFC 5280 App. A)
_ATTRIBUTE_TABLE: Final[tuple[tuple[str, str, str, int], ...]] = (
    ("CN", "2.5.4.3", _UTF8, 64),
    ("SN", "2.5.4.4", _UTF8, 64),
    ("serialNumber", "2.5.4.5", _PRINTABLE, 64),
    ("C", "2.5.4.6", _PRINTABLE, 2),
    ("L", "2.5.4.7", _UTF8, 128),
    ("ST", "2.5.4.8", _UTF8, 128),
    ("STREET", "2.5.4.9", _UTF8, 128),
    ("O", "2.5.4.10", _UTF8, 64),
    ("OU", "2.5.4.11", _UTF8, 64),
    ("title", "2.5.4.12", _UTF8, 64),
    ("GN", "2.5.4.42", _UTF8, 64),
    ("organizationIdentifier", "2.5.4.97", _UTF8, 64),
    ("UID", "0.9.2342.19200300.100.1.1", _UTF8, 256),
    ("DC", "0.9.2342.19200300.100.1.25", _IA5, 63),
    ("emailAddress", "1.2.840.113549.1.9.1", _IA5, 255),
)
_ATTR_BY_NAME: Final = {row[0].casefold(): row for row in _ATTRIBUTE_TABLE}
_ATTR_BY_OID: Final = {row[1]: row for row in _ATTRIBUTE_TABLE}
_PRINTABLE_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
)
_RFC4514_SPECIAL: Final = frozenset(',+"\\<>;=')

RDN: TypeAlias = tuple[tuple[str, str], ...]
NameLike: TypeAlias = "Name | str | Mapping[str, str] | Sequence[tuple[str, str]]"


def _der_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _attribute_oid(attr: str) -> str:
    row = _ATTR_BY_NAME.get(attr.strip().casefold())
    if row is not None:
        return row[1]
    text = attr.strip()
    parts = text.split(".")
    if len(parts) >= 2 and all(p.isdigit() and p.isascii() for p in parts):
        return text
    raise _ce(f"unknown name attribute {attr!r}", "invalid_name")


def _encode_attribute_value(oid: str, value: str) -> bytes:
    row = _ATTR_BY_OID.get(oid)
    kind, bound, label = (row[2], row[3], row[0]) if row else (_UTF8, 256, oid)
    if not isinstance(value, str) or not value:
        raise _ce(f"{label}: empty value", "invalid_name")
    if len(value) > bound:
        raise _ce(f"{label}: longer than {bound} characters (RFC 5280 App. A)", "invalid_name")
    if "\x00" in value:
        raise _ce(f"{label}: NUL character", "invalid_name")
    if oid == "2.5.4.6" and not (
        len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()
    ):
        raise _ce("C must be an ISO 3166 alpha-2 code such as CN", "invalid_name")
    if kind == _PRINTABLE:
        if not set(value) <= _PRINTABLE_CHARS:
            raise _ce(f"{label}: not a PrintableString", "invalid_name")
        return bytes(asn1_core.PrintableString(value).dump())
    if kind == _IA5:
        if not value.isascii():
            raise _ce(f"{label}: not an IA5String (ASCII)", "invalid_name")
        return bytes(asn1_core.IA5String(value).dump())
    return bytes(asn1_core.UTF8String(value).dump())


def _name_key(rdns: tuple[RDN, ...]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """RFC 5280 §7.1 comparison key: case-folded values, insignificant spaces removed."""
    return tuple(
        tuple(sorted((oid, " ".join(value.casefold().split())) for oid, value in rdn))
        for rdn in rdns
    )


def _escape(value: str) -> str:
    out = []
    for i, ch in enumerate(value):
        if ch in _RFC4514_SPECIAL or (i == 0 and ch in "# ") or (i == len(value) - 1 and ch == " "):
            out.append("\\" + ch)
        elif ch == "\x00" or (ord(ch) < 0x20):
            out.append("".join(f"\\{b:02x}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            pair = text[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                raw.append(int(pair, 16))
                i += 3
                continue
            if i + 1 >= len(text):
                raise _ce("dangling backslash in name", "invalid_name")
            raw += text[i + 1].encode()
            i += 2
            continue
        if ch in '"<>;':
            raise _ce(f"unescaped {ch!r} in name value", "invalid_name")
        raw += ch.encode()
        i += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _ce("escaped bytes in name are not UTF-8", "invalid_name") from None


def _strip_value(value: str) -> str:
    stripped = value.lstrip(" ").rstrip(" ")
    # Keep a trailing space that was escaped ("abc\ ").
    trailing = len(stripped) - len(stripped.rstrip("\\"))
    if trailing % 2 == 1 and value.endswith(" "):
        stripped += " "
    return stripped


@dataclass(frozen=True)
class Name:
    """An X.501 distinguished name (RFC 5280 §4.1.2.4).

    ``rdns`` is in DER order — most general first (``C``, ``O``, ``CN``) — each
    RDN a tuple of ``(OID, value)`` pairs. ``str(name)`` is the RFC 4514 form,
    most specific first (``CN=…,O=…,C=CN``), which is also the order in which
    :meth:`build` and :meth:`parse` read their input. ``der`` is the exact
    encoding (the original bytes for parsed certificates).
    """

    rdns: tuple[RDN, ...]
    der: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> Name:
        """Parse an RFC 4514 string: ``CN=国家政务服务平台 SM2 根 CA,O=国家政务服务平台,C=CN``.

        Spaces around ``,`` ``+`` and ``=`` are ignored; ``\\,`` and ``\\2C`` escapes work;
        ``+`` joins attributes into a multi-valued RDN.
        """
        if not isinstance(text, str) or not text.strip():
            raise _ce("empty name", "invalid_name")
        written: list[list[tuple[str, str]]] = []
        for rdn_text in _split_unescaped(text, ","):
            rdn: list[tuple[str, str]] = []
            for ava in _split_unescaped(rdn_text, "+"):
                pieces = _split_unescaped(ava, "=")
                if len(pieces) < 2:
                    raise _ce(f"expected TYPE=value, got {ava.strip()!r}", "invalid_name")
                attr = pieces[0]
                value_text = _strip_value("=".join(pieces[1:]))
                if value_text.startswith("#"):
                    raise _ce("hex-encoded (#…) name values are not accepted", "invalid_name")
                rdn.append((_attribute_oid(attr), _unescape(value_text)))
            written.append(rdn)
        return cls._from_written(written)

    @classmethod
    def build(cls, name: NameLike) -> Name:
        """A :class:`Name` from a Name, an RFC 4514 string, a mapping or a sequence of
        ``(attribute, value)`` pairs — mappings and sequences in written order, most
        specific first, like the string (``{"CN": …, "O": …, "C": "CN"}``)."""
        if isinstance(name, Name):
            return name
        if isinstance(name, str):
            return cls.parse(name)
        items = list(name.items()) if isinstance(name, Mapping) else list(name)
        written = []
        for item in items:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise _ce("name items must be (attribute, value) pairs", "invalid_name")
            written.append([(_attribute_oid(item[0]), item[1])])
        if not written:
            raise _ce("empty name", "invalid_name")
        return cls._from_written(written)

    @classmethod
    def _from_written(cls, written: list[list[tuple[str, str]]]) -> Name:
        rdns = tuple(tuple(rdn) for rdn in reversed(written))
        encoded_rdns = []
        for rdn in rdns:
            avas = sorted(
                _der_tlv(
                    0x30,
                    bytes(asn1_core.ObjectIdentifier(oid).dump())
                    + _encode_attribute_value(oid, value),
                )
                for oid, value in rdn
            )
            encoded_rdns.append(_der_tlv(0x31, b"".join(avas)))  # DER SET OF: sorted
        return cls(rdns=rdns, der=_der_tlv(0x30, b"".join(encoded_rdns)))

    @classmethod
    def from_asn1(cls, name: Any) -> Name:
        rdns = []
        for rdn in name.chosen:
            avas = []
            for ava in rdn:
                value = ava["value"].native
                if not isinstance(value, str):
                    value = "#" + bytes(ava["value"].dump()).hex()
                avas.append((str(ava["type"].dotted), value))
            rdns.append(tuple(avas))
        return cls(rdns=tuple(rdns), der=bytes(name.dump()))

    @classmethod
    def from_der(cls, der: bytes) -> Name:
        try:
            return cls.from_asn1(asn1_x509.Name.load(der, strict=True))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            raise _ce("malformed distinguished name", "malformed") from None

    def get_all(self, attr: str) -> tuple[str, ...]:
        """Values of ``attr`` (short name or OID), most specific first."""
        oid = _attribute_oid(attr)
        return tuple(v for rdn in reversed(self.rdns) for o, v in rdn if o == oid)

    def get(self, attr: str) -> str | None:
        values = self.get_all(attr)
        return values[0] if values else None

    @property
    def common_name(self) -> str | None:
        return self.get("CN")

    @property
    def attributes(self) -> tuple[tuple[str, str], ...]:
        """``(short name or OID, value)`` pairs in written order, most specific first."""
        return tuple(
            (_ATTR_BY_OID[o][0] if o in _ATTR_BY_OID else o, v)
            for rdn in reversed(self.rdns)
            for o, v in rdn
        )

    def matches(self, other: Name) -> bool:
        """RFC 5280 §7.1 name comparison (binary equality, or equal after case folding
        and whitespace normalisation)."""
        return self.der == other.der or _name_key(self.rdns) == _name_key(other.rdns)

    def __repr__(self) -> str:
        return f"Name({str(self)!r})"

    def __str__(self) -> str:
        out = []
        for rdn in reversed(self.rdns):
            avas = []
            for oid, value in rdn:
                label = _ATTR_BY_OID[oid][0] if oid in _ATTR_BY_OID else oid
                avas.append(f"{label}={_escape(value)}")
            out.append("+".join(avas))
        return ",".join(out)


# --------------------------------------------------------------------------- extensions


@dataclass(frozen=True)
class Extension:
    """One certificate extension: OID, criticality, DER of the extnValue contents."""

    oid: str
    critical: bool
    value: bytes = field(repr=False)

    @classmethod
    def basic_constraints(
        cls, *, ca: bool, path_length: int | None = None, critical: bool = True
    ) -> Extension:
        content: dict[str, Any] = {"ca": ca}
        if path_length is not None:
            if not ca or path_length < 0:
                raise _ce("pathLenConstraint needs cA=true and a value ≥ 0", "issuance_refused")
            content["path_len_constraint"] = path_length
        value = asn1_x509.BasicConstraints(content)
        return cls(_EXT_BASIC_CONSTRAINTS, critical, bytes(value.dump()))

    @classmethod
    def key_usage(cls, names: Iterable[str], *, critical: bool = True) -> Extension:
        wanted = set(names)
        unknown = wanted - KEY_USAGE_NAMES - {"non_repudiation"}
        if unknown or not wanted:
            raise _ce(f"bad keyUsage names {sorted(unknown)}", "issuance_refused")
        bits = {_TO_ASN1_KU.get(n, n) for n in wanted}
        return cls(_EXT_KEY_USAGE, critical, bytes(asn1_x509.KeyUsage(bits).dump()))

    @classmethod
    def extended_key_usage(cls, oids: Sequence[str], *, critical: bool = False) -> Extension:
        if not oids:
            raise _ce("extendedKeyUsage needs at least one purpose", "issuance_refused")
        value = asn1_x509.ExtKeyUsageSyntax([asn1_x509.KeyPurposeId(o) for o in oids])
        return cls(_EXT_EKU, critical, bytes(value.dump()))

    @classmethod
    def subject_key_identifier(cls, key_id: bytes) -> Extension:
        return cls(_EXT_SKI, False, bytes(asn1_core.OctetString(key_id).dump()))

    @classmethod
    def authority_key_identifier(cls, key_id: bytes) -> Extension:
        value = asn1_x509.AuthorityKeyIdentifier({"key_identifier": key_id})
        return cls(_EXT_AKI, False, bytes(value.dump()))

    @classmethod
    def subject_alt_name(
        cls, *, dns_names: Sequence[str] = (), uris: Sequence[str] = (), critical: bool = False
    ) -> Extension:
        names = []
        for dns in dns_names:
            if not dns or not dns.isascii() or any(c.isspace() for c in dns):
                raise _ce(f"DNS name {dns!r} must be ASCII (A-labels)", "issuance_refused")
            names.append(asn1_x509.GeneralName(name="dns_name", value=dns))
        for uri in uris:
            if not uri or not uri.isascii() or ":" not in uri or any(c.isspace() for c in uri):
                raise _ce(f"URI {uri!r} must be an absolute ASCII URI", "issuance_refused")
            names.append(asn1_x509.GeneralName(name="uniform_resource_identifier", value=uri))
        return cls(_EXT_SAN, critical, bytes(asn1_x509.GeneralNames(names).dump()))

    @classmethod
    def crl_distribution_points(cls, uris: Sequence[str]) -> Extension:
        """cRLDistributionPoints (RFC 5280 §4.2.1.13): one distribution point with
        the given URIs as its fullName; reasons and cRLIssuer absent."""
        if not uris:
            raise _ce("cRLDistributionPoints needs at least one URI", "issuance_refused")
        names = []
        for uri in uris:
            if not uri or not uri.isascii() or ":" not in uri or any(c.isspace() for c in uri):
                raise _ce(f"URI {uri!r} must be an absolute ASCII URI", "issuance_refused")
            names.append(asn1_x509.GeneralName(name="uniform_resource_identifier", value=uri))
        value = asn1_x509.CRLDistributionPoints(
            [{"distribution_point": asn1_x509.DistributionPointName(name="full_name", value=names)}]
        )
        return cls(_EXT_CRL_DISTRIBUTION_POINTS, False, bytes(value.dump()))


def key_identifier(public_key: PublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value."""
    return _spki_key_id(public_key.spki_der())


def _spki_key_id(spki_der: bytes) -> bytes:
    spki = asn1_keys.PublicKeyInfo.load(spki_der)
    bits = bytes(spki["public_key"].contents)
    return hashlib.sha1(bits[1:]).digest()  # bits[0] is the unused-bits count (0)


# --------------------------------------------------------------------------- key purposes


@dataclass(frozen=True, slots=True)
class KeyPurpose:
    """What an end-entity certificate for one GovTrust key purpose asserts."""

    name: str
    key_usage: frozenset[str]
    extended_key_usage: tuple[str, ...]
    eku_critical: bool
    description: str


def _purpose(
    name: str,
    eku: str,
    description: str,
    *,
    extra_ku: Iterable[str] = (),
    eku_critical: bool = False,
) -> KeyPurpose:
    return KeyPurpose(
        name, frozenset({"digital_signature", *extra_ku}), (eku,), eku_critical, description
    )


#: purpose → keyUsage / extendedKeyUsage. The EKU is what tells purposes apart.
KEY_PURPOSES: Final[Mapping[str, KeyPurpose]] = MappingProxyType(
    {
        p.name: p
        for p in (
            _purpose("id_token", f"{GOVTRUST_EKU_ARC}.1", "OpenID Connect ID tokens"),
            _purpose("access_token", f"{GOVTRUST_EKU_ARC}.2", "OAuth access tokens"),
            _purpose(
                "seal",
                EKU_DOCUMENT_SIGNING,
                "electronic seals (SES, OFD, PAdES)",
                extra_ku=("content_commitment",),
            ),
            _purpose("license", f"{GOVTRUST_EKU_ARC}.3", "e-license credentials"),
            _purpose("status_list", f"{GOVTRUST_EKU_ARC}.4", "token status lists"),
            _purpose("trust_list", f"{GOVTRUST_EKU_ARC}.5", "the signed trust list"),
            _purpose(
                "tsa", EKU_TIME_STAMPING, "RFC 3161 time-stamping authority", eku_critical=True
            ),
            _purpose("log", f"{GOVTRUST_EKU_ARC}.6", "transparency-log checkpoints"),
        )
    }
)


def _key_purpose(purpose: str) -> KeyPurpose:
    try:
        return KEY_PURPOSES[purpose]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown key purpose {purpose!r}; one of {', '.join(KEY_PURPOSES)}"
        ) from None


# --------------------------------------------------------------------------- algorithm identifiers


def _algorithm_identifier(name: str) -> bytes:
    null = asn1_core.Null()
    if name == "RS256":
        value = {"algorithm": OID.RSA_SHA256, "parameters": null}
    elif name == "PS256":
        sha256 = {"algorithm": "sha256", "parameters": null}
        value = {
            "algorithm": OID.RSA_PSS,
            "parameters": {
                "hash_algorithm": sha256,
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": sha256},
                "salt_length": 32,
                "trailer_field": 1,
            },
        }
    else:  # SM2, ECDSA, Ed25519: parameters absent
        value = {
            "algorithm": {
                "SM2": OID.SM3_WITH_SM2,
                "ES256": OID.ECDSA_SHA256,
                "ES384": OID.ECDSA_SHA384,
                "EdDSA": OID.ED25519,
            }[name]
        }
    return bytes(asn1_algos.SignedDigestAlgorithm(value).dump())


_ALGORITHM_IDENTIFIERS: Final[Mapping[str, bytes]] = MappingProxyType(
    {n: _algorithm_identifier(n) for n in ("SM2", "ES256", "ES384", "RS256", "PS256", "EdDSA")}
)


def _parse_signature_algorithm(alg: Any) -> SignatureAlgorithm:
    oid = alg["algorithm"].dotted
    try:
        algorithm = by_oid(oid)
    except UnsupportedAlgorithm:
        raise _ce(f"unsupported signature algorithm {oid}", "cert_unsupported_algorithm") from None
    params = alg["parameters"]
    absent = isinstance(params, asn1_core.Void)
    null = isinstance(params, asn1_core.Null) or (
        isinstance(params, asn1_core.Any) and bytes(params.dump()) == b"\x05\x00"
    )
    if algorithm.name == "PS256":
        try:
            pss = alg["parameters"]
            if absent or not isinstance(pss, asn1_algos.RSASSAPSSParams):
                raise ValueError
            hash_ok = pss["hash_algorithm"]["algorithm"].dotted == OID.SHA256
            mgf = pss["mask_gen_algorithm"]
            mgf_ok = (
                mgf["algorithm"].dotted == OID.MGF1
                and mgf["parameters"]["algorithm"].dotted == OID.SHA256
            )
            trailer_ok = pss["trailer_field"].native in (1, "trailer_field_bc")
        except (ValueError, TypeError, KeyError):
            raise _ce(
                "RSASSA-PSS parameters are not SHA-256/MGF1-SHA-256", "cert_unsupported_algorithm"
            ) from None
        if not (hash_ok and mgf_ok and trailer_ok):
            raise _ce(
                "RSASSA-PSS parameters are not SHA-256/MGF1-SHA-256", "cert_unsupported_algorithm"
            )
    elif algorithm.family is KeyFamily.RSA:
        if not (absent or null):  # RFC 4055 §5: NULL; absent tolerated
            raise _ce("sha256WithRSAEncryption takes NULL parameters", "cert_unsupported_algorithm")
    elif algorithm.family is KeyFamily.ED25519:
        if not absent:  # RFC 8410 §3: MUST be absent
            raise _ce("Ed25519 takes no parameters", "cert_unsupported_algorithm")
    elif not (absent or null):  # SM2/ECDSA: absent; NULL seen in the wild and tolerated
        raise _ce(f"{algorithm.name} takes no parameters", "cert_unsupported_algorithm")
    return algorithm


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True, eq=False)
class Certificate:
    """A parsed X.509 certificate. Build with :func:`load_certificate` or the issue functions.

    ``key_usage`` uses the names of RFC 5280 §4.2.1.3 in snake case
    (``digital_signature``, ``content_commitment``, ``key_cert_sign`` …) and is empty
    when the extension is absent; ``extended_key_usage`` holds dotted OIDs, empty when
    absent. Equality and hashing are by DER.
    """

    der: bytes = field(repr=False)
    tbs_der: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    signature_algorithm: SignatureAlgorithm
    signature_algorithm_der: bytes = field(repr=False)
    tbs_signature_algorithm_der: bytes = field(repr=False)
    version: int
    serial: int
    issuer: Name
    subject: Name
    not_before: datetime
    not_after: datetime
    public_key: PublicKey = field(repr=False)
    extensions: tuple[Extension, ...] = field(repr=False)
    is_ca: bool
    path_length: int | None
    key_usage: frozenset[str]
    extended_key_usage: frozenset[str]
    ski: bytes | None = field(repr=False)
    aki: bytes | None = field(repr=False)
    dns_names: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and self.der == other.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return (
            f"<Certificate subject={str(self.subject)!r} issuer={str(self.issuer)!r} "
            f"serial={self.serial:x} {self.signature_algorithm.name} "
            f"sha256={self.fingerprint_sha256[:16]}…>"
        )

    def pem(self) -> bytes:
        return bytes(asn1_pem.armor("CERTIFICATE", self.der))

    @property
    def fingerprint_sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def self_issued(self) -> bool:
        """Subject and issuer names match (RFC 5280 §6.1)."""
        return self.subject.matches(self.issuer)

    def extension(self, oid: str) -> Extension | None:
        return next((e for e in self.extensions if e.oid == oid), None)

    def valid_at(self, at: datetime) -> bool:
        at = _utc(at, "at")
        return self.not_before <= at <= self.not_after


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
)


def _time(value: Any) -> datetime:
    native = value.native
    if not isinstance(native, datetime) or native.tzinfo is None:
        raise ValueError("bad time")
    return native.astimezone(UTC)


def _parse(der: bytes) -> Certificate:
    cert = asn1_x509.Certificate.load(der, strict=True)
    tbs = cert["tbs_certificate"]
    tbs_der = bytes(tbs.dump())
    version = {"v1": 1, "v2": 2, "v3": 3}[tbs["version"].native]
    serial = tbs["serial_number"].native
    if not isinstance(serial, int):
        raise ValueError("serial")
    signature_algorithm = _parse_signature_algorithm(cert["signature_algorithm"])
    signature_bits = cert["signature_value"]
    if not signature_bits.contents or signature_bits.contents[0] != 0:
        # A signature is a whole number of octets; "unused bits" would let two
        # encodings carry one signature (malleable certificates).
        raise ValueError("signature BIT STRING with unused bits")
    signature = signature_bits.native
    if not isinstance(signature, bytes):
        raise ValueError("signature")
    issuer = Name.from_asn1(tbs["issuer"])
    subject = Name.from_asn1(tbs["subject"])
    not_before = _time(tbs["validity"]["not_before"])
    not_after = _time(tbs["validity"]["not_after"])
    spki_der = bytes(tbs["subject_public_key_info"].dump())
    try:
        public_key = load_public_key(spki_der)
    except InvalidKey as exc:
        raise _ce(f"certificate public key refused: {exc.message}", "cert_invalid_key") from None

    extensions: list[Extension] = []
    raw_extensions = tbs["extensions"]
    if not isinstance(raw_extensions, asn1_core.Void):
        if version != 3:
            raise ValueError("extensions in a version 1/2 certificate")
        for ext in raw_extensions:
            critical = ext["critical"].native
            if not isinstance(critical, bool):
                raise ValueError("critical")
            value = bytes(ext["extn_value"].contents)
            extensions.append(Extension(ext["extn_id"].dotted, critical, value))
    if len({e.oid for e in extensions}) != len(extensions):
        raise ValueError("duplicate extension (RFC 5280 §4.2)")
    by_oid_ext = {e.oid: e for e in extensions}

    is_ca, path_length = False, None
    if (e := by_oid_ext.get(_EXT_BASIC_CONSTRAINTS)) is not None:
        bc = asn1_x509.BasicConstraints.load(e.value, strict=True)
        is_ca = bool(bc["ca"].native)
        path_length = bc["path_len_constraint"].native
        if path_length is not None and (not isinstance(path_length, int) or path_length < 0):
            raise ValueError("pathLenConstraint")
        if not is_ca:
            path_length = None
    key_usage: frozenset[str] = frozenset()
    if (e := by_oid_ext.get(_EXT_KEY_USAGE)) is not None:
        ku = asn1_x509.KeyUsage.load(e.value, strict=True).native
        key_usage = frozenset(_FROM_ASN1_KU.get(str(n), str(n)) for n in ku)
    eku: frozenset[str] = frozenset()
    if (e := by_oid_ext.get(_EXT_EKU)) is not None:
        eku = frozenset(p.dotted for p in asn1_x509.ExtKeyUsageSyntax.load(e.value, strict=True))
        if not eku:
            raise ValueError("empty extendedKeyUsage")
    ski = None
    if (e := by_oid_ext.get(_EXT_SKI)) is not None:
        ski = asn1_core.OctetString.load(e.value, strict=True).native
    aki = None
    if (e := by_oid_ext.get(_EXT_AKI)) is not None:
        aki = asn1_x509.AuthorityKeyIdentifier.load(e.value, strict=True)["key_identifier"].native
    dns_names: list[str] = []
    uris: list[str] = []
    if (e := by_oid_ext.get(_EXT_SAN)) is not None:
        for general_name in asn1_x509.GeneralNames.load(e.value, strict=True):
            if general_name.name == "dns_name":
                dns_names.append(str(general_name.native))
            elif general_name.name == "uniform_resource_identifier":
                uris.append(str(general_name.native))

    return Certificate(
        der=der,
        tbs_der=tbs_der,
        signature=signature,
        signature_algorithm=signature_algorithm,
        signature_algorithm_der=bytes(cert["signature_algorithm"].dump()),
        tbs_signature_algorithm_der=bytes(tbs["signature"].dump()),
        version=version,
        serial=serial,
        issuer=issuer,
        subject=subject,
        not_before=not_before,
        not_after=not_after,
        public_key=public_key,
        extensions=tuple(extensions),
        is_ca=is_ca,
        path_length=path_length,
        key_usage=key_usage,
        extended_key_usage=eku,
        ski=ski if isinstance(ski, bytes) else None,
        aki=aki if isinstance(aki, bytes) else None,
        dns_names=tuple(dns_names),
        uris=tuple(uris),
    )


#: Parsed certificates by their exact DER (a Certificate is immutable, so one parse
#: serves every caller): the hub reads the same few CA and seal certificates on
#: every seal and token. Bounded; failures are never cached.
_PARSED_LIMIT: Final = 1024
_parsed: dict[bytes, Certificate] = {}
_parsed_lock = threading.Lock()


def _certificate_from_der(der: bytes) -> Certificate:
    if len(der) > MAX_CERTIFICATE_SIZE:
        raise _ce(f"certificate larger than {MAX_CERTIFICATE_SIZE} bytes", "malformed")
    hit = _parsed.get(der)
    if hit is not None:
        return hit
    try:
        cert = _parse(der)
    except CertificateError:
        raise
    except _PARSE_ERRORS as exc:
        raise _ce(f"not a valid X.509 certificate ({type(exc).__name__})", "malformed") from None
    with _parsed_lock:
        if len(_parsed) >= _PARSED_LIMIT:
            _parsed.pop(next(iter(_parsed)))  # the oldest entry
        _parsed[der] = cert
    return cert


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        try:
            return data.encode("ascii")
        except UnicodeEncodeError:
            raise _ce("PEM text must be ASCII", "malformed") from None
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise _ce("certificate data must be bytes or PEM text", "malformed")


def _pem_blocks(data: bytes) -> list[bytes]:
    try:
        blocks = list(asn1_pem.unarmor(data, multiple=True))
    except _PARSE_ERRORS:
        raise _ce("invalid PEM", "malformed") from None
    ders = []
    for label, _headers, der in blocks:
        if label != "CERTIFICATE":
            raise _ce(f"unexpected PEM block {label!r} (expected CERTIFICATE)", "malformed")
        ders.append(bytes(der))
    return ders


def load_certificate(data: bytes | bytearray | memoryview | str) -> Certificate:
    """Parse one certificate from DER or PEM. Anything else raises
    :class:`CertificateError` (``malformed``, ``cert_unsupported_algorithm`` or
    ``cert_invalid_key``), never another exception type."""
    raw = _as_bytes(data)
    if len(raw) > 2 * MAX_CERTIFICATE_SIZE:
        raise _ce("certificate data too large", "malformed")
    if asn1_pem.detect(raw):
        ders = _pem_blocks(raw)
        if len(ders) != 1:
            raise _ce(f"expected one PEM certificate, found {len(ders)}", "malformed")
        raw = ders[0]
    return _certificate_from_der(raw)


def load_certificates(data: bytes | bytearray | memoryview | str) -> list[Certificate]:
    """Parse a PEM bundle (or a single DER certificate); at least one certificate."""
    raw = _as_bytes(data)
    if len(raw) > MAX_BUNDLE_SIZE:
        raise _ce("certificate bundle too large", "malformed")
    ders = _pem_blocks(raw) if asn1_pem.detect(raw) else ([raw] if raw else [])
    if not ders:
        raise _ce("no certificate found", "malformed")
    return [_certificate_from_der(d) for d in ders]


# --------------------------------------------------------------------------- issuance


def _random_serial() -> int:
    # 127-bit value with bit 126 set: 126 random bits, always 16 octets, top bit clear.
    return secrets.randbits(126) | (1 << 126)


def _asn1_time(value: datetime) -> Any:
    value = value.replace(microsecond=0)
    if 1950 <= value.year < 2050:
        return asn1_x509.Time(name="utc_time", value=value)
    return asn1_x509.Time(name="general_time", value=value)


def issue_certificate_unsafe(
    signer: Signer,
    *,
    issuer: NameLike,
    subject: NameLike,
    subject_public_key: PublicKey,
    not_before: datetime,
    not_after: datetime,
    extensions: Sequence[Extension],
    serial: int | None = None,
) -> Certificate:
    """Sign exactly the certificate described, with no policy check at all.

    For tests, migrations and the issue functions below (which add the checks).
    The signature is verified with the signer's public key before returning.
    """
    issuer_name, subject_name = Name.build(issuer), Name.build(subject)
    nb, na = _utc(not_before, "not_before"), _utc(not_after, "not_after")
    if na <= nb:
        raise _ce("not_after must be later than not_before", "issuance_refused")
    serial = _random_serial() if serial is None else serial
    if not (isinstance(serial, int) and 0 < serial < 1 << 159):
        raise _ce("serial must be positive and at most 20 octets", "issuance_refused")
    if len({e.oid for e in extensions}) != len(extensions):
        raise _ce("duplicate extension", "issuance_refused")
    algorithm = signer.algorithm
    alg_id = asn1_algos.SignedDigestAlgorithm.load(_ALGORITHM_IDENTIFIERS[algorithm.name])
    tbs_fields: dict[str, Any] = {
        "version": "v3",
        "serial_number": serial,
        "signature": alg_id,
        "issuer": asn1_x509.Name.load(issuer_name.der),
        "validity": {"not_before": _asn1_time(nb), "not_after": _asn1_time(na)},
        "subject": asn1_x509.Name.load(subject_name.der),
        "subject_public_key_info": asn1_keys.PublicKeyInfo.load(subject_public_key.spki_der()),
    }
    if extensions:
        tbs_fields["extensions"] = [
            asn1_x509.Extension(
                {
                    "extn_id": asn1_x509.ExtensionId(e.oid),
                    "critical": e.critical,
                    "extn_value": asn1_core.ParsableOctetString(e.value),
                }
            )
            for e in extensions
        ]
    tbs_der = bytes(asn1_x509.TbsCertificate(tbs_fields).dump())
    signature = signer.sign(tbs_der)
    if not signer.public_key.verify(algorithm, tbs_der, signature, encoding=SigEncoding.DER):
        raise _ce("the signer produced a signature that does not verify", "issuance_failed")
    cert = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": alg_id,
            "signature_value": signature,
        }
    )
    return _certificate_from_der(bytes(cert.dump()))


def _check_issuer(issuer_signer: Signer, issuer_cert: Certificate, subject_key: PublicKey) -> None:
    if not issuer_cert.is_ca:
        raise _ce(f"{issuer_cert.subject} is not a CA certificate", "issuance_refused")
    if "key_cert_sign" not in issuer_cert.key_usage:
        raise _ce(f"{issuer_cert.subject} does not assert keyCertSign", "issuance_refused")
    if issuer_signer.public_key != issuer_cert.public_key:
        raise _ce("the signer's key is not the issuer certificate's key", "issuance_refused")
    if subject_key == issuer_cert.public_key:
        raise _ce("refusing to certify the issuer's own key again", "issuance_refused")


def _authority_key_id(issuer_cert: Certificate) -> bytes:
    return issuer_cert.ski or key_identifier(issuer_cert.public_key)


def _ca_extensions(key: PublicKey, aki: bytes, path_length: int | None) -> list[Extension]:
    return [
        Extension.basic_constraints(ca=True, path_length=path_length),
        Extension.key_usage({"key_cert_sign", "crl_sign"}),
        Extension.subject_key_identifier(key_identifier(key)),
        Extension.authority_key_identifier(aki),
    ]


def issue_root(
    signer: Signer,
    subject: NameLike,
    *,
    not_before: datetime,
    not_after: datetime,
    path_length: int | None = None,
    serial: int | None = None,
) -> Certificate:
    """A self-signed root CA certificate (keyCertSign, cRLSign)."""
    key = signer.public_key
    return issue_certificate_unsafe(
        signer,
        issuer=subject,
        subject=subject,
        subject_public_key=key,
        not_before=not_before,
        not_after=not_after,
        extensions=_ca_extensions(key, key_identifier(key), path_length),
        serial=serial,
    )


def issue_ca(
    issuer_signer: Signer,
    issuer_cert: Certificate,
    subject_public_key: PublicKey,
    subject: NameLike,
    *,
    not_before: datetime,
    not_after: datetime,
    path_length: int | None = 0,
    serial: int | None = None,
) -> Certificate:
    """An intermediate CA certificate (keyCertSign, cRLSign, pathLenConstraint).

    Path constraints of the issuer are not enforced here; :func:`validate_path` does.
    """
    _check_issuer(issuer_signer, issuer_cert, subject_public_key)
    return issue_certificate_unsafe(
        issuer_signer,
        issuer=issuer_cert.subject,
        subject=subject,
        subject_public_key=subject_public_key,
        not_before=not_before,
        not_after=not_after,
        extensions=_ca_extensions(subject_public_key, _authority_key_id(issuer_cert), path_length),
        serial=serial,
    )


def issue_end_entity(
    issuer_signer: Signer,
    issuer_cert: Certificate,
    subject_public_key: PublicKey,
    subject: NameLike,
    *,
    purpose: str,
    not_before: datetime,
    not_after: datetime,
    dns_names: Sequence[str] = (),
    uris: Sequence[str] = (),
    crl_urls: Sequence[str] = (),
    serial: int | None = None,
) -> Certificate:
    """An end-entity certificate for one key purpose of :data:`KEY_PURPOSES`;
    ``crl_urls`` become a cRLDistributionPoints extension."""
    try:
        rule = _key_purpose(purpose)
    except ValueError as exc:
        raise _ce(str(exc), "issuance_refused") from None
    _check_issuer(issuer_signer, issuer_cert, subject_public_key)
    extensions = [
        Extension.basic_constraints(ca=False),
        Extension.key_usage(rule.key_usage),
        Extension.extended_key_usage(rule.extended_key_usage, critical=rule.eku_critical),
        Extension.subject_key_identifier(key_identifier(subject_public_key)),
        Extension.authority_key_identifier(_authority_key_id(issuer_cert)),
    ]
    if dns_names or uris:
        extensions.append(Extension.subject_alt_name(dns_names=dns_names, uris=uris))
    if crl_urls:
        extensions.append(Extension.crl_distribution_points(crl_urls))
    return issue_certificate_unsafe(
        issuer_signer,
        issuer=issuer_cert.subject,
        subject=subject,
        subject_public_key=subject_public_key,
        not_before=not_before,
        not_after=not_after,
        extensions=extensions,
        serial=serial,
    )


# --------------------------------------------------------------------------- revocation lists

MAX_CRL_SIZE: Final = 16 * 1024 * 1024
_EXT_CRL_NUMBER: Final = "2.5.29.20"
_EXT_CRL_REASON: Final = "2.5.29.21"
_EXT_DELTA_CRL: Final = "2.5.29.27"
_EXT_ISSUING_DISTRIBUTION_POINT: Final = "2.5.29.28"
#: RFC 5280 §5.3.1 reason codes usable in a complete CRL (asn1crypto's snake-case names;
#: ``remove_from_crl`` belongs to delta CRLs only, ``unspecified`` is written as no reason).
CRL_REASONS: Final = frozenset(
    {
        "unspecified",
        "key_compromise",
        "ca_compromise",
        "affiliation_changed",
        "superseded",
        "cessation_of_operation",
        "certificate_hold",
        "privilege_withdrawn",
        "aa_compromise",
    }
)
_MAX_CRL_NUMBER: Final = 1 << 159  # RFC 5280 §5.2.3: at most 20 octets


@dataclass(frozen=True, slots=True)
class RevokedCertificate:
    """One CRL entry: the certificate's serial, when it was revoked, and why
    (a :data:`CRL_REASONS` name, ``None`` when the CRL names no reason)."""

    serial: int
    revocation_time: datetime
    reason: str | None = None


@dataclass(frozen=True, eq=False)
class CertificateRevocationList:
    """A parsed X.509 v2 CRL (RFC 5280 §5). Build with :func:`load_crl`."""

    der: bytes = field(repr=False)
    tbs_der: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    signature_algorithm: SignatureAlgorithm
    signature_algorithm_der: bytes = field(repr=False)
    tbs_signature_algorithm_der: bytes = field(repr=False)
    issuer: Name
    this_update: datetime
    next_update: datetime | None
    crl_number: int | None
    aki: bytes | None = field(repr=False)
    revoked: tuple[RevokedCertificate, ...] = field(repr=False)

    def entry(self, serial: int) -> RevokedCertificate | None:
        """The entry revoking ``serial``, or ``None``."""
        return next((r for r in self.revoked if r.serial == serial), None)

    def verify(self, issuer_cert: Certificate, *, at: datetime | None = None) -> None:
        """Check that ``issuer_cert`` issued and signed this CRL (name, key
        identifier, signature, cRLSign) and, with ``at``, that the CRL is current
        then (thisUpdate ≤ at ≤ nextUpdate). Raises :class:`CertificateError`."""
        if not self.issuer.matches(issuer_cert.subject):
            raise _ce(f"CRL issued by {self.issuer}, not {issuer_cert.subject}", "crl_wrong_issuer")
        if self.aki is not None and issuer_cert.ski is not None and self.aki != issuer_cert.ski:
            raise _ce("CRL authorityKeyIdentifier is another key's", "crl_wrong_issuer")
        if issuer_cert.key_usage and "crl_sign" not in issuer_cert.key_usage:
            raise _ce(f"{issuer_cert.subject} may not sign CRLs (keyUsage)", "crl_wrong_issuer")
        if self.tbs_signature_algorithm_der != self.signature_algorithm_der:
            raise _ce("CRL signature algorithm differs inside and outside", "crl_bad_signature")
        if not _signed_by(issuer_cert, self.signature_algorithm, self.tbs_der, self.signature):
            raise _ce(
                f"CRL signature does not verify with {issuer_cert.subject}'s key",
                "crl_bad_signature",
            )
        if at is not None:
            at = _utc(at, "at")
            if at < self.this_update:
                raise _ce(
                    f"CRL not valid before {self.this_update.isoformat()}", "crl_not_yet_valid"
                )
            if self.next_update is None or at > self.next_update:
                raise _ce("CRL is past its nextUpdate", "crl_stale")


def _crl_extension(oid: str, value: Any) -> Any:
    return asn1_crl.TBSCertListExtension(
        {"extn_id": asn1_crl.TBSCertListExtensionId(oid), "critical": False, "extn_value": value}
    )


def issue_crl(
    issuer_signer: Signer,
    issuer_cert: Certificate,
    revoked: Iterable[tuple[int, datetime, str | None]],
    *,
    this_update: datetime,
    next_update: datetime,
    crl_number: int,
) -> bytes:
    """A DER X.509 v2 CRL from ``issuer_cert`` listing ``revoked`` entries
    ``(serial, revocation_time, reason or None)`` (see the module docstring).

    ``crl_number`` must grow with every CRL the issuer publishes (§5.2.3). The
    signature is verified with the issuer's key before returning.
    """
    if not issuer_cert.is_ca:
        raise _ce(f"{issuer_cert.subject} is not a CA certificate", "issuance_refused")
    if issuer_cert.key_usage and "crl_sign" not in issuer_cert.key_usage:
        raise _ce(f"{issuer_cert.subject} does not assert cRLSign", "issuance_refused")
    if issuer_signer.public_key != issuer_cert.public_key:
        raise _ce("the signer's key is not the issuer certificate's key", "issuance_refused")
    tu, nu = _utc(this_update, "this_update"), _utc(next_update, "next_update")
    if nu <= tu:
        raise _ce("next_update must be later than this_update", "issuance_refused")
    if isinstance(crl_number, bool) or not isinstance(crl_number, int):
        raise _ce("crl_number must be an integer", "issuance_refused")
    if not 0 <= crl_number < _MAX_CRL_NUMBER:
        raise _ce("crl_number must be ≥ 0 and at most 20 octets", "issuance_refused")
    entries: dict[int, Any] = {}
    for item in revoked:
        serial, when, reason = item
        if isinstance(serial, bool) or not isinstance(serial, int) or not 0 < serial < 1 << 159:
            raise _ce(f"bad certificate serial {serial!r}", "issuance_refused")
        if serial in entries:
            raise _ce(f"serial {serial:x} listed twice", "issuance_refused")
        if reason is not None and reason not in CRL_REASONS:
            raise _ce(f"unknown CRL reason {reason!r}", "issuance_refused")
        entry: dict[str, Any] = {
            "user_certificate": serial,
            "revocation_date": _asn1_time(_utc(when, "revocation_time")),
        }
        if reason is not None and reason != "unspecified":
            entry["crl_entry_extensions"] = [
                asn1_crl.CRLEntryExtension(
                    {
                        "extn_id": asn1_crl.CRLEntryExtensionId(_EXT_CRL_REASON),
                        "critical": False,
                        "extn_value": asn1_crl.CRLReason(reason),
                    }
                )
            ]
        entries[serial] = entry
    algorithm = issuer_signer.algorithm
    alg_id = asn1_algos.SignedDigestAlgorithm.load(_ALGORITHM_IDENTIFIERS[algorithm.name])
    tbs_fields: dict[str, Any] = {
        "version": "v2",
        "signature": alg_id,
        "issuer": asn1_x509.Name.load(issuer_cert.subject.der),
        "this_update": _asn1_time(tu),
        "next_update": _asn1_time(nu),
        "crl_extensions": [
            _crl_extension(
                _EXT_AKI,
                asn1_x509.AuthorityKeyIdentifier(
                    {"key_identifier": _authority_key_id(issuer_cert)}
                ),
            ),
            _crl_extension(_EXT_CRL_NUMBER, asn1_core.Integer(crl_number)),
        ],
    }
    if entries:  # §5.1.2.6: absent, not empty, when nothing is revoked
        tbs_fields["revoked_certificates"] = [entries[s] for s in sorted(entries)]
    tbs_der = bytes(asn1_crl.TbsCertList(tbs_fields).dump())
    signature = issuer_signer.sign(tbs_der)
    if not issuer_signer.public_key.verify(algorithm, tbs_der, signature, encoding=SigEncoding.DER):
        raise _ce("the signer produced a signature that does not verify", "issuance_failed")
    crl = asn1_crl.CertificateList(
        {
            "tbs_cert_list": asn1_crl.TbsCertList.load(tbs_der),
            "signature_algorithm": alg_id,
            "signature": signature,
        }
    )
    return bytes(crl.dump())


def _parse_crl(der: bytes) -> CertificateRevocationList:
    crl = asn1_crl.CertificateList.load(der, strict=True)
    tbs = crl["tbs_cert_list"]
    if tbs["version"].native != "v2":
        raise ValueError("not a v2 CRL")
    signature_algorithm = _parse_signature_algorithm(crl["signature_algorithm"])
    bits = crl["signature"]
    if not bits.contents or bits.contents[0] != 0:
        raise ValueError("signature BIT STRING with unused bits")
    signature = bits.native
    if not isinstance(signature, bytes):
        raise ValueError("signature")
    next_update = None
    if not isinstance(tbs["next_update"], asn1_core.Void):
        next_update = _time(tbs["next_update"])
    crl_number: int | None = None
    aki: bytes | None = None
    seen: set[str] = set()
    raw_extensions = tbs["crl_extensions"]
    if not isinstance(raw_extensions, asn1_core.Void):
        for ext in raw_extensions:
            oid = ext["extn_id"].dotted
            if oid in seen:
                raise ValueError("duplicate CRL extension")
            seen.add(oid)
            if oid == _EXT_CRL_NUMBER:
                crl_number = int(ext["extn_value"].parsed.native)
            elif oid == _EXT_AKI:
                value = ext["extn_value"].parsed["key_identifier"].native
                aki = value if isinstance(value, bytes) else None
            elif oid in (_EXT_DELTA_CRL, _EXT_ISSUING_DISTRIBUTION_POINT) or ext["critical"].native:
                # Delta, partitioned or indirect CRLs change what an entry means.
                raise _ce(f"unsupported CRL extension {oid}", "crl_malformed")
    revoked: list[RevokedCertificate] = []
    entries = tbs["revoked_certificates"]
    if not isinstance(entries, asn1_core.Void):
        for entry in entries:
            serial = entry["user_certificate"].native
            if not isinstance(serial, int):
                raise ValueError("serial")
            reason = None
            entry_extensions = entry["crl_entry_extensions"]
            if not isinstance(entry_extensions, asn1_core.Void):
                for ext in entry_extensions:
                    oid = ext["extn_id"].dotted
                    if oid == _EXT_CRL_REASON:
                        reason = str(ext["extn_value"].parsed.native)
                    elif ext["critical"].native:
                        raise _ce(
                            f"unsupported critical CRL entry extension {oid}", "crl_malformed"
                        )
            revoked.append(RevokedCertificate(serial, _time(entry["revocation_date"]), reason))
    return CertificateRevocationList(
        der=der,
        tbs_der=bytes(tbs.dump()),
        signature=signature,
        signature_algorithm=signature_algorithm,
        signature_algorithm_der=bytes(crl["signature_algorithm"].dump()),
        tbs_signature_algorithm_der=bytes(tbs["signature"].dump()),
        issuer=Name.from_asn1(tbs["issuer"]),
        this_update=_time(tbs["this_update"]),
        next_update=next_update,
        crl_number=crl_number,
        aki=aki,
        revoked=tuple(revoked),
    )


def load_crl(data: bytes | bytearray | memoryview) -> CertificateRevocationList:
    """Parse a DER X.509 v2 CRL; anything else raises :class:`CertificateError`
    (``crl_malformed``, or ``cert_unsupported_algorithm``). The signature is not
    checked here: call :meth:`CertificateRevocationList.verify`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _ce("CRL data must be bytes", "crl_malformed")
    der = bytes(data)
    if not der or len(der) > MAX_CRL_SIZE:
        raise _ce("CRL empty or too large", "crl_malformed")
    try:
        return _parse_crl(der)
    except CertificateError:
        raise
    except _PARSE_ERRORS as exc:
        raise _ce(f"not a valid X.509 v2 CRL ({type(exc).__name__})", "crl_malformed") from None


# --------------------------------------------------------------------------- path validation


def _signed_by(
    issuer: Certificate, algorithm: SignatureAlgorithm, tbs_der: bytes, signature: bytes
) -> bool:
    """True if ``signature`` (DER-encoded for ECDSA/SM2) over ``tbs_der`` verifies with
    ``issuer``'s key; an algorithm that does not fit the key is a plain failure."""
    try:
        return issuer.public_key.verify(algorithm, tbs_der, signature, encoding=SigEncoding.DER)
    except UnsupportedAlgorithm:
        return False


def _check_certificate(cert: Certificate, at: datetime) -> None:
    """Checks that depend on the certificate alone."""
    if at < cert.not_before:
        raise _ce(
            f"{cert.subject} is not valid before {cert.not_before.isoformat()}",
            "cert_not_yet_valid",
        )
    if at > cert.not_after:
        raise _ce(f"{cert.subject} expired at {cert.not_after.isoformat()}", "cert_expired")
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD:
            raise _ce(
                f"{cert.subject} has an unsupported critical extension {ext.oid}",
                "cert_unsupported_critical_extension",
            )


def _check_purpose(leaf: Certificate, rule: KeyPurpose) -> None:
    if leaf.is_ca:
        raise _ce(f"a CA certificate is not a {rule.name} certificate", "cert_key_usage")
    missing = rule.key_usage - leaf.key_usage
    if missing:
        raise _ce(f"keyUsage lacks {', '.join(sorted(missing))} for {rule.name}", "cert_key_usage")
    if not set(rule.extended_key_usage) <= leaf.extended_key_usage:
        raise _ce(f"extendedKeyUsage does not allow {rule.name}", "cert_key_usage")
    if rule.eku_critical:
        ext = leaf.extension(_EXT_EKU)
        only = leaf.extended_key_usage == set(rule.extended_key_usage)
        if ext is None or not ext.critical or not only:
            raise _ce(
                f"{rule.name} needs exactly one, critical, extendedKeyUsage", "cert_key_usage"
            )


class _PathSearch:
    """Depth-first path building with backtracking (RFC 4158 in miniature)."""

    def __init__(
        self,
        roots: Sequence[Certificate],
        intermediates: Sequence[Certificate],
        at: datetime,
        rule: KeyPurpose | None,
    ) -> None:
        self.roots = roots
        self.root_ders = frozenset(r.der for r in roots)
        unique: dict[bytes, Certificate] = {}
        for c in (*roots, *intermediates):
            unique.setdefault(c.der, c)
        self.pool = tuple(unique.values())
        self.at = at
        self.rule = rule
        self.link_checks = 0
        self.best: tuple[int, CertificateError] | None = None

    def fail(self, depth: int, error: CertificateError) -> None:
        # Report the failure that got furthest along; ties keep the first.
        if self.best is None or depth > self.best[0]:
            self.best = (depth, error)

    def candidates(self, cert: Certificate, path: Sequence[Certificate]) -> list[Certificate]:
        in_path = {c.der for c in path}
        found = [
            c
            for c in self.pool
            if c.der not in in_path
            and c.subject.matches(cert.issuer)
            and (cert.aki is None or c.ski is None or cert.aki == c.ski)
        ]
        found.sort(key=lambda c: (c.der not in self.root_ders, not c.valid_at(self.at)))
        return found

    def no_issuer(self, cert: Certificate) -> CertificateError:
        if cert.self_issued:
            return _ce(
                f"{cert.subject} is self-issued and not a trusted root", "cert_untrusted_root"
            )
        if any(r.subject.matches(cert.issuer) for r in self.roots):
            return _ce(
                f"{cert.issuer} is named like a trusted root but is not one (key differs)",
                "cert_untrusted_root",
            )
        return _ce(
            f"no issuer certificate found for {cert.subject} (issuer {cert.issuer})",
            "cert_unknown_issuer",
        )

    def check_link(
        self, cert: Certificate, issuer: Certificate, path: Sequence[Certificate]
    ) -> None:
        _check_certificate(issuer, self.at)
        if not issuer.is_ca:
            raise _ce(f"{issuer.subject} is not a CA (basicConstraints)", "cert_not_ca")
        if "key_cert_sign" not in issuer.key_usage:
            raise _ce(f"{issuer.subject} may not sign certificates (keyUsage)", "cert_key_usage")
        if cert.tbs_signature_algorithm_der != cert.signature_algorithm_der:
            raise _ce(
                f"{cert.subject}: signature algorithm differs inside and outside the tbs",
                "cert_bad_signature",
            )
        if not _signed_by(issuer, cert.signature_algorithm, cert.tbs_der, cert.signature):
            raise _ce(
                f"signature on {cert.subject} does not verify with {issuer.subject}'s key",
                "cert_bad_signature",
            )
        if issuer.path_length is not None:
            below = sum(1 for c in path[1:] if not c.self_issued)
            if below > issuer.path_length:
                raise _ce(
                    f"{issuer.subject} allows {issuer.path_length} intermediate CA(s) below it, "
                    f"the path has {below}",
                    "cert_path_length",
                )
        if self.rule is not None and issuer.extended_key_usage:
            allowed = issuer.extended_key_usage
            if EKU_ANY not in allowed and not set(self.rule.extended_key_usage) <= allowed:
                raise _ce(
                    f"{issuer.subject} is not allowed to certify {self.rule.name} keys",
                    "cert_key_usage",
                )

    def extend(self, path: list[Certificate]) -> list[Certificate] | None:
        cert = path[-1]
        if cert.der in self.root_ders:
            return path
        if len(path) >= MAX_PATH_LENGTH:
            self.fail(
                len(path),
                _ce(f"no trusted root within {MAX_PATH_LENGTH} certificates", "cert_path_length"),
            )
            return None
        candidates = self.candidates(cert, path)
        if not candidates:
            self.fail(len(path), self.no_issuer(cert))
            return None
        for issuer in candidates:
            self.link_checks += 1
            if self.link_checks > _MAX_LINK_CHECKS:
                self.fail(
                    len(path),
                    _ce("path search gave up (too many candidate issuers)", "cert_unknown_issuer"),
                )
                return None
            try:
                self.check_link(cert, issuer, path)
            except CertificateError as exc:
                self.fail(len(path) + 1, exc)
                continue
            found = self.extend([*path, issuer])
            if found is not None:
                return found
        return None


def validate_path(
    leaf: Certificate,
    *,
    intermediates: Collection[Certificate] = (),
    roots: Collection[Certificate],
    at: datetime,
    purpose: str | None = None,
) -> list[Certificate]:
    """Validate ``leaf`` at instant ``at`` and return the path leaf → trust anchor.

    ``roots`` are the trust anchors, compared by their full DER; ``intermediates``
    are untrusted candidates. With ``purpose`` (a :data:`KEY_PURPOSES` name) the
    leaf must be an end-entity certificate whose keyUsage and extendedKeyUsage
    allow it. Raises :class:`CertificateError` with a specific ``code``.
    """
    at = _utc(at, "at")
    rule = _key_purpose(purpose) if purpose is not None else None
    roots = tuple(roots)
    if not roots:
        raise _ce("no trust anchors given", "cert_untrusted_root")
    _check_certificate(leaf, at)
    if rule is not None:
        _check_purpose(leaf, rule)
    search = _PathSearch(roots, tuple(intermediates), at, rule)
    path = search.extend([leaf])
    if path is not None:
        return path
    assert search.best is not None
    raise search.best[1]
