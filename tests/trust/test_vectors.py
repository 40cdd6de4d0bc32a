"""Known answers and independent implementations.

* GM/T 0003.5 Annex A (SM2 + SM3), GB/T 32905 SM3, RFC 8032 Ed25519, RFC 6979 P-256.
* A small pure-Python short-Weierstrass implementation written here (no library
  code): checks the vectors' public keys (d·G), re-derives the signatures from
  their fixed nonces, and serves as an independent SM2 verifier and signer.
* gmssl (pure-Python, third party) as a second independent SM2 verifier — used
  only to verify, never to sign (SECURITY.md).
* The home-made edge-case vector files, regenerated and compared.

Regenerate the home-made files with::

    .venv/bin/python tests/trust/test_vectors.py --write-edge-cases
"""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from gmssl import sm2 as gmssl_sm2

from trust.algorithms import SM2_DEFAULT_ID, KeyFamily
from trust.crypto import (
    PublicKey,
    b64url,
    b64url_decode,
    generate_private_key,
    load_private_key,
    load_public_key,
    public_key_from_jwk,
)
from trust.hashes import digest, sm3
from trust.sigenc import SigEncoding, decode_der_rs, encode_der_rs

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _load(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def _h(text: str) -> int:
    return int(text, 16)


# --- reference curve arithmetic
# Affine points, None is the point at infinity; scalar multiplication runs in
# Jacobian coordinates. Written from the textbook formulas, no library code.

Point = tuple[int, int] | None


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def g(self) -> Point:
        return (self.gx, self.gy)

    def on_curve(self, pt: Point) -> bool:
        if pt is None:
            return True
        x, y = pt
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def add(self, p1: Point, p2: Point) -> Point:
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        x1, y1 = p1
        x2, y2 = p2
        if x1 == x2 and (y1 + y2) % self.p == 0:
            return None
        if p1 == p2:
            lam = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, self.p)
        else:
            lam = (y2 - y1) * pow(x2 - x1, -1, self.p)
        lam %= self.p
        x3 = (lam * lam - x1 - x2) % self.p
        return (x3, (lam * (x1 - x3) - y1) % self.p)

    def mul(self, k: int, pt: Point) -> Point:
        """k·pt by double-and-add in Jacobian coordinates (X, Y, Z) ~ (X/Z², Y/Z³)."""
        if pt is None or k <= 0:
            return None
        p = self.p
        base = (pt[0], pt[1], 1)
        acc: tuple[int, int, int] | None = None
        for bit in bin(k)[2:]:
            if acc is not None:
                acc = self._jdouble(acc)
            if bit == "1":
                acc = base if acc is None else self._jadd(acc, base)
        if acc is None or acc[2] == 0:
            return None
        zinv = pow(acc[2], -1, p)
        return (acc[0] * zinv * zinv % p, acc[1] * zinv * zinv * zinv % p)

    def _jdouble(self, q: tuple[int, int, int]) -> tuple[int, int, int]:
        x, y, z = q
        p = self.p
        if y == 0 or z == 0:
            return (0, 1, 0)
        ysq = y * y % p
        s = 4 * x * ysq % p
        m = (3 * x * x + self.a * pow(z, 4, p)) % p
        x3 = (m * m - 2 * s) % p
        return (x3, (m * (s - x3) - 8 * ysq * ysq) % p, 2 * y * z % p)

    def _jadd(self, q1: tuple[int, int, int], q2: tuple[int, int, int]) -> tuple[int, int, int]:
        x1, y1, z1 = q1
        x2, y2, z2 = q2
        p = self.p
        if z1 == 0:
            return q2
        if z2 == 0:
            return q1
        z1sq, z2sq = z1 * z1 % p, z2 * z2 % p
        u1, u2 = x1 * z2sq % p, x2 * z1sq % p
        s1, s2 = y1 * z2sq * z2 % p, y2 * z1sq * z1 % p
        if u1 == u2:
            return self._jdouble(q1) if s1 == s2 else (0, 1, 0)
        h, r = (u2 - u1) % p, (s2 - s1) % p
        hsq = h * h % p
        hcu = hsq * h % p
        x3 = (r * r - hcu - 2 * u1 * hsq) % p
        y3 = (r * (u1 * hsq - x3) - s1 * hcu) % p
        return (x3, y3, h * z1 * z2 % p)


