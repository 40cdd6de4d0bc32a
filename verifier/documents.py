"""Verdicts on sealed documents: OFD packages and detached electronic signatures.

Flask-free and database-free (the offline verifier and ``govtrust verify`` use
it). :func:`verify_document` looks at the bytes it is given:

* an OFD package (a ZIP whose root holds ``OFD.xml``, GB/T 33190-2016) → every
  signature is verified with :func:`seal_service.ofd.verify_ofd`;
* a detached ``SES_Signature`` (DER accepted by
  :func:`seal_service.ses.parse_signature`) → verified with
  :func:`seal_service.ses.verify_signature`. The document it covers is known
  only when the caller passes ``signed_data`` (its SM3 digest must equal
  ``TBS_Sign.dataHash``); without it the verdict can be no better than
  INDETERMINATE / ``signed_data_not_found``;
* something recognisably else (UTF-8 text such as QR payloads or PEM, PNG,
  JPEG, GIF, PDF, a ZIP without ``OFD.xml``) → INDETERMINATE /
  ``unsupported_input``; unrecognised binary data → INDETERMINATE / ``malformed``.

Input that claims to be one of the supported formats but cannot be read
(a broken ZIP, truncated DER, oversized data) gives INDETERMINATE with reason
``malformed`` or the specific :class:`~seal_service.ofd.OfdError` code
(``ofd_too_large``, ``ofd_path_traversal`` …). This function never raises for
bad input.

The verdict maps the ETSI EN 319 102-1 indication: PASSED → ``VALID``, FAILED →
``INVALID``, INDETERMINATE → ``INDETERMINATE``. ``reasons`` are stable
snake_case codes — the sub-indications (lower-cased) of the checks that decided
the verdict (failed checks for INVALID, undecided checks for INDETERMINATE; the
document's main sub-indication first), or one of the input codes above.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from seal_service.ofd import MAX_PACKAGE_SIZE, OfdError, OfdPackage, OfdReport, verify_ofd
from seal_service.report import (
    Check,
    CheckStatus,
    Indication,
    SignatureReport,
    SubIndication,
)
from seal_service.ses import SealFormatError, parse_signature, verify_signature
from trust.errors import TrustError
from trust.hashes import sm3
from trust.pki import Certificate

__all__ = [
    "MAX_INPUT_SIZE",
    "VALID",
    "INVALID",
    "INDETERMINATE",
    "DocumentVerdict",
    "verify_document",
    "reason_code",
]

log = logging.getLogger(__name__)

#: The largest input looked at (an OFD package's own limit; SES signatures are smaller).
MAX_INPUT_SIZE: Final = MAX_PACKAGE_SIZE

VALID: Final = "VALID"
INVALID: Final = "INVALID"
INDETERMINATE: Final = "INDETERMINATE"

_VERDICTS: Final = {
    Indication.PASSED: VALID,
    Indication.FAILED: INVALID,
    Indication.INDETERMINATE: INDETERMINATE,
}

MALFORMED: Final = "malformed"
UNSUPPORTED_INPUT: Final = "unsupported_input"


def reason_code(sub: SubIndication | str) -> str:
    """The stable snake_case code of a sub-indication (``HASH_FAILURE`` → ``hash_failure``)."""
    return str(sub).lower()


@dataclass(frozen=True, slots=True)
class DocumentVerdict:
    """The verdict on one input.

    ``kind`` is ``"ofd"``, ``"ses"`` or ``None`` (input not recognised);
    ``signatures`` are plain dicts (JSON-ready) with signer subject, seal name,
    esID, signing time, indication, sub-indication and checks; ``detail`` is a
    human-readable explanation for unusable input.
    """

    verdict: str
    reasons: tuple[str, ...]
    kind: str | None
    signatures: tuple[dict[str, Any], ...] = ()
    indication: str = Indication.INDETERMINATE.value
    sub_indication: str | None = None
    unsigned_parts: tuple[str, ...] = ()
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.verdict == VALID

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: verdict, reasons, kind, indication, sub_indication, signatures …"""
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "kind": self.kind,
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "signatures": [dict(s) for s in self.signatures],
            "unsigned_parts": list(self.unsigned_parts),
            "detail": self.detail,
        }


def _unusable(reason: str, detail: str, kind: str | None) -> DocumentVerdict:
    return DocumentVerdict(INDETERMINATE, (reason,), kind, detail=detail)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _check_dict(check: Check) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": str(check.status),
        "sub_indication": str(check.sub_indication) if check.sub_indication else None,
        "detail": check.detail,
    }


def _summary(report: SignatureReport, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "signer_subject": report.signer_subject,
        "seal_name": report.seal_name,
        "es_id": report.seal_id,
        "signing_time": _iso(report.signing_time),
        "validation_time": _iso(report.validation_time),
        "indication": str(report.indication),
        "sub_indication": str(report.sub_indication) if report.sub_indication else None,
        "reasons": [reason_code(r) for r in dict.fromkeys(report.reasons())],
        "checks": [_check_dict(c) for c in report.checks],
    }


def _reasons(
    indication: Indication, main: SubIndication | None, reports: Iterable[SignatureReport]
) -> tuple[str, ...]:
    """Codes of the checks that decided ``indication``, the main sub-indication first."""
    if indication is Indication.PASSED:
        return ()
    wanted = CheckStatus.FAILED if indication is Indication.FAILED else CheckStatus.INDETERMINATE
    codes: dict[str, None] = {}
    if main is not None:
        codes[reason_code(main)] = None
    for report in reports:
        for check in report.checks:
            if check.status is wanted and check.sub_indication is not None:
                codes.setdefault(reason_code(check.sub_indication), None)
    return tuple(codes)


