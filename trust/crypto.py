"""Keys, signing and verification for every GovTrust algorithm family.

One interface, four native implementations registered behind it:

=========  =====================================  ===========================
family     standard                               native library
=========  =====================================  ===========================
sm2        GB/T 32918 (GM/T 0003), SM3, GM/T 0009  tongsuopy (Tongsuo)
p256/p384  FIPS 186-5 ECDSA                       cryptography (OpenSSL)
rsa        RFC 8017 PKCS#1 v1.5 and PSS           cryptography (OpenSSL)
ed25519    RFC 8032                               cryptography (OpenSSL)
=========  =====================================  ===========================

Callers never pick a library: they load or generate a :class:`PrivateKey` /
:class:`PublicKey` and name an algorithm from :mod:`trust.algorithms`.
Signing is separated from where a key lives by :class:`Signer`; a software key
becomes one through :meth:`PrivateKey.signer`, an HSM key through the
``keys`` package. ``pure-Python gmssl`` is never used to sign (its nonce comes
from ``random``; SECURITY.md).

Verification returns ``True`` or ``False``. A malformed, out-of-range or
wrongly encoded signature is ``False``; an algorithm that does not fit the key
raises :class:`~trust.errors.UnsupportedAlgorithm`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Final

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.crypto import exceptions as ts_exceptions
from tongsuopy.crypto import hashes as ts_hashes
from tongsuopy.crypto import serialization as ts_serialization
from tongsuopy.crypto.asymciphers import ec as ts_ec

from .algorithms import OID, KeyFamily, SignatureAlgorithm, signature_algorithm
from .errors import InvalidKey, MalformedInput, UnsupportedAlgorithm
from .sigenc import COORDINATE_SIZES, CURVE_ORDERS, SigEncoding, decode_rs, encode_der_rs

__all__ = [
    "PublicKey",
    "PrivateKey",
    "Signer",
    "SoftwareSigner",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "public_key_from_jwk",
    "public_key_from_point",
    "b64url",
    "b64url_decode",
]

MIN_RSA_BITS: Final = 2048


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url decoding."""
    if not isinstance(text, str) or "=" in text:
        raise MalformedInput("expected unpadded base64url text")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError):
        raise MalformedInput("invalid base64url") from None
    # b64decode maps the altchars but still accepts '+' and '/', and ignores non-zero
    # trailing bits: only the canonical spelling is base64url (no malleable encodings).
    if b64url(data) != text:
        raise MalformedInput("non-canonical base64url")
    return data


def _pem_to_der(data: bytes) -> tuple[bytes, str | None]:
    if asn1_pem.detect(data):
        try:
            # Skip parameter blocks: `openssl ecparam -genkey` writes "EC PARAMETERS"
            # before the key; such blocks never hold key material.
            for label, _, der in asn1_pem.unarmor(data, multiple=True):
                if not label.endswith(" PARAMETERS"):
                    return der, label
        except ValueError:
            raise InvalidKey("invalid PEM") from None
        raise InvalidKey("no key in PEM")
    return data, None


# --------------------------------------------------------------------------- interfaces


def _check_alg(alg: str | SignatureAlgorithm, family: KeyFamily) -> SignatureAlgorithm:
    a = alg if isinstance(alg, SignatureAlgorithm) else signature_algorithm(alg)
    if a.family is not family:
        raise UnsupportedAlgorithm(f"{a.name} does not fit a {family} key")
    return a


class PublicKey(ABC):
    """A public key of one :class:`KeyFamily`."""

    family: KeyFamily

    @abstractmethod
    def verify(
        self,
        alg: str | SignatureAlgorithm,
        data: bytes,
        signature: bytes,
        *,
        encoding: SigEncoding = SigEncoding.ANY,
    ) -> bool:
        """True iff ``signature`` is a valid ``alg`` signature of ``data`` by this key.

        ``encoding`` concerns (r, s) families only: DER (leniently decoded),
        RAW (r‖s) or ANY (either).
        """

    @abstractmethod
    def spki_der(self) -> bytes:
        """DER SubjectPublicKeyInfo, interchangeable with OpenSSL."""

    @abstractmethod
    def _jwk_members(self) -> dict[str, str]:
        """The RFC 7638 required members."""

    @property
    @abstractmethod
    def native(self) -> Any:
        """The underlying library object (for libraries such as pyHanko)."""

    def pem(self) -> bytes:
        return bytes(asn1_pem.armor("PUBLIC KEY", self.spki_der()))

    def jwk(self, **extra: Any) -> dict[str, Any]:
        """Public JWK (RFC 7517); extra members (``kid``, ``use``, ``alg``) appended."""
        return {**self._jwk_members(), **extra}

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        canonical = json.dumps(self._jwk_members(), sort_keys=True, separators=(",", ":"))
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def _check_alg(self, alg: str | SignatureAlgorithm) -> SignatureAlgorithm:
        return _check_alg(alg, self.family)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and self.spki_der() == other.spki_der()

    def __hash__(self) -> int:
        return hash(self.spki_der())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.family} {self.thumbprint()[:12]}>"