# GB/T 32918.5-2017 recommended curve (sm2p256v1)
SM2_CURVE = Curve(
    "sm2p256v1",
    p=_h("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF"),
    a=_h("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"),
    b=_h("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"),
    gx=_h("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"),
    gy=_h("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"),
    n=_h("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123"),
)

# FIPS 186-5 / SEC 2 secp256r1
P256_CURVE = Curve(
    "P-256",
    p=_h("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF"),
    a=_h("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC"),
    b=_h("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B"),
    gx=_h("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"),
    gy=_h("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"),
    n=_h("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"),
)


def _hash(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def ref_sm2_z(pub: tuple[int, int], ident: bytes = b"1234567812345678") -> bytes:
    """Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), GB/T 32918.2 §5.5."""
    c = SM2_CURVE
    fields = (c.a, c.b, c.gx, c.gy, pub[0], pub[1])
    entl = (8 * len(ident)).to_bytes(2, "big")
    return _hash(hashes.SM3(), entl + ident + b"".join(v.to_bytes(32, "big") for v in fields))


def ref_sm2_e(pub: tuple[int, int], message: bytes) -> int:
    return int.from_bytes(_hash(hashes.SM3(), ref_sm2_z(pub) + message), "big")


def ref_sm2_sign(d: int, message: bytes, k: int) -> tuple[int, int]:
    """GB/T 32918.2 §6.1 with a caller-chosen k (test use only)."""
    c = SM2_CURVE
    pub = c.mul(d, c.g)
    assert pub is not None
    e = ref_sm2_e(pub, message)
    kg = c.mul(k, c.g)
    assert kg is not None
    r = (e + kg[0]) % c.n
    s = (pow(1 + d, -1, c.n) * (k - r * d)) % c.n
    assert r != 0 and r + k != c.n and s != 0
    return r, s


def ref_sm2_verify(pub: tuple[int, int], message: bytes, r: int, s: int) -> bool:
    """GB/T 32918.2 §7.1."""
    c = SM2_CURVE
    if not c.on_curve(pub):  # cofactor 1: on the curve and not O means order n
        return False
    if not (1 <= r < c.n and 1 <= s < c.n):
        return False
    t = (r + s) % c.n
    if t == 0:
        return False
    pt = c.add(c.mul(s, c.g), c.mul(t, pub))
    if pt is None:
        return False
    return (ref_sm2_e(pub, message) + pt[0]) % c.n == r


def ref_ecdsa_sign(curve: Curve, d: int, e: int, k: int) -> tuple[int, int]:
    kg = curve.mul(k, curve.g)
    assert kg is not None
    r = kg[0] % curve.n
    s = pow(k, -1, curve.n) * (e + r * d) % curve.n
    return r, s


def _point(public: PublicKey) -> tuple[int, int]:
    jwk = public.jwk()
    return (
        int.from_bytes(b64url_decode(jwk["x"]), "big"),
        int.from_bytes(b64url_decode(jwk["y"]), "big"),
    )


def _sm2_jwk(x: int, y: int) -> dict[str, str]:
    return {
        "kty": "EC",
        "crv": "SM2",
        "x": b64url(x.to_bytes(32, "big")),
        "y": b64url(y.to_bytes(32, "big")),
    }


def _raw(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.mark.parametrize("curve", [SM2_CURVE, P256_CURVE], ids=lambda c: c.name)
def test_reference_curve_parameters(curve: Curve) -> None:
    assert curve.on_curve(curve.g)
    assert curve.mul(curve.n, curve.g) is None
    assert curve.mul(curve.n - 1, curve.g) == (curve.gx, (-curve.gy) % curve.p)
    # the Jacobian multiplication agrees with repeated affine addition
    acc: Point = None
    for k in range(1, 12):
        acc = curve.add(acc, curve.g)
        assert curve.on_curve(acc) and curve.mul(k, curve.g) == acc
    k1, k2 = secrets.randbelow(curve.n), secrets.randbelow(curve.n)
    sum_point = curve.add(curve.mul(k1, curve.g), curve.mul(k2, curve.g))
    assert sum_point == curve.mul(k1 + k2, curve.g)


# --- GM/T 0003.5 Annex A


@pytest.fixture(scope="module")
def annex_a() -> dict[str, Any]:
    vector: dict[str, Any] = _load("sm2/gmt0003-annexA.json")["sm2_sign"][0]
    assert vector["distinguishing_id"].encode() == SM2_DEFAULT_ID
    return vector


def test_annex_a_public_key_is_d_times_g(annex_a: dict[str, Any]) -> None:
    d = _h(annex_a["private_key_d"])
    assert SM2_CURVE.mul(d, SM2_CURVE.g) == (
        _h(annex_a["public_key_x"]),
        _h(annex_a["public_key_y"]),
    )


def test_annex_a_signature_from_its_fixed_k(annex_a: dict[str, Any]) -> None:
    r, s = ref_sm2_sign(
        _h(annex_a["private_key_d"]), annex_a["message_ascii"].encode(), _h(annex_a["k"])
    )
    assert (r, s) == (_h(annex_a["r"]), _h(annex_a["s"]))


def test_annex_a_signature_verifies_in_trust(annex_a: dict[str, Any]) -> None:
    x, y = _h(annex_a["public_key_x"]), _h(annex_a["public_key_y"])
    r, s = _h(annex_a["r"]), _h(annex_a["s"])
    message = annex_a["message_ascii"].encode()
    from_jwk = public_key_from_jwk(_sm2_jwk(x, y))
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004") + _raw(x, y)
    from_spki = load_public_key(spki)
    assert from_spki == from_jwk and from_spki.family is KeyFamily.SM2
    for public in (from_jwk, from_spki):
        assert public.verify("SM2", message, _raw(r, s)) is True
        assert public.verify("SM2", message, _raw(r, s), encoding=SigEncoding.RAW) is True
        assert public.verify("SM2", message, encode_der_rs(r, s)) is True
        assert public.verify("SM2", message, encode_der_rs(r, s), encoding=SigEncoding.DER) is True
        assert public.verify("SM2", message + b" ", _raw(r, s)) is False
        assert public.verify("SM2", message, _raw(r, (s + 1) % SM2_CURVE.n)) is False
        assert public.verify("SM2", message, _raw(s, r)) is False
    assert ref_sm2_verify((x, y), message, r, s) is True


def test_annex_a_private_key_loads_and_signs(annex_a: dict[str, Any]) -> None:
    # PKCS#8 built by hand (RFC 5915 ECPrivateKey inside RFC 5208), no library encoder.
    d = bytes.fromhex(annex_a["private_key_d"])
    ec_private_key = bytes.fromhex("0201010420") + d
    inner = bytes([0x30, len(ec_private_key)]) + ec_private_key
    algorithm = bytes.fromhex("301306072a8648ce3d020106082a811ccf5501822d")
    body = bytes.fromhex("020100") + algorithm + bytes([0x04, len(inner)]) + inner
    pkcs8 = bytes([0x30, len(body)]) + body
    key = load_private_key(pkcs8)
    assert key.family is KeyFamily.SM2
    x, y = _h(annex_a["public_key_x"]), _h(annex_a["public_key_y"])
    assert key.public_key() == public_key_from_jwk(_sm2_jwk(x, y))
    message = annex_a["message_ascii"].encode()
    signature = key.sign("SM2", message)
    assert key.public_key().verify("SM2", message, signature) is True
    assert ref_sm2_verify((x, y), message, *decode_der_rs(signature)) is True


def test_sm3_vectors() -> None:
    for vector in _load("sm2/gmt0003-annexA.json")["sm3"]:
        if "message_hex" in vector:
            message = bytes.fromhex(vector["message_hex"])
            assert message == b"abcd" * 16
        else:
            message = vector["message_ascii"].encode()
        expected = bytes.fromhex(vector["digest"])
        assert sm3(message) == expected
        assert digest("sm3", message) == expected
        assert sm3(message + b"\x00") != expected


# --- RFC 8032 Ed25519

ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")  # RFC 8410 §7


@pytest.mark.parametrize("index", [0, 1, 2], ids=["TEST1", "TEST2", "TEST3"])
def test_rfc8032_ed25519(index: int) -> None:
    vector = _load("ed25519/rfc8032-section7.1.json")["vectors"][index]
    seed = bytes.fromhex(vector["secret_key"])
    public_raw = bytes.fromhex(vector["public_key"])
    message = bytes.fromhex(vector["message"])
    expected = bytes.fromhex(vector["signature"])

    key = load_private_key(ED25519_PKCS8_PREFIX + seed)
    assert key.family is KeyFamily.ED25519
    assert key.public_key().jwk()["x"] == b64url(public_raw)
    assert key.sign("EdDSA", message) == expected
    assert key.signer("EdDSA").sign(message) == expected

    public = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url(public_raw)})
    assert public.verify("EdDSA", message, expected) is True
    assert public.verify("EdDSA", message + b"\x00", expected) is False
    assert public.verify("EdDSA", message, expected[:32] + bytes(32)) is False
    flipped = bytearray(expected)
    flipped[63] ^= 0x10
    assert public.verify("EdDSA", message, bytes(flipped)) is False


