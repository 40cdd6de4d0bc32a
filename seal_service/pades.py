"""PAdES electronic seals on PDF documents (ETSI EN 319 142-1, baseline levels B-B, B-T, B-LT).

Sealing (:func:`seal_pdf`) appends one incremental update (ISO 32000-1 §7.5.6)
holding a new signature field whose widget shows the seal image at a given
place, and a signature dictionary with ``/SubFilter /ETSI.CAdES.detached``
(EN 319 142-1 §5.3) whose ``/Contents`` is a detached CAdES signature over the
``/ByteRange``. The PDF and CMS machinery is pyHanko's; the private key is
never handed to it: :class:`_PyHankoSignerBridge` forwards the one raw
signature pyHanko needs (over the DER of the signed attributes) to a GovTrust
:class:`trust.crypto.Signer`, so a software key and an HSM key seal alike.

Levels (EN 319 142-1 §6):

* ``B-B`` — CAdES signed attributes (content type, message digest, ESS
  signing-certificate-v2), signer certificate and chain in the CMS;
* ``B-T`` — plus an RFC 3161 signature time-stamp (unsigned attribute) from
  any pyHanko :class:`~pyhanko.sign.timestamps.api.TimeStamper`;
* ``B-LT`` — plus a Document Security Store (``/DSS``, §5.4.2) in a second
  incremental update holding the certificates of the signer's and the TSA's
  paths and whatever revocation data the supplied
  :class:`~pyhanko_certvalidator.ValidationContext` holds (CRLs/OCSP responses
  given to it). Sealing at B-LT validates the signer's path first; with
  ``allow_fetching=False`` nothing is fetched from the network, so the caller
  supplies the CRLs/OCSP responses (or a ``soft-fail`` context, in which case
  the DSS holds certificates only).

Verification (:func:`verify_pdf`) runs pyHanko's validation for every
signature field and reports it with the ETSI vocabulary of
:mod:`seal_service.report` (a :class:`PdfSignatureReport` per signature, with
the baseline level the document shows). Revocation data in the /DSS that was
fresh at the signature time-stamp keeps a B-LT seal PASSED after the CRLs'
nextUpdate (the time-stamp is the proof of existence).

Input bounds (SECURITY.md "Seals"): the PDF size is checked before parsing,
stream decoding is bounded by pyHanko's :class:`DecodeLimits`, the number of
signatures examined is bounded, the seal PNG's byte size and pixel count are
checked before decoding. Every malformed input raises :class:`PdfError` with a
``code``; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from math import isfinite
from typing import Any, Final, Literal, TypeVar

from asn1crypto import algos as asn1_algos
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as pdf_fields
from pyhanko.sign import signers as pdf_signers
from pyhanko.sign.ades.report import AdESIndeterminate, AdESStatus, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import pdf_embedded
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from trust.crypto import Signer
from trust.errors import CertificateError, TrustError
from trust.pki import Certificate, Name

from .report import Check, SignatureReport, SubIndication, aggregate

__all__ = [
    "MAX_PDF_SIZE",
    "MAX_SEAL_PNG_SIZE",
    "MAX_SEAL_PIXELS",
    "MAX_SIGNATURES",
    "PadesLevel",
    "PdfError",
    "PadesSealError",
    "PdfSignatureReport",
    "seal_pdf",
    "seal_stamp_style",
    "async_seal_pdf",
    "verify_pdf",
    "async_verify_pdf",
]

MAX_PDF_SIZE: Final = 64 * 1024 * 1024
MAX_SEAL_PNG_SIZE: Final = 4 * 1024 * 1024
MAX_SEAL_PIXELS: Final = 4096 * 4096
MAX_SIGNATURES: Final = 64
_MM_TO_PT: Final = 72 / 25.4
_MIN_SEAL_MM: Final = 5.0
_MAX_SEAL_MM: Final = 200.0
_FIELD_PREFIX: Final = "GovTrustSeal"
# The bounds pyHanko applies to every stream it decodes while reading our input.
_DECODE_LIMITS: Final = DecodeLimits()

# GovTrust algorithm → the CMS SignatureAlgorithmIdentifier pyHanko puts in the SignerInfo.
_MECHANISMS: Final = {"ES256": "sha256_ecdsa", "RS256": "sha256_rsa"}
_DIGEST: Final = "sha256"


class PdfError(TrustError):
    """The PDF could not be read (``pdf_too_large``, ``pdf_malformed``, ``pdf_encrypted``)."""

    code = "pdf_malformed"


class PadesSealError(TrustError):
    """The seal request cannot be honoured (bad page, position, image, key or level)."""

    code = "pades_refused"


class PadesLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1 §6)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"


@dataclass(frozen=True, slots=True)
class PdfSignatureReport(SignatureReport):
    """A :class:`SignatureReport` with the PDF-specific facts.

    ``covers_whole_document`` is true iff the signature's ``/ByteRange`` covers
    the whole file (no incremental update after it); ``modification_level``
    names what later updates did (``NONE``, ``LTA_UPDATES``, ``FORM_FILLING``,
    ``ANNOTATIONS``, ``OTHER``; ``None`` if unknown); ``timestamp_time`` and
    ``timestamp_valid`` describe the signature time-stamp (``None`` without
    one); ``ades_sub_indication`` is pyHanko's own name for the trust problem,
    finer than :class:`SubIndication` (e.g. ``REVOKED``); ``pades_level`` is the
    baseline level the document's form shows (``B-B`` without a signature
    time-stamp, ``B-T`` with one, ``B-LT`` when the document also holds a /DSS
    with revocation data — whether that data is sufficient is what the
    ``certificate_chain`` check judges, not this label).
    """

    field_name: str | None = None
    covers_whole_document: bool = False
    modification_level: str | None = None
    timestamp_time: datetime | None = None
    timestamp_valid: bool | None = None
    ades_sub_indication: str | None = None
    pades_level: str | None = None

    @classmethod
    def of(cls, checks: Iterable[Check], **info: Any) -> PdfSignatureReport:
        checks = tuple(checks)
        indication, sub = aggregate(checks)
        return cls(indication, sub, checks, **info)


# --------------------------------------------------------------------------- helpers


def _to_asn1(cert: Certificate | asn1_x509.Certificate) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, Certificate):
        return asn1_x509.Certificate.load(cert.der)
    raise TypeError("expected a trust.pki.Certificate")


def _check_size(pdf_bytes: bytes, max_size: int) -> bytes:
    if not isinstance(pdf_bytes, bytes | bytearray | memoryview):
        raise TypeError("pdf_bytes must be bytes")
    if len(pdf_bytes) > max_size:
        raise PdfError(f"PDF larger than {max_size} bytes", code="pdf_too_large")
    if not pdf_bytes:
        raise PdfError("empty input", code="pdf_malformed")
    return bytes(pdf_bytes)


def _open_reader(data: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True, decode_limits=_DECODE_LIMITS)
        # Touch the document catalog and page tree now, so structural errors surface here.
        _ = reader.root["/Pages"]
    except (RecursionError, MemoryError):
        raise PdfError("PDF structure too deep or too large", code="pdf_malformed") from None
    except Exception as exc:  # a parser boundary: every failure is a malformed input
        raise PdfError(f"unreadable PDF: {type(exc).__name__}", code="pdf_malformed") from exc
    if reader.encrypted:
        raise PdfError("encrypted PDFs are not supported", code="pdf_encrypted")
    return reader


def _page_count(reader: PdfFileReader) -> int:
    try:
        count = reader.root["/Pages"]["/Count"]
    except Exception as exc:
        raise PdfError("page tree without /Count", code="pdf_malformed") from exc
    if not isinstance(count, int) or count < 1:
        raise PdfError("page tree without pages", code="pdf_malformed")
    return int(count)


def _media_box(reader: PdfFileReader, page: int) -> tuple[float, float, float, float]:
    """The page's /MediaBox (inherited through the page tree if need be)."""
    try:
        page_ref, _ = reader.find_page_for_modification(page)
        node = page_ref.get_object()
        for _depth in range(32):
            if "/MediaBox" in node:
                box = [float(v) for v in node["/MediaBox"]]
                break
            node = node["/Parent"].get_object()
        else:
            raise ValueError("no /MediaBox")
    except Exception as exc:
        raise PdfError(f"page {page} has no usable /MediaBox", code="pdf_malformed") from exc
    if len(box) != 4:
        raise PdfError("malformed /MediaBox", code="pdf_malformed")
    llx, lly, urx, ury = box
    return min(llx, urx), min(lly, ury), max(llx, urx), max(lly, ury)


