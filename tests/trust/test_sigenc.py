"""trust.sigenc and the (r, s) verification paths of trust.crypto.

Verifiers must accept what real files contain (raw r‖s, non-minimal DER) and
refuse everything else (trailing bytes, negative integers, r or s outside
[1, n-1] — the "psychic signature" family); signers must only emit canonical DER.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trust.algorithms import KeyFamily
from trust.crypto import PrivateKey, PublicKey, generate_private_key
from trust.errors import MalformedInput
from trust.sigenc import (
    COORDINATE_SIZES,
    CURVE_ORDERS,
    SigEncoding,
    decode_der_rs,
    decode_rs,
    der_to_raw,
    encode_der_rs,
    raw_to_der,
)

DATA = b"sigenc test message"
EC_CASES = [("SM2", "sm2"), ("ES256", "p256")]
ALL_CASES = [
    ("SM2", "sm2"),
    ("ES256", "p256"),
    ("RS256", "rsa"),
    ("PS256", "rsa"),
    ("EdDSA", "ed25519"),
]
FAST = settings(max_examples=150, deadline=None, database=None)
FAST_WITH_FIXTURES = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# --- DER builders
# Hand-rolled on purpose: these must be able to produce the non-canonical forms
# that a correct encoder never would.


def der_len(n: int, *, long_form: bool = False) -> bytes:
    if n < 0x80 and not long_form:
        return bytes([n])
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    return bytes([0x80 | len(body)]) + body


def der_int_body(value: int, *, extra_zeros: int = 0) -> bytes:
    """Minimal two's-complement body of a non-negative integer, optionally zero-padded."""
    return b"\x00" * extra_zeros + value.to_bytes(value.bit_length() // 8 + 1, "big")


def tlv(tag: int, body: bytes, *, long_form: bool = False) -> bytes:
    return bytes([tag]) + der_len(len(body), long_form=long_form) + body


def der_sig(
    r: int | bytes,
    s: int | bytes,
    *,
    seq_long: bool = False,
    int_long: bool = False,
    r_zeros: int = 0,
    s_zeros: int = 0,
    inner_trailer: bytes = b"",
) -> bytes:
    rb = r if isinstance(r, bytes) else der_int_body(r, extra_zeros=r_zeros)
    sb = s if isinstance(s, bytes) else der_int_body(s, extra_zeros=s_zeros)
    body = tlv(0x02, rb, long_form=int_long) + tlv(0x02, sb, long_form=int_long) + inner_trailer
    return tlv(0x30, body, long_form=seq_long)


def raw_sig(r: int, s: int, size: int = 32) -> bytes:
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


@pytest.fixture(scope="module")
def ec_keys(private_keys: dict[str, PrivateKey]) -> dict[str, PrivateKey]:
    return {"sm2": private_keys["sm2"], "p256": private_keys["p256"]}


def _sign_until(key: PrivateKey, alg: str, predicate: Any) -> tuple[bytes, int, int]:
    for _ in range(2000):
        sig = key.sign(alg, DATA)
        r, s = decode_der_rs(sig)
        if predicate(r, s):
            return sig, r, s
    pytest.fail("no signature with the wanted shape")


# --- encoder / decoder


def test_encoder_matches_an_independent_der_encoder() -> None:
    for r, s in [(1, 1), (0x7F, 0x80), (0xFF, 0x100), (2**255, 2**256 - 1), (2**383 + 5, 3)]:
        assert encode_der_rs(r, s) == encode_dss_signature(r, s)
        assert decode_der_rs(encode_der_rs(r, s)) == (r, s)


@given(st.integers(1, 2**384), st.integers(1, 2**384))
@FAST
def test_der_encoding_round_trip(r: int, s: int) -> None:
    der = encode_der_rs(r, s)
    assert der == encode_dss_signature(r, s)
    assert decode_der_rs(der) == (r, s)
    assert decode_dss_signature(der) == (r, s)


@given(st.sampled_from([32, 48]), st.data())
@FAST
def test_raw_der_round_trip(size: int, data: st.DataObject) -> None:
    r = data.draw(st.integers(1, 2 ** (8 * size) - 1))
    s = data.draw(st.integers(1, 2 ** (8 * size) - 1))
    raw = raw_sig(r, s, size)
    der = raw_to_der(raw, size)
    assert decode_dss_signature(der) == (r, s)
    assert der_to_raw(der, size) == raw


def test_raw_to_der_rejects_wrong_length_and_zero() -> None:
    for raw in (b"", b"\x01" * 63, b"\x01" * 65):
        with pytest.raises(MalformedInput):
            raw_to_der(raw, 32)
    with pytest.raises(MalformedInput):
        raw_to_der(b"\x00" * 64, 32)
    with pytest.raises(MalformedInput):
        raw_to_der(b"\x00" * 32 + b"\x01" * 32, 32)


def test_der_to_raw_rejects_integers_too_large_for_the_curve() -> None:
    with pytest.raises(MalformedInput):
        der_to_raw(encode_der_rs(2**256, 1), 32)
    with pytest.raises(MalformedInput):
        der_to_raw(encode_der_rs(1, 2**256), 32)
    assert der_to_raw(encode_der_rs(2**256 - 1, 1), 32) == raw_sig(2**256 - 1, 1)


@pytest.mark.parametrize("r,s", [(0, 1), (1, 0), (-1, 1), (1, -5)])
def test_encoder_refuses_non_positive_values(r: int, s: int) -> None:
    with pytest.raises(MalformedInput):
        encode_der_rs(r, s)


R_TEST = 0x8000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0001
S_TEST = 0x1234


@pytest.mark.parametrize(
    "der",
    [
        der_sig(R_TEST, S_TEST, seq_long=True),
        der_sig(R_TEST, S_TEST, int_long=True),
        der_sig(R_TEST, S_TEST, seq_long=True, int_long=True),
        der_sig(R_TEST, S_TEST, r_zeros=1),
        der_sig(R_TEST, S_TEST, s_zeros=2),
        der_sig(R_TEST, S_TEST, r_zeros=3, s_zeros=3, seq_long=True, int_long=True),
        # two-octet long-form length 0x82 0x00 0x..
        b"\x30\x82\x00" + bytes([len(der_sig(R_TEST, S_TEST)) - 2]) + der_sig(R_TEST, S_TEST)[2:],
    ],
    ids=["seq-0x81", "int-0x81", "both-0x81", "r-leading-00", "s-leading-00-00", "all", "seq-0x82"],
)
def test_decoder_accepts_non_minimal_der(der: bytes) -> None:
    assert der != encode_der_rs(R_TEST, S_TEST)
    assert decode_der_rs(der) == (R_TEST, S_TEST)


CANONICAL = der_sig(R_TEST, S_TEST)


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x30",
        b"\x30\x00",
        CANONICAL[:-1],
        CANONICAL + b"\x00",
        CANONICAL + CANONICAL,
        der_sig(R_TEST, S_TEST, inner_trailer=b"\x00"),
        der_sig(R_TEST, S_TEST, inner_trailer=b"\x02\x01\x01"),
        b"\x31" + CANONICAL[1:],
        CANONICAL[:2] + b"\x03" + CANONICAL[3:],
        der_sig(R_TEST.to_bytes(32, "big"), S_TEST),  # r with the sign bit set: negative
        der_sig(R_TEST, b"\xff\x01"),  # negative s
        der_sig(b"", S_TEST),  # zero-length INTEGER
        b"\x30\x80" + CANONICAL[2:] + b"\x00\x00",  # indefinite length (BER, not DER)
        b"\x30\x85\x00\x00\x00\x00" + bytes([len(CANONICAL) - 2]) + CANONICAL[2:],
        tlv(0x30, tlv(0x02, der_int_body(R_TEST))),  # only one INTEGER
        tlv(0x30, tlv(0x30, CANONICAL[2:])),  # nested SEQUENCE
        b"\x00" * 72,
    ],
    ids=[
        "empty",
        "tag-only",
        "empty-seq",
        "truncated",
        "trailing-outside",
        "doubled",
        "trailing-inside",
        "third-integer",
        "set-tag",
        "bit-string-tag",
        "negative-r",
        "negative-s",
        "empty-integer",
        "indefinite",
        "5-octet-length",
        "one-integer",
        "nested",
        "zeros",
    ],
)
def test_decoder_rejects_malformed_der(der: bytes) -> None:
    with pytest.raises(MalformedInput):
        decode_der_rs(der)