# --- RFC 6979 P-256


@pytest.fixture(scope="module")
def rfc6979() -> dict[str, Any]:
    data: dict[str, Any] = _load("p256/rfc6979-A.2.5.json")
    return data


def test_rfc6979_public_key_is_x_times_g(rfc6979: dict[str, Any]) -> None:
    q = P256_CURVE.mul(_h(rfc6979["private_key_x"]), P256_CURVE.g)
    assert q == (_h(rfc6979["public_key_ux"]), _h(rfc6979["public_key_uy"]))


@pytest.mark.parametrize("index", [0, 1], ids=["sample", "test"])
def test_rfc6979_signature_from_its_k(rfc6979: dict[str, Any], index: int) -> None:
    vector = rfc6979["signatures"][index]
    e = int.from_bytes(_hash(hashes.SHA256(), vector["message_ascii"].encode()), "big")
    r, s = ref_ecdsa_sign(P256_CURVE, _h(rfc6979["private_key_x"]), e, _h(vector["k"]))
    assert (r, s) == (_h(vector["r"]), _h(vector["s"]))


@pytest.mark.parametrize("index", [0, 1], ids=["sample", "test"])
def test_rfc6979_signature_verifies_in_trust(rfc6979: dict[str, Any], index: int) -> None:
    vector = rfc6979["signatures"][index]
    message = vector["message_ascii"].encode()
    r, s = _h(vector["r"]), _h(vector["s"])
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(bytes.fromhex(rfc6979["public_key_ux"])),
        "y": b64url(bytes.fromhex(rfc6979["public_key_uy"])),
    }
    public = public_key_from_jwk(jwk)
    assert public.family is KeyFamily.P256
    assert public.verify("ES256", message, encode_der_rs(r, s)) is True
    assert public.verify("ES256", message, _raw(r, s)) is True
    assert public.verify("ES256", message, _raw(r, s), encoding=SigEncoding.RAW) is True
    assert public.verify("ES256", message + b"!", encode_der_rs(r, s)) is False
    assert public.verify("ES256", message, _raw(r, (s + 1) % P256_CURVE.n)) is False
    # the same key through PKCS#8: trust derives the same public key from x
    native = ec.derive_private_key(_h(rfc6979["private_key_x"]), ec.SECP256R1())
    pkcs8 = native.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert load_private_key(pkcs8).public_key() == public