def _seal_image(seal_png: bytes) -> Any:
    from PIL import Image, UnidentifiedImageError

    if not isinstance(seal_png, bytes) or not seal_png:
        raise PadesSealError("seal_png must be non-empty PNG bytes", code="seal_image_invalid")
    if len(seal_png) > MAX_SEAL_PNG_SIZE:
        raise PadesSealError("seal image too large", code="seal_image_invalid")
    try:
        # Image.open only reads the header: the pixel count is checked before decoding.
        image = Image.open(io.BytesIO(seal_png), formats=["PNG"])
        width, height = image.size
        if width < 1 or height < 1 or width * height > MAX_SEAL_PIXELS:
            raise PadesSealError("seal image dimensions out of bounds", code="seal_image_invalid")
        image.load()
        return image.convert("RGBA")
    except PadesSealError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise PadesSealError(
            f"seal image is not a readable PNG ({type(exc).__name__})", code="seal_image_invalid"
        ) from exc


def seal_stamp_style(image: Any) -> StaticStampStyle:
    """The visible seal: the decoded seal image (Pillow), centred, borderless and
    opaque, filling the signature widget."""
    width, height = image.size
    return StaticStampStyle(
        background=PdfImage(image, box=layout.BoxConstraints(width, height)),
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(),
        ),
        background_opacity=1.0,
        border_width=0,
    )


