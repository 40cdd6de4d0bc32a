"""trust.hashes: SM3/SHA-2 digests and SM4-GCM / AES-256-GCM authenticated encryption."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gmssl import sm3 as gmssl_sm3
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.errors import MalformedInput, UnsupportedAlgorithm
from trust.hashes import (
    AEAD_ALGORITHMS,
    HASH_SIZES,
    aead_decrypt,
    aead_encrypt,
    digest,
    sha256,
    sm3,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
KEY_SIZES = {"AES-256-GCM": 32, "SM4-GCM": 16}
NONCE, TAG = 12, 16
AAD = b"govtrust:aad:v1"


def _known_answers() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (VECTORS / "aead" / "known-answers.json").read_text(encoding="utf-8")
    )
    return data


def _key(alg: str, fill: int = 7) -> bytes:
    return bytes([fill]) * KEY_SIZES[alg]


# --- digests


def test_digest_names_and_sizes() -> None:
    for name, size in HASH_SIZES.items():
        assert len(digest(name, b"x")) == size
    assert digest("sha256", b"abc") == hashlib.sha256(b"abc").digest()
    assert digest("sha384", b"abc") == hashlib.sha384(b"abc").digest()
    assert sha256(b"abc") == hashlib.sha256(b"abc").digest()
    assert sm3(b"abc") == digest("sm3", b"abc")


@pytest.mark.parametrize("name", ["md5", "sha1", "SHA256", "sm3 ", "", "sha512"])
def test_unknown_digest(name: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        digest(name, b"abc")


def test_sm3_agrees_with_gmssl_across_block_boundaries() -> None:
    # gmssl's SM3 is an independent pure-Python implementation
    for length in [*range(0, 130), 1000, 4096 + 3]:
        message = bytes((i * 31 + length) & 0xFF for i in range(length))
        assert sm3(message).hex() == gmssl_sm3.sm3_hash(list(message))


@given(st.binary(max_size=300))
@settings(max_examples=100, deadline=None, database=None)
def test_sm3_agrees_with_gmssl_on_random_input(message: bytes) -> None:
    assert sm3(message).hex() == gmssl_sm3.sm3_hash(list(message))


# --- SM4 and AEAD known answers


def test_cryptography_sm4_is_the_standard_sm4() -> None:
    vector = _known_answers()["sm4_block"]
    key = bytes.fromhex(vector["key"])
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    ciphertext = encryptor.update(bytes.fromhex(vector["plaintext"])) + encryptor.finalize()
    assert ciphertext.hex() == vector["ciphertext"]
    decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    assert (decryptor.update(ciphertext) + decryptor.finalize()).hex() == vector["plaintext"]


@pytest.mark.parametrize("index", [0, 1], ids=["SM4-GCM-RFC8998", "AES-256-GCM-case16"])
def test_aead_known_answer(index: int) -> None:
    vector = _known_answers()["aead"][index]
    alg = vector["alg"]
    key = bytes.fromhex(vector["key"])
    aad = bytes.fromhex(vector["aad"])
    plaintext = bytes.fromhex(vector["plaintext"])
    blob = bytes.fromhex(vector["iv"] + vector["ciphertext"] + vector["tag"])
    # aead_encrypt's output layout is nonce ‖ ciphertext ‖ tag, so a published
    # (iv, ciphertext, tag) triple decrypts through the public API
    assert aead_decrypt(alg, key, blob, aad) == plaintext
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, key, blob[:-1] + bytes([blob[-1] ^ 1]), aad)
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, key, blob, aad + b"\x00")
    # and our encryption of the same plaintext has the same shape
    ours = aead_encrypt(alg, key, plaintext, aad)
    assert len(ours) == len(blob)
    assert aead_decrypt(alg, key, ours, aad) == plaintext


# --- AEAD behaviour


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_aead_round_trip(alg: str, size: int) -> None:
    key = _key(alg)
    plaintext = bytes(range(256)) * 4
    plaintext = plaintext[:size]
    blob = aead_encrypt(alg, key, plaintext, AAD)
    assert len(blob) == NONCE + size + TAG
    if size >= 16:
        assert plaintext not in blob
    assert aead_decrypt(alg, key, blob, AAD) == plaintext


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
def test_aead_round_trip_with_empty_aad(alg: str) -> None:
    key = _key(alg)
    blob = aead_encrypt(alg, key, b"secret", b"")
    assert aead_decrypt(alg, key, blob, b"") == b"secret"
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, key, blob, b"\x00")


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
def test_aead_nonces_are_fresh(alg: str) -> None:
    key = _key(alg)
    blobs = [aead_encrypt(alg, key, b"same plaintext", AAD) for _ in range(50)]
    assert len({b[:NONCE] for b in blobs}) == 50
    assert len(set(blobs)) == 50


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
def test_aead_interoperates_with_plain_gcm(alg: str) -> None:
    # nonce ‖ ciphertext ‖ tag, standard GCM with a 96-bit nonce and a 128-bit tag
    key = _key(alg)
    blob = aead_encrypt(alg, key, b"layout check", AAD)
    nonce, body, tag = blob[:NONCE], blob[NONCE:-TAG], blob[-TAG:]
    if alg == "AES-256-GCM":
        assert AESGCM(key).decrypt(nonce, body + tag, AAD) == b"layout check"
    else:
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(AAD)
        assert dec.update(body) + dec.finalize() == b"layout check"


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
def test_aead_every_tampered_byte_is_detected(alg: str) -> None:
    key = _key(alg)
    blob = aead_encrypt(alg, key, b"tamper me", AAD)
    for index in range(len(blob)):  # nonce, ciphertext and tag alike
        for mask in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= mask
            with pytest.raises(MalformedInput):
                aead_decrypt(alg, key, bytes(tampered), AAD)


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
def test_aead_truncation_and_extension_are_detected(alg: str) -> None:
    key = _key(alg)
    blob = aead_encrypt(alg, key, b"truncate me", AAD)
    for length in range(len(blob)):
        with pytest.raises(MalformedInput):
            aead_decrypt(alg, key, blob[:length], AAD)
    for longer in (blob + b"\x00", b"\x00" + blob):
        with pytest.raises(MalformedInput):
            aead_decrypt(alg, key, longer, AAD)


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
def test_aead_wrong_key_or_aad_is_detected(alg: str) -> None:
    key = _key(alg)
    blob = aead_encrypt(alg, key, b"payload", AAD)
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, _key(alg, fill=8), blob, AAD)
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, key, blob, AAD + b"x")
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, key, blob, b"")


def test_aead_ciphertext_of_one_algorithm_does_not_open_as_the_other() -> None:
    blob = aead_encrypt("SM4-GCM", bytes(16), b"payload", AAD)
    with pytest.raises(MalformedInput):
        aead_decrypt("AES-256-GCM", bytes(32), blob, AAD)
    blob = aead_encrypt("AES-256-GCM", bytes(32), b"payload", AAD)
    with pytest.raises(MalformedInput):
        aead_decrypt("SM4-GCM", bytes(16), blob, AAD)


@pytest.mark.parametrize(
    "alg,size",
    [
        ("AES-256-GCM", 0),
        ("AES-256-GCM", 16),
        ("AES-256-GCM", 24),
        ("AES-256-GCM", 31),
        ("AES-256-GCM", 33),
        ("SM4-GCM", 0),
        ("SM4-GCM", 15),
        ("SM4-GCM", 17),
        ("SM4-GCM", 32),
    ],
)
def test_aead_wrong_key_length(alg: str, size: int) -> None:
    with pytest.raises(MalformedInput):
        aead_encrypt(alg, bytes(size), b"payload", AAD)
    valid_shape = bytes(NONCE + 5 + TAG)
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, bytes(size), valid_shape, AAD)


def test_aes_256_gcm_decrypt_refuses_an_aes_128_key() -> None:
    """A 16-byte key must not silently downgrade AES-256-GCM to AES-128-GCM."""
    key = bytes(range(16))
    nonce = bytes(NONCE)
    blob = nonce + AESGCM(key).encrypt(nonce, b"downgraded", AAD)  # a valid AES-128-GCM blob
    with pytest.raises(MalformedInput):
        aead_decrypt("AES-256-GCM", key, blob, AAD)


@pytest.mark.parametrize("alg", ["AES-128-GCM", "aes-256-gcm", "SM4-CBC", "ChaCha20-Poly1305", ""])
def test_aead_unknown_algorithm(alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        aead_encrypt(alg, bytes(32), b"payload", AAD)
    with pytest.raises(UnsupportedAlgorithm):
        aead_decrypt(alg, bytes(32), bytes(NONCE + 5 + TAG), AAD)


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
@given(plaintext=st.binary(max_size=200), aad=st.binary(max_size=50))
@settings(max_examples=50, deadline=None, database=None)
def test_aead_round_trip_property(alg: str, plaintext: bytes, aad: bytes) -> None:
    key = _key(alg, fill=3)
    assert aead_decrypt(alg, key, aead_encrypt(alg, key, plaintext, aad), aad) == plaintext


@pytest.mark.parametrize("alg", AEAD_ALGORITHMS)
@given(junk=st.binary(max_size=100))
@settings(max_examples=100, deadline=None, database=None)
def test_aead_random_blobs_only_raise_malformed_input(alg: str, junk: bytes) -> None:
    with pytest.raises(MalformedInput):
        aead_decrypt(alg, _key(alg), junk, AAD)