# --- independent SM2 verifiers


def _gmssl_verify(pub: tuple[int, int], message: bytes, r: int, s: int) -> bool:
    pub_hex = (pub[0].to_bytes(32, "big") + pub[1].to_bytes(32, "big")).hex()
    verifier = gmssl_sm2.CryptSM2(private_key="", public_key=pub_hex, mode=1)
    # CryptSM2.__init__ runs lstrip("04") on keys that start with "04", which eats
    # leading digits of x; set the attribute ourselves so the key is exactly x ‖ y.
    verifier.public_key = pub_hex
    result = verifier.verify_with_sm3(_raw(r, s).hex(), message)
    return result is True  # gmssl returns 0 (not False) for some failures


@pytest.fixture(scope="module")
def sm2_signatures() -> list[tuple[tuple[int, int], bytes, int, int]]:
    """20 (public point, message, r, s) made by trust with 20 different keys.

    One key is chosen so that its hex public key starts with "04" (gmssl's lstrip trap).
    """
    keys = []
    for _ in range(20000):
        key = generate_private_key("sm2")
        if _point(key.public_key())[0].to_bytes(32, "big").hex().startswith("04"):
            keys.append(key)
            break
    assert keys, "no key with x starting 0x04 found"
    keys += [generate_private_key("sm2") for _ in range(19)]
    out = []
    for i, key in enumerate(keys):
        message = secrets.token_bytes(i * 7)
        r, s = decode_der_rs(key.sign("SM2", message))
        out.append((_point(key.public_key()), message, r, s))
    return out


def test_gmssl_verifies_our_sm2_signatures(
    sm2_signatures: list[tuple[tuple[int, int], bytes, int, int]],
) -> None:
    assert len(sm2_signatures) == 20
    for pub, message, r, s in sm2_signatures:
        assert _gmssl_verify(pub, message, r, s) is True
        assert _gmssl_verify(pub, message + b"x", r, s) is False
        assert _gmssl_verify(pub, message, r, (s + 1) % SM2_CURVE.n) is False