def _existing_field_names(reader: PdfFileReader) -> set[str]:
    try:
        return {name for name, _, _ in pdf_fields.enumerate_sig_fields(reader)}
    except Exception as exc:
        raise PdfError("unreadable form fields", code="pdf_malformed") from exc


def _new_field_name(reader: PdfFileReader) -> str:
    taken = _existing_field_names(reader)
    n = 1
    while f"{_FIELD_PREFIX}{n}" in taken:
        n += 1
    return f"{_FIELD_PREFIX}{n}"


# --------------------------------------------------------------------------- the signer bridge


class _PyHankoSignerBridge(pdf_signers.Signer):
    """A pyHanko signer that asks a GovTrust :class:`Signer` for each raw signature.

    pyHanko computes the CMS signed attributes and passes their DER here; the
    GovTrust signer hashes (SHA-256) and signs them, returning DER (r, s) for
    ECDSA and the PKCS#1 v1.5 block for RSA — the forms CMS wants.
    """

    def __init__(
        self,
        signer: Signer,
        certificate: asn1_x509.Certificate,
        chain: Sequence[asn1_x509.Certificate],
    ) -> None:
        mechanism = _MECHANISMS.get(signer.algorithm.name)
        if mechanism is None:
            raise PadesSealError(
                f"{signer.algorithm.name} seal keys are not supported for PAdES "
                f"(supported: {', '.join(_MECHANISMS)})",
                code="unsupported_algorithm",
            )
        super().__init__(
            signing_cert=certificate,
            # pyHanko adds signing_cert itself; listing it here too embedded it twice.
            cert_registry=SimpleCertificateStore.from_certs(list(chain)),
            signature_mechanism=asn1_algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            prefer_pss=False,
        )
        self._signer = signer
        if signer.algorithm.name == "RS256":
            self.signature_size = signer.public_key.native.key_size // 8
        else:
            self.signature_size = 72  # the longest DER ECDSA P-256 signature

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != _DIGEST:
            raise SigningError(f"the seal key signs with SHA-256 only, not {digest_algorithm}")
        if dry_run:
            # Size estimation only: an HSM must not be asked for a throw-away signature.
            return bytes(self.signature_size)
        try:
            return self._signer.sign(data)
        except TrustError:
            raise
        except Exception as exc:
            # Keep a key failure (an HSM session gone, say) apart from a bad document.
            raise PadesSealError(
                f"the seal key failed to sign: {type(exc).__name__}", code="signer_failed"
            ) from exc