def _from_ofd(report: OfdReport) -> DocumentVerdict:
    summaries = tuple(
        _summary(
            s.report,
            id=s.id,
            type=s.type,
            path=s.path,
            signature_date_time=s.signature_date_time,
            references=[{"path": r.path, "status": str(r.status)} for r in s.references],
        )
        for s in report.signatures
    )
    return DocumentVerdict(
        _VERDICTS[report.indication],
        _reasons(report.indication, report.sub_indication, (s.report for s in report.signatures)),
        "ofd",
        summaries,
        indication=str(report.indication),
        sub_indication=str(report.sub_indication) if report.sub_indication else None,
        unsigned_parts=tuple(report.unsigned_parts),
    )


def _verify_ofd(
    data: bytes,
    *,
    roots: Collection[Certificate],
    intermediates: Collection[Certificate],
    signer_certs: Collection[Certificate],
    at: datetime | None,
) -> DocumentVerdict:
    try:
        if not OfdPackage(data).exists("OFD.xml"):
            return _unusable(UNSUPPORTED_INPUT, "a ZIP file without OFD.xml: not an OFD", None)
        report = verify_ofd(
            data, roots=roots, intermediates=intermediates, signer_certs=signer_certs, at=at
        )
    except TrustError as exc:  # OfdError and anything the format layer raises
        code = exc.code if isinstance(exc, OfdError) else MALFORMED
        return _unusable(code or MALFORMED, f"unusable OFD package: {exc.message}", "ofd")
    return _from_ofd(report)


def _verify_ses(
    data: bytes,
    *,
    signed_data: bytes | None,
    roots: Collection[Certificate],
    intermediates: Collection[Certificate],
    at: datetime | None,
) -> DocumentVerdict:
    try:
        sig = parse_signature(data)
    except SealFormatError as exc:
        return _unusable(MALFORMED, exc.message, "ses")
    extra: list[Check] = []
    if signed_data is None:
        extra.append(
            Check.indeterminate(
                "signed_data",
                SubIndication.SIGNED_DATA_NOT_FOUND,
                "detached signature: the signed document was not given, dataHash not compared",
            )
        )
    else:
        extra.append(Check.passed("signed_data", f"{len(signed_data)} bytes given"))
    report = verify_signature(
        sig,
        data_hash=sm3(signed_data) if signed_data is not None else None,
        at=at,
        roots=roots,
        intermediates=intermediates,
        extra_checks=extra,
    )
    summary = _summary(
        report,
        version=sig.version,
        property_info=sig.property_info,
        data_hash=sig.data_hash.hex(),
    )
    return DocumentVerdict(
        _VERDICTS[report.indication],
        _reasons(report.indication, report.sub_indication, (report,)),
        "ses",
        (summary,),
        indication=str(report.indication),
        sub_indication=str(report.sub_indication) if report.sub_indication else None,
    )


#: Formats recognised as something else (images, PDF) → ``unsupported_input``, not ``malformed``.
_OTHER_FORMATS: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"%PDF-")


def _is_text(data: bytes) -> bool:
    """UTF-8 text (QR payloads, PEM, XML): recognisable, just not a sealed document."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data[:4096], final=False)
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _looks_like_der_sequence(data: bytes) -> bool:
    return len(data) >= 2 and data[0] == 0x30


def verify_document(
    data: bytes,
    *,
    roots: Collection[Certificate] = (),
    intermediates: Collection[Certificate] = (),
    signer_certs: Collection[Certificate] = (),
    signed_data: bytes | None = None,
    at: datetime | None = None,
) -> DocumentVerdict:
    """Verify a sealed document (OFD) or a detached SES_Signature; see the module docstring.

    ``roots`` are trust anchors (none → chains INDETERMINATE /
    NO_CERTIFICATE_CHAIN_FOUND); ``signer_certs`` candidate certificates for
    OFD ``Type="Sign"`` signatures; ``signed_data`` the document a detached
    signature covers; ``at`` (timezone-aware) the instant validity is judged
    at, by default each signature's claimed signing time.
    """
    if at is not None and (not isinstance(at, datetime) or at.utcoffset() is None):
        raise TypeError("at must be a timezone-aware datetime")
    if not isinstance(data, bytes | bytearray | memoryview):
        return _unusable(MALFORMED, "input must be bytes", None)
    data = bytes(data)
    if not data:
        return _unusable(MALFORMED, "empty input", None)
    if len(data) > MAX_INPUT_SIZE:
        return _unusable(MALFORMED, f"input larger than {MAX_INPUT_SIZE} bytes", None)
    if signed_data is not None:
        signed_data = bytes(signed_data)
    try:
        if data[:2] == b"PK":
            return _verify_ofd(
                data, roots=roots, intermediates=intermediates, signer_certs=signer_certs, at=at
            )
        if _looks_like_der_sequence(data):
            return _verify_ses(
                data, signed_data=signed_data, roots=roots, intermediates=intermediates, at=at
            )
    except Exception as exc:  # never raise for bad input; the library should not get here
        log.warning("verification failed unexpectedly: %s: %s", type(exc).__name__, exc)
        return _unusable(MALFORMED, f"input cannot be verified ({type(exc).__name__})", None)
    if data.startswith(_OTHER_FORMATS) or _is_text(data):
        return _unusable(
            UNSUPPORTED_INPUT, "neither an OFD package nor a detached SES_Signature", None
        )
    return _unusable(MALFORMED, "unrecognised binary data", None)
