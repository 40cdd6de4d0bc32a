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
* a PDF (``%PDF-``) → every embedded signature is verified with
  :func:`seal_service.pades.verify_pdf` against ``roots``; VALID only if there
  is at least one signature and every one PASSED, INVALID if any FAILED, else
  INDETERMINATE. An unsigned PDF → INDETERMINATE / ``no_signature_found``; an
  unreadable one → INDETERMINATE with the :class:`~seal_service.pades.PdfError`
  code (``pdf_malformed``, ``pdf_encrypted``, ``pdf_too_large``). Without roots
  the signatures are still checked (digest, signature, modifications) against
  an anchor that anchors nothing, so the chain is INDETERMINATE /
  ``no_certificate_chain_found`` while a changed byte still gives INVALID;
* a detached CMS SignedData (RFC 5652 ``ContentInfo``; told apart from an
  SES_Signature by its structure: the outer SEQUENCE starts with the OBJECT
  IDENTIFIER id-signedData or the GB/T 35275 signedData, where an
  SES_Signature starts with the TBS_Sign SEQUENCE) → verified with
  :func:`trust.cms.verify_detached` over ``signed_data``, each signer's path to
  ``roots`` judged at ``at`` or the claimed signing-time. Without
  ``signed_data`` → INDETERMINATE / ``signed_data_not_found``;
* something recognisably else (UTF-8 text such as QR payloads or PEM, PNG,
  JPEG, GIF, a ZIP without ``OFD.xml``) → INDETERMINATE / ``unsupported_input``;
  unrecognised binary data → INDETERMINATE / ``malformed``.

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
import functools
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core

from seal_service.ofd import MAX_PACKAGE_SIZE, OfdError, OfdPackage, OfdReport, verify_ofd
from seal_service.pades import PdfError, PdfSignatureReport, verify_pdf
from seal_service.report import (
    Check,
    CheckStatus,
    Indication,
    SignatureReport,
    SubIndication,
    aggregate,
)
from seal_service.ses import SealFormatError, chain_check, parse_signature, verify_signature
from trust.algorithms import OID
from trust.cms import ID_SIGNED_DATA, CmsError, CmsVerification, verify_detached
from trust.crypto import generate_private_key
from trust.errors import TrustError
from trust.hashes import sm3
from trust.pki import Certificate, issue_root

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

    ``kind`` is ``"ofd"``, ``"ses"``, ``"pdf"``, ``"cms"`` or ``None`` (input not recognised);
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


# --------------------------------------------------------------------------- PDF (PAdES)

NO_SIGNATURE_FOUND: Final = "no_signature_found"


@functools.cache
def _no_anchor() -> Certificate:
    """A self-signed root whose key is discarded: it anchors nothing.

    :func:`~seal_service.pades.verify_pdf` refuses an empty trust list (pyHanko
    would fall back to the system store). With no roots given, the PDF's
    signatures are still worth checking (a changed byte is INVALID whatever the
    anchors); this anchor keeps every chain INDETERMINATE.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    key = generate_private_key("p256")
    return issue_root(
        key.signer("ES256"),
        "CN=GovTrust verifier: no trust anchor given",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=3650),
    )


def _pdf_summary(report: PdfSignatureReport) -> dict[str, Any]:
    return _summary(
        report,
        field_name=report.field_name,
        covers_whole_document=report.covers_whole_document,
        modification_level=report.modification_level,
        timestamp_time=_iso(report.timestamp_time),
        timestamp_valid=report.timestamp_valid,
        pades_level=report.pades_level,
    )


def _verify_pdf(
    data: bytes, *, roots: Collection[Certificate], at: datetime | None
) -> DocumentVerdict:
    anchors = list(roots) if roots else [_no_anchor()]
    try:
        reports = verify_pdf(data, trust_roots=anchors, at=at)
    except PdfError as exc:
        return _unusable(exc.code or "pdf_malformed", f"unusable PDF: {exc.message}", "pdf")
    if not reports:
        return DocumentVerdict(
            INDETERMINATE,
            (NO_SIGNATURE_FOUND,),
            "pdf",
            indication=str(Indication.INDETERMINATE),
            sub_indication=str(SubIndication.NO_SIGNATURE_FOUND),
            detail="the PDF carries no signature",
        )
    # Any FAILED signature → FAILED; else any undecided → INDETERMINATE; else PASSED.
    indication, sub = aggregate(c for r in reports for c in r.checks)
    return DocumentVerdict(
        _VERDICTS[indication],
        _reasons(indication, sub, reports),
        "pdf",
        tuple(_pdf_summary(r) for r in reports),
        indication=str(indication),
        sub_indication=str(sub) if sub else None,
        detail="" if roots else "no trust anchors given",
    )


# --------------------------------------------------------------------------- detached CMS

_SIGNED_DATA_OIDS: Final = (ID_SIGNED_DATA, OID.GM_CMS_SIGNED_DATA)

#: CmsError code → (failed?, sub-indication, check name). Codes for input that
#: cannot be read at all (malformed, not_der, too_large) make the input unusable.
_CMS_FAILURES: Final = {
    "digest_mismatch": (True, SubIndication.HASH_FAILURE, "message_digest"),
    "bad_signature": (True, SubIndication.SIG_CRYPTO_FAILURE, "signature"),
    "content_type_mismatch": (True, SubIndication.FORMAT_FAILURE, "signed_attributes"),
    "missing_attribute": (True, SubIndication.FORMAT_FAILURE, "signed_attributes"),
    "unsupported_attribute": (False, SubIndication.FORMAT_FAILURE, "unsigned_attributes"),
    "unsupported_algorithm": (False, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, "signature"),
    "digest_algorithm_mismatch": (False, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, "signature"),
    "signer_not_found": (False, SubIndication.NO_SIGNING_CERTIFICATE_FOUND, "signer_certificate"),
    "multiple_signers": (False, SubIndication.FORMAT_FAILURE, "signer_infos"),
}
_CMS_UNREADABLE: Final = ("malformed", "not_der", "too_large", "cms_error")


def _der_header(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(tag, content start, content end) of the DER TLV at ``pos``; ``None`` if unreadable."""
    if pos + 2 > len(data):
        return None
    tag, octet = data[pos], data[pos + 1]
    pos += 2
    if octet < 0x80:
        length = octet
    elif 0x81 <= octet <= 0x84 and pos + (octet & 0x7F) <= len(data):
        count = octet & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        return None
    return tag, pos, pos + length