# --------------------------------------------------------------------------- sealing


async def _cms_size_bound(
    bridge: _PyHankoSignerBridge,
    certificate: asn1_x509.Certificate,
    chain: Sequence[Certificate],
    timestamper: TimeStamper | None,
) -> int:
    """An upper bound on the DER size of the CMS pyHanko will embed.

    Reserving it up front spares pyHanko its size estimate, which builds a whole
    throw-away CMS (a quarter to a third of the sealing time). Everything variable
    is bounded by what we hold: the certificates that travel, the issuer name and
    serial twice (``sid`` and signing-certificate-v2), the raw signature and, from
    B-T on, the time-stamp token — sized by the stamper's dummy token, which pyHanko
    caches per stamper and which differs from a real one only in its nonce, serial
    and time (a few bytes). 2 KiB covers the fixed structure (algorithm identifiers,
    the content-type and message-digest attributes, lengths).
    """
    tbs = certificate["tbs_certificate"]
    issuer_serial = len(tbs["issuer"].dump()) + len(tbs["serial_number"].dump())
    bound = (
        len(certificate.dump())
        + sum(len(c.der) for c in chain)
        + 2 * issuer_serial
        + bridge.signature_size
        + 2048
    )
    if timestamper is not None:
        token = await timestamper.async_dummy_response(_DIGEST)
        bound += len(token.dump())
    return bound


async def async_seal_pdf(
    pdf_bytes: bytes,
    *,
    signer: Signer,
    certificate: Certificate,
    chain: Iterable[Certificate] = (),
    seal_png: bytes,
    page: int,
    x_mm: float,
    y_mm: float,
    size_mm: float = 42,
    level: PadesLevel | Literal["B-B", "B-T", "B-LT"] = PadesLevel.B_B,
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
    reason: str | None = None,
    location: str | None = None,
    name: str | None = None,
    max_size: int = MAX_PDF_SIZE,
) -> bytes:
    """Asynchronous :func:`seal_pdf` (for callers already inside an event loop)."""
    try:
        level = PadesLevel(level)
    except ValueError:
        raise PadesSealError(f"unknown PAdES level {level!r}", code="pades_level") from None
    if level is PadesLevel.B_B and timestamper is not None:
        raise PadesSealError("B-B carries no time-stamp; ask for B-T", code="pades_level")
    if level is not PadesLevel.B_B and timestamper is None:
        raise PadesSealError(f"{level} needs a timestamper", code="pades_level")
    if level is PadesLevel.B_LT and validation_context is None:
        raise PadesSealError("B-LT needs a validation context", code="pades_level")
    if signer.public_key != certificate.public_key:
        raise PadesSealError("the signer's key is not the certificate's key", code="key_mismatch")
    for what, value in (("x_mm", x_mm), ("y_mm", y_mm), ("size_mm", size_mm)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value):
            raise PadesSealError(f"{what} must be a finite number", code="seal_position")
    if not _MIN_SEAL_MM <= size_mm <= _MAX_SEAL_MM:
        raise PadesSealError(
            f"size_mm must be within {_MIN_SEAL_MM}–{_MAX_SEAL_MM}", code="seal_position"
        )
    if x_mm < 0 or y_mm < 0:
        raise PadesSealError("the seal must lie on the page", code="seal_position")

    data = _check_size(pdf_bytes, max_size)
    image = _seal_image(seal_png)
    reader = _open_reader(data)
    pages = _page_count(reader)
    if not isinstance(page, int) or isinstance(page, bool) or not 0 <= page < pages:
        raise PadesSealError(
            f"page {page!r} out of range (the document has {pages})", code="seal_position"
        )
    llx, lly, urx, ury = _media_box(reader, page)
    x0 = llx + x_mm * _MM_TO_PT
    y0 = lly + y_mm * _MM_TO_PT
    side = size_mm * _MM_TO_PT
    if x0 + side > urx + 0.01 or y0 + side > ury + 0.01:
        raise PadesSealError("the seal would extend beyond the page", code="seal_position")
    box = (round(x0, 2), round(y0, 2), round(x0 + side, 2), round(y0 + side, 2))
    field_name = _new_field_name(reader)

    chain = tuple(chain)
    asn1_cert = _to_asn1(certificate)
    bridge = _PyHankoSignerBridge(signer, asn1_cert, [_to_asn1(c) for c in chain])
    meta = pdf_signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=_DIGEST,
        subfilter=pdf_fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=name,
        embed_validation_info=level is PadesLevel.B_LT,
        validation_context=validation_context if level is PadesLevel.B_LT else None,
        use_pades_lta=False,
    )
    stamp_style = seal_stamp_style(image)
    new_field = pdf_fields.SigFieldSpec(
        sig_field_name=field_name,
        on_page=page,
        box=box,  # type: ignore[arg-type]  # pyHanko accepts real numbers here
    )

    async def attempt(prev: PdfFileReader, bytes_reserved: int | None) -> bytes:
        try:
            writer = IncrementalPdfFileWriter(
                io.BytesIO(data), prev=prev, strict=True, decode_limits=_DECODE_LIMITS
            )
        except Exception as exc:
            raise PdfError(
                f"PDF cannot be updated: {type(exc).__name__}", code="pdf_malformed"
            ) from exc
        pdf_signer = pdf_signers.PdfSigner(
            meta,
            signer=bridge,
            timestamper=timestamper,
            stamp_style=stamp_style,
            new_field_spec=new_field,
        )
        out = io.BytesIO()
        await pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=bytes_reserved)
        return out.getvalue()

    try:
        reserve = 2 * await _cms_size_bound(bridge, asn1_cert, chain, timestamper)
    except TimestampRequestError as exc:
        raise PadesSealError(
            f"the time-stamping authority failed: {exc}", code="tsa_unavailable"
        ) from exc
    try:
        try:
            return await attempt(reader, reserve)
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            # The bound fell short — a stamper whose tokens grew after its dummy was
            # cached, say. Once more on a fresh reader, sized by pyHanko's estimate.
            return await attempt(_open_reader(data), None)
    except TrustError:
        raise
    except TimestampRequestError as exc:
        raise PadesSealError(
            f"the time-stamping authority failed: {exc}", code="tsa_unavailable"
        ) from exc
    except SigningError as exc:
        raise PadesSealError(f"sealing refused: {exc}", code="pades_signing_failed") from exc
    except Exception as exc:
        # Reached with documents pyHanko's reader accepted but cannot update
        # (broken page trees, odd form structures): still a malformed input.
        raise PdfError(
            f"PDF cannot be sealed: {type(exc).__name__}: {exc}", code="pdf_malformed"
        ) from exc


