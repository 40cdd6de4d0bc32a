"""One-time passwords for the second factor: HOTP (RFC 4226) and TOTP (RFC 6238).

Written from the RFCs with :mod:`hmac` and :mod:`hashlib`:

* **RFC 4226** §5.2-5.4: ``HOTP(K, C) = Truncate(HMAC-SHA-1(K, C))`` where ``C``
  is the 8-byte big-endian counter; dynamic truncation takes the low 4 bits of
  the last HMAC byte as an offset, reads 31 bits from there, and keeps the last
  ``Digit`` decimal digits (leading zeros kept). Known answers: Appendix D.
* **RFC 6238** §4: ``TOTP = HOTP(K, T)`` with ``T = floor((unixtime - T0) / X)``,
  ``T0 = 0``, ``X = 30`` s. §1.2 allows HMAC-SHA-256 and HMAC-SHA-512; we issue
  only what authenticator apps implement everywhere — SHA-1, 6 digits, 30 s —
  and keep the other modes (and 8 digits) for the Appendix B known answers.
  §5.2 (validation and resynchronisation): we accept ``window`` steps either
  side of the server's step for clock drift and return the matched step, so the
  caller stores it and refuses that step or an earlier one next time (§5.2:
  "the verifier MUST NOT accept the second attempt of the OTP after the
  successful validation has been issued for the first OTP").
* Provisioning follows Google Authenticator's *Key Uri Format*
  (``otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&…``); the secret
  is RFC 4648 base32 without padding. RFC 4226 §4 R6 asks for a shared secret of
  at least 128 bits and recommends 160: :func:`generate_secret` gives 160.

Comparisons are constant-time (:func:`hmac.compare_digest`) and every candidate
step in the window is computed, matched or not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from datetime import datetime
from typing import Final
from urllib.parse import quote, urlencode

__all__ = [
    "DIGITS",
    "PERIOD",
    "SECRET_BYTES",
    "DEFAULT_ISSUER",
    "generate_secret",
    "b32encode",
    "b32decode",
    "hotp",
    "time_step",
    "totp",
    "otpauth_uri",
    "verify",
]

#: What authenticator apps display and what :func:`verify` accepts by default.
DIGITS: Final = 6
#: RFC 6238 §5.2 recommends a 30-second time step.
PERIOD: Final = 30
#: RFC 4226 §4 R6: 160-bit shared secrets are recommended.
SECRET_BYTES: Final = 20
DEFAULT_ISSUER: Final = "国家政务服务平台"

_ALGORITHMS: Final = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_ASCII_DIGITS: Final = frozenset("0123456789")


def generate_secret() -> bytes:
    """A fresh 20-byte (160-bit) shared secret from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def b32encode(secret: bytes) -> str:
    """RFC 4648 base32, upper case, without ``=`` padding (what apps expect)."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def b32decode(text: str) -> bytes:
    """Inverse of :func:`b32encode`; tolerates lower case, spaces, hyphens and
    missing padding (people copy secrets by hand). Raises :class:`ValueError`."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        return base64.b32decode(cleaned, casefold=False)
    except binascii.Error as exc:
        raise ValueError(f"not base32: {exc}") from None


def hotp(secret: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226 §5.3 HOTP value for ``counter`` (a string: leading zeros matter)."""
    if not 6 <= digits <= 10:  # RFC 4226 §5.3: at least 6; 31 bits hold at most 10
        raise ValueError("digits must be between 6 and 10")
    if not 0 <= counter < 1 << 64:
        raise ValueError("the counter is an unsigned 64-bit integer")
    digestmod = _ALGORITHMS.get(algorithm)
    if digestmod is None:
        raise ValueError(f"unsupported HMAC algorithm {algorithm!r}")
    mac = hmac.new(secret, counter.to_bytes(8, "big"), digestmod).digest()
    offset = mac[-1] & 0x0F  # §5.4 dynamic truncation
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def time_step(at: datetime, *, period: int = PERIOD) -> int:
    """RFC 6238 §4.2 ``T = floor((unixtime - T0) / X)`` with ``T0 = 0``."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware (UTC) time")
    return math.floor(at.timestamp()) // period


def totp(
    secret: bytes,
    at: datetime,
    *,
    digits: int = DIGITS,
    period: int = PERIOD,
    algorithm: str = "sha1",
) -> str:
    """RFC 6238 TOTP value at time ``at``."""
    return hotp(secret, time_step(at, period=period), digits=digits, algorithm=algorithm)


def otpauth_uri(secret: bytes, account_name: str, issuer: str = DEFAULT_ISSUER) -> str:
    """The provisioning URI an authenticator app scans from a QR code.

    Label and parameters are percent-encoded as UTF-8 (``%20`` for spaces, never
    ``+``); the issuer appears both as the label prefix and as the ``issuer``
    parameter, as the Key Uri Format recommends.
    """
    if not account_name:
        raise ValueError("account name is empty")
    label = f"{quote(issuer, safe='')}:{quote(account_name, safe='')}"
    params = {
        "secret": b32encode(secret),
        "issuer": issuer,
        "algorithm": "SHA1",
        "digits": str(DIGITS),
        "period": str(PERIOD),
    }
    return f"otpauth://totp/{label}?{urlencode(params, quote_via=quote, safe='')}"


def verify(
    secret: bytes,
    code: str,
    *,
    at: datetime,
    last_step: int,
    window: int = 1,
    digits: int = DIGITS,
) -> int | None:
    """Check a TOTP ``code`` at time ``at``; return the matched time step, or None.

    Steps ``T - window … T + window`` are tried, but only those after
    ``last_step`` (the step of the last accepted code: replay guard). Anything
    but exactly ``digits`` ASCII digits is refused without computing a MAC.
    If two steps match (about one chance in 10^6 per extra step) the later
    one is returned, which refuses the most on the next attempt.
    """
    if window < 0:
        raise ValueError("window must not be negative")
    if not isinstance(code, str) or len(code) != digits or not set(code) <= _ASCII_DIGITS:
        return None
    now = time_step(at)
    matched: int | None = None
    for step in range(now - window, now + window + 1):
        if step < 0:
            continue
        # Compute and compare every candidate, so the time taken does not say
        # which step matched or whether one was skipped by the replay guard.
        equal = hmac.compare_digest(hotp(secret, step, digits=digits), code)
        if equal and step > last_step:
            matched = step
    return matched
