"""Strict JWS (RFC 7515) over the GovTrust algorithm table: RFC 8725 negative cases."""

from __future__ import annotations

import json

import pytest

from trust import b64url, b64url_decode, generate_private_key
from trust.jws import (
    JWSError,
    canonical_json,
    parse_compact,
    parse_general,
    sign_compact,
    sign_general,
)

FAMILIES = [
    ("sm2", "SM2"),
    ("p256", "ES256"),
    ("rsa", "RS256"),
    ("rsa", "PS256"),
    ("ed25519", "EdDSA"),
]


@pytest.fixture(scope="module")
def keys():
    return {alg: generate_private_key(fam, rsa_bits=2048) for fam, alg in FAMILIES}


@pytest.mark.parametrize("alg", [a for _, a in FAMILIES])
def test_compact_round_trip(keys, alg):
    key = keys[alg]
    token = sign_compact(b'{"x":1}', key.signer(alg, key_id="k1"), {"typ": "test"})
    payload, payload_b64, sig = parse_compact(token, allowed={alg})
    assert payload == b'{"x":1}' and sig.header == {"alg": alg, "kid": "k1", "typ": "test"}
    assert sig.verify(payload_b64, key.public_key())
    other = generate_private_key(key.family, rsa_bits=2048).public_key()
    assert not sig.verify(payload_b64, other)


def test_sm2_jws_signature_is_raw_64_bytes(keys):
    token = sign_compact(b"x", keys["SM2"].signer("SM2"))
    assert len(b64url_decode(token.split(".")[2])) == 64


def _forge(header: dict, payload: bytes = b"{}", sig: bytes = b"") -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(payload)}.{b64url(sig)}"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "HS256"},
        {"alg": "ES256"},
        {},
        {"alg": 7},
    ],
)
def test_algorithm_not_in_allow_list_is_refused(header):
    with pytest.raises(JWSError) as exc:
        parse_compact(_forge(header), allowed={"SM2"})
    assert exc.value.code == "alg_not_allowed"


def test_empty_allow_list_accepts_nothing():
    with pytest.raises(JWSError):
        parse_compact(_forge({"alg": "SM2"}), allowed=set())


def test_unknown_crit_is_refused():
    with pytest.raises(JWSError) as exc:
        parse_compact(_forge({"alg": "SM2", "crit": ["exp"], "exp": 1}), allowed={"SM2"})
    assert exc.value.code == "crit_unsupported"


def test_key_confusion_rsa_key_for_es256_signature(keys):
    token = sign_compact(b"x", keys["ES256"].signer("ES256"))
    _, p64, sig = parse_compact(token, allowed={"ES256"})
    assert sig.verify(p64, keys["RS256"].public_key()) is False


def test_der_signature_in_jws_is_refused(keys):
    key = keys["ES256"]
    token = sign_compact(b"x", key.signer("ES256"))
    h, p, _ = token.split(".")
    der = key.signer("ES256").sign(f"{h}.{p}".encode())
    _, p64, sig = parse_compact(f"{h}.{p}.{b64url(der)}", allowed={"ES256"})
    assert sig.verify(p64, key.public_key()) is False


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "!!!.e30.",
        _forge({"alg": "SM2"}).replace(".", "..", 1),
        b64url(b'{"alg":"SM2","alg":"ES256"}') + ".e30.",  # duplicate member
        b64url(b"[1]") + ".e30.",
        b64url(b'{"alg":"SM2","x":NaN}') + ".e30.",
        "é.e30.",
    ],
)
def test_malformed_compact(token):
    with pytest.raises(JWSError):
        parse_compact(token, allowed={"SM2", "ES256"})


def test_general_serialization_two_families(keys):
    doc = sign_general(
        b"payload",
        [(keys["SM2"].signer("SM2"), {"typ": "t"}), (keys["ES256"].signer("ES256"), {"typ": "t"})],
    )
    payload, p64, sigs = parse_general(json.dumps(doc), allowed={"SM2", "ES256"})
    assert payload == b"payload" and [s.algorithm.name for s in sigs] == ["SM2", "ES256"]
    assert sigs[0].verify(p64, keys["SM2"].public_key())
    assert sigs[1].verify(p64, keys["ES256"].public_key())
    # An international verifier that knows only ES256 sees one signature.
    _, _, only = parse_general(doc, allowed={"ES256"})
    assert [s.algorithm.name for s in only] == ["ES256"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("payload"),
        lambda d: d.update(signatures=[]),
        lambda d: d["signatures"][0].update(header={"kid": "x"}),
        lambda d: d["signatures"][0].update(signature=123),
        lambda d: d.update(payload="***"),
    ],
)
def test_general_malformed(keys, mutate):
    doc = sign_general(b"p", [(keys["SM2"].signer("SM2"), None)])
    mutate(doc)
    with pytest.raises(JWSError):
        parse_general(doc, allowed={"SM2"})


def test_canonical_json_is_deterministic():
    assert canonical_json({"b": 1, "a": "中"}) == '{"a":"中","b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