class PrivateKey(ABC):
    """A private key held in memory. Only the ``keys`` package keeps them."""

    family: KeyFamily

    @abstractmethod
    def public_key(self) -> PublicKey: ...

    def sign(self, alg: str | SignatureAlgorithm, data: bytes) -> bytes:
        """Sign ``data``; (r, s) families return canonical DER."""
        return self._native_signer(_check_alg(alg, self.family))(data)

    @abstractmethod
    def _native_signer(self, alg: SignatureAlgorithm) -> Callable[[bytes], bytes]:
        """The native signing call bound to ``alg`` (no per-call dispatch)."""

    @abstractmethod
    def pkcs8_der(self, password: bytes | None = None) -> bytes:
        """PKCS#8, encrypted with ``password`` if given (OpenSSL-compatible)."""

    def pem(self, password: bytes | None = None) -> bytes:
        label = "ENCRYPTED PRIVATE KEY" if password else "PRIVATE KEY"
        return bytes(asn1_pem.armor(label, self.pkcs8_der(password)))

    def signer(self, alg: str | SignatureAlgorithm, key_id: str | None = None) -> SoftwareSigner:
        """Bind this key to exactly one algorithm."""
        return SoftwareSigner(self, alg, key_id=key_id)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.family}>"


class Signer(ABC):
    """Something that signs with one key and one algorithm, wherever the key lives.

    :meth:`sign` returns the algorithm's canonical X.509/CMS form (DER for
    SM2 and ECDSA). Use :meth:`sign_raw` for JOSE/COSE.
    """

    algorithm: SignatureAlgorithm
    key_id: str | None

    @property
    @abstractmethod
    def public_key(self) -> PublicKey: ...

    @abstractmethod
    def sign(self, data: bytes) -> bytes: ...

    def sign_raw(self, data: bytes) -> bytes:
        """Signature in JOSE/COSE form (fixed-width r‖s for SM2/ECDSA)."""
        sig = self.sign(data)
        size = self.algorithm.signature_size
        if self.algorithm.family in COORDINATE_SIZES and size is not None:
            r, s = decode_rs(sig, self.algorithm.family, SigEncoding.DER)
            half = size // 2
            return r.to_bytes(half, "big") + s.to_bytes(half, "big")
        return sig


class SoftwareSigner(Signer):
    """A :class:`Signer` over an in-memory :class:`PrivateKey`."""

    def __init__(
        self, key: PrivateKey, alg: str | SignatureAlgorithm, *, key_id: str | None = None
    ) -> None:
        algorithm = alg if isinstance(alg, SignatureAlgorithm) else signature_algorithm(alg)
        if algorithm.family is not key.family:
            raise UnsupportedAlgorithm(f"{algorithm.name} does not fit a {key.family} key")
        self._public = key.public_key()
        self.algorithm = algorithm
        self.key_id = key_id
        # Bound once: the layering must cost (almost) nothing per signature.
        self._sign = key._native_signer(algorithm)

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        return self._sign(data)


def _canonical_der(
    signature: bytes, family: KeyFamily, encoding: SigEncoding, n: int
) -> bytes | None:
    """The canonical DER of an (r, s) signature with 1 ≤ r, s ≤ n−1, or None.

    Strict DER is decoded natively and passed through unchanged (the hot path);
    raw r‖s and non-minimal DER are decoded leniently and re-encoded."""
    if encoding is SigEncoding.RAW:  # COSE and JOSE: fixed-width r‖s, encoded natively
        size = COORDINATE_SIZES[family]
        if len(signature) != 2 * size:
            return None
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        return encode_dss_signature(r, s) if 0 < r < n and 0 < s < n else None
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        pass
    else:
        return signature if 0 < r < n and 0 < s < n else None
    try:
        r, s = decode_rs(signature, family, encoding)  # also checks the range
    except MalformedInput:
        return None
    return encode_der_rs(r, s)


