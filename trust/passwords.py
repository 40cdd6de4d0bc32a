"""Password hashing: argon2id in the standard PHC string format, run by libsodium.

:class:`Argon2idHasher` is argon2-cffi's :class:`argon2.PasswordHasher` (same
API, same exceptions, same ``$argon2id$v=19$m=…,t=…,p=…$salt$hash`` strings, so
``check_needs_rehash`` and stored hashes keep working) whose hashing and
verification run in libsodium (PyNaCl) whenever the parameters are ones
libsodium implements: argon2id, version 19, one lane, a 16-byte salt and a
32-byte tag. libsodium has AVX2/AVX-512 kernels; argon2-cffi's bundled
reference build does not, and on this project's machines the same work costs
about two thirds of the time (see benchmarks/idp). Any other string — other
parameters, argon2i/argon2d, hashes written elsewhere — is verified by
argon2-cffi exactly as before. Both paths release the GIL.

Passwords are compared inside the library (constant time); nothing here looks
at the tag.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import nacl.exceptions
import nacl.pwhash.argon2id as sodium_argon2id
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError, VerifyMismatchError

__all__ = ["OWASP_ARGON2ID", "OWASP_ARGON2ID_19MIB", "Argon2idHasher"]

# $argon2id$v=19$m=<KiB>,t=<passes>,p=1$<22 base64 chars = 16 bytes>$<43 chars = 32 bytes>
_SODIUM_SHAPE: Final = re.compile(
    rb"\$argon2id\$v=19\$m=([1-9][0-9]{0,9}),t=([1-9][0-9]{0,9}),p=1\$"
    rb"[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}"
)


class Argon2idHasher(PasswordHasher):
    """argon2-cffi's hasher with libsodium doing the work where it can (see module doc)."""

    def __init__(self, time_cost: int, memory_cost: int) -> None:
        super().__init__(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=1,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if salt is not None:  # a caller-chosen salt: argon2-cffi supports it, libsodium does not
            return super().hash(password, salt=salt)
        secret = password.encode(self.encoding) if isinstance(password, str) else password
        encoded: bytes = sodium_argon2id.str(
            secret, opslimit=self.time_cost, memlimit=self.memory_cost * 1024
        )
        return encoded.decode("ascii")

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        encoded = hash.encode("ascii") if isinstance(hash, str) else hash
        if _SODIUM_SHAPE.fullmatch(encoded) is None:
            return super().verify(hash, password)
        secret = password.encode(self.encoding) if isinstance(password, str) else password
        try:
            ok: bool = sodium_argon2id.verify(encoded, secret)
        except nacl.exceptions.InvalidkeyError:
            raise VerifyMismatchError("password does not match") from None
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            # Parameters libsodium refuses (e.g. m below its minimum): let the
            # reference implementation decide, as for any other string.
            try:
                return super().verify(hash, password)
            except VerificationError:
                raise
            except Exception:  # pragma: no cover - both libraries refused the string
                raise VerificationError(str(exc)) from None
        if not ok:  # pragma: no cover - libsodium raises instead
            raise VerifyMismatchError("password does not match")
        return True


#: The OWASP Password Storage Cheat Sheet gives five argon2id configurations as its
#: minimum, of equal strength, trading memory for passes: (46 MiB, 1), (19 MiB, 2),
#: (12 MiB, 3), (9 MiB, 4) and (7 MiB, 5), all with one lane. This is the last one,
#: m = 7168 KiB, t = 5, p = 1 — also Keycloak's default. Argon2 is bound by memory
#: bandwidth, so on the project's machines it costs 40 % less CPU per sign-in than
#: the 19 MiB configuration (benchmarks/idp prints both).
OWASP_ARGON2ID: Final = Argon2idHasher(time_cost=5, memory_cost=7168)
#: The cheat sheet's headline configuration (m = 19 MiB, t = 2, p = 1), same strength.
OWASP_ARGON2ID_19MIB: Final = Argon2idHasher(time_cost=2, memory_cost=19456)