def _is_cms_signed_data(data: bytes) -> bool:
    """Whether ``data`` is shaped as ``ContentInfo { signedData OID, [0] ... }``.

    A structural test on the first bytes only: the outer SEQUENCE's first element
    is an OBJECT IDENTIFIER naming signedData. (An SES_Signature's first element
    is the TBS_Sign SEQUENCE, a SESeal's the SES_SealInfo SEQUENCE.)
    """
    outer = _der_header(data, 0)
    if outer is None or outer[0] != 0x30:
        return False
    first = _der_header(data, outer[1])
    if first is None or first[0] != 0x06 or first[2] > len(data):
        return False
    try:
        oid = asn1_cms.ContentType.load(data[outer[1] : first[2]], strict=True).dotted
    except ValueError:
        return False
    return oid in _SIGNED_DATA_OIDS


class _AnySignedData(asn1_core.Sequence):  # type: ignore[misc]
    """ContentInfo with SignedData content whatever its OID (RFC 5652 or GB/T 35275)."""

    _fields = [
        ("content_type", asn1_core.ObjectIdentifier),
        ("content", asn1_cms.SignedData, {"explicit": 0}),
    ]


def _cms_claimed_signer(data: bytes) -> tuple[str | None, datetime | None]:
    """The first signer's certificate subject and claimed signing-time, read leniently.

    Only for the report when the signed data is missing (nothing is verified).
    """
    try:
        sd = _AnySignedData.load(data)["content"]
        si = sd["signer_infos"][0]
        sid = si["sid"]
        subject = None
        if sid.name == "issuer_and_serial_number":
            serial = sid.chosen["serial_number"].native
            for choice in sd["certificates"] or ():
                cert = choice.chosen
                if cert.serial_number == serial and cert.issuer == sid.chosen["issuer"]:
                    subject = cert.subject.human_friendly
        when = None
        for attr in si["signed_attrs"] or ():
            if attr["type"].native == "signing_time":
                value = attr["values"][0].native
                when = value.astimezone(UTC) if isinstance(value, datetime) else None
        return subject, when
    except Exception:  # lenient by design: the caller reports nothing verified
        return None, None


def _cms_report(*checks: Check, **info: Any) -> SignatureReport:
    return SignatureReport.of(checks, **info)