# --------------------------------------------------------------------------- SM2


_SM2_SIG = ts_ec.ECDSA(ts_hashes.SM3())
_SM2_N = CURVE_ORDERS[KeyFamily.SM2]


class _SM2PublicKey(PublicKey):
    family = KeyFamily.SM2

    def __init__(self, key: ts_ec.EllipticCurvePublicKey) -> None:
        self._key = key
        self._spki: bytes | None = None

    @property
    def native(self) -> ts_ec.EllipticCurvePublicKey:
        return self._key

    def verify(
        self,
        alg: str | SignatureAlgorithm,
        data: bytes,
        signature: bytes,
        *,
        encoding: SigEncoding = SigEncoding.ANY,
    ) -> bool:
        if alg != "SM2":
            self._check_alg(alg)
        der = _canonical_der(signature, KeyFamily.SM2, encoding, _SM2_N)
        if der is None:
            return False
        try:
            self._key.verify(der, data, _SM2_SIG)
        except ts_exceptions.InvalidSignature:
            return False
        return True

    def spki_der(self) -> bytes:
        if self._spki is None:
            self._spki = self._key.public_bytes(
                ts_serialization.Encoding.DER, ts_serialization.PublicFormat.SubjectPublicKeyInfo
            )
        return self._spki

    def point(self) -> tuple[int, int]:
        n = self._key.public_numbers()
        return n.x, n.y

    def _jwk_members(self) -> dict[str, str]:
        x, y = self.point()
        return {
            "crv": "SM2",
            "kty": "EC",
            "x": b64url(x.to_bytes(32, "big")),
            "y": b64url(y.to_bytes(32, "big")),
        }