def test_gmssl_quirks_are_handled() -> None:
    # r = s = 0 makes gmssl return 0 rather than False; our wrapper maps it to False.
    key = generate_private_key("sm2")
    pub = _point(key.public_key())
    assert _gmssl_verify(pub, b"m", 0, 0) is False


def test_reference_verifier_agrees_with_trust(
    sm2_signatures: list[tuple[tuple[int, int], bytes, int, int]],
) -> None:
    n = SM2_CURVE.n
    for pub, message, r, s in sm2_signatures:
        public = public_key_from_jwk(_sm2_jwk(*pub))
        cases = [
            (message, r, s),
            (message + b"x", r, s),
            (message, r, (s + 1) % n),
            (message, (r + 1) % n, s),
            (message, s, r),
            (message, r, n - s),
        ]
        results = []
        for msg, rr, ss in cases:
            ours = public.verify("SM2", msg, _raw(rr, ss))
            reference = ref_sm2_verify(pub, msg, rr, ss)
            assert ours is reference, (msg, rr, ss)
            results.append(ours)
        assert results == [True, False, False, False, False, False]


def test_trust_verifies_reference_signatures() -> None:
    # The other direction: signatures from the pure-Python signer (random k) verify in trust.
    for i in range(5):
        d = secrets.randbelow(SM2_CURVE.n - 2) + 1
        pub = SM2_CURVE.mul(d, SM2_CURVE.g)
        assert pub is not None
        message = b"reference %d" % i
        r, s = ref_sm2_sign(d, message, secrets.randbelow(SM2_CURVE.n - 1) + 1)
        public = public_key_from_jwk(_sm2_jwk(*pub))
        assert public.verify("SM2", message, _raw(r, s)) is True
        assert public.verify("SM2", message, encode_der_rs(r, s)) is True
        assert public.verify("SM2", message + b".", _raw(r, s)) is False


def test_sm2_uses_the_default_distinguishing_id() -> None:
    # A signature computed with another ID must not verify: the ID is bound into Z.
    d = secrets.randbelow(SM2_CURVE.n - 2) + 1
    pub = SM2_CURVE.mul(d, SM2_CURVE.g)
    assert pub is not None
    message = b"id test"
    k = secrets.randbelow(SM2_CURVE.n - 1) + 1
    e_other = int.from_bytes(
        _hash(hashes.SM3(), ref_sm2_z(pub, b"ALICE123@YAHOO.COM") + message), "big"
    )
    kg = SM2_CURVE.mul(k, SM2_CURVE.g)
    assert kg is not None
    r = (e_other + kg[0]) % SM2_CURVE.n
    s = (pow(1 + d, -1, SM2_CURVE.n) * (k - r * d)) % SM2_CURVE.n
    public = public_key_from_jwk(_sm2_jwk(*pub))
    assert public.verify("SM2", message, _raw(r, s)) is False


# --- home-made edge cases