def seal_pdf(
    pdf_bytes: bytes,
    *,
    signer: Signer,
    certificate: Certificate,
    chain: Iterable[Certificate] = (),
    seal_png: bytes,
    page: int,
    x_mm: float,
    y_mm: float,
    size_mm: float = 42,
    level: PadesLevel | Literal["B-B", "B-T", "B-LT"] = PadesLevel.B_B,
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
    reason: str | None = None,
    location: str | None = None,
    name: str | None = None,
    max_size: int = MAX_PDF_SIZE,
) -> bytes:
    """Seal ``pdf_bytes`` and return the sealed PDF (the input plus incremental updates).

    ``page`` is 0-based; ``x_mm``/``y_mm`` place the lower-left corner of a
    ``size_mm`` square holding ``seal_png``, measured from the lower-left
    corner of the page's MediaBox (page ``/Rotate`` is not compensated).
    ``chain`` holds the CA certificates to embed (intermediates, optionally
    the root). ``level`` ``B-T`` and ``B-LT`` need ``timestamper``; ``B-LT``
    also needs ``validation_context`` (see the module docstring).

    Raises :class:`PdfError` for unreadable input, :class:`PadesSealError` for
    a request that cannot be honoured. Inside a running event loop prefer
    :func:`async_seal_pdf` (this one then runs the work on a helper thread).
    """
    return _run_sync(
        async_seal_pdf(
            pdf_bytes,
            signer=signer,
            certificate=certificate,
            chain=chain,
            seal_png=seal_png,
            page=page,
            x_mm=x_mm,
            y_mm=y_mm,
            size_mm=size_mm,
            level=level,
            timestamper=timestamper,
            validation_context=validation_context,
            reason=reason,
            location=location,
            name=name,
            max_size=max_size,
        )
    )


