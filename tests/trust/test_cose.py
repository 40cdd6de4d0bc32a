"""trust.cose: COSE_Sign1 (RFC 9052), CWT claims (RFC 8392) and the bounded CBOR decoder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from gmssl import sm2 as gm_sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trust.algorithms import COSE_ALG_SM2
from trust.cose import (
    DCC_INTEROP,
    STRICT,
    CoseError,
    CwtError,
    check_cwt_times,
    decode_cbor,
    decode_cwt_claims,
    decode_sign1,
    encode_deterministic,
    sign1,
    verify_sign1,
)
from trust.crypto import PrivateKey, Signer, generate_private_key
from trust.errors import MalformedInput, TrustError, UnsupportedAlgorithm

# (GovTrust name, key family, COSE id)
ALGS: tuple[tuple[str, str, int], ...] = (
    ("SM2", "sm2", COSE_ALG_SM2),
    ("ES256", "p256", -7),
    ("ES384", "p384", -35),
    ("PS256", "rsa", -37),
    ("EdDSA", "ed25519", -8),
)
ALL_IDS = frozenset(a[2] for a in ALGS)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return {fam: generate_private_key(fam, rsa_bits=2048) for _, fam, _ in ALGS}


def signer_for(keys: dict[str, PrivateKey], name: str) -> Signer:
    fam = next(f for n, f, _ in ALGS if n == name)
    return keys[fam].signer(name)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("name", "family", "cose_id"), ALGS)
def test_round_trip(keys: dict[str, PrivateKey], name: str, family: str, cose_id: int) -> None:
    signer = signer_for(keys, name)
    data = sign1(b"payload", signer, alg=cose_id, kid=b"kid-1", unprotected={33: b"x5"})
    assert data[0] == 0xD2  # tag 18
    msg = decode_sign1(data)
    assert (msg.alg, msg.kid, msg.payload, msg.tags) == (cose_id, b"kid-1", b"payload", (18,))
    assert msg.alg_protected and dict(msg.unprotected) == {33: b"x5"}
    assert dict(msg.protected) == {1: cose_id, 4: b"kid-1"}
    if signer.algorithm.signature_size:
        assert len(msg.signature) == signer.algorithm.signature_size
    assert verify_sign1(data, signer.public_key, allowed_algs={cose_id}) == msg
    # Untagged and CWT-tagged forms of the same message verify too.
    body = data[1:]
    verify_sign1(body, signer.public_key, allowed_algs={cose_id})
    cwt = b"\xd8\x3d" + data
    assert decode_sign1(cwt).tags == (61, 18)
    verify_sign1(cwt, signer.public_key, allowed_algs={cose_id})


def test_sm2_cose_id_is_private_use() -> None:
    assert COSE_ALG_SM2 == -65601 < -65536


def test_sm2_cross_checked_with_gmssl(keys: dict[str, PrivateKey]) -> None:
    """gmssl (pure Python, independent) verifies our SM2 COSE signature over the
    Sig_structure with the default ID; verify only (SECURITY.md)."""
    signer = signer_for(keys, "SM2")
    msg = decode_sign1(sign1(b"license", signer, alg="SM2"))
    x, y = signer.public_key.point()  # type: ignore[attr-defined]
    verifier = gm_sm2.CryptSM2(private_key=None, public_key=f"{x:064x}{y:064x}")
    tbs = msg.sig_structure()
    assert tbs == cbor2.dumps(["Signature1", msg.protected_bytes, b"", b"license"])
    assert verifier.verify_with_sm3(msg.signature.hex(), tbs) is True
    assert verifier.verify_with_sm3(msg.signature.hex(), tbs + b"x") is not True


def test_protected_header_is_deterministic(keys: dict[str, PrivateKey]) -> None:
    signer = signer_for(keys, "ES256")
    data = sign1(b"p", signer, alg=-7, kid=b"k", protected_extra={24: 1, -1: 2, "z": 3})
    msg = decode_sign1(data)
    # RFC 8949 §4.2.1: keys sorted by encoded bytes: 0x01, 0x04, 0x18 0x18, 0x20, 0x61 'z'.
    assert msg.protected_bytes == bytes.fromhex("a5012604416b1818012002617a03")
    assert list(decode_cbor(msg.protected_bytes)) == [1, 4, 24, -1, "z"]
    assert encode_deterministic({"b": 1, "a": [1, {2: 3}]}) == bytes.fromhex(
        "a261618201a10203616201"
    )


def test_sign_refusals(keys: dict[str, PrivateKey]) -> None:
    signer = signer_for(keys, "ES256")
    with pytest.raises(UnsupportedAlgorithm):
        sign1(b"p", signer, alg=-35)  # not the signer's algorithm
    with pytest.raises(UnsupportedAlgorithm):
        sign1(b"p", signer, alg=-36)  # ES512: no P-521 in trust.crypto
    with pytest.raises(ValueError):
        sign1(b"p", signer, alg=-7, unprotected={1: -7})
    with pytest.raises(ValueError):
        sign1(b"p", signer, alg=-7, protected_extra={3: 0}, unprotected={3: 0})


# --------------------------------------------------------------------------- tampering


@pytest.fixture(scope="module")
def es256_message(keys: dict[str, PrivateKey]) -> tuple[bytes, Signer]:
    signer = signer_for(keys, "ES256")
    return sign1(b"the license payload", signer, alg=-7, kid=b"k1"), signer


def _parts(data: bytes) -> list[Any]:
    return list(cbor2.loads(data).value)


def _rebuild(parts: list[Any]) -> bytes:
    return bytes(cbor2.dumps(cbor2.CBORTag(18, parts)))


@pytest.mark.parametrize(("name", "family", "cose_id"), ALGS)
def test_tampering_any_byte_fails(
    keys: dict[str, PrivateKey], name: str, family: str, cose_id: int
) -> None:
    signer = signer_for(keys, name)
    good = _parts(sign1(b"payload!", signer, alg=cose_id))
    for index in (0, 2, 3):  # protected, payload, signature
        field = good[index]
        for pos in range(len(field)):
            parts = list(good)
            parts[index] = field[:pos] + bytes([field[pos] ^ 0x01]) + field[pos + 1 :]
            with pytest.raises(TrustError):  # CoseError, or MalformedInput for the header
                verify_sign1(_rebuild(parts), signer.public_key, allowed_algs=ALL_IDS)


def test_external_aad_is_bound(es256_message: tuple[bytes, Signer]) -> None:
    data, signer = es256_message
    with pytest.raises(CoseError) as exc:
        verify_sign1(data, signer.public_key, allowed_algs={-7}, external_aad=b"other")
    assert exc.value.code == "signature_invalid"


def test_stripped_or_resized_signature(es256_message: tuple[bytes, Signer]) -> None:
    data, signer = es256_message
    parts = _parts(data)
    for sig in (b"", b"foo", parts[3] + b"\x00", b"\x00" * 64, parts[3][:32] * 2):
        parts[3] = sig
        with pytest.raises(CoseError) as exc:
            verify_sign1(_rebuild(parts), signer.public_key, allowed_algs={-7})
        assert exc.value.code in ("signature_length", "signature_invalid")


def test_unprotected_header_is_not_signed_but_kid_is(es256_message: tuple[bytes, Signer]) -> None:
    data, signer = es256_message
    parts = _parts(data)
    parts[1] = {4: b"other"}
    msg = verify_sign1(_rebuild(parts), signer.public_key, allowed_algs={-7})
    assert msg.kid == b"k1"  # protected kid wins


# --------------------------------------------------------------------------- algorithm policy


def test_wrong_alg_or_key_refused(keys: dict[str, PrivateKey]) -> None:
    es256 = signer_for(keys, "ES256")
    data = sign1(b"p", es256, alg=-7)
    with pytest.raises(CoseError) as exc:
        verify_sign1(data, es256.public_key, allowed_algs={-37})
    assert exc.value.code == "alg_not_allowed"
    with pytest.raises(CoseError) as exc:
        verify_sign1(data, es256.public_key, allowed_algs=())
    assert exc.value.code == "alg_not_allowed"
    for other in ("sm2", "p384", "rsa", "ed25519"):
        with pytest.raises(CoseError) as exc:
            verify_sign1(data, keys[other].public_key(), allowed_algs=ALL_IDS)
        assert exc.value.code == "key_mismatch"
    # Another P-256 key: same family, signature fails.
    with pytest.raises(CoseError) as exc:
        verify_sign1(data, generate_private_key("p256").public_key(), allowed_algs={-7})
    assert exc.value.code == "signature_invalid"


def test_es256_on_p384_only_under_dcc_interop(keys: dict[str, PrivateKey]) -> None:
    p384 = keys["p384"]
    data = sign1(b"p", p384.signer("ES384"), alg=-35)
    parts = _parts(data)
    parts[0] = encode_deterministic({1: -7})  # relabel as ES256: now a SHA-384 signature
    relabelled = _rebuild(parts)
    with pytest.raises(CoseError) as exc:
        verify_sign1(relabelled, p384.public_key(), allowed_algs={-7})
    assert exc.value.code == "key_mismatch"
    with pytest.raises(CoseError) as exc:  # interop path uses SHA-256: still refused
        verify_sign1(relabelled, p384.public_key(), allowed_algs={-7}, profile=DCC_INTEROP)
    assert exc.value.code == "signature_invalid"


def test_alg_placement_rules(es256_message: tuple[bytes, Signer]) -> None:
    data, signer = es256_message
    parts = _parts(data)
    unprot = list(parts)
    unprot[0], unprot[1] = b"", {1: -7}
    with pytest.raises(CoseError) as exc:
        decode_sign1(_rebuild(unprot))
    assert exc.value.code == "alg_unprotected"
    msg = decode_sign1(_rebuild(unprot), profile=DCC_INTEROP)
    assert not msg.alg_protected
    with pytest.raises(CoseError) as exc:  # a message decoded leniently is still refused
        verify_sign1(msg, signer.public_key, allowed_algs={-7}, profile=STRICT)
    assert exc.value.code == "alg_unprotected"
    both = list(parts)
    both[1] = {1: -7}
    with pytest.raises(MalformedInput):
        decode_sign1(_rebuild(both))
    missing = list(parts)
    missing[0] = encode_deterministic({4: b"k"})
    with pytest.raises(CoseError) as exc:
        decode_sign1(_rebuild(missing))
    assert exc.value.code == "alg_missing"
    for bad_alg in ("ES256", True, 1.5):
        weird = list(parts)
        weird[0] = cbor2.dumps({1: bad_alg})
        with pytest.raises(CoseError):
            decode_sign1(_rebuild(weird))


def test_crit_refused(es256_message: tuple[bytes, Signer]) -> None:
    _, signer = es256_message
    data = sign1(b"p", signer, alg=-7, protected_extra={2: [99], 99: 1})
    with pytest.raises(CoseError) as exc:
        decode_sign1(data)
    assert exc.value.code == "crit_unsupported"


def test_es512_recognised_and_refused(es256_message: tuple[bytes, Signer]) -> None:
    data, signer = es256_message
    parts = _parts(data)
    parts[0] = encode_deterministic({1: -36})
    with pytest.raises(CoseError) as exc:
        verify_sign1(_rebuild(parts), signer.public_key, allowed_algs={-36})
    assert exc.value.code == "alg_unsupported"


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", []])), "cbor_tag_not_allowed"),
        (cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""])), "cbor_tag_not_allowed"),
        (cbor2.dumps(cbor2.CBORTag(61, [b"", {}, b"", b""])), "cose_malformed"),
        (cbor2.dumps([b"", {}, b""]), "cose_malformed"),
        (cbor2.dumps([b"\xa1\x01\x26", {}, None, b"s"]), "cose_malformed"),
        (cbor2.dumps([{1: -7}, {}, b"p", b"s"]), "cose_malformed"),
        (cbor2.dumps([b"\x83\x01\x02\x03", {}, b"p", b"s"]), "cose_malformed"),
        (cbor2.dumps([b"\xa1\x01", {}, b"p", b"s"]), "cbor_truncated"),
        (cbor2.dumps([b"\xa1\x01\x26", [], b"p", b"s"]), "cose_malformed"),
        (cbor2.dumps([b"\xa1\x01\x26", {4: "text"}, b"p", b"s"]), "cose_malformed"),
        (cbor2.dumps([b"\xa1\x01\x26", {1.5: 0}, b"p", b"s"]), "cose_malformed"),
        (cbor2.dumps([b"\xa1\x01\x26", {}, b"p", b"s"]) + b"\x00", "cbor_trailing_data"),
        (b"\x9f" + cbor2.dumps(b"") + b"\xa0\x40\x40\xff", "cbor_indefinite"),
        (b"", "cbor_truncated"),
    ],
)
def test_malformed_structures(data: bytes, code: str) -> None:
    with pytest.raises(MalformedInput) as exc:
        decode_sign1(data)
    assert exc.value.code == code


# --------------------------------------------------------------------------- bounded CBOR


def test_decode_cbor_bounds() -> None:
    deep = b"\x81" * 17 + b"\x00"
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(deep)
    assert exc.value.code == "cbor_too_deep"
    assert decode_cbor(b"\x81" * 16 + b"\x00") is not None
    tags = b"\xd8\x12" * 17 + b"\x00"
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(tags, allowed_tags={18})
    assert exc.value.code == "cbor_too_deep"
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(b"\x40" * 10, max_size=5)
    assert exc.value.code == "cbor_too_large"
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(b"\x99\x27\x10" + b"\x00" * 10_000)  # 10,000 items + the array
    assert exc.value.code == "cbor_too_many_items"
    with pytest.raises(MalformedInput) as exc:  # header claims 2^32 items, 3 bytes follow
        decode_cbor(b"\x9a\xff\xff\xff\xff\x00\x00\x00")
    assert exc.value.code == "cbor_truncated"
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(b"\x5a\xff\xff\xff\xff\x00")
    assert exc.value.code == "cbor_truncated"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xa2\x01\x00\x01\x01", "cbor_duplicate_key"),
        (b"\xa2\x61a\x00\x61a\x01", "cbor_duplicate_key"),
        (b"\xa2\x18\x01\x00\x01\x01", "cbor_duplicate_key"),  # 1 written two ways
        # keys a Python dict merges: true is 1, false is 0, 2.0 is 2 (found by the
        # browser verifier's parity fuzzing: {1: "mps", true: …} read as iss = …)
        (b"\xa2\x01\x00\xf5\x01", "cbor_duplicate_key"),
        (b"\xa2\xf4\x00\x00\x01", "cbor_duplicate_key"),
        (b"\xa2\x02\x00\xf9\x40\x00\x01", "cbor_duplicate_key"),
        (b"\xa2\xf6\x00\xf6\x01", "cbor_duplicate_key"),
        (b"\x5f\x41a\xff", "cbor_indefinite"),
        (b"\xbf\xff", "cbor_indefinite"),
        (b"\xff", "cbor_invalid"),
        (b"\x1c", "cbor_invalid"),
        (b"\x1f", "cbor_invalid"),
        (b"\xf8\x10", "cbor_invalid"),
        (b"\x62\xff\xfe", "cbor_invalid"),  # invalid UTF-8
        (b"\xc1\x00", "cbor_tag_not_allowed"),
        (b"\xc2\x41\x01", "cbor_tag_not_allowed"),
        (b"\xd8\x1c\x80", "cbor_tag_not_allowed"),  # shareable: could build cycles
        (b"\x18", "cbor_truncated"),
        (b"\x82\x00", "cbor_truncated"),
        (b"\x00\x00", "cbor_trailing_data"),
        ("text", "cbor_invalid"),
    ],
)
def test_decode_cbor_refusals(data: Any, code: str) -> None:
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(data)
    assert exc.value.code == code


def test_indefinite_allowed_on_request() -> None:
    assert decode_cbor(b"\xbf\x61a\x5f\x41x\x41y\xff\xff", allow_indefinite=True) == {"a": b"xy"}
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(b"\x5f\x61a\xff", allow_indefinite=True)  # text chunk in a byte string
    assert exc.value.code == "cbor_invalid"
    with pytest.raises(MalformedInput) as exc:
        decode_cbor(b"\xbf\x00\xff", allow_indefinite=True)  # key without value
    assert exc.value.code == "cbor_invalid"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_fuzz_decode_sign1_only_typed_errors(data: bytes) -> None:
    try:
        decode_sign1(data, profile=DCC_INTEROP)
    except TrustError:
        pass


_FUZZ_SIGNER = generate_private_key("p256").signer("ES256")
_FUZZ_MESSAGE = sign1(
    cbor2.dumps({1: "GT", 4: 2_000_000_000, 6: 1_700_000_000, -260: {1: {"v": [{"dn": 1}]}}}),
    _FUZZ_SIGNER,
    alg=-7,
    kid=b"fuzz",
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_messages_only_typed_errors(data: st.DataObject) -> None:
    signer = _FUZZ_SIGNER
    base = bytearray(_FUZZ_MESSAGE)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(base) - 1))
        base[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(base)))
    try:
        msg = decode_sign1(bytes(base[:cut]), profile=DCC_INTEROP)
        verify_sign1(msg, signer.public_key, allowed_algs=ALL_IDS, profile=DCC_INTEROP)
        decode_cwt_claims(msg.payload)
    except TrustError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**64), 2**64 - 1)  # bignums (tags 2/3) are refused by design
        | st.binary(max_size=8)
        | st.text(max_size=8),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.integers(-30, 30), c, max_size=4),
        max_leaves=30,
    )
)
def test_deterministic_encoding_round_trips(value: Any) -> None:
    encoded = encode_deterministic(value)
    decoded = decode_cbor(encoded, max_depth=64)
    assert encode_deterministic(decoded) == encoded


# --------------------------------------------------------------------------- CWT claims


def _claims(**extra: Any) -> bytes:
    base = {1: "gov.example", 2: "holder", 3: "verifier", 4: 2_000, 5: 1_000, 6: 1_000}
    base.update({int(k[1:]): v for k, v in extra.items()})
    return bytes(cbor2.dumps({k: v for k, v in base.items() if v is not None}))


def test_cwt_claims_typed() -> None:
    payload = cbor2.dumps(
        {
            1: "iss",
            2: "sub",
            3: "aud",
            4: 20,
            5: 10,
            6: 10.5,
            7: b"cti",
            8: {1: {}},
            -260: {1: {}},
            99: "x",
        }
    )
    c = decode_cwt_claims(payload)
    assert (c.iss, c.sub, c.aud, c.exp, c.nbf, c.iat, c.cti) == (
        "iss",
        "sub",
        "aud",
        20,
        10,
        10.5,
        b"cti",
    )
    assert (
        dict(c.cnf or {}) == {1: {}}
        and dict(c.hcert or {}) == {1: {}}
        and dict(c.extra) == {99: "x"}
    )


@pytest.mark.parametrize(
    "payload",
    [
        _claims(k1=5),
        _claims(k3=["a", "b"]),
        _claims(k4="2000"),
        _claims(k4=True),
        _claims(k4=float("nan")),
        _claims(k7="text"),
        _claims(k8=[1]),
        cbor2.dumps([1, 2]),
    ],
)
def test_cwt_claims_wrong_types(payload: bytes) -> None:
    with pytest.raises(CwtError) as exc:
        decode_cwt_claims(payload)
    assert exc.value.code == "cwt_malformed"


def test_cwt_tagged_dates_refused() -> None:
    tagged = cbor2.dumps({4: cbor2.CBORTag(1, 2000)})
    with pytest.raises(MalformedInput):
        decode_cwt_claims(tagged)
    with pytest.raises(CwtError):  # allowed by the decoder, still not a NumericDate
        decode_cwt_claims(tagged, allowed_tags={1})


def test_cwt_times() -> None:
    c = decode_cwt_claims(_claims())
    check_cwt_times(c, now=1_500)
    check_cwt_times(c, now=1_999.9)
    for now, code in ((2_000, "cwt_expired"), (999, "cwt_not_yet_valid")):
        with pytest.raises(CwtError) as exc:
            check_cwt_times(c, now=now)
        assert exc.value.code == code
    check_cwt_times(c, now=2_014, leeway=15)
    check_cwt_times(c, now=985, leeway=15)
    with pytest.raises(ValueError):
        check_cwt_times(c, now=1_500, leeway=16)
    future_iat = decode_cwt_claims(_claims(k5=None, k6=1_600))
    with pytest.raises(CwtError) as exc:
        check_cwt_times(future_iat, now=1_500)
    assert exc.value.code == "cwt_iat_in_future"
    no_exp = decode_cwt_claims(_claims(k4=None))
    with pytest.raises(CwtError) as exc:
        check_cwt_times(no_exp, now=1_500)
    assert exc.value.code == "cwt_exp_missing"
    check_cwt_times(no_exp, now=1_500, require_exp=False)


def test_cwt_times_with_datetime() -> None:
    exp = int((NOW + timedelta(hours=1)).timestamp())
    c = decode_cwt_claims(cbor2.dumps({4: exp, 6: int(NOW.timestamp())}))
    check_cwt_times(c, now=NOW)
    with pytest.raises(CwtError):
        check_cwt_times(c, now=NOW + timedelta(hours=1))
    with pytest.raises(ValueError):
        check_cwt_times(c, now=NOW.replace(tzinfo=None))


def test_sign_and_verify_a_cwt_end_to_end(keys: dict[str, PrivateKey]) -> None:
    signer = signer_for(keys, "SM2")
    now = int(NOW.timestamp())
    claims = encode_deterministic({1: "gov.example", 4: now + 3600, 6: now, 7: b"serial-1"})
    token = sign1(claims, signer, alg=COSE_ALG_SM2, kid=b"sm2-seal-1")
    msg = verify_sign1(token, signer.public_key, allowed_algs={COSE_ALG_SM2})
    parsed = decode_cwt_claims(msg.payload)
    check_cwt_times(parsed, now=NOW, leeway=15)
    assert parsed.cti == b"serial-1" and parsed.iss == "gov.example"


# The fast definite-length scan must decide exactly as the general scanner does.
_SCAN_LIMITS = {"max_depth": 4, "max_items": 40, "allowed_tags": frozenset({18, 61})}


def _general_scan(data: bytes) -> tuple[str, object]:
    from trust.cose import _Scanner

    try:
        scanner = _Scanner(data, allow_indefinite=False, **_SCAN_LIMITS)
        return "ok", scanner.item(0, 0)
    except MalformedInput as exc:
        return "error", exc.code


def _fast_scan_result(data: bytes) -> tuple[str, object]:
    from trust.cose import _fast_scan, _NeedFullScan

    try:
        return "ok", _fast_scan(data, **_SCAN_LIMITS)
    except _NeedFullScan:
        return _general_scan(data)
    except MalformedInput as exc:
        return "error", exc.code


_CBOR_BYTES = st.one_of(
    st.binary(max_size=64),
    st.recursive(
        st.one_of(
            st.integers(-(2**70), 2**70),
            st.binary(max_size=8),
            st.text(max_size=8),
            st.booleans(),
            st.none(),
        ),
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.dictionaries(
                st.one_of(st.integers(-30, 30), st.text(max_size=3)), inner, max_size=5
            ),
        ),
        max_leaves=30,
    ).map(lambda obj: cbor2.dumps(obj)),
)


@settings(max_examples=400, deadline=None)
@given(_CBOR_BYTES, st.integers(0, 8), st.binary(max_size=3))
def test_fast_scan_agrees_with_the_general_scanner(data: bytes, cut: int, noise: bytes) -> None:
    for candidate in (data, data[: max(0, len(data) - cut)], data + noise, noise + data):
        assert _fast_scan_result(candidate) == _general_scan(candidate), candidate.hex()


def test_fast_scan_known_cases() -> None:
    cases = [
        bytes.fromhex("a20101 0102"),  # duplicate int key
        bytes.fromhex("a2 01 01 1801 02"),  # same key, non-preferred encoding
        bytes.fromhex("a1 8101 01"),  # array as a map key: handled by the general scan
        bytes.fromhex("a2 8101 01 8101 02"),  # duplicate array keys
        bytes.fromhex("8181818181 01"),  # too deep
        bytes.fromhex("9f 01 ff"),  # indefinite
        bytes.fromhex("d9 0100 01"),  # tag not allowed
        bytes.fromhex("f8 10"),  # non-canonical simple value
        bytes.fromhex("a2 01 00 f5 01"),  # true is the key 1 in a Python dict
    ]
    for data in cases:
        assert _fast_scan_result(data) == _general_scan(data), data.hex()
    assert _general_scan(cases[0]) == ("error", "cbor_duplicate_key")
    assert _general_scan(cases[1]) == ("error", "cbor_duplicate_key")
    assert _general_scan(cases[3]) == ("error", "cbor_duplicate_key")
    assert _general_scan(cases[-1]) == ("error", "cbor_duplicate_key")
    assert _general_scan(cases[4]) == ("error", "cbor_too_deep")
