"""Errors of the e-license wallet's format code (identifiers, status lists,
license types, credentials and presentations).

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
    "UnknownLicenseType",
    "InvalidLicenseFields",
    "CredentialError",
    "MalformedPresentation",
    "PresentationRejected",
    "LicenseStatusRejected",
    "LicenseRevoked",
    "LicenseSuspended",
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


# --------------------------------------------------------------------------- license types


class UnknownLicenseType(LicenseError):
    """No license type with that 证照类型代码 in the catalogue."""

    code = "license_type_unknown"


class InvalidLicenseFields(LicenseError, MalformedInput):
    """A license's fields do not fit its type's schema (:mod:`license_wallet.types`).

    ``field`` names the field at fault (its ASCII key) and ``code`` says why:
    ``field_unknown`` (not in the schema), ``field_missing`` (required and
    absent or empty), ``field_not_text`` (not a string), ``field_too_long``
    (over the field's ``max_length`` characters), ``field_bad_text`` (control
    characters or leading/trailing whitespace), ``field_bad_date`` (not a real
    ``YYYY-MM-DD`` date), ``field_bad_enum`` (not one of the allowed values),
    ``field_bad_citizen_id`` (GB 11643 structure or check digit),
    ``field_bad_uscc`` (GB 32100 structure or check character),
    ``field_bad_division`` (not a 6-digit GB/T 2260 code of a known province),
    ``field_bad_decimal``, ``field_bad_code`` (not upper-case ASCII
    letters/digits/hyphens) and ``field_inconsistent`` (two fields contradict
    each other, e.g. a date range that ends before it starts). ``reason`` is a
    finer, stable word where one exists (the :class:`trust.identifiers.
    InvalidIdentifier` reason, e.g. ``bad_check_char``).
    """

    code = "license_fields_invalid"

    def __init__(
        self, message: str = "", *, code: str, field: str, reason: str | None = None
    ) -> None:
        super().__init__(message or f"invalid license field {field}: {code}", code=code)
        self.field = field
        self.reason = reason or code


# --------------------------------------------------------------------------- credentials


class CredentialError(LicenseError):
    """Root of the errors of issuing, presenting and verifying license credentials."""

    code = "credential_error"


class MalformedPresentation(CredentialError, MalformedInput):
    """A presentation (or a credential inside it) could not be decoded.

    ``code`` is one of ``presentation_malformed`` (envelope, Base45, zlib or
    outer CBOR; ``detail`` carries the lower layer's code such as
    ``base45_invalid_char`` or ``zlib_too_large``), ``credential_malformed``
    (the issuer's COSE_Sign1 or its claims), ``disclosure_malformed`` and
    ``kb_malformed`` (the key-binding token).
    """

    code = "presentation_malformed"

    def __init__(self, message: str = "", *, code: str, detail: str | None = None) -> None:
        super().__init__(message, code=code)
        self.detail = detail or code


class PresentationRejected(CredentialError):
    """A well-formed presentation failed a check.

    ``code`` is one of ``license_issuer_unknown`` (no key for iss/kid),
    ``license_alg_not_allowed``, ``license_signature_invalid``,
    ``license_expired``, ``license_not_yet_valid``, ``license_iat_in_future``,
    ``license_type_unknown``, ``license_id_invalid`` (the GB/T 36904 identifier
    or its disagreement with the type claim), ``holder_key_invalid``,
    ``disclosure_unknown`` (digest not in the signed list),
    ``disclosure_duplicate``, ``disclosure_invalid`` (a disclosed value that
    breaks the type's schema), ``kb_invalid`` (signature under the ``cnf`` key),
    ``kb_stale`` (older than the allowed age), ``kb_in_future``,
    ``kb_nonce_mismatch``, ``kb_aud_mismatch``, ``kb_sd_hash_mismatch`` and
    ``license_status_unknown`` (the status lookup could not answer).
    """

    code = "presentation_rejected"


class LicenseStatusRejected(PresentationRejected):
    """The status list marks the license as not valid."""

    code = "license_status_rejected"


class LicenseRevoked(LicenseStatusRejected):
    """The status list marks the license INVALID (revoked, 吊销/注销)."""

    code = "license_revoked"


class LicenseSuspended(LicenseStatusRejected):
    """The status list marks the license SUSPENDED (暂扣/中止; reversible)."""

    code = "license_suspended"
