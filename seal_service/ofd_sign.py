"""Sealing OFD documents: adding a GB/T 33190-2016 ch. 18 electronic seal (签章) to a package.

The producing side of :func:`seal_service.ofd.verify_ofd`. Standard: GB/T
33190-2016 *电子文件存储与交换格式 版式文档*, ch. 18 数字签名 — ``OFD.xml`` →
``DocBody/Signatures`` names the signature list (``Signatures.xml``, 签名列表,
``MaxSignId`` then one ``Signature`` with ``ID``, ``Type`` and ``BaseLoc`` per
signature); each ``Signature.xml`` (签名描述文件) holds ``SignedInfo``
(``Provider``, ``SignatureMethod``, ``SignatureDateTime``, ``References`` with a
``CheckMethod`` and one ``Reference``/``CheckValue`` per protected file,
``StampAnnot`` appearances) and ``SignedValue`` → ``SignedValue.dat``, here a
GB/T 38540-2020 v4 ``SES_Signature`` (:func:`seal_service.sealing.sign_digest`)
whose ``dataHash`` is SM3 of the ``Signature.xml`` bytes and whose
``propertyInfo`` is that file's absolute path (as ofdrw writes it).

:func:`seal_ofd` reads the package with the bounded reader of
:mod:`seal_service.ofd` (so a malformed or unsafe input raises its
:class:`~seal_service.ofd.OfdError`), then:

1. makes ``OFD.xml``'s first ``DocBody`` name a signature list if it does not yet
   (``<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>``, the last
   child of ``DocBody`` per the schema) — before anything is digested;
2. protects, with SM3 (``CheckMethod`` 1.2.156.10197.1.401), every file of the
   package as it is at this point, including earlier signatures' Signature.xml,
   SignedValue.dat and seal files — except the signature list itself, which each
   later seal must extend (ofdrw's "continue sign" mode; a seal that protected
   ``Signatures.xml`` would be broken by the next one, as ofdrw's "whole
   protected" seals are). Earlier seals do not protect the new files, which is
   what ch. 18 intends for successive seals;
3. writes ``Signs/Sign_k/Signature.xml`` (absolute ``FileRef`` / ``SignedValue``
   paths, ``SignatureDateTime`` as UTC ``YYYYMMDDhhmmssZ``), and
   ``Signs/Sign_k/SignedValue.dat``;
4. adds the ``Signature`` entry (``Type="Seal"``) to the signature list, keeps
   ``MaxSignId`` the largest ID used (signature and StampAnnot IDs share it, as in
   ofdrw; an ``s006``-style prefix is kept);
5. writes a new ZIP (existing files in their order, new ones last, all deflated,
   fixed timestamps) and verifies it with :func:`~seal_service.ofd.verify_ofd`
   before returning it.

A cross-page seal (骑缝章, ``cross_page=True``) is one signature with one
``StampAnnot`` per page, as in ofdrw's V4RideRight.ofd: the seal picture is cut
into as many vertical slices as there are pages; page *i* shows slice *i* at its
right edge — ``Boundary`` is the whole seal placed so that slice *i* ends at the
page's right edge, ``Clip`` (in the seal's own coordinates) keeps only that slice.
``x_mm`` is not used then; ``y_mm`` is the top of the seal on every page.
"""

from __future__ import annotations

import base64
import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from trust.algorithms import OID
from trust.crypto import Signer
from trust.errors import TrustError
from trust.hashes import sm3
from trust.pki import Certificate

from .ofd import (
    MAX_SIGNATURES,
    OFD_NAMESPACE,
    OfdError,
    OfdPackage,
    _child,
    _children,
    _dirname,
    _local,
    _resolve,
    _text,
    parse_xml,
    verify_ofd,
)
from .report import CheckStatus
from .sealing import SealingError, sign_digest
from .ses import SealFormatError, parse_seal

__all__ = ["PROVIDER_NAME", "PROVIDER_VERSION", "PROVIDER_COMPANY", "OfdSignError", "seal_ofd"]

PROVIDER_NAME: Final = "GovTrust"
PROVIDER_VERSION: Final = "0.1.0"
PROVIDER_COMPANY: Final = "GovTrust"
SM3_CHECK_METHOD: Final = OID.SM3  # 1.2.156.10197.1.401
SM2_SIGNATURE_METHOD: Final = OID.SM3_WITH_SM2  # 1.2.156.10197.1.501
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
_XML_DECL: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_DEFAULT_PAGE_WIDTH_MM: Final = 210.0
_ID: Final = re.compile(r"^(\D*?)(\d+)$")
# the checks of the new signature that must pass whatever the trust anchors
_SELF_CHECKS: Final = ("references", "signed_value", "property_info", "data_hash", "signature")


