"""The single table of algorithm identifiers used anywhere in GovTrust.

Every JOSE ``alg``, COSE ``alg``, X.509/CMS object identifier, curve and hash
that GovTrust emits or accepts is defined here and nowhere else; docs/algorithms.md
prints this table (a test keeps the two in step).

SM2 has no registered JOSE or COSE identifier. GovTrust uses:

* JOSE ``alg`` = ``"SM2"`` — SM2 signature with SM3 over the JWS signing input,
  signer ID ``1234567812345678`` (GM/T 0009 default), signature = 64-byte r‖s.
* COSE ``alg`` = ``-65601`` — from the private-use range (< -65536) of the IANA
  "COSE Algorithms" registry (RFC 9053 §16.4), same semantics as above.

Both are private agreements of the GovTrust federation; verifiers outside it
must be told (docs/algorithms.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .errors import UnsupportedAlgorithm

__all__ = [
    "KeyFamily",
    "SignatureAlgorithm",
    "SIGNATURE_ALGORITHMS",
    "signature_algorithm",
    "by_jose",
    "by_cose",
    "by_oid",
    "OID",
    "SM2_DEFAULT_ID",
    "COSE_ALG_SM2",
]

SM2_DEFAULT_ID: Final = b"1234567812345678"
COSE_ALG_SM2: Final = -65601


class KeyFamily(StrEnum):
    """A family of key material. One family, one curve or modulus kind."""

    SM2 = "sm2"
    P256 = "p256"
    P384 = "p384"
    RSA = "rsa"
    ED25519 = "ed25519"


class OID:
    """Object identifiers (dotted strings) used by GovTrust."""

    # Chinese commercial cryptography (GM/T 0006, GB/T 32918, GB/T 35275)
    SM2_CURVE: Final = "1.2.156.10197.1.301"
    SM2_SIGN: Final = "1.2.156.10197.1.301.1"
    SM3: Final = "1.2.156.10197.1.401"
    SM3_WITH_SM2: Final = "1.2.156.10197.1.501"
    SM4: Final = "1.2.156.10197.1.104"
    GM_CMS_DATA: Final = "1.2.156.10197.6.1.4.2.1"
    GM_CMS_SIGNED_DATA: Final = "1.2.156.10197.6.1.4.2.2"
    # International
    EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
    P256_CURVE: Final = "1.2.840.10045.3.1.7"
    P384_CURVE: Final = "1.3.132.0.34"
    ECDSA_SHA256: Final = "1.2.840.10045.4.3.2"
    ECDSA_SHA384: Final = "1.2.840.10045.4.3.3"
    RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
    RSA_SHA256: Final = "1.2.840.113549.1.1.11"
    RSA_PSS: Final = "1.2.840.113549.1.1.10"
    MGF1: Final = "1.2.840.113549.1.1.8"
    ED25519: Final = "1.3.101.112"
    SHA256: Final = "2.16.840.1.101.3.4.2.1"
    SHA384: Final = "2.16.840.1.101.3.4.2.2"


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    """One signature algorithm and all of its names.

    ``name`` is the GovTrust name used on the CLI and in key records.
    ``signature_size`` is the size of the raw (JOSE/COSE) signature form;
    for RSA it depends on the modulus and is ``None``.
    """

    name: str
    family: KeyFamily
    hash: str | None
    jose: str
    cose: int
    oid: str
    signature_size: int | None
    description: str


SIGNATURE_ALGORITHMS: Final[tuple[SignatureAlgorithm, ...]] = (
    SignatureAlgorithm(
        "SM2",
        KeyFamily.SM2,
        "sm3",
        "SM2",
        COSE_ALG_SM2,
        OID.SM3_WITH_SM2,
        64,
        "SM2 (GB/T 32918) with SM3, ID 1234567812345678",
    ),
    SignatureAlgorithm(
        "ES256",
        KeyFamily.P256,
        "sha256",
        "ES256",
        -7,
        OID.ECDSA_SHA256,
        64,
        "ECDSA P-256 with SHA-256",
    ),
    SignatureAlgorithm(
        "ES384",
        KeyFamily.P384,
        "sha384",
        "ES384",
        -35,
        OID.ECDSA_SHA384,
        96,
        "ECDSA P-384 with SHA-384 (verification of third-party material)",
    ),
    SignatureAlgorithm(
        "RS256",
        KeyFamily.RSA,
        "sha256",
        "RS256",
        -257,
        OID.RSA_SHA256,
        None,
        "RSASSA-PKCS1-v1_5 with SHA-256",
    ),
    SignatureAlgorithm(
        "PS256",
        KeyFamily.RSA,
        "sha256",
        "PS256",
        -37,
        OID.RSA_PSS,
        None,
        "RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32",
    ),
    SignatureAlgorithm(
        "EdDSA",
        KeyFamily.ED25519,
        None,
        "EdDSA",
        -8,
        OID.ED25519,
        64,
        "Ed25519 (RFC 8032)",
    ),
)

_BY_NAME: Final = {a.name.upper(): a for a in SIGNATURE_ALGORITHMS}
_BY_JOSE: Final = {a.jose: a for a in SIGNATURE_ALGORITHMS}
_BY_COSE: Final = {a.cose: a for a in SIGNATURE_ALGORITHMS}
_BY_OID: Final = {a.oid: a for a in SIGNATURE_ALGORITHMS}
# Some producers label an SM2 signature with the SM2 curve/sign OID instead of SM3withSM2.
_BY_OID[OID.SM2_SIGN] = _BY_NAME["SM2"]


def signature_algorithm(name: str | SignatureAlgorithm) -> SignatureAlgorithm:
    """Look an algorithm up by its GovTrust name (case-insensitive)."""
    if isinstance(name, SignatureAlgorithm):
        return name
    try:
        return _BY_NAME[name.upper()]
    except (KeyError, AttributeError):
        raise UnsupportedAlgorithm(f"unknown signature algorithm {name!r}") from None


def by_jose(alg: str) -> SignatureAlgorithm:
    """Look an algorithm up by its JOSE ``alg`` value (exact, case-sensitive)."""
    try:
        return _BY_JOSE[alg]
    except (KeyError, TypeError):
        raise UnsupportedAlgorithm(f"unknown JOSE alg {alg!r}") from None


def by_cose(alg: int) -> SignatureAlgorithm:
    """Look an algorithm up by its COSE ``alg`` value."""
    try:
        return _BY_COSE[alg]
    except (KeyError, TypeError):
        raise UnsupportedAlgorithm(f"unknown COSE alg {alg!r}") from None


def by_oid(oid: str) -> SignatureAlgorithm:
    """Look an algorithm up by its X.509/CMS signature algorithm OID."""
    try:
        return _BY_OID[oid]
    except (KeyError, TypeError):
        raise UnsupportedAlgorithm(f"unknown signature algorithm OID {oid!r}") from None
