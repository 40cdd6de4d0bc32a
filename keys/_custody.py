"""Where private keys live: the custody backends behind :class:`keys.KeyStore`.

* :class:`SoftwareCustody` — private keys envelope-encrypted at rest: a fresh
  256-bit data key per private key encrypts its PKCS#8 with AES-256-GCM; the
  data key is wrapped with AES-256-GCM under the master key-encryption key
  (KEK). The associated data binds the ciphertext to the key id, purpose,
  algorithm and owner, so a blob copied onto another record does not decrypt.
* ``keys._pkcs11.Pkcs11Custody`` — keys generated inside a PKCS#11 token
  (SoftHSM2 in tests), ``CKA_SENSITIVE`` and not ``CKA_EXTRACTABLE``.

SM2 keys live in the software backend: SoftHSM2 has no SM2 mechanism. A
GM/T 0018 (SDF) cryptographic device would plug in as one more
:class:`Custody` whose ``signer`` calls ``SDF_InternalSign_ECC``; see
docs/keys.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from trust import (
    KeyFamily,
    MalformedInput,
    PublicKey,
    SignatureAlgorithm,
    Signer,
    TrustError,
    aead_decrypt,
    aead_encrypt,
    generate_private_key,
    load_private_key,
)
from trust.crypto import PrivateKey

__all__ = ["Custody", "StoredKey", "MasterKey", "SoftwareCustody", "MasterKeyError"]

log = logging.getLogger(__name__)

_ENVELOPE_VERSION: Final = 1
_KEK_ALG: Final = "AES-256-GCM"


class MasterKeyError(TrustError):
    """The master key is missing, malformed, or not the one the data was sealed under."""

    code = "master_key"


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What a custody backend hands back when it creates or imports a key."""

    public_key: PublicKey
    blob: bytes | None
    ref: str | None


class Custody(ABC):
    """A place where private keys are created and used, never exported."""

    backend: str

    @abstractmethod
    def generate(
        self, ref: str, family: KeyFamily, *, context: Callable[[PublicKey], bytes]
    ) -> StoredKey:
        """Create a key of ``family``; ``ref`` names it in the backend. ``context``
        maps the new public key to the associated data that binds its record."""

    @abstractmethod
    def signer(
        self,
        algorithm: SignatureAlgorithm,
        public_key: PublicKey,
        blob: bytes | None,
        ref: str | None,
        *,
        context: bytes,
        key_id: str,
    ) -> Signer:
        """A :class:`Signer` over the stored key."""

    def destroy(self, ref: str | None) -> None:  # noqa: B027 - optional hook
        """Destroy the key material where the backend can (retired keys)."""


class MasterKey:
    """The 256-bit key-encryption key of the software key store."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise MasterKeyError("the master key must be 32 bytes")
        self._key = key
        self.key_id = hashlib.sha256(b"govtrust-kek\x00" + key).digest()[:8]

    def __repr__(self) -> str:  # never show the key
        return f"<MasterKey {self.key_id.hex()}>"

    @classmethod
    def parse(cls, text: str) -> MasterKey:
        """Accept 64 hex digits or base64 of 32 bytes."""
        text = text.strip()
        try:
            if len(text) == 64:
                return cls(binascii.unhexlify(text))
            return cls(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise MasterKeyError("GOVTRUST_MASTER_KEY must be 64 hex digits or base64") from None

    @classmethod
    def load(cls, value: str | None, path: Path | None, *, create: bool = False) -> MasterKey:
        """From the environment value, else the file; with ``create``, make the file."""
        if value:
            return cls.parse(value)
        if path is not None and path.exists():
            return cls.parse(path.read_text())
        if path is not None and create:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key.hex() + "\n")
            log.warning(
                "created a DEVELOPMENT master key at %s; production deployments must set "
                "GOVTRUST_MASTER_KEY or GOVTRUST_MASTER_KEY_FILE from a secret store",
                path,
            )
            return cls(key)
        raise MasterKeyError(
            "no master key: set GOVTRUST_MASTER_KEY or GOVTRUST_MASTER_KEY_FILE "
            "(or run 'govtrust init' to create a development one)"
        )

    def derive(self, label: str, length: int = 32) -> bytes:
        """A purpose-bound secret derived with HKDF-SHA256 (RFC 5869); the master
        key itself never leaves this object."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(hashes.SHA256(), length, salt=None, info=f"govtrust|{label}".encode()).derive(
            self._key
        )

    def wrap(self, plaintext: bytes, context: bytes) -> bytes:
        """Envelope-encrypt ``plaintext`` bound to ``context``."""
        dek = secrets.token_bytes(32)
        wrapped = aead_encrypt(_KEK_ALG, self._key, dek, b"dek\x00" + context)
        body = aead_encrypt(_KEK_ALG, dek, plaintext, b"key\x00" + context)
        return bytes([_ENVELOPE_VERSION]) + self.key_id + wrapped + body

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        if len(blob) < 9 + 60 or blob[0] != _ENVELOPE_VERSION:
            raise MasterKeyError("unknown key envelope format")
        if blob[1:9] != self.key_id:
            raise MasterKeyError("key was sealed under a different master key")
        try:
            dek = aead_decrypt(_KEK_ALG, self._key, blob[9:69], b"dek\x00" + context)
            return aead_decrypt(_KEK_ALG, dek, blob[69:], b"key\x00" + context)
        except MalformedInput:
            raise MasterKeyError("key envelope failed authentication") from None


class SoftwareCustody(Custody):
    """Private keys encrypted at rest under a :class:`MasterKey`."""

    backend = "software"

    def __init__(self, master_key: MasterKey, *, rsa_bits: int = 3072) -> None:
        self._master = master_key
        self._rsa_bits = rsa_bits

    def generate(
        self, ref: str, family: KeyFamily, *, context: Callable[[PublicKey], bytes]
    ) -> StoredKey:
        key = generate_private_key(family, rsa_bits=self._rsa_bits)
        return self.store(key, context=context(key.public_key()))

    def store(self, key: PrivateKey, *, context: bytes) -> StoredKey:
        """Take custody of an existing private key (import)."""
        return StoredKey(key.public_key(), self._master.wrap(key.pkcs8_der(), context), None)

    def signer(
        self,
        algorithm: SignatureAlgorithm,
        public_key: PublicKey,
        blob: bytes | None,
        ref: str | None,
        *,
        context: bytes,
        key_id: str,
    ) -> Signer:
        if blob is None:
            raise MasterKeyError("software key record has no private part")
        key = load_private_key(self._master.unwrap(blob, context))
        if key.public_key() != public_key:
            raise MasterKeyError("stored private key does not match its public key")
        return key.signer(algorithm, key_id=key_id)