class OfdSignError(TrustError):
    """The OFD package cannot be sealed with these arguments.

    Codes: ``invalid_argument``, ``page_out_of_range``, ``too_many_signatures``,
    ``self_check_failed``. A malformed package raises
    :class:`~seal_service.ofd.OfdError`; a refused seal or signer
    :class:`~seal_service.sealing.SealingError`.
    """

    code = "invalid_argument"


def _number(value: float) -> str:
    """A length in mm for ST_Box: at most 3 decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _length(value: float | None, what: str, *, positive: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OfdSignError(f"{what} must be a finite number of millimetres")
    if positive and value <= 0:
        raise OfdSignError(f"{what} must be positive (got {value})")
    return float(value)


@dataclass(frozen=True, slots=True)
class _Page:
    id: str
    width: float


def _box_width(text: str | None) -> float | None:
    if not text:
        return None
    parts = text.split()
    try:
        width = float(parts[2]) if len(parts) == 4 else None
    except ValueError:
        return None
    return width if width is not None and math.isfinite(width) and width > 0 else None


def _pages(pkg: OfdPackage, doc_path: str, doc: Element) -> list[_Page]:
    """The document's pages in order, with their IDs and (for cross-page seals) widths."""
    common = _child(doc, "CommonData")
    default_width = (
        _box_width(_text(_child(_child(common, "PageArea"), "PhysicalBox")))
        or _DEFAULT_PAGE_WIDTH_MM
    )
    pages: list[_Page] = []
    for page in _children(_child(doc, "Pages"), "Page"):
        page_id = (page.get("ID") or "").strip()
        if not page_id:
            raise OfdError(f"/{doc_path}: a Page without ID", code="malformed")
        width = default_width
        loc = page.get("BaseLoc")
        if loc:
            content_path = _resolve(_dirname(doc_path), loc)
            if pkg.exists(content_path):
                content = pkg.xml(content_path)
                area = _child(_child(content, "Area"), "PhysicalBox")
                width = _box_width(_text(area)) or default_width
        pages.append(_Page(page_id, width))
    return pages


def _with_signatures_ref(ofd_xml: bytes, loc: str) -> bytes:
    """OFD.xml with ``<Signatures>loc</Signatures>`` appended to its first DocBody."""
    try:
        text = ofd_xml.decode("utf-8")
    except UnicodeDecodeError:
        raise OfdError("OFD.xml is not UTF-8; it cannot be extended", code="malformed") from None
    match = re.search(r"</(?:([A-Za-z_][\w.-]*):)?DocBody\s*>", text)
    if match is None:
        raise OfdError("OFD.xml: the first DocBody has no closing tag", code="malformed")
    prefix = f"{match.group(1)}:" if match.group(1) else ""
    element = f"<{prefix}Signatures>{escape(loc)}</{prefix}Signatures>"
    out = (text[: match.start()] + element + text[match.start() :]).encode("utf-8")
    # a comment or CDATA section could hold the closing tag: check what the reader will see
    body = _child(parse_xml(out, "OFD.xml"), "DocBody")
    named = _text(_child(body, "Signatures"))
    if named is None or _resolve("", named) != loc:
        raise OfdError("OFD.xml: cannot add Signatures to the first DocBody", code="malformed")
    return out


def _next_id(existing: list[str]) -> tuple[str, int, int]:
    """(prefix, number width, largest number) over IDs like ``1`` or ``s006``."""
    prefix, width, largest = "", 0, 0
    for value in existing:
        match = _ID.match(value.strip())
        if match is None:
            continue
        number = int(match.group(2))
        if number >= largest:
            prefix, largest = match.group(1), number
            width = len(match.group(2)) if match.group(2).startswith("0") else 0
    return prefix, width, largest


def _signatures_xml(entries: list[Element], new_entry: dict[str, str], max_id: str) -> bytes:
    """A signature list: MaxSignId first (the schema's order), old entries kept, the new one last."""
    out = [_XML_DECL, f'<ofd:Signatures xmlns:ofd="{OFD_NAMESPACE}">']
    out.append(f"<ofd:MaxSignId>{escape(max_id)}</ofd:MaxSignId>")
    for attrs in [dict(e.attrib) for e in entries] + [new_entry]:
        # attributes in no namespace are all ch. 18 defines for Signature (ID, Type, BaseLoc)
        rendered = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items() if "{" not in k)
        out.append(f"<ofd:Signature{rendered}/>")
    out.append("</ofd:Signatures>")
    return "".join(out).encode("utf-8")


