"""The GovTrust error hierarchy.

Every error raised by GovTrust code derives from :class:`TrustError` and carries
a stable, machine-readable ``code``. Codes are part of the public contract: APIs
return them, the CLI prints them, tests assert on them. Never reuse a code for
a different meaning.
"""

from __future__ import annotations

__all__ = [
    "TrustError",
    "UnsupportedAlgorithm",
    "InvalidKey",
    "MalformedInput",
    "KeyPurposeError",
    "KeyStateError",
    "KeyNotFound",
    "CertificateError",
]


class TrustError(Exception):
    """Root of all GovTrust errors."""

    code: str = "trust_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class UnsupportedAlgorithm(TrustError):
    """The algorithm is unknown, not allowed here, or does not fit the key."""

    code = "unsupported_algorithm"


class InvalidKey(TrustError):
    """The key material is malformed, off the curve, too weak or of the wrong type."""

    code = "invalid_key"


class MalformedInput(TrustError):
    """The input could not be decoded."""

    code = "malformed"


class KeyPurposeError(TrustError):
    """The key exists but was made for another purpose."""

    code = "key_purpose_mismatch"


class KeyStateError(TrustError):
    """The key is not in a state that allows this operation."""

    code = "key_state"


class KeyNotFound(TrustError):
    """No key with that identifier."""

    code = "key_not_found"


class CertificateError(TrustError):
    """A certificate or certificate path is not acceptable."""

    code = "certificate_invalid"