_T = TypeVar("_T")


def _run_sync(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run`` — or, when this thread already runs an event loop (an async
    web server, Playwright's sync API in a test process), the same on a helper
    thread, since a loop cannot be nested."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pades") as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --------------------------------------------------------------------------- verification

# pyHanko's sub-indications that seal_service.report has no member for.
_SUB_FALLBACK: Final = {
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": SubIndication.NO_POE,
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
    "TRY_LATER": SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
}


def _sub_indication(indic: AdESSubIndic) -> SubIndication:
    name = indic.standard_name
    try:
        return SubIndication(name)
    except ValueError:
        return _SUB_FALLBACK.get(name, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE)


def _trust_check(name: str, indic: AdESSubIndic | None, detail: str) -> Check:
    if indic is None:
        return Check.indeterminate(
            name, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, f"{detail}: not trusted"
        )
    sub = _sub_indication(indic)
    text = f"{detail}: {indic.standard_name}"
    if indic.status is AdESStatus.FAILED:
        return Check.failed(name, sub, text)
    return Check.indeterminate(name, sub, text)


def _subject(cert: asn1_x509.Certificate) -> str | None:
    try:
        return str(Name.from_der(cert.subject.dump()))
    except Exception:
        try:
            return str(cert.subject.human_friendly)
        except Exception:
            return None


def _coverage_check(status: PdfSignatureStatus) -> Check:
    level = status.modification_level
    if status.coverage is SignatureCoverageLevel.ENTIRE_FILE:
        return Check.passed("modifications", "the signature covers the whole file")
    if status.coverage is SignatureCoverageLevel.ENTIRE_REVISION and level is not None:
        if level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES) or (
            level is ModificationLevel.FORM_FILLING and status.docmdp_ok
        ):
            return Check.passed(
                "modifications", f"later incremental updates are allowed ({level.name})"
            )
        return Check.failed(
            "modifications",
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            f"the document was modified after sealing ({level.name})",
        )
    if status.coverage is SignatureCoverageLevel.ENTIRE_REVISION:
        return Check.indeterminate(
            "modifications",
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            "later updates could not be analysed",
        )
    return Check.failed(
        "modifications",
        SubIndication.FORMAT_FAILURE,
        "the byte range does not cover its revision",
    )


def _report(
    status: PdfSignatureStatus,
    field_name: str | None,
    *,
    dss_revinfo: bool = False,
    control_time: datetime | None = None,
) -> PdfSignatureReport:
    checks: list[Check] = []
    checks.append(
        Check.passed("digest", "the byte range digest matches")
        if status.intact
        else Check.failed("digest", SubIndication.HASH_FAILURE, "the signed bytes were changed")
    )
    checks.append(
        Check.passed("signature", f"{status.md_algorithm} signature verifies")
        if status.valid
        else Check.failed(
            "signature", SubIndication.SIG_CRYPTO_FAILURE, "the signature does not verify"
        )
    )
    if status.trusted:
        checks.append(
            Check.passed(
                "certificate_chain",
                "path to a trust anchor validated"
                if control_time is None
                else "path to a trust anchor validated at the time-stamp "
                f"{control_time.isoformat()} with the document's revocation data",
            )
        )
    else:
        checks.append(
            _trust_check("certificate_chain", status.trust_problem_indic, "signer certificate")
        )
    checks.append(_coverage_check(status))
    if status.has_seed_values and not status.seed_value_ok:
        checks.append(
            Check.failed(
                "seed_values",
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                str(status.seed_value_constraint_error),
            )
        )
    ts = status.timestamp_validity
    ts_time: datetime | None = None
    ts_valid: bool | None = None
    if ts is None:
        checks.append(Check.skipped("timestamp", "no signature time-stamp"))
    else:
        ts_time = ts.timestamp
        ts_valid = bool(ts.intact and ts.valid and ts.trusted)
        if not (ts.intact and ts.valid):
            checks.append(
                Check.failed(
                    "timestamp", SubIndication.SIG_CRYPTO_FAILURE, "the time-stamp does not verify"
                )
            )
        elif not ts.trusted:
            checks.append(_trust_check("timestamp", ts.trust_problem_indic, "TSA certificate"))
        else:
            checks.append(Check.passed("timestamp", f"time-stamped at {ts_time.isoformat()}"))
    level = status.modification_level
    return PdfSignatureReport.of(
        checks,
        signer_subject=_subject(status.signing_cert),
        signing_time=ts_time if ts_valid else status.signer_reported_dt,
        validation_time=status.validation_time,
        field_name=field_name,
        covers_whole_document=status.coverage is SignatureCoverageLevel.ENTIRE_FILE,
        modification_level=level.name if level is not None else None,
        timestamp_time=ts_time,
        timestamp_valid=ts_valid,
        ades_sub_indication=(
            status.trust_problem_indic.standard_name if status.trust_problem_indic else None
        ),
        pades_level=(
            PadesLevel.B_B if ts is None else PadesLevel.B_LT if dss_revinfo else PadesLevel.B_T
        ).value,
    )


