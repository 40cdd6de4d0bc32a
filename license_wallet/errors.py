"""Errors of the e-license wallet's format code (identifiers, status lists).

Every class derives from :class:`LicenseError`, itself a
:class:`trust.errors.TrustError`, so callers can catch one root. Each error
carries a stable, machine-readable ``code``; where one class covers several
failures, the instance's ``code`` says which one (the codes are listed on the
class). Codes are part of the public contract: never reuse one for another
meaning.
"""

from __future__ import annotations

from trust.errors import MalformedInput, TrustError

__all__ = [
    "LicenseError",
    "InvalidLicenseIdentifier",
    "StatusListError",
    "MalformedStatusList",
    "StatusListTooLarge",
    "StatusIndexOutOfRange",
    "InvalidStatusValue",
]


class LicenseError(TrustError):
    """Root of the e-license wallet's errors."""

    code = "license_error"


class InvalidLicenseIdentifier(LicenseError, MalformedInput):
    """A GB/T 36904 e-license identifier (电子证照标识) is not valid.

    ``code`` is one of ``license_id_not_a_string``, ``license_id_too_long``,
    ``license_id_bad_prefix``, ``license_id_bad_structure``,
    ``license_id_bad_type_code``, ``license_id_bad_issuer``,
    ``license_id_bad_serial``, ``license_id_bad_version``,
    ``license_id_bad_check_char`` (not one character of ``0-9A-Z``),
    ``license_id_check_mismatch`` (the MOD 37,36 check fails) and
    ``license_id_bad_character`` (input to the bare MOD 37,36 function outside
    ``0-9A-Z``). ``field`` names
    the part of the identifier at fault.
    """

    code = "invalid_license_identifier"

    def __init__(self, message: str = "", *, code: str, field: str) -> None:
        super().__init__(message or f"invalid e-license identifier: {field}", code=code)
        #: ``identifier``, ``prefix``, ``type_code``, ``issuer_code``, ``serial``,
        #: ``version`` or ``check``.
        self.field = field


class StatusListError(LicenseError):
    """A Token Status List operation failed."""

    code = "status_list_error"


class MalformedStatusList(StatusListError, MalformedInput):
    """A Token Status List could not be decoded.

    ``code`` is one of ``status_list_bad_bits``, ``status_list_bad_shape`` (not
    the expected JSON object or CBOR map), ``status_list_bad_base64``,
    ``status_list_bad_zlib``, ``status_list_bad_cbor`` and
    ``status_list_too_large`` (see :class:`StatusListTooLarge`).
    """

    code = "status_list_malformed"


class StatusListTooLarge(MalformedStatusList):
    """The status list inflates (or would inflate) past the allowed size."""

    code = "status_list_too_large"


class StatusIndexOutOfRange(StatusListError):
    """The status index is not an integer within the list."""

    code = "status_index_out_of_range"


class InvalidStatusValue(StatusListError):
    """The status value does not fit in the list's ``bits``."""

    code = "status_value_out_of_range"
