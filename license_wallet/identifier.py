"""GB/T 36904-2018 e-license identifiers (电子证照标识).

Pure Python (standard library and :mod:`trust.identifiers` only), so the
offline verifier and third parties can use it.

Structure
---------

::

    1.2.156.3005.2.<证照类型代码>.<证照颁发机构代码>.<顺序号>.<版本号>.<校验位>

* prefix ``1.2.156.3005.2`` — the OID arc of e-licenses;
* **证照类型代码** (license type code, :attr:`LicenseIdentifier.type_code`):
  21 characters, the GB 32100 unified social credit code (USCC) of the body
  that defines the license type followed by a 3-digit sequence number, e.g.
  ``11100000000013338W011``;
* **证照颁发机构代码** (issuer code, :attr:`LicenseIdentifier.issuer_code`):
  the issuer's 18-character USCC, validated with
  :func:`trust.identifiers.validate_uscc` (both check characters);
* **顺序号 / 流水号** (serial, :attr:`LicenseIdentifier.serial`): 1 to
  :data:`MAX_SERIAL_LENGTH` characters of ``0-9A-Z``;
* **版本号** (version, :attr:`LicenseIdentifier.version`): 3 digits,
  ``001`` to ``999``;
* **校验位** (check character, :attr:`LicenseIdentifier.check`): one character
  of ``0-9A-Z``, ISO/IEC 7064:2003 hybrid system **MOD 37,36** (GB/T 17710).

Which characters the check character covers
-------------------------------------------

The text of GB/T 36904 was not available to us. The check character is
computed over **the concatenation of the four fields without separators and
without the OID prefix**: ``type_code + issuer_code + serial + version``.
Evidence: identifiers published in public government-integration code (for the
全国一体化政务服务平台) verify under exactly this rule — four well-formed ones,
e.g. ``1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S``
and ``1.2.156.3005.2.11100000000013338W087.11370800MB28559184.
37080001202411010001.001.3``, and a fifth whose issuer field is a 6-digit
division code instead of a USCC (so :func:`parse_identifier` rejects it, but its
check character agrees). With the prefix included (dots removed) all of them
fail. Published issuer-side code likewise computes the check over
``"11100000000013338W050" + issuer USCC + serial + version`` concatenated. One
API-documentation example (a 32-character hex serial) verifies under no rule we
tried and looks like a placeholder. The tests carry these identifiers as known
answers. MOD 37,36 cannot take the dots anyway: its alphabet is ``0-9A-Z``.

The field formats above are likewise read off the published identifiers (every
type code seen is a valid USCC plus 3 digits; versions are 3 digits; serials are
9 to 32 characters of ``0-9A-Z``), not from the standard's text; the serial
bound of 64 is ours.

What the check character detects
--------------------------------

Every single-character substitution in the four fields. Not every adjacent
transposition: a swap of two characters whose running MOD 37,36 sums
``||P + a||_36`` are 18 and 19 goes undetected (1 case in 630, always two
characters with neighbouring values such as ``8``/``9`` or ``I``/``J``; see
:mod:`trust.identifiers`). Swaps that move a dot always change a fixed-length
field, so the structure check rejects them.

Input rules: strict canonical form — upper case only, no whitespace, at most
:data:`MAX_IDENTIFIER_LENGTH` characters. Every rejection raises
:class:`~license_wallet.errors.InvalidLicenseIdentifier` with a distinct
``code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from trust.identifiers import (
    MOD37_36_ALPHABET,
    InvalidIdentifier,
    mod37_36_check_char,
    validate_uscc,
)

from .errors import InvalidLicenseIdentifier

__all__ = [
    "LICENSE_ID_PREFIX",
    "MAX_SERIAL_LENGTH",
    "MAX_IDENTIFIER_LENGTH",
    "LicenseIdentifier",
    "build_identifier",
    "parse_identifier",
    "mod37_36_check",
]

#: The OID arc every e-license identifier starts with.
LICENSE_ID_PREFIX: Final = "1.2.156.3005.2"
#: Our bound on the serial (顺序号); published serials run from 9 to 32 characters.
MAX_SERIAL_LENGTH: Final = 64
_TYPE_CODE_LENGTH: Final = 21
_USCC_LENGTH: Final = 18
_VERSION_LENGTH: Final = 3
#: Longest acceptable identifier: prefix, five dots and the longest fields.
MAX_IDENTIFIER_LENGTH: Final = (
    len(LICENSE_ID_PREFIX) + 5 + _TYPE_CODE_LENGTH + _USCC_LENGTH + MAX_SERIAL_LENGTH + 3 + 1
)
_DIGITS: Final = "0123456789"


def _err(code: str, field: str, message: str) -> InvalidLicenseIdentifier:
    return InvalidLicenseIdentifier(message, code=code, field=field)


def mod37_36_check(text: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character (``0-9A-Z``) to append to ``text``.

    ``text`` must consist of ``0-9A-Z`` only (upper case, possibly empty).
    Raises :class:`InvalidLicenseIdentifier` with code
    ``license_id_not_a_string`` or ``license_id_bad_character``.
    """
    return _mod37_36_strict(text, field="identifier")


def _mod37_36_strict(text: object, *, field: str) -> str:
    if not isinstance(text, str):
        raise _err("license_id_not_a_string", field, "expected a string")
    try:
        return mod37_36_check_char(text)
    except InvalidIdentifier as exc:
        raise _err("license_id_bad_character", field, "MOD 37,36 takes 0-9 and A-Z only") from exc