def _cms_signer_reports(
    result: CmsVerification,
    *,
    roots: Collection[Certificate],
    intermediates: Collection[Certificate],
    at: datetime | None,
) -> list[tuple[SignatureReport, dict[str, Any]]]:
    out = []
    for signer in result.signers:
        cert = signer.certificate
        when = at if at is not None else signer.signing_time
        checks = [
            Check.passed("signed_data", "the signed document was given"),
            Check.passed("message_digest", f"{signer.digest_algorithm} digest matches"),
            Check.passed(
                "signature",
                f"{signer.signature_algorithm.name} signature verifies ({cert.subject})",
            ),
        ]
        if when is None:
            no_time = "no signing-time attribute and no validation time given"
            checks.append(
                Check.indeterminate("signer_certificate_validity", SubIndication.NO_POE, no_time)
            )
            checks.append(Check.indeterminate("signer_chain", SubIndication.NO_POE, no_time))
        else:
            if when < cert.not_before:
                checks.append(
                    Check.failed(
                        "signer_certificate_validity",
                        SubIndication.NOT_YET_VALID,
                        f"the signer certificate is valid from {cert.not_before.isoformat()}",
                    )
                )
            elif when > cert.not_after:
                checks.append(
                    Check.failed(
                        "signer_certificate_validity",
                        SubIndication.EXPIRED,
                        f"the signer certificate expired {cert.not_after.isoformat()}",
                    )
                )
            else:
                checks.append(
                    Check.passed("signer_certificate_validity", f"valid at {when.isoformat()}")
                )
            checks.append(
                chain_check(
                    "signer_chain",
                    cert,
                    roots=roots,
                    intermediates=(*intermediates, *result.certificates),
                    at=when,
                )
            )
        report = SignatureReport.of(
            checks,
            signer_subject=str(cert.subject),
            signing_time=signer.signing_time,
            validation_time=when,
        )
        extra = {
            "signature_algorithm": signer.signature_algorithm.name,
            "digest_algorithm": signer.digest_algorithm,
            "content_type": result.content_type,
        }
        out.append((report, extra))
    return out


def _from_cms_reports(
    reports: Sequence[tuple[SignatureReport, dict[str, Any]]],
) -> DocumentVerdict:
    indication, sub = aggregate(c for r, _ in reports for c in r.checks)
    return DocumentVerdict(
        _VERDICTS[indication],
        _reasons(indication, sub, (r for r, _ in reports)),
        "cms",
        tuple(_summary(r, **extra) for r, extra in reports),
        indication=str(indication),
        sub_indication=str(sub) if sub else None,
    )


def _verify_cms(
    data: bytes,
    *,
    signed_data: bytes | None,
    roots: Collection[Certificate],
    intermediates: Collection[Certificate],
    at: datetime | None,
) -> DocumentVerdict:
    if signed_data is None:
        subject, when = _cms_claimed_signer(data)
        report = _cms_report(
            Check.indeterminate(
                "signed_data",
                SubIndication.SIGNED_DATA_NOT_FOUND,
                "detached signature: the signed document was not given, nothing verified",
            ),
            signer_subject=subject,
            signing_time=when,
        )
        return _from_cms_reports([(report, {})])
    try:
        result = verify_detached(data, content=signed_data, allow_multiple_signers=True)
    except CmsError as exc:
        code = exc.code or "malformed"
        if code in _CMS_UNREADABLE or code not in _CMS_FAILURES:
            return _unusable(MALFORMED, f"unusable CMS SignedData: {exc.message} ({code})", "cms")
        failed, sub, name = _CMS_FAILURES[code]
        detail = f"{exc.message} ({code})"
        check = (
            Check.failed(name, sub, detail) if failed else Check.indeterminate(name, sub, detail)
        )
        subject, when = _cms_claimed_signer(data)
        report = _cms_report(
            Check.passed("signed_data", f"{len(signed_data)} bytes given"),
            check,
            signer_subject=subject,
            signing_time=when,
        )
        return _from_cms_reports([(report, {})])
    return _from_cms_reports(
        _cms_signer_reports(result, roots=roots, intermediates=intermediates, at=at)
    )


#: Formats recognised as something else (images) → ``unsupported_input``, not ``malformed``.
_OTHER_FORMATS: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


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
    """Verify a sealed document (OFD, PDF) or a detached SES_Signature / CMS SignedData.

    See the module docstring.

    ``roots`` are trust anchors (none → chains INDETERMINATE /
    NO_CERTIFICATE_CHAIN_FOUND); ``signer_certs`` candidate certificates for
    OFD ``Type="Sign"`` signatures; ``signed_data`` the document a detached
    signature (SES or CMS) covers; ``at`` (timezone-aware) the instant validity is judged
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
        if data.startswith(b"%PDF-"):
            return _verify_pdf(data, roots=roots, at=at)
        if _is_cms_signed_data(data):
            return _verify_cms(
                data, signed_data=signed_data, roots=roots, intermediates=intermediates, at=at
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
            UNSUPPORTED_INPUT,
            "not an OFD package, a PDF, a detached SES_Signature or a CMS SignedData",
            None,
        )
    return _unusable(MALFORMED, "unrecognised binary data", None)