@pytest.mark.parametrize("family", [KeyFamily.SM2, KeyFamily.P256, KeyFamily.P384])
def test_decode_rs_range(family: KeyFamily) -> None:
    n = CURVE_ORDERS[family]
    size = COORDINATE_SIZES[family]
    assert decode_rs(raw_sig(1, n - 1, size), family, SigEncoding.RAW) == (1, n - 1)
    assert decode_rs(encode_der_rs(n - 1, 1), family, SigEncoding.DER) == (n - 1, 1)
    for r, s in [(0, 0), (0, 1), (1, 0), (n, 1), (1, n), (n, n), (n + 1, 1)]:
        if max(r, s) < 2 ** (8 * size):
            with pytest.raises(MalformedInput):
                decode_rs(raw_sig(r, s, size), family, SigEncoding.RAW)
            with pytest.raises(MalformedInput):
                decode_rs(raw_sig(r, s, size), family, SigEncoding.ANY)
        with pytest.raises(MalformedInput):
            decode_rs(der_sig(r, s), family, SigEncoding.DER)
        with pytest.raises(MalformedInput):
            decode_rs(der_sig(r, s), family, SigEncoding.ANY)


def test_curve_orders_are_the_published_ones() -> None:
    # GB/T 32918.5 (SM2) and FIPS 186-5 / SEC 2 (P-256), typed in independently
    assert CURVE_ORDERS[KeyFamily.SM2] == int(
        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16
    )
    assert CURVE_ORDERS[KeyFamily.P256] == int(
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16
    )


