"""trust.passwords: libsodium argon2id behind argon2-cffi's API, checked against argon2-cffi."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from trust.passwords import OWASP_ARGON2ID, OWASP_ARGON2ID_19MIB, Argon2idHasher

SMALL = Argon2idHasher(time_cost=1, memory_cost=8192)
REFERENCE = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)


def test_owasp_parameters_and_format() -> None:
    encoded = OWASP_ARGON2ID.hash("Zhang-San-2026")
    assert encoded.startswith("$argon2id$v=19$m=7168,t=5,p=1$")
    assert OWASP_ARGON2ID.verify(encoded, "Zhang-San-2026") is True
    assert not OWASP_ARGON2ID.check_needs_rehash(encoded)
    # the reference implementation accepts what libsodium wrote
    assert PasswordHasher().verify(encoded, "Zhang-San-2026") is True
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(encoded, "Zhang-San-2027")


def test_both_directions_with_the_reference() -> None:
    ours = SMALL.hash("口令-密码-2026")
    theirs = REFERENCE.hash("口令-密码-2026")
    assert REFERENCE.verify(ours, "口令-密码-2026")
    assert SMALL.verify(theirs, "口令-密码-2026")
    for encoded in (ours, theirs):
        with pytest.raises(VerifyMismatchError):
            SMALL.verify(encoded, "口令-密码-2025")
    assert ours != SMALL.hash("口令-密码-2026")  # fresh salt every time


def test_bytes_and_str_agree() -> None:
    encoded = SMALL.hash(b"secret-bytes-123")
    assert SMALL.verify(encoded.encode(), "secret-bytes-123")
    assert SMALL.verify(encoded, b"secret-bytes-123")


@pytest.mark.parametrize(
    "other",
    [
        PasswordHasher(time_cost=1, memory_cost=8192, parallelism=4, type=Type.ID),
        PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.I),
        PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, salt_len=24, hash_len=48),
    ],
    ids=["four-lanes", "argon2i", "long-salt-and-tag"],
)
def test_shapes_libsodium_does_not_take_go_to_the_reference(other: PasswordHasher) -> None:
    encoded = other.hash("Another-Password-1")
    assert SMALL.verify(encoded, "Another-Password-1")
    with pytest.raises(VerifyMismatchError):
        SMALL.verify(encoded, "Another-Password-2")
    assert SMALL.check_needs_rehash(encoded)


def test_weaker_parameters_need_rehash() -> None:
    assert OWASP_ARGON2ID.check_needs_rehash(SMALL.hash("x" * 12))


def test_the_19_mib_configuration_is_read_and_replaced() -> None:
    """Hashes written with the cheat sheet's 19 MiB configuration (this project's
    default until 2026-11) still verify, and are marked for replacement."""
    old = OWASP_ARGON2ID_19MIB.hash("Li-Si-Password-1")
    assert old.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert OWASP_ARGON2ID.verify(old, "Li-Si-Password-1") is True
    with pytest.raises(VerifyMismatchError):
        OWASP_ARGON2ID.verify(old, "Li-Si-Password-2")
    assert OWASP_ARGON2ID.check_needs_rehash(old)
    assert not OWASP_ARGON2ID_19MIB.check_needs_rehash(old)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-a-hash",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$2b$12$" + "a" * 53,
        "$argon2id$" + "A" * 90,
    ],
)
def test_garbage_is_an_argon2_error(garbage: str) -> None:
    with pytest.raises((InvalidHashError, VerificationError)):
        SMALL.verify(garbage, "whatever-password")


def test_tampered_tag_is_a_mismatch() -> None:
    encoded = SMALL.hash("Tamper-Me-Please")
    head, tag = encoded.rsplit("$", 1)
    flipped = ("B" if tag[0] != "B" else "C") + tag[1:]
    with pytest.raises(VerifyMismatchError):
        SMALL.verify(f"{head}${flipped}", "Tamper-Me-Please")