def _edge_cases(
    pub: tuple[int, int], message: str, r: int, s: int, n: int, source: str, alg: str
) -> dict[str, Any]:
    """Encodings of one valid published signature, and invalid neighbours."""

    def der_int(v: int, zeros: int = 0) -> bytes:
        body = b"\x00" * zeros + v.to_bytes(v.bit_length() // 8 + 1, "big")
        return b"\x02" + bytes([len(body)]) + body

    def seq(body: bytes, long_form: bool = False) -> bytes:
        return b"\x30" + (b"\x81" if long_form else b"") + bytes([len(body)]) + body

    def raw(a: int, b: int) -> str:
        return (a.to_bytes(32, "big") + b.to_bytes(32, "big")).hex()

    canonical = seq(der_int(r) + der_int(s))
    cases = [
        ("canonical DER", canonical.hex(), "any", True),
        ("canonical DER, encoding=der", canonical.hex(), "der", True),
        ("raw r||s", raw(r, s), "any", True),
        ("raw r||s, encoding=raw", raw(r, s), "raw", True),
        (
            "DER with long-form 0x81 SEQUENCE length",
            seq(der_int(r) + der_int(s), True).hex(),
            "any",
            True,
        ),
        ("DER with a redundant 0x00 before r", seq(der_int(r, 1) + der_int(s)).hex(), "any", True),
        (
            "DER with redundant 0x00 0x00 before s",
            seq(der_int(r) + der_int(s, 2)).hex(),
            "der",
            True,
        ),
        ("raw r||s with encoding=der", raw(r, s), "der", False),
        ("DER with encoding=raw", canonical.hex(), "raw", False),
        ("DER + trailing 0x00 outside the SEQUENCE", (canonical + b"\x00").hex(), "any", False),
        (
            "DER + trailing 0x00 inside the SEQUENCE",
            seq(der_int(r) + der_int(s) + b"\x00").hex(),
            "any",
            False,
        ),
        ("raw + trailing 0x00", raw(r, s) + "00", "any", False),
        ("truncated DER", canonical[:-1].hex(), "any", False),
        ("truncated raw", raw(r, s)[:-2], "any", False),
        ("r and s swapped", seq(der_int(s) + der_int(r)).hex(), "any", False),
        ("s + 1", raw(r, (s + 1) % n), "any", False),
        ("r + n (DER)", seq(der_int(r + n) + der_int(s)).hex(), "any", False),
        ("s + n (DER)", seq(der_int(r) + der_int(s + n)).hex(), "any", False),
        ("r = s = 0 (raw)", raw(0, 0), "any", False),
        ("r = s = 0 (DER)", seq(der_int(0) + der_int(0)).hex(), "any", False),
        ("r = 0", raw(0, s), "any", False),
        ("s = 0", raw(r, 0), "any", False),
        ("r = n", raw(n, s), "any", False),
        ("s = n", raw(r, n), "any", False),
        ("r = s = n", raw(n, n), "any", False),
        ("r = n + 1", raw(n + 1, s), "any", False),
        ("empty", "", "any", False),
    ]
    return {
        "generated_by": (
            "tests/trust/test_vectors.py --write-edge-cases (home-made, not from a standard)"
        ),
        "derived_from": source,
        "algorithm": alg,
        "public_key_x": f"{pub[0]:064X}",
        "public_key_y": f"{pub[1]:064X}",
        "message_ascii": message,
        "cases": [
            {"name": name, "signature": sig, "encoding": enc, "valid": valid}
            for name, sig, enc, valid in cases
        ],
    }


def _generated_edge_case_files() -> dict[str, dict[str, Any]]:
    a = _load("sm2/gmt0003-annexA.json")["sm2_sign"][0]
    p = _load("p256/rfc6979-A.2.5.json")
    ps = p["signatures"][0]
    return {
        "sm2/edge-cases-home-made.json": _edge_cases(
            (_h(a["public_key_x"]), _h(a["public_key_y"])),
            a["message_ascii"],
            _h(a["r"]),
            _h(a["s"]),
            SM2_CURVE.n,
            "sm2/gmt0003-annexA.json",
            "SM2",
        ),
        "p256/edge-cases-home-made.json": _edge_cases(
            (_h(p["public_key_ux"]), _h(p["public_key_uy"])),
            ps["message_ascii"],
            _h(ps["r"]),
            _h(ps["s"]),
            P256_CURVE.n,
            "p256/rfc6979-A.2.5.json (message 'sample')",
            "ES256",
        ),
    }


@pytest.mark.parametrize(
    "relative", ["sm2/edge-cases-home-made.json", "p256/edge-cases-home-made.json"]
)
def test_home_made_edge_case_files_match_their_generator(relative: str) -> None:
    assert _load(relative) == _generated_edge_case_files()[relative]


@pytest.mark.parametrize(
    "relative", ["sm2/edge-cases-home-made.json", "p256/edge-cases-home-made.json"]
)
def test_home_made_edge_cases(relative: str) -> None:
    data = _load(relative)
    crv = "SM2" if data["algorithm"] == "SM2" else "P-256"
    public = public_key_from_jwk(
        {
            "kty": "EC",
            "crv": crv,
            "x": b64url(bytes.fromhex(data["public_key_x"])),
            "y": b64url(bytes.fromhex(data["public_key_y"])),
        }
    )
    message = data["message_ascii"].encode()
    assert len(data["cases"]) > 20
    for case in data["cases"]:
        result = public.verify(
            data["algorithm"],
            message,
            bytes.fromhex(case["signature"]),
            encoding=SigEncoding(case["encoding"]),
        )
        assert result is case["valid"], case["name"]


def _write_edge_case_files() -> None:
    for relative, content in _generated_edge_case_files().items():
        path = VECTORS / relative
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-edge-cases"]:
        _write_edge_case_files()
    else:
        sys.exit(f"usage: {sys.argv[0]} --write-edge-cases")