# --- verification encodings


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_raw_signature_is_accepted(ec_keys: dict[str, PrivateKey], alg: str, family: str) -> None:
    key = ec_keys[family]
    public = key.public_key()
    der = key.sign(alg, DATA)
    raw = der_to_raw(der, 32)
    assert len(raw) == 64
    assert public.verify(alg, DATA, raw) is True
    assert public.verify(alg, DATA, raw, encoding=SigEncoding.RAW) is True
    assert public.verify(alg, DATA, raw, encoding=SigEncoding.ANY) is True
    # the encoding, when stated, is enforced
    assert public.verify(alg, DATA, raw, encoding=SigEncoding.DER) is False
    assert public.verify(alg, DATA, der, encoding=SigEncoding.RAW) is False
    assert public.verify(alg, DATA, der, encoding=SigEncoding.DER) is True


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_signer_sign_raw_is_fixed_width(
    ec_keys: dict[str, PrivateKey], alg: str, family: str
) -> None:
    key = ec_keys[family]
    signer = key.signer(alg)
    # find a signature with a short r or s too: fixed width must still be 64
    for _ in range(50):
        raw = signer.sign_raw(DATA)
        assert len(raw) == 64
        assert key.public_key().verify(alg, DATA, raw, encoding=SigEncoding.RAW) is True