class _SM2PrivateKey(PrivateKey):
    family = KeyFamily.SM2

    def __init__(self, key: ts_ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def public_key(self) -> PublicKey:
        return _SM2PublicKey(self._key.public_key())

    def _native_signer(self, alg: SignatureAlgorithm) -> Callable[[bytes], bytes]:
        key = self._key

        def sign(data: bytes) -> bytes:
            return key.sign(data, _SM2_SIG)  # type: ignore[no-any-return]

        return sign

    def pkcs8_der(self, password: bytes | None = None) -> bytes:
        enc: ts_serialization.KeySerializationEncryption = (
            ts_serialization.BestAvailableEncryption(password)
            if password
            else ts_serialization.NoEncryption()
        )
        return bytes(
            self._key.private_bytes(
                ts_serialization.Encoding.DER, ts_serialization.PrivateFormat.PKCS8, enc
            )
        )

    def private_value(self) -> int:
        return int(self._key.private_numbers().private_value)


# --------------------------------------------------------------------------- ECDSA

_EC_CURVES: Final = {KeyFamily.P256: ec.SECP256R1, KeyFamily.P384: ec.SECP384R1}
_EC_HASHES: Final = {KeyFamily.P256: hashes.SHA256, KeyFamily.P384: hashes.SHA384}
_EC_JWK_CRV: Final = {KeyFamily.P256: "P-256", KeyFamily.P384: "P-384"}


class _ECPublicKey(PublicKey):
    def __init__(self, key: ec.EllipticCurvePublicKey, family: KeyFamily) -> None:
        self._key = key
        self.family = family
        self._sig = ec.ECDSA(_EC_HASHES[family]())
        self._n = CURVE_ORDERS[family]

    @property
    def native(self) -> ec.EllipticCurvePublicKey:
        return self._key

    def verify(
        self,
        alg: str | SignatureAlgorithm,
        data: bytes,
        signature: bytes,
        *,
        encoding: SigEncoding = SigEncoding.ANY,
    ) -> bool:
        self._check_alg(alg)
        der = _canonical_der(signature, self.family, encoding, self._n)
        if der is None:
            return False
        try:
            self._key.verify(der, data, self._sig)
        except InvalidSignature:
            return False
        return True

    def spki_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _jwk_members(self) -> dict[str, str]:
        n = self._key.public_numbers()
        size = COORDINATE_SIZES[self.family]
        return {
            "crv": _EC_JWK_CRV[self.family],
            "kty": "EC",
            "x": b64url(n.x.to_bytes(size, "big")),
            "y": b64url(n.y.to_bytes(size, "big")),
        }


class _ECPrivateKey(PrivateKey):
    def __init__(self, key: ec.EllipticCurvePrivateKey, family: KeyFamily) -> None:
        self._key = key
        self.family = family
        self._sig = ec.ECDSA(_EC_HASHES[family]())

    def public_key(self) -> PublicKey:
        return _ECPublicKey(self._key.public_key(), self.family)

    def _native_signer(self, alg: SignatureAlgorithm) -> Callable[[bytes], bytes]:
        key, sig = self._key, self._sig

        def sign(data: bytes) -> bytes:
            return key.sign(data, sig)

        return sign

    @property
    def native(self) -> ec.EllipticCurvePrivateKey:
        return self._key

    def pkcs8_der(self, password: bytes | None = None) -> bytes:
        return _pkcs8(self._key, password)


# --------------------------------------------------------------------------- RSA


_PSS_SIGN = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_PSS_VERIFY = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
_PKCS1 = padding.PKCS1v15()


class _RSAPublicKey(PublicKey):
    family = KeyFamily.RSA

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        if key.key_size < MIN_RSA_BITS:
            raise InvalidKey(f"RSA keys below {MIN_RSA_BITS} bits are refused")
        self._key = key

    @property
    def native(self) -> rsa.RSAPublicKey:
        return self._key

    def verify(
        self,
        alg: str | SignatureAlgorithm,
        data: bytes,
        signature: bytes,
        *,
        encoding: SigEncoding = SigEncoding.ANY,
    ) -> bool:
        a = self._check_alg(alg)
        pad = _PKCS1 if a.name == "RS256" else _PSS_VERIFY
        try:
            self._key.verify(signature, data, pad, hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def spki_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _jwk_members(self) -> dict[str, str]:
        n = self._key.public_numbers()
        return {
            "e": b64url(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")),
            "kty": "RSA",
            "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
        }


class _RSAPrivateKey(PrivateKey):
    family = KeyFamily.RSA

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if key.key_size < MIN_RSA_BITS:
            raise InvalidKey(f"RSA keys below {MIN_RSA_BITS} bits are refused")
        self._key = key

    def public_key(self) -> PublicKey:
        return _RSAPublicKey(self._key.public_key())

    def _native_signer(self, alg: SignatureAlgorithm) -> Callable[[bytes], bytes]:
        key = self._key
        pad = _PKCS1 if alg.name == "RS256" else _PSS_SIGN
        h = hashes.SHA256()

        def sign(data: bytes) -> bytes:
            return key.sign(data, pad, h)

        return sign

    @property
    def native(self) -> rsa.RSAPrivateKey:
        return self._key

    def pkcs8_der(self, password: bytes | None = None) -> bytes:
        return _pkcs8(self._key, password)


# --------------------------------------------------------------------------- Ed25519


class _Ed25519PublicKey(PublicKey):
    family = KeyFamily.ED25519

    def __init__(self, key: ed25519.Ed25519PublicKey) -> None:
        self._key = key

    @property
    def native(self) -> ed25519.Ed25519PublicKey:
        return self._key

    def verify(
        self,
        alg: str | SignatureAlgorithm,
        data: bytes,
        signature: bytes,
        *,
        encoding: SigEncoding = SigEncoding.ANY,
    ) -> bool:
        if alg != "EdDSA":
            self._check_alg(alg)
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def spki_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _jwk_members(self) -> dict[str, str]:
        raw = self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}


class _Ed25519PrivateKey(PrivateKey):
    family = KeyFamily.ED25519

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key

    def public_key(self) -> PublicKey:
        return _Ed25519PublicKey(self._key.public_key())

    def _native_signer(self, alg: SignatureAlgorithm) -> Callable[[bytes], bytes]:
        return self._key.sign

    @property
    def native(self) -> ed25519.Ed25519PrivateKey:
        return self._key

    def pkcs8_der(self, password: bytes | None = None) -> bytes:
        return _pkcs8(self._key, password)


# --------------------------------------------------------------------------- factories


def _pkcs8(key: Any, password: bytes | None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, enc)  # type: ignore[no-any-return]


def generate_private_key(family: KeyFamily | str, *, rsa_bits: int = 3072) -> PrivateKey:
    """Generate a fresh key of ``family`` with the native CSPRNG."""
    try:
        fam = KeyFamily(family)
    except ValueError:
        raise UnsupportedAlgorithm(f"unknown key family {family!r}") from None
    if fam is KeyFamily.SM2:
        return _SM2PrivateKey(ts_ec.generate_private_key(ts_ec.SM2()))
    if fam in _EC_CURVES:
        return _ECPrivateKey(ec.generate_private_key(_EC_CURVES[fam]()), fam)
    if fam is KeyFamily.RSA:
        if rsa_bits not in (2048, 3072, 4096):
            raise InvalidKey("RSA key size must be 2048, 3072 or 4096")
        return _RSAPrivateKey(rsa.generate_private_key(65537, rsa_bits))
    return _Ed25519PrivateKey(ed25519.Ed25519PrivateKey.generate())


def _wrap_public(key: Any) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        for fam, curve in _EC_CURVES.items():
            if isinstance(key.curve, curve):
                return _ECPublicKey(key, fam)
        raise InvalidKey(f"unsupported curve {key.curve.name}")
    if isinstance(key, rsa.RSAPublicKey):
        return _RSAPublicKey(key)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return _Ed25519PublicKey(key)
    raise InvalidKey(f"unsupported public key type {type(key).__name__}")


def _wrap_private(key: Any) -> PrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for fam, curve in _EC_CURVES.items():
            if isinstance(key.curve, curve):
                return _ECPrivateKey(key, fam)
        raise InvalidKey(f"unsupported curve {key.curve.name}")
    if isinstance(key, rsa.RSAPrivateKey):
        return _RSAPrivateKey(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _Ed25519PrivateKey(key)
    raise InvalidKey(f"unsupported private key type {type(key).__name__}")


def _spki_is_sm2(spki: asn1_keys.PublicKeyInfo) -> bool:
    alg = spki["algorithm"]
    if alg["algorithm"].dotted != OID.EC_PUBLIC_KEY:
        return False
    params = alg["parameters"]
    return bool(params.name == "named" and params.chosen.dotted == OID.SM2_CURVE)


def load_public_key(data: bytes) -> PublicKey:
    """Load a public key from PEM or DER: SubjectPublicKeyInfo or an X.509 certificate.

    Off-curve points, unknown curves and RSA keys under 2048 bits raise
    :class:`InvalidKey`.
    """
    if not isinstance(data, bytes | bytearray):
        raise InvalidKey("key data must be bytes")
    der, label = _pem_to_der(bytes(data))
    try:
        in_cert = _certificate_spki(der) if label is None else None  # parsed once
        if label == "CERTIFICATE":
            spki = asn1_x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"]
        elif in_cert is not None:
            spki = in_cert
        else:
            spki = asn1_keys.PublicKeyInfo.load(der)
        spki_der = spki.dump(force=True)
        is_sm2 = _spki_is_sm2(spki)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidKey(f"not a public key: {exc}") from None
    if is_sm2:
        try:
            key = ts_serialization.load_der_public_key(spki_der)
        except (ValueError, TypeError, ts_exceptions.UnsupportedAlgorithm) as exc:
            raise InvalidKey(f"invalid SM2 public key: {exc}") from None
        return _SM2PublicKey(key)
    try:
        return _wrap_public(serialization.load_der_public_key(spki_der))
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"invalid public key: {exc}") from None
    except Exception as exc:  # cryptography.exceptions.UnsupportedAlgorithm
        raise InvalidKey(f"unsupported public key: {exc}") from None


def _certificate_spki(der: bytes) -> asn1_keys.PublicKeyInfo | None:
    """The SubjectPublicKeyInfo of ``der`` if it is a certificate, else None."""
    try:
        spki = asn1_x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"]
        spki.native  # noqa: B018 - forces the parse: a key, not just a SEQUENCE
        return spki
    except (ValueError, TypeError, KeyError):
        return None


def load_private_key(data: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a private key from PEM or DER (PKCS#8, SEC1 EC, PKCS#1 RSA), OpenSSL-compatible."""
    if not isinstance(data, bytes | bytearray):
        raise InvalidKey("key data must be bytes")
    data = bytes(data)
    der, label = _pem_to_der(data)
    sm2 = False
    if label in (None, "PRIVATE KEY", "EC PRIVATE KEY"):
        try:
            if label == "EC PRIVATE KEY":
                params = asn1_keys.ECPrivateKey.load(der)["parameters"]
                sm2 = params.name == "named" and params.chosen.dotted == OID.SM2_CURVE
            else:
                info = asn1_keys.PrivateKeyInfo.load(der)
                alg = info["private_key_algorithm"]
                sm2 = (
                    alg["algorithm"].dotted == OID.EC_PUBLIC_KEY
                    and alg["parameters"].name == "named"
                    and alg["parameters"].chosen.dotted == OID.SM2_CURVE
                )
        except (ValueError, TypeError, KeyError):
            sm2 = False
    # Encrypted PKCS#8 (PEM label, or DER with a password) may hold SM2 (PBES2/SM4-CBC).
    if sm2 or label == "ENCRYPTED PRIVATE KEY" or (label is None and password is not None):
        try:
            key = ts_serialization.load_der_private_key(der, password)
            if isinstance(key, ts_ec.EllipticCurvePrivateKey):
                return _SM2PrivateKey(key)
        except (ValueError, TypeError, ts_exceptions.UnsupportedAlgorithm) as exc:
            if sm2:
                raise InvalidKey(f"invalid SM2 private key: {exc}") from None
    try:
        return _wrap_private(serialization.load_der_private_key(der, password))
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"invalid private key: {exc}") from None
    except Exception as exc:  # cryptography.exceptions.UnsupportedAlgorithm
        raise InvalidKey(f"unsupported private key: {exc}") from None


def public_key_from_point(family: KeyFamily | str, point: bytes) -> PublicKey:
    """Import a P-256/P-384 public key from its SEC 1 encoded point (compressed
    ``02|03 x`` or uncompressed ``04 x y``); the point must lie on the curve."""
    fam = KeyFamily(family)
    curve = _EC_CURVES.get(fam)
    if curve is None:
        raise InvalidKey(f"no SEC 1 point import for {fam}")
    if not isinstance(point, bytes | bytearray):
        raise InvalidKey("the point must be bytes")
    try:
        pub = ec.EllipticCurvePublicKey.from_encoded_point(curve(), bytes(point))
    except ValueError as exc:
        raise InvalidKey(f"invalid {fam} point: {exc}") from None
    return _ECPublicKey(pub, fam)


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Import a public JWK (EC P-256/P-384/SM2, RSA, OKP Ed25519); private members are refused."""
    if not isinstance(jwk, Mapping):
        raise InvalidKey("JWK must be an object")
    if "d" in jwk or "p" in jwk:
        raise InvalidKey("refusing a JWK with private members")
    kty = jwk.get("kty")
    try:
        if kty == "EC":
            crv = jwk.get("crv")
            x = b64url_decode(jwk["x"])
            y = b64url_decode(jwk["y"])
            if crv == "SM2":
                if len(x) != 32 or len(y) != 32:
                    raise InvalidKey("SM2 coordinates must be 32 bytes")
                nums = ts_ec.EllipticCurvePublicNumbers(
                    int.from_bytes(x, "big"), int.from_bytes(y, "big"), ts_ec.SM2()
                )
                return _SM2PublicKey(nums.public_key())
            fam = {"P-256": KeyFamily.P256, "P-384": KeyFamily.P384}.get(crv)  # type: ignore[arg-type]
            if fam is None:
                raise InvalidKey(f"unsupported curve {crv!r}")
            size = COORDINATE_SIZES[fam]
            if len(x) != size or len(y) != size:
                raise InvalidKey("EC coordinates have the wrong length")
            pub = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), _EC_CURVES[fam]()
            ).public_key()
            return _ECPublicKey(pub, fam)
        if kty == "RSA":
            n = int.from_bytes(b64url_decode(jwk["n"]), "big")
            e = int.from_bytes(b64url_decode(jwk["e"]), "big")
            return _RSAPublicKey(rsa.RSAPublicNumbers(e, n).public_key())
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            raw = b64url_decode(jwk["x"])
            return _Ed25519PublicKey(ed25519.Ed25519PublicKey.from_public_bytes(raw))
    except InvalidKey:
        raise
    except (KeyError, ValueError, TypeError, MalformedInput) as exc:
        raise InvalidKey(f"invalid JWK: {exc}") from None
    raise InvalidKey(f"unsupported JWK kty/crv {kty!r}/{jwk.get('crv')!r}")