def _format_failure(field_name: str | None, detail: str) -> PdfSignatureReport:
    return PdfSignatureReport.of(
        [Check.failed("format", SubIndication.FORMAT_FAILURE, detail)], field_name=field_name
    )


def _validation_context_kwargs(
    trust_roots: Sequence[asn1_x509.Certificate],
    at: datetime | None,
    revocation_mode: str,
    crls: Iterable[asn1_crl.CertificateList],
    ocsps: Iterable[asn1_ocsp.OCSPResponse],
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "trust_roots": list(trust_roots),
        "allow_fetching": False,
        "revocation_mode": revocation_mode,
        # Lists, never None: pyHanko refuses a "require" context whose CRLs and
        # OCSP responses are both None, before looking at the /DSS.
        "crls": list(crls),
        "ocsps": list(ocsps),
    }
    if at is not None:
        kwargs["moment"] = at
    return kwargs


async def async_verify_pdf(
    pdf_bytes: bytes,
    *,
    trust_roots: Iterable[Certificate],
    at: datetime | None = None,
    revocation_mode: Literal["soft-fail", "hard-fail", "require"] = "soft-fail",
    crls: Iterable[asn1_crl.CertificateList] = (),
    ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
    max_size: int = MAX_PDF_SIZE,
) -> list[PdfSignatureReport]:
    """Asynchronous :func:`verify_pdf`."""
    roots = [_to_asn1(c) for c in trust_roots]
    if not roots:
        # An empty trust list never passes (and pyHanko would fall back to the OS store).
        raise CertificateError("no trust anchors given", code="cert_untrusted_root")
    if revocation_mode not in ("soft-fail", "hard-fail", "require"):
        raise ValueError(f"unknown revocation mode {revocation_mode!r}")
    data = _check_size(pdf_bytes, max_size)
    reader = _open_reader(data)
    try:
        embedded = list(pdf_embedded.collect_embedded_signatures(reader))
    except Exception as exc:
        raise PdfError(
            f"unreadable signature fields: {type(exc).__name__}", code="pdf_malformed"
        ) from exc
    if len(embedded) > MAX_SIGNATURES:
        raise PdfError(f"more than {MAX_SIGNATURES} signatures", code="pdf_too_large")

    crls, ocsps = list(crls), list(ocsps)
    vc, dss_revinfo = _context(reader, roots, at, revocation_mode, crls, ocsps)

    reports: list[PdfSignatureReport] = []
    for sig in embedded:
        field_name = _safe_field_name(sig)
        try:
            if sig.sig_object_type != "/Sig":
                # Document time-stamps (PAdES B-LTA) are not produced by seal_pdf.
                continue
            status = await pdf_embedded.async_validate_pdf_signature(
                sig, signer_validation_context=vc, ts_validation_context=vc
            )
            control_time = None
            if _stale_revinfo_only(status):
                # B-LT: the /DSS revocation data was fresh when the seal was made, and
                # the signature time-stamp proves the signature existed then. Judge the
                # paths at that time (EN 319 102-1 §5.6.2.1: a control time from a POE).
                assert status.timestamp_validity is not None
                ts_time = status.timestamp_validity.timestamp
                then, _ = _context(reader, roots, ts_time, revocation_mode, crls, ocsps)
                retry = await pdf_embedded.async_validate_pdf_signature(
                    sig, signer_validation_context=then, ts_validation_context=then
                )
                ts_retry = retry.timestamp_validity
                if retry.trusted and ts_retry is not None and ts_retry.trusted:
                    status, control_time = retry, ts_time
        except (RecursionError, MemoryError):
            reports.append(_format_failure(field_name, "signature structure too deep"))
            continue
        except Exception as exc:  # a malformed signature is a verdict, not a crash
            reports.append(
                _format_failure(field_name, f"signature cannot be processed: {type(exc).__name__}")
            )
            continue
        reports.append(
            _report(status, field_name, dss_revinfo=dss_revinfo, control_time=control_time)
        )
    return reports


