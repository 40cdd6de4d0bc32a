"""Message digests (SM3 per GB/T 32905, SHA-2) and authenticated encryption
(SM4-GCM per GB/T 32907 + NIST SP 800-38D, AES-256-GCM) through one small API."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import MalformedInput, UnsupportedAlgorithm

__all__ = [
    "sm3",
    "sha256",
    "digest",
    "HASH_SIZES",
    "aead_encrypt",
    "aead_decrypt",
    "AEAD_ALGORITHMS",
]

_HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "sm3": hashes.SM3,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
}
HASH_SIZES: Final = {"sm3": 32, "sha256": 32, "sha384": 48}
AEAD_ALGORITHMS: Final = ("AES-256-GCM", "SM4-GCM")
_NONCE = 12
_TAG = 16


def digest(name: str, data: bytes) -> bytes:
    """Hash ``data`` with the named digest (``sm3``, ``sha256``, ``sha384``)."""
    try:
        algorithm = _HASHES[name]()
    except KeyError:
        raise UnsupportedAlgorithm(f"unknown digest {name!r}") from None
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905) of ``data``."""
    return digest("sm3", data)


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return digest("sha256", data)


def aead_encrypt(alg: str, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate; returns nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(_NONCE)
    if alg == "AES-256-GCM":
        if len(key) != 32:
            raise MalformedInput("AES-256-GCM needs a 32-byte key")
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    if alg == "SM4-GCM":
        if len(key) != 16:
            raise MalformedInput("SM4-GCM needs a 16-byte key")
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return nonce + body + enc.tag
    raise UnsupportedAlgorithm(f"unknown AEAD {alg!r}")


def aead_decrypt(alg: str, key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`aead_encrypt`; raises :class:`MalformedInput` if tampered."""
    if alg not in AEAD_ALGORITHMS:
        raise UnsupportedAlgorithm(f"unknown AEAD {alg!r}")
    if len(key) != (32 if alg == "AES-256-GCM" else 16):
        raise MalformedInput(f"{alg} needs a {32 if alg == 'AES-256-GCM' else 16}-byte key")
    if len(blob) < _NONCE + _TAG:
        raise MalformedInput("ciphertext too short")
    nonce, body = blob[:_NONCE], blob[_NONCE:]
    try:
        if alg == "AES-256-GCM":
            return AESGCM(key).decrypt(nonce, body, aad)
        if alg == "SM4-GCM":
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-_TAG:])).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-_TAG]) + dec.finalize()
    except (InvalidTag, ValueError):
        raise MalformedInput("ciphertext failed authentication") from None
    raise UnsupportedAlgorithm(f"unknown AEAD {alg!r}")