def _is_alnum_upper(s: str) -> bool:
    return all(c in MOD37_36_ALPHABET for c in s)


def _check_type_code(value: object) -> str:
    if (
        not isinstance(value, str)
        or len(value) != _TYPE_CODE_LENGTH
        or not _is_alnum_upper(value)
        or any(c not in _DIGITS for c in value[_USCC_LENGTH:])
    ):
        raise _err(
            "license_id_bad_type_code",
            "type_code",
            "the license type code is an 18-character USCC and 3 digits",
        )
    _check_uscc(value[:_USCC_LENGTH], code="license_id_bad_type_code", field="type_code")
    return value


def _check_uscc(value: object, *, code: str, field: str) -> str:
    if not isinstance(value, str) or len(value) != _USCC_LENGTH or not _is_alnum_upper(value):
        raise _err(code, field, "expected an 18-character upper-case USCC")
    try:
        validate_uscc(value)
    except InvalidIdentifier as exc:
        raise _err(code, field, f"not a valid GB 32100 USCC ({exc.reason})") from exc
    return value


def _check_serial(value: object) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_SERIAL_LENGTH
        or not _is_alnum_upper(value)
    ):
        raise _err(
            "license_id_bad_serial",
            "serial",
            f"the serial is 1 to {MAX_SERIAL_LENGTH} characters of 0-9A-Z",
        )
    return value


def _check_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
        raise _err("license_id_bad_version", "version", "the version is an integer 1..999")
    return value


@dataclass(frozen=True)
class LicenseIdentifier:
    """A parsed, valid GB/T 36904 e-license identifier; ``str()`` gives its text.

    Build one with :func:`build_identifier` or :func:`parse_identifier`; the
    constructor does not validate.
    """

    type_code: str  #: 证照类型代码: definer's USCC + 3 digits (21 characters)
    issuer_code: str  #: 证照颁发机构代码: the issuer's USCC (18 characters)
    serial: str  #: 顺序号: 1..64 characters of 0-9A-Z
    version: int  #: 版本号: 1..999, written with 3 digits
    check: str  #: 校验位: MOD 37,36 over type_code + issuer_code + serial + version

    @property
    def check_input(self) -> str:
        """The characters the check character covers (the fields, no dots, no prefix)."""
        return f"{self.type_code}{self.issuer_code}{self.serial}{self.version:03d}"

    def __str__(self) -> str:
        return (
            f"{LICENSE_ID_PREFIX}.{self.type_code}.{self.issuer_code}."
            f"{self.serial}.{self.version:03d}.{self.check}"
        )


def build_identifier(
    type_code: str, issuer_code: str, serial: str, version: int = 1
) -> LicenseIdentifier:
    """Validate the fields and compute the check character.

    Raises :class:`InvalidLicenseIdentifier` (codes ``license_id_bad_type_code``,
    ``license_id_bad_issuer``, ``license_id_bad_serial``,
    ``license_id_bad_version``).
    """
    _check_type_code(type_code)
    _check_uscc(issuer_code, code="license_id_bad_issuer", field="issuer_code")
    _check_serial(serial)
    _check_version(version)
    check = mod37_36_check_char(f"{type_code}{issuer_code}{serial}{version:03d}")
    return LicenseIdentifier(type_code, issuer_code, serial, version, check)


@lru_cache(maxsize=4096)  # pure; failures are not cached (they raise)
def parse_identifier(text: str) -> LicenseIdentifier:
    """Parse and fully validate an e-license identifier in canonical form.

    Checks, in order: type and length, the ``1.2.156.3005.2.`` prefix, five
    dot-separated fields, the type code (and the USCC inside it), the issuer
    USCC, the serial, the version, the check character's syntax, then the
    MOD 37,36 check. Raises :class:`InvalidLicenseIdentifier`.
    """
    if not isinstance(text, str):
        raise _err("license_id_not_a_string", "identifier", "expected a string")
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise _err(
            "license_id_too_long",
            "identifier",
            f"longer than {MAX_IDENTIFIER_LENGTH} characters",
        )
    head = LICENSE_ID_PREFIX + "."
    if not text.startswith(head):
        raise _err("license_id_bad_prefix", "prefix", f"must start with {head!r}")
    parts = text[len(head) :].split(".")
    if len(parts) != 5:
        raise _err(
            "license_id_bad_structure",
            "identifier",
            f"expected 5 fields after the prefix, got {len(parts)}",
        )
    type_code, issuer_code, serial, version_text, check = parts
    _check_type_code(type_code)
    _check_uscc(issuer_code, code="license_id_bad_issuer", field="issuer_code")
    _check_serial(serial)
    if len(version_text) != _VERSION_LENGTH or any(c not in _DIGITS for c in version_text):
        raise _err("license_id_bad_version", "version", "the version is 3 digits")
    version = _check_version(int(version_text))
    if len(check) != 1 or check not in MOD37_36_ALPHABET:
        raise _err("license_id_bad_check_char", "check", "the check character is one of 0-9A-Z")
    expected = mod37_36_check_char(type_code + issuer_code + serial + version_text)
    if check != expected:
        raise _err("license_id_check_mismatch", "check", "the MOD 37,36 check fails")
    return LicenseIdentifier(type_code, issuer_code, serial, version, check)