def _context(
    reader: PdfFileReader,
    roots: Sequence[asn1_x509.Certificate],
    at: datetime | None,
    revocation_mode: str,
    crls: Sequence[asn1_crl.CertificateList],
    ocsps: Sequence[asn1_ocsp.OCSPResponse],
) -> tuple[ValidationContext, bool]:
    """A validation context at ``at`` holding the document's /DSS, and whether the
    /DSS holds revocation data."""
    vc_kwargs = _validation_context_kwargs(roots, at, revocation_mode, crls, ocsps)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        return dss.as_validation_context(vc_kwargs), bool(dss.crls or dss.ocsps)
    except NoDSSFoundError:
        return ValidationContext(**vc_kwargs), False
    except Exception as exc:
        raise PdfError(f"unreadable /DSS: {type(exc).__name__}", code="pdf_malformed") from exc


def _stale_revinfo_only(status: PdfSignatureStatus) -> bool:
    """The signature and its time-stamp verify, and the only trust problem is
    revocation data that is too old now (pyHanko: TRY_LATER)."""
    ts = status.timestamp_validity
    return (
        status.intact
        and status.valid
        and not status.trusted
        and status.trust_problem_indic is AdESIndeterminate.TRY_LATER
        and ts is not None
        and ts.intact
        and ts.valid
        and (ts.trusted or ts.trust_problem_indic is AdESIndeterminate.TRY_LATER)
    )


def _safe_field_name(sig: Any) -> str | None:
    try:
        name = sig.field_name
    except Exception:
        return None
    return str(name) if name is not None else None


def verify_pdf(
    pdf_bytes: bytes,
    *,
    trust_roots: Iterable[Certificate],
    at: datetime | None = None,
    revocation_mode: Literal["soft-fail", "hard-fail", "require"] = "soft-fail",
    crls: Iterable[asn1_crl.CertificateList] = (),
    ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
    max_size: int = MAX_PDF_SIZE,
) -> list[PdfSignatureReport]:
    """Verify every signature of ``pdf_bytes``; one :class:`PdfSignatureReport` each.

    Trust anchors are ``trust_roots`` only (never the OS store); nothing is
    fetched from the network; certificates, CRLs and OCSP responses from the
    document's ``/DSS`` are used, plus any ``crls`` / ``ocsps`` given here.
    ``revocation_mode`` is pyHanko's:
    ``soft-fail`` (default) accepts missing revocation data, ``require``
    demands it for every certificate. ``at`` is the validation time (now by
    default). When the only problem at ``at`` is revocation data that has gone
    stale since (a B-LT document whose /DSS CRLs are past their nextUpdate) and
    the signature time-stamp is valid, the paths are judged again at the
    time-stamp's time — the proof of existence — and the certificate_chain
    check says so. A document without signatures gives an empty list — callers must
    not read "nothing failed" as "sealed". Raises :class:`PdfError` for
    unreadable input; a malformed signature yields FAILED / FORMAT_FAILURE.
    """
    return _run_sync(
        async_verify_pdf(
            pdf_bytes,
            trust_roots=trust_roots,
            at=at,
            revocation_mode=revocation_mode,
            crls=crls,
            ocsps=ocsps,
            max_size=max_size,
        )
    )