@pytest.mark.parametrize("alg,family", EC_CASES)
@pytest.mark.parametrize(
    "variant",
    [
        {"seq_long": True},
        {"int_long": True},
        {"r_zeros": 1},
        {"s_zeros": 1},
        {"r_zeros": 2, "s_zeros": 1, "seq_long": True, "int_long": True},
    ],
    ids=["seq-0x81", "int-0x81", "r-00", "s-00", "all"],
)
def test_non_minimal_der_is_accepted(
    ec_keys: dict[str, PrivateKey], alg: str, family: str, variant: dict[str, Any]
) -> None:
    key = ec_keys[family]
    public = key.public_key()
    r, s = decode_der_rs(key.sign(alg, DATA))
    lenient = der_sig(r, s, **variant)
    assert lenient != encode_der_rs(r, s)
    assert public.verify(alg, DATA, lenient) is True
    assert public.verify(alg, DATA, lenient, encoding=SigEncoding.DER) is True
    assert public.verify(alg, DATA + b"!", lenient) is False


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_trailing_bytes_are_rejected(ec_keys: dict[str, PrivateKey], alg: str, family: str) -> None:
    key = ec_keys[family]
    public = key.public_key()
    sig = key.sign(alg, DATA)
    r, s = decode_der_rs(sig)
    for bad in (
        sig + b"\x00",
        sig + b"\x05\x00",
        der_sig(r, s, inner_trailer=b"\x00"),
        der_sig(r, s, inner_trailer=b"\x05\x00"),
        der_to_raw(sig, 32) + b"\x00",
    ):
        for encoding in SigEncoding:
            assert public.verify(alg, DATA, bad, encoding=encoding) is False


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_negative_integers_are_rejected(
    ec_keys: dict[str, PrivateKey], alg: str, family: str
) -> None:
    # Take a valid signature whose r (then s) has its top bit set and drop the 0x00
    # pad: the same magnitude, now a negative INTEGER. A sign-blind parser accepts it.
    key = ec_keys[family]
    public = key.public_key()
    sig, r, s = _sign_until(key, alg, lambda r, s: r.bit_length() == 256)
    negative_r = der_sig(r.to_bytes(32, "big"), s)
    sig2, r2, s2 = _sign_until(key, alg, lambda r, s: s.bit_length() == 256)
    negative_s = der_sig(r2, s2.to_bytes(32, "big"))
    for bad in (negative_r, negative_s):
        with pytest.raises(MalformedInput):
            decode_der_rs(bad)
        for encoding in (SigEncoding.ANY, SigEncoding.DER):
            assert public.verify(alg, DATA, bad, encoding=encoding) is False
    assert public.verify(alg, DATA, sig) is True and public.verify(alg, DATA, sig2) is True


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_signing_emits_only_canonical_der(
    ec_keys: dict[str, PrivateKey], alg: str, family: str
) -> None:
    key = ec_keys[family]
    n = CURVE_ORDERS[KeyFamily(family)]
    shapes = set()
    for i in range(200):
        sig = key.sign(alg, DATA + i.to_bytes(2, "big"))
        r, s = decode_der_rs(sig)
        assert encode_der_rs(r, s) == sig
        assert decode_dss_signature(sig) == (r, s)  # the strict parser agrees
        assert 0 < r < n and 0 < s < n
        assert len(sig) <= 72
        shapes.add(len(sig))
    assert len(shapes) > 1  # both padded and unpadded integers were exercised


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_values_congruent_mod_n_are_rejected(
    ec_keys: dict[str, PrivateKey], alg: str, family: str
) -> None:
    # r + n or s + n is the same value modulo n: a verifier that reduces first would accept.
    key = ec_keys[family]
    public = key.public_key()
    n = CURVE_ORDERS[KeyFamily(family)]
    r, s = decode_der_rs(key.sign(alg, DATA))
    for bad in (der_sig(r + n, s), der_sig(r, s + n), der_sig(r + n, s + n)):
        for encoding in (SigEncoding.ANY, SigEncoding.DER):
            assert public.verify(alg, DATA, bad, encoding=encoding) is False
    if r + n < 2**256:
        assert public.verify(alg, DATA, raw_sig(r + n, s)) is False
    if s + n < 2**256:
        assert public.verify(alg, DATA, raw_sig(r, s + n)) is False


# --- psychic signatures


def _psychic_values(n: int) -> list[tuple[str, int, int]]:
    return [
        ("r=s=0", 0, 0),
        ("r=0", 0, 1),
        ("s=0", 1, 0),
        ("r=n", n, 1),
        ("s=n", 1, n),
        ("r=s=n", n, n),
        ("r=n+1", n + 1, 1),
        ("s=n+1", 1, n + 1),
        ("r=n,s=0", n, 0),
        ("r=2^256-1", 2**256 - 1, 1),
        ("r=1,s=n-1", 1, n - 1),  # in range, (r+s) mod n == 0: SM2's t = 0 case
    ]