def _signature_xml(
    *,
    sign_time: datetime,
    references: list[tuple[str, bytes]],
    stamps: list[tuple[str, str, str, str | None]],
    signed_value_path: str,
) -> bytes:
    out = [_XML_DECL, f'<ofd:Signature xmlns:ofd="{OFD_NAMESPACE}"><ofd:SignedInfo>']
    out.append(
        f"<ofd:Provider ProviderName={quoteattr(PROVIDER_NAME)}"
        f" Version={quoteattr(PROVIDER_VERSION)} Company={quoteattr(PROVIDER_COMPANY)}/>"
    )
    out.append(f"<ofd:SignatureMethod>{SM2_SIGNATURE_METHOD}</ofd:SignatureMethod>")
    out.append(
        f"<ofd:SignatureDateTime>{sign_time.strftime('%Y%m%d%H%M%SZ')}</ofd:SignatureDateTime>"
    )
    out.append(f"<ofd:References CheckMethod={quoteattr(SM3_CHECK_METHOD)}>")
    for path, value in references:
        check = base64.b64encode(value).decode("ascii")
        out.append(
            f"<ofd:Reference FileRef={quoteattr('/' + path)}>"
            f"<ofd:CheckValue>{check}</ofd:CheckValue></ofd:Reference>"
        )
    out.append("</ofd:References>")
    for stamp_id, page_ref, boundary, clip in stamps:
        clip_attr = f" Clip={quoteattr(clip)}" if clip is not None else ""
        out.append(
            f"<ofd:StampAnnot ID={quoteattr(stamp_id)} PageRef={quoteattr(page_ref)}"
            f" Boundary={quoteattr(boundary)}{clip_attr}/>"
        )
    out.append("</ofd:SignedInfo>")
    out.append(f"<ofd:SignedValue>{escape('/' + signed_value_path)}</ofd:SignedValue>")
    out.append("</ofd:Signature>")
    return "".join(out).encode("utf-8")


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def seal_ofd(
    ofd: bytes,
    *,
    seal_der: bytes,
    signer: Signer,
    signer_cert: Certificate,
    sign_time: datetime,
    page: int = 1,
    x_mm: float,
    y_mm: float,
    width_mm: float | None = None,
    height_mm: float | None = None,
    cross_page: bool = False,
) -> bytes:
    """Add an electronic seal (GB/T 33190-2016 ch. 18, GB/T 38540 v4) to an OFD package.

    The seal appears on ``page`` (1-based) with its top-left corner at
    (``x_mm``, ``y_mm``) and size ``width_mm`` × ``height_mm`` (by default the
    seal picture's size); with ``cross_page`` it rides the right edge of every
    page (see the module docstring). Returns the new package. Raises
    :class:`~seal_service.ofd.OfdError` for an unusable package,
    :class:`OfdSignError` for bad arguments and
    :class:`~seal_service.sealing.SealingError` when the seal or signer is refused.
    """
    if isinstance(page, bool) or not isinstance(page, int):
        raise OfdSignError("page must be an integer (1-based)")
    x = _length(x_mm, "x_mm", positive=False)
    y = _length(y_mm, "y_mm", positive=False)
    assert x is not None and y is not None
    if not isinstance(sign_time, datetime) or sign_time.utcoffset() is None:
        raise SealingError("sign_time must be a timezone-aware datetime", code="invalid_argument")
    sign_time = sign_time.astimezone(UTC).replace(microsecond=0)
    try:
        picture = parse_seal(seal_der).picture
    except SealFormatError as exc:
        raise SealingError(f"not a valid seal: {exc.message}", code="malformed_seal") from None
    width = _length(width_mm, "width_mm", positive=True) or float(picture.width)
    height = _length(height_mm, "height_mm", positive=True) or float(picture.height)
    if width <= 0 or height <= 0:
        raise OfdSignError("the seal picture has no size; give width_mm and height_mm")

    pkg = OfdPackage(ofd)
    files: dict[str, bytes] = {name: pkg.read(name) for name in pkg.names}
    if "OFD.xml" not in files:
        raise OfdError("OFD.xml is missing: not an OFD package", code="malformed")
    root = parse_xml(files["OFD.xml"], "OFD.xml")
    if _local(root.tag) != "OFD":
        raise OfdError("OFD.xml has no OFD root element", code="malformed")
    body = _child(root, "DocBody")
    doc_loc = _text(_child(body, "DocRoot"))
    if body is None or doc_loc is None:
        raise OfdError("OFD.xml has no DocBody with a DocRoot", code="malformed")
    doc_path = _resolve("", doc_loc)
    if doc_path not in files:
        raise OfdError(f"document /{doc_path} is missing", code="malformed")
    doc = parse_xml(files[doc_path], doc_path)
    if _local(doc.tag) != "Document":
        raise OfdError(f"/{doc_path} is not a Document part", code="malformed")
    pages = _pages(pkg, doc_path, doc)
    if not pages:
        raise OfdError(f"/{doc_path} has no pages", code="malformed")
    if not cross_page and not 1 <= page <= len(pages):
        raise OfdSignError(
            f"page {page} is not in the document (1–{len(pages)})", code="page_out_of_range"
        )

    # 1. the signature list, named from OFD.xml
    sigs_loc = _text(_child(body, "Signatures"))
    entries: list[Element] = []
    max_sign_id: str | None = None
    if sigs_loc is not None:
        sigs_path = _resolve("", sigs_loc)
        if sigs_path in files:
            sigs = parse_xml(files[sigs_path], sigs_path)
            if _local(sigs.tag) != "Signatures":
                raise OfdError(f"/{sigs_path} is not a Signatures part", code="malformed")
            entries = _children(sigs, "Signature")
            max_sign_id = _text(_child(sigs, "MaxSignId"))
    else:
        doc_dir = _dirname(doc_path)
        sigs_path = f"{doc_dir}/Signs/Signatures.xml" if doc_dir else "Signs/Signatures.xml"
        if sigs_path in files:
            raise OfdError(f"/{sigs_path} exists but OFD.xml does not name it", code="malformed")
        files["OFD.xml"] = _with_signatures_ref(files["OFD.xml"], sigs_path)
    if len(entries) >= MAX_SIGNATURES:
        raise OfdSignError(
            f"the document already has {len(entries)} signatures", code="too_many_signatures"
        )

    # 2. IDs and where the new files go
    used = [e.get("ID") or "" for e in entries] + ([max_sign_id] if max_sign_id else [])
    prefix, id_width, largest = _next_id(used)

    def new_id() -> str:
        nonlocal largest
        largest += 1
        return f"{prefix}{largest:0{id_width}d}"

    sig_id = new_id()
    sigs_dir = _dirname(sigs_path)
    head = f"{sigs_dir}/" if sigs_dir else ""
    taken = {n[len(head) :].split("/", 1)[0] for n in files if n.startswith(head)}
    k = 0
    while f"Sign_{k}" in taken:
        k += 1
    sign_dir = f"{sigs_dir}/Sign_{k}" if sigs_dir else f"Sign_{k}"
    sig_xml_path = f"{sign_dir}/Signature.xml"
    signed_value_path = f"{sign_dir}/SignedValue.dat"

    # 3. appearances
    stamps: list[tuple[str, str, str, str | None]] = []
    if cross_page:
        slice_width = width / len(pages)
        for i, p in enumerate(pages):
            left = p.width - (i + 1) * slice_width
            boundary = " ".join(_number(v) for v in (left, y, width, height))
            clip = " ".join(_number(v) for v in (i * slice_width, 0.0, slice_width, height))
            stamps.append((new_id(), p.id, boundary, clip))
    else:
        boundary = " ".join(_number(v) for v in (x, y, width, height))
        stamps.append((new_id(), pages[page - 1].id, boundary, None))

    # 4. Signature.xml over every file but the signature list, then SignedValue.dat
    references = [(name, sm3(data)) for name, data in files.items() if name != sigs_path]
    sig_xml = _signature_xml(
        sign_time=sign_time,
        references=references,
        stamps=stamps,
        signed_value_path=signed_value_path,
    )
    signed_value = sign_digest(
        seal_der=seal_der,
        signer=signer,
        signer_cert=signer_cert,
        data_hash=sm3(sig_xml),
        property_info="/" + sig_xml_path,
        sign_time=sign_time,
    )
    new_entry = {"ID": sig_id, "Type": "Seal", "BaseLoc": "/" + sig_xml_path}
    files[sigs_path] = _signatures_xml(entries, new_entry, f"{prefix}{largest:0{id_width}d}")
    files[sig_xml_path] = sig_xml
    files[signed_value_path] = signed_value

    out = _zip(list(files.items()))
    _self_check(out, sig_xml_path)
    return out


def _self_check(out: bytes, sig_xml_path: str) -> None:
    """The new package must read, and the new signature's own checks must pass."""
    report = verify_ofd(out)
    mine = [s for s in report.signatures if s.path == sig_xml_path]
    if len(mine) != 1:
        raise OfdSignError(
            f"the reader does not find /{sig_xml_path} in the new package",
            code="self_check_failed",
        )
    for name in _SELF_CHECKS:
        if mine[0].report.status(name) is not CheckStatus.PASSED:
            raise OfdSignError(
                f"the new signature fails its self-check: {mine[0].report.check(name).detail}",
                code="self_check_failed",
            )
