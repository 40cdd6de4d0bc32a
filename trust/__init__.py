"""GovTrust trust core: algorithm suites, encodings, PKI, trust list, transparency log.

Flask-free and database-free: anything here can run offline in a verifier.
"""

from . import _asn1  # noqa: F401  (first: complete asn1crypto's OID maps before any use)
from .algorithms import (
    COSE_ALG_SM2,
    OID,
    SIGNATURE_ALGORITHMS,
    SM2_DEFAULT_ID,
    KeyFamily,
    SignatureAlgorithm,
    by_cose,
    by_jose,
    by_oid,
    signature_algorithm,
)
from .crypto import (
    PrivateKey,
    PublicKey,
    Signer,
    SoftwareSigner,
    b64url,
    b64url_decode,
    generate_private_key,
    load_private_key,
    load_public_key,
    public_key_from_jwk,
)
from .errors import (
    CertificateError,
    InvalidKey,
    KeyNotFound,
    KeyPurposeError,
    KeyStateError,
    MalformedInput,
    TrustError,
    UnsupportedAlgorithm,
)
from .hashes import aead_decrypt, aead_encrypt, digest, sha256, sm3
from .sigenc import SigEncoding, der_to_raw, raw_to_der

__all__ = [
    "COSE_ALG_SM2",
    "OID",
    "SIGNATURE_ALGORITHMS",
    "SM2_DEFAULT_ID",
    "CertificateError",
    "InvalidKey",
    "KeyFamily",
    "KeyNotFound",
    "KeyPurposeError",
    "KeyStateError",
    "MalformedInput",
    "PrivateKey",
    "PublicKey",
    "SigEncoding",
    "SignatureAlgorithm",
    "Signer",
    "SoftwareSigner",
    "TrustError",
    "UnsupportedAlgorithm",
    "aead_decrypt",
    "aead_encrypt",
    "b64url",
    "b64url_decode",
    "by_cose",
    "by_jose",
    "by_oid",
    "der_to_raw",
    "digest",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "public_key_from_jwk",
    "raw_to_der",
    "sha256",
    "signature_algorithm",
    "sm3",
]
