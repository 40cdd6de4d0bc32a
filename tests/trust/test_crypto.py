"""trust.crypto: keys, signing and verification for every GovTrust algorithm family.

Covers generate/sign/verify, tampering, wrong algorithms, PEM/DER/JWK round trips,
RFC 7638 thumbprints, weak and off-curve keys, and strict base64url.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.algorithms import SIGNATURE_ALGORITHMS, KeyFamily
from trust.crypto import (
    PrivateKey,
    PublicKey,
    b64url,
    b64url_decode,
    generate_private_key,
    load_private_key,
    load_public_key,
    public_key_from_jwk,
)
from trust.errors import InvalidKey, MalformedInput, UnsupportedAlgorithm

DATA = b"GovTrust \xe6\x95\xb0\xe6\x8d\xae to be signed \x00\x01\x02"
PASSWORD = b"correct horse battery staple"

# RFC 7638 §3.2: the required members, in lexicographic order, per key type.
REQUIRED_JWK_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


def _flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[index] ^= mask
    return bytes(out)


# --- sign / verify


def test_sign_then_verify(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    signature = key.sign(alg, DATA)
    assert key.public_key().verify(alg, DATA, signature) is True


def test_signer_is_bound_to_its_algorithm(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    signer = key.signer(alg, key_id="k-1")
    assert signer.algorithm.name == alg
    assert signer.key_id == "k-1"
    assert signer.public_key == key.public_key()
    assert key.public_key().verify(alg, DATA, signer.sign(DATA)) is True


def test_verify_accepts_the_algorithm_object(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    (algorithm,) = [a for a in SIGNATURE_ALGORITHMS if a.name == alg]
    signature = key.sign(algorithm, DATA)
    assert key.public_key().verify(algorithm, DATA, signature) is True


@pytest.mark.parametrize(
    "tampered",
    [DATA + b"x", DATA[:-1], b"", _flip(DATA, 0), _flip(DATA, len(DATA) - 1, 0x80)],
    ids=["appended", "truncated", "empty", "first-bit", "last-bit"],
)
def test_tampered_data_is_rejected(alg_key: tuple[str, PrivateKey], tampered: bytes) -> None:
    alg, key = alg_key
    signature = key.sign(alg, DATA)
    assert key.public_key().verify(alg, tampered, signature) is False


def test_every_single_byte_change_of_the_signature_is_rejected(
    alg_key: tuple[str, PrivateKey],
) -> None:
    alg, key = alg_key
    public = key.public_key()
    signature = key.sign(alg, DATA)
    for index in range(len(signature)):
        for mask in (0x01, 0x80):
            assert public.verify(alg, DATA, _flip(signature, index, mask)) is False, (index, mask)


def test_truncated_signatures_are_rejected(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    public = key.public_key()
    signature = key.sign(alg, DATA)
    for cut in (signature[:-1], signature[1:], signature[: len(signature) // 2], signature[:1]):
        assert public.verify(alg, DATA, cut) is False


def test_empty_signature_is_rejected(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    assert key.public_key().verify(alg, DATA, b"") is False


def test_extended_signatures_are_rejected(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    public = key.public_key()
    signature = key.sign(alg, DATA)
    for longer in (signature + b"\x00", b"\x00" + signature, signature + signature):
        assert public.verify(alg, DATA, longer) is False


def test_signature_of_another_key_is_rejected(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    other = generate_private_key(key.family, rsa_bits=2048)
    assert other.public_key().verify(alg, DATA, key.sign(alg, DATA)) is False


def test_rs256_and_ps256_signatures_are_not_interchangeable(
    private_keys: dict[str, PrivateKey],
) -> None:
    key = private_keys["rsa"]
    public = key.public_key()
    assert public.verify("PS256", DATA, key.sign("RS256", DATA)) is False
    assert public.verify("RS256", DATA, key.sign("PS256", DATA)) is False


def test_algorithm_that_does_not_fit_the_key_raises(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    public = key.public_key()
    signature = key.sign(alg, DATA)
    foreign = [a for a in SIGNATURE_ALGORITHMS if a.family is not key.family]
    assert foreign
    for other in foreign:
        for name in (other.name, other):
            with pytest.raises(UnsupportedAlgorithm):
                public.verify(name, DATA, signature)
            with pytest.raises(UnsupportedAlgorithm):
                key.sign(name, DATA)
            with pytest.raises(UnsupportedAlgorithm):
                key.signer(name)


@pytest.mark.parametrize("name", ["none", "None", "HS256", "", "SM3", "ES256K", "RSA"])
def test_unknown_algorithm_raises(alg_key: tuple[str, PrivateKey], name: str) -> None:
    alg, key = alg_key
    signature = key.sign(alg, DATA)
    with pytest.raises(UnsupportedAlgorithm):
        key.public_key().verify(name, DATA, signature)
    with pytest.raises(UnsupportedAlgorithm):
        key.sign(name, DATA)


def test_only_ed25519_and_rs256_signatures_are_deterministic(
    alg_key: tuple[str, PrivateKey],
) -> None:
    alg, key = alg_key
    first, second = key.sign(alg, DATA), key.sign(alg, DATA)
    if alg in ("EdDSA", "RS256"):  # deterministic schemes
        assert first == second
    else:  # SM2, ECDSA and PSS draw a fresh nonce / salt each time
        assert first != second


# --- PEM / DER


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
@pytest.mark.parametrize("form", ["pem", "der"])
def test_private_key_round_trip(
    alg_key: tuple[str, PrivateKey], form: str, password: bytes | None
) -> None:
    alg, key = alg_key
    blob = key.pem(password) if form == "pem" else key.pkcs8_der(password)
    if form == "pem":
        label = b"ENCRYPTED PRIVATE KEY" if password else b"PRIVATE KEY"
        assert blob.startswith(b"-----BEGIN " + label + b"-----")
    loaded = load_private_key(blob, password)
    assert loaded.family is key.family
    assert loaded.public_key() == key.public_key()
    assert key.public_key().verify(alg, DATA, loaded.sign(alg, DATA)) is True


@pytest.mark.parametrize("form", ["pem", "der"])
def test_encrypted_private_key_needs_the_right_password(
    alg_key: tuple[str, PrivateKey], form: str
) -> None:
    _, key = alg_key
    blob = key.pem(PASSWORD) if form == "pem" else key.pkcs8_der(PASSWORD)
    with pytest.raises(InvalidKey):
        load_private_key(blob, b"wrong password")
    with pytest.raises(InvalidKey):
        load_private_key(blob, None)


def _secret_bytes(key: PrivateKey) -> bytes:
    any_key: Any = key  # the concrete classes expose the native key / private value
    if key.family is KeyFamily.SM2:
        scalar: int = any_key.private_value()
        return scalar.to_bytes(32, "big")
    native: Any = any_key.native
    if key.family is KeyFamily.P256:
        scalar = native.private_numbers().private_value
        return scalar.to_bytes(32, "big")
    if key.family is KeyFamily.RSA:
        d: int = native.private_numbers().d
        return d.to_bytes((d.bit_length() + 7) // 8, "big")
    seed: bytes = native.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return seed


def test_encrypted_private_key_does_not_contain_the_secret(
    private_keys: dict[str, PrivateKey],
) -> None:
    for key in private_keys.values():
        secret = _secret_bytes(key)
        assert secret in key.pkcs8_der()  # sanity: the plain form does hold it
        encrypted = key.pkcs8_der(PASSWORD)
        assert secret[:16] not in encrypted and secret[-16:] not in encrypted
        assert secret[:16] not in key.pem(PASSWORD)


def test_public_key_round_trip(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    public = key.public_key()
    pem = public.pem()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    signature = key.sign(alg, DATA)
    for blob in (pem, public.spki_der(), bytearray(public.spki_der())):
        loaded = load_public_key(blob)  # type: ignore[arg-type]  # bytearray is accepted
        assert loaded == public
        assert loaded.family is key.family
        assert loaded.spki_der() == public.spki_der()
        assert loaded.verify(alg, DATA, signature) is True


def test_public_key_equality_and_hash(private_keys: dict[str, PrivateKey]) -> None:
    a = private_keys["sm2"].public_key()
    b = load_public_key(a.pem())
    c = private_keys["p256"].public_key()
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2


def test_openssl_style_pem_with_a_parameters_block_loads() -> None:
    # `openssl ecparam -genkey` writes "EC PARAMETERS" before "EC PRIVATE KEY".
    native = ec.generate_private_key(ec.SECP256R1())
    sec1 = native.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    params = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    loaded = load_private_key(params + sec1)
    assert loaded.family is KeyFamily.P256
    assert loaded.public_key().spki_der() == native.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"garbage",
        b"\x30\x03\x02\x01\x01",
        b"-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n",
    ],
    ids=["empty", "text", "tiny-der", "bad-pem"],
)
def test_garbage_is_an_invalid_key(blob: bytes) -> None:
    with pytest.raises(InvalidKey):
        load_public_key(blob)
    with pytest.raises(InvalidKey):
        load_private_key(blob)


def test_non_bytes_key_data_is_refused() -> None:
    with pytest.raises(InvalidKey):
        load_public_key("-----BEGIN PUBLIC KEY-----")  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        load_private_key(None)  # type: ignore[arg-type]


def test_private_key_loader_refuses_a_public_key(private_keys: dict[str, PrivateKey]) -> None:
    for key in private_keys.values():
        with pytest.raises(InvalidKey):
            load_private_key(key.public_key().pem())


# --- JWK


def test_jwk_round_trip(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    public = key.public_key()
    jwk = public.jwk(kid="key-1", use="sig", alg=alg)
    assert jwk["kid"] == "key-1" and jwk["use"] == "sig" and jwk["alg"] == alg
    assert "d" not in jwk and "p" not in jwk
    json.dumps(jwk)  # serialisable as is
    imported = public_key_from_jwk(jwk)
    assert imported == public
    assert imported.family is key.family
    assert imported.verify(alg, DATA, key.sign(alg, DATA)) is True
    assert imported.jwk() == public.jwk()


def test_jwk_members_per_family(private_keys: dict[str, PrivateKey]) -> None:
    sm2 = private_keys["sm2"].public_key().jwk()
    p256 = private_keys["p256"].public_key().jwk()
    rsa_jwk = private_keys["rsa"].public_key().jwk()
    ed = private_keys["ed25519"].public_key().jwk()
    assert (sm2["kty"], sm2["crv"]) == ("EC", "SM2")
    assert (p256["kty"], p256["crv"]) == ("EC", "P-256")
    assert rsa_jwk["kty"] == "RSA" and rsa_jwk["e"] == "AQAB"
    assert (ed["kty"], ed["crv"]) == ("OKP", "Ed25519")
    for jwk in (sm2, p256):  # fixed-width coordinates, RFC 7518 §6.2.1.2
        assert len(b64url_decode(jwk["x"])) == 32 and len(b64url_decode(jwk["y"])) == 32
    assert len(b64url_decode(ed["x"])) == 32
    assert len(b64url_decode(rsa_jwk["n"])) == 256


def test_jwk_with_private_members_is_refused(alg_key: tuple[str, PrivateKey]) -> None:
    _, key = alg_key
    for member in ("d", "p"):
        jwk = {**key.public_key().jwk(), member: "AQAB"}
        with pytest.raises(InvalidKey):
            public_key_from_jwk(jwk)


@pytest.mark.parametrize(
    "jwk",
    [
        {},
        {"kty": "oct", "k": "AAAA"},
        {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "SM2", "x": "AAAA"},
        {"kty": "EC", "crv": "SM2", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\x00" * 32), "y": b64url(b"\x00" * 32)},
        {"kty": "OKP", "crv": "Ed25519", "x": b64url(b"\x01" * 31)},
        {"kty": "OKP", "crv": "X25519", "x": b64url(b"\x01" * 32)},
        {"kty": "RSA", "n": "AQAB"},
        {"kty": "RSA", "n": 12345, "e": "AQAB"},
    ],
    ids=[
        "empty",
        "oct",
        "p521",
        "sm2-no-y",
        "sm2-short",
        "p256-zero-point",
        "ed25519-short",
        "x25519",
        "rsa-no-e",
        "rsa-n-not-text",
    ],
)
def test_malformed_jwk_is_an_invalid_key(jwk: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey):
        public_key_from_jwk(jwk)


def test_jwk_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidKey):
        public_key_from_jwk([("kty", "EC")])  # type: ignore[arg-type]


def _rfc7638(jwk: dict[str, Any]) -> str:
    """Independent RFC 7638 computation: required members only, sorted, no whitespace."""
    members = REQUIRED_JWK_MEMBERS[jwk["kty"]]
    canonical = "{" + ",".join(f'"{m}":"{jwk[m]}"' for m in members) + "}"
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_thumbprint_is_rfc7638_and_stable(alg_key: tuple[str, PrivateKey]) -> None:
    alg, key = alg_key
    public = key.public_key()
    thumbprint = public.thumbprint()
    assert len(thumbprint) == 43
    assert thumbprint == _rfc7638(public.jwk())
    assert thumbprint == public.thumbprint()
    assert thumbprint == public_key_from_jwk(public.jwk(kid="x", alg=alg)).thumbprint()
    assert thumbprint == load_public_key(public.pem()).thumbprint()
    assert thumbprint == load_private_key(key.pem()).public_key().thumbprint()


def test_thumbprints_differ_between_keys(private_keys: dict[str, PrivateKey]) -> None:
    prints = {k.public_key().thumbprint() for k in private_keys.values()}
    prints.add(generate_private_key("sm2").public_key().thumbprint())
    assert len(prints) == 5


def test_rfc7638_example_thumbprint(vectors: Any) -> None:
    vector = vectors("jwk/rfc7638-section3.1.json")
    public = public_key_from_jwk(vector["jwk"])
    assert public.family is KeyFamily.RSA
    assert public.thumbprint() == vector["thumbprint_sha256_b64url"]
    exported = public.jwk()
    assert exported["n"] == vector["jwk"]["n"] and exported["e"] == vector["jwk"]["e"]
    # the RFC's own computation, independently
    assert _rfc7638(vector["jwk"]) == vector["thumbprint_sha256_b64url"]


# --- weak and invalid keys


def _rsa_1024() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)


def test_rsa_1024_public_key_is_refused() -> None:
    native = _rsa_1024().public_key()
    der = native.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = native.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for blob in (der, pem):
        with pytest.raises(InvalidKey):
            load_public_key(blob)
    numbers = native.public_numbers()
    jwk = {
        "kty": "RSA",
        "n": b64url(numbers.n.to_bytes(128, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
    }
    with pytest.raises(InvalidKey):
        public_key_from_jwk(jwk)


def test_rsa_1024_private_key_is_refused() -> None:
    native = _rsa_1024()
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        pem = native.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        with pytest.raises(InvalidKey):
            load_private_key(pem)


@pytest.mark.parametrize("bits", [1024, 2047, 2049])
def test_generate_refuses_odd_rsa_sizes(bits: int) -> None:
    with pytest.raises(InvalidKey):
        generate_private_key("rsa", rsa_bits=bits)


def _off_curve_jwk(public: PublicKey) -> dict[str, Any]:
    jwk = public.jwk()
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    # y+1 keeps x and changes y: (x, y+1) cannot be on the curve when (x, y) is
    jwk["y"] = b64url(((y + 1) % (1 << 256)).to_bytes(32, "big"))
    return jwk


@pytest.mark.parametrize("family", ["sm2", "p256"])
def test_off_curve_jwk_is_an_invalid_key(private_keys: dict[str, PrivateKey], family: str) -> None:
    with pytest.raises(InvalidKey):
        public_key_from_jwk(_off_curve_jwk(private_keys[family].public_key()))


def test_point_of_one_curve_is_refused_on_the_other(private_keys: dict[str, PrivateKey]) -> None:
    # Curve confusion: an SM2 point presented as P-256 and vice versa.
    sm2 = private_keys["sm2"].public_key().jwk()
    p256 = private_keys["p256"].public_key().jwk()
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**sm2, "crv": "P-256"})
    with pytest.raises(InvalidKey):
        public_key_from_jwk({**p256, "crv": "SM2"})


@pytest.mark.parametrize("family", ["sm2", "p256"])
def test_off_curve_spki_is_an_invalid_key(private_keys: dict[str, PrivateKey], family: str) -> None:
    spki = private_keys[family].public_key().spki_der()
    assert spki[-65] == 0x04  # uncompressed point: 04 ‖ x ‖ y, y in the last 32 bytes
    for index in (len(spki) - 1, len(spki) - 16, len(spki) - 32):
        with pytest.raises(InvalidKey):
            load_public_key(_flip(spki, index))
    pem_armoured = base64.encodebytes(_flip(spki, len(spki) - 1))
    with pytest.raises(InvalidKey):
        load_public_key(
            b"-----BEGIN PUBLIC KEY-----\n" + pem_armoured + b"-----END PUBLIC KEY-----\n"
        )


# --- base64url


def test_b64url_known_values() -> None:
    assert b64url(b"") == ""
    assert b64url(b"\xfb\xff\xfe") == "-__-"
    assert b64url(b"A") == "QQ"
    assert b64url_decode("-__-") == b"\xfb\xff\xfe"
    assert b64url_decode("QQ") == b"A"
    assert b64url_decode("") == b""


@given(st.binary(max_size=200))
@settings(max_examples=200, database=None, deadline=None)
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "QQ==",  # padding
        "+_-/",  # standard-alphabet characters
        "ab+c",
        "ab/c",
        "QR",  # non-zero trailing bits: not the canonical encoding of b"A"
        "QUF",  # ditto, 2 bytes: canonical is "QUE"
        "Q",  # impossible length
        " QQ",
        "QQ\n",
        "Q Q",
        "QQ\x00",
        "Ω",
    ],
)
def test_b64url_decode_is_strict(text: str) -> None:
    with pytest.raises(MalformedInput):
        b64url_decode(text)


def test_b64url_decode_refuses_non_text() -> None:
    with pytest.raises(MalformedInput):
        b64url_decode(b"QQ")  # type: ignore[arg-type]


def test_jwk_coordinates_in_the_standard_alphabet_are_refused(
    private_keys: dict[str, PrivateKey],
) -> None:
    # A key whose coordinates need '-' or '_' must not also load when spelt with '+' or '/'.
    for _ in range(200):
        public = generate_private_key("p256").public_key()
        jwk = public.jwk()
        if any(c in jwk["x"] + jwk["y"] for c in "-_"):
            break
    else:  # pragma: no cover - probability about 2^-1700
        pytest.fail("no key with '-' or '_' in its coordinates")
    table = str.maketrans("-_", "+/")
    spelt = {**jwk, "x": jwk["x"].translate(table), "y": jwk["y"].translate(table)}
    with pytest.raises(InvalidKey):
        public_key_from_jwk(spelt)