@pytest.mark.parametrize("alg,family", EC_CASES)
@pytest.mark.parametrize("form", ["der", "raw"])
def test_psychic_signatures_are_rejected(
    ec_keys: dict[str, PrivateKey], alg: str, family: str, form: str
) -> None:
    public = ec_keys[family].public_key()
    n = CURVE_ORDERS[KeyFamily(family)]
    for name, r, s in _psychic_values(n):
        if form == "raw":
            if max(r, s) >= 2**256:
                continue
            sig = raw_sig(r, s)
        else:
            sig = der_sig(r, s)
        for encoding in SigEncoding:
            for data in (DATA, b""):
                result = public.verify(alg, data, sig, encoding=encoding)
                assert result is False, (name, form, encoding)


@pytest.mark.parametrize("alg,family", EC_CASES)
def test_psychic_signatures_with_the_real_r(
    ec_keys: dict[str, PrivateKey], alg: str, family: str
) -> None:
    key = ec_keys[family]
    public = key.public_key()
    n = CURVE_ORDERS[KeyFamily(family)]
    r, s = decode_der_rs(key.sign(alg, DATA))
    for rr, ss in [(r, 0), (0, s), (r, n), (n, s), (n + r, s)]:
        candidates = [der_sig(rr, ss)]
        if max(rr, ss) < 2**256:
            candidates.append(raw_sig(rr, ss))
        for sig in candidates:
            assert public.verify(alg, DATA, sig) is False


# --- fuzz


@pytest.mark.parametrize("alg,family", ALL_CASES)
@given(junk=st.binary(max_size=600))
@FAST_WITH_FIXTURES
def test_random_bytes_never_verify_nor_raise(
    private_keys: dict[str, PrivateKey], alg: str, family: str, junk: bytes
) -> None:
    public = private_keys[family].public_key()
    for encoding in SigEncoding:
        assert public.verify(alg, DATA, junk, encoding=encoding) is False


@pytest.mark.parametrize("alg,family", ALL_CASES)
@given(junk=st.integers(0, 2**512 - 1))
@FAST_WITH_FIXTURES
def test_random_signature_sized_values_never_verify(
    private_keys: dict[str, PrivateKey], alg: str, family: str, junk: int
) -> None:
    public = private_keys[family].public_key()
    size = 256 if family == "rsa" else 64
    candidate = junk.to_bytes(64, "big").rjust(size, b"\x00")
    assert public.verify(alg, DATA, candidate) is False


@pytest.mark.parametrize("alg,family", EC_CASES)
@given(
    r=st.one_of(st.integers(0, 2**264), st.sampled_from([0, 1, 2**255, 2**256 - 1])),
    s=st.one_of(st.integers(0, 2**264), st.sampled_from([0, 1, 2**255, 2**256 - 1])),
    variant=st.fixed_dictionaries(
        {
            "seq_long": st.booleans(),
            "int_long": st.booleans(),
            "r_zeros": st.integers(0, 2),
            "s_zeros": st.integers(0, 2),
            "inner_trailer": st.sampled_from([b"", b"\x00", b"\x02\x01\x01"]),
        }
    ),
)
@FAST_WITH_FIXTURES
def test_random_der_shaped_signatures_never_verify(
    ec_keys: dict[str, PrivateKey],
    alg: str,
    family: str,
    r: int,
    s: int,
    variant: dict[str, Any],
) -> None:
    public: PublicKey = ec_keys[family].public_key()
    sig = der_sig(r, s, **variant)
    for encoding in SigEncoding:
        assert public.verify(alg, DATA, sig, encoding=encoding) is False


def test_fresh_key_rejects_signature_of_another_fresh_key() -> None:
    a, b = generate_private_key("sm2"), generate_private_key("sm2")
    sig = a.sign("SM2", DATA)
    assert b.public_key().verify("SM2", DATA, sig) is False
    assert b.public_key().verify("SM2", DATA, der_to_raw(sig, 32)) is False
