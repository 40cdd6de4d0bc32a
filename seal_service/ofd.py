"""OFD packages and their signatures: a bounded reader and GB/T 33190-2016 ch. 18 verification.

An OFD file (GB/T 33190-2016 *Electronic files storage and exchange formats —
fixed layout documents*, 电子文件存储与交换格式 版式文档) is a ZIP container of XML
parts whose entry is ``OFD.xml``. Signatures are described in ch. 18 (数字签名):

* ``OFD.xml`` → ``DocBody/Signatures`` names the signature list of a document;
* the list (``Signatures.xml``, 签名列表) holds one ``Signature`` per signature with
  ``ID``, ``Type`` (``Seal`` — an electronic seal, the default — or ``Sign`` — a
  plain digital signature) and ``BaseLoc`` → ``Signature.xml``;
* ``Signature.xml`` (签名描述文件) holds ``SignedInfo`` (``Provider``,
  ``SignatureMethod``, ``SignatureDateTime``, ``References`` with a
  ``CheckMethod`` and one base64 digest per protected file, ``StampAnnot``
  appearances, optional ``Seal/BaseLoc``) and ``SignedValue`` → ``SignedValue.dat``.

What is signed (checked against the ofdrw sample files): for ``Type="Seal"``,
``SignedValue.dat`` is a GB/T 38540 / GM/T 0031 ``SES_Signature`` whose
``TBS_Sign.dataHash`` is SM3 of the ``Signature.xml`` bytes and whose
``propertyInfo`` is that file's path; for ``Type="Sign"`` it is a bare SM2
signature (DER, or raw r‖s) over the ``Signature.xml`` bytes. Signature.xml in
turn protects every referenced file by its digest. A ``Type="Sign"`` package
carries no certificate at all, so the caller passes candidate signer
certificates (``signer_certs``).

Paths (the basic type ``ST_Loc``) starting with ``/`` are absolute in the package;
others are relative to the folder of the XML part that contains them.

Safety (SECURITY.md "Seals"): the ZIP is read lazily with bounds on entry count,
per-entry and total decompressed size and compression ratio; entry names with
``..``, absolute paths, drive letters or backslashes, and duplicate names, are
refused; XML goes through defusedxml with DTDs, entity declarations and external
references forbidden, and with bounded size and nesting. An unusable package
raises :class:`OfdError` with a specific ``code``; everything about a signature
itself is reported as a value.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Final
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_et
from asn1crypto import cms

from trust.algorithms import OID, by_oid
from trust.errors import TrustError, UnsupportedAlgorithm
from trust.hashes import digest, sm3
from trust.pki import Certificate
from trust.sigenc import SigEncoding

from .report import (
    Check,
    CheckStatus,
    Indication,
    SignatureReport,
    SubIndication,
)
from .ses import SealFormatError, chain_check, parse_signature, verify_signature

__all__ = [
    "MAX_PACKAGE_SIZE",
    "MAX_ENTRIES",
    "MAX_ENTRY_SIZE",
    "MAX_TOTAL_SIZE",
    "MAX_COMPRESSION_RATIO",
    "MAX_XML_SIZE",
    "MAX_XML_DEPTH",
    "MAX_SIGNATURES",
    "OfdError",
    "OfdPackage",
    "ReferenceResult",
    "StampAnnot",
    "OfdSignatureReport",
    "OfdReport",
    "verify_ofd",
]

MAX_PACKAGE_SIZE: Final = 200 * 1024 * 1024  # the ZIP bytes themselves
MAX_ENTRIES: Final = 2_000
MAX_ENTRY_SIZE: Final = 50 * 1024 * 1024  # decompressed, per entry
MAX_TOTAL_SIZE: Final = 200 * 1024 * 1024  # decompressed, all entries
MAX_COMPRESSION_RATIO: Final = 100  # decompressed / compressed, for entries above the grace size
RATIO_GRACE_SIZE: Final = 1024 * 1024
MAX_XML_SIZE: Final = 10 * 1024 * 1024
MAX_XML_DEPTH: Final = 64
MAX_SIGNATURES: Final = 100

OFD_NAMESPACE: Final = "http://www.ofdspec.org/2016"
#: China Standard Time: ofdrw and other Chinese producers write SignatureDateTime
#: as local time without an offset ("2021-05-19 20:53:44" beside a TBS_Sign
#: timeInfo of 20210519125344Z in V4RideRight.ofd).
_CST: Final = timezone(timedelta(hours=8), "CST")


class OfdError(TrustError):
    """The OFD package cannot be used (not a ZIP, too large, unsafe names or XML, malformed XML).

    Codes: ``malformed``, ``ofd_too_large``, ``ofd_path_traversal``,
    ``ofd_duplicate_entry``, ``ofd_xml_forbidden``.
    """

    code = "malformed"


def _err(message: str, code: str = "malformed") -> OfdError:
    return OfdError(message, code=code)


_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    OverflowError,
    RuntimeError,  # encrypted entries
    NotImplementedError,  # unsupported compression
    UnicodeDecodeError,
)

_DRIVE: Final = re.compile(r"^[A-Za-z]:")


def _check_entry_name(name: str) -> str:
    """Refuse unsafe ZIP entry names; return the name without a trailing ``/``."""
    if not name:
        raise _err("empty entry name")
    if "\\" in name:
        raise _err(f"backslash in entry name {name!r}", "ofd_path_traversal")
    if name.startswith("/") or _DRIVE.match(name):
        raise _err(f"absolute entry name {name!r}", "ofd_path_traversal")
    if any(ord(ch) < 0x20 for ch in name):
        raise _err(f"control character in entry name {name!r}")
    trimmed = name[:-1] if name.endswith("/") else name
    parts = trimmed.split("/")
    if ".." in parts:
        raise _err(f"'..' in entry name {name!r}", "ofd_path_traversal")
    if any(p in ("", ".") for p in parts):
        raise _err(f"empty or '.' segment in entry name {name!r}")
    return trimmed


def _resolve(base_dir: str, loc: str) -> str:
    """Resolve an ST_Loc against the folder of the part that contains it (GB/T 33190 ST_Loc)."""
    loc = loc.strip()
    if not loc:
        raise _err("empty path in an OFD part")
    if "\\" in loc or _DRIVE.match(loc) or "\x00" in loc:
        raise _err(f"unsupported path {loc!r}", "ofd_path_traversal")
    parts: list[str] = [] if loc.startswith("/") else [p for p in base_dir.split("/") if p]
    for segment in loc.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise _err(f"path {loc!r} leaves the package", "ofd_path_traversal")
            parts.pop()
            continue
        parts.append(segment)
    if not parts:
        raise _err(f"path {loc!r} names the package root")
    return "/".join(parts)


def _dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _declared_entry_count(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record (ZIP64 aware), read before
    :mod:`zipfile` builds one object per entry; ``None`` if no record is found."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if eocd < 0 or eocd + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, eocd + 10)
    if count != 0xFFFF:
        return int(count)
    locator = eocd - 20
    if locator < 0 or data[locator : locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack_from("<Q", data, locator + 8)
    if offset + 56 > len(data) or data[offset : offset + 4] != b"PK\x06\x06":
        return None
    (count64,) = struct.unpack_from("<Q", data, offset + 32)
    return int(count64)


class OfdPackage:
    """A read-only, bounded view of an OFD ZIP container.

    Entry names are checked when the package is opened; file contents are
    decompressed on demand (each at most once) under the size limits.
    """

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise _err("OFD data must be bytes")
        if len(data) > MAX_PACKAGE_SIZE:
            raise _err(f"OFD package larger than {MAX_PACKAGE_SIZE} bytes", "ofd_too_large")
        data = bytes(data)
        declared_entries = _declared_entry_count(data)
        if declared_entries is not None and declared_entries > MAX_ENTRIES:
            raise _err(f"more than {MAX_ENTRIES} entries", "ofd_too_large")
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except _ZIP_ERRORS as exc:
            raise _err(f"not a ZIP container ({type(exc).__name__}: {exc})") from None
        if len(infos) > MAX_ENTRIES:
            raise _err(f"more than {MAX_ENTRIES} entries", "ofd_too_large")
        self._files: dict[str, zipfile.ZipInfo] = {}
        self._dirs: set[str] = set()
        declared_total = 0
        for info in infos:
            name = _check_entry_name(info.filename)
            if name in self._files or name in self._dirs:
                raise _err(f"duplicate entry {name!r}", "ofd_duplicate_entry")
            if info.is_dir():
                self._dirs.add(name)
                continue
            if info.flag_bits & 0x1:
                raise _err(f"encrypted entry {name!r}")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _err(f"unsupported compression method {info.compress_type} for {name!r}")
            self._check_sizes(name, info.file_size, info.compress_size)
            declared_total += info.file_size
            if declared_total > MAX_TOTAL_SIZE:
                raise _err(f"decompressed size exceeds {MAX_TOTAL_SIZE} bytes", "ofd_too_large")
            self._files[name] = info
        folders = set(self._dirs)  # every folder named or implied by an entry
        for name in (*self._files, *self._dirs):
            parts = name.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        clash = folders.intersection(self._files)
        if clash:
            raise _err(f"{sorted(clash)[0]!r} is both a file and a folder", "ofd_duplicate_entry")
        self._cache: dict[str, bytes] = {}
        self._read_total = 0

    @staticmethod
    def _check_sizes(name: str, size: int, compressed: int) -> None:
        if size > MAX_ENTRY_SIZE:
            raise _err(f"{name!r} inflates to more than {MAX_ENTRY_SIZE} bytes", "ofd_too_large")
        if size > RATIO_GRACE_SIZE and size > MAX_COMPRESSION_RATIO * max(compressed, 1):
            raise _err(
                f"{name!r} has a compression ratio above {MAX_COMPRESSION_RATIO}:1",
                "ofd_too_large",
            )

    @property
    def names(self) -> tuple[str, ...]:
        """The file entries (folders excluded), in archive order."""
        return tuple(self._files)

    def exists(self, path: str) -> bool:
        return path in self._files

    def read(self, path: str) -> bytes:
        """The decompressed bytes of file ``path`` (a normalised package path)."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        info = self._files.get(path)
        if info is None:
            raise _err(f"no file {path!r} in the package")
        limit = min(MAX_ENTRY_SIZE, MAX_TOTAL_SIZE - self._read_total)
        chunks: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                while True:
                    chunk = stream.read(64 * 1024)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise _err(f"{path!r} inflates past the size limit", "ofd_too_large")
                    chunks.append(chunk)
        except OfdError:
            raise
        except _ZIP_ERRORS as exc:
            raise _err(f"cannot read {path!r} ({type(exc).__name__}: {exc})") from None
        self._check_sizes(path, size, info.compress_size)
        self._read_total += size
        data = b"".join(chunks)
        self._cache[path] = data
        return data

    def xml(self, path: str) -> Element:
        """Parse file ``path`` as XML, safely (see :func:`parse_xml`)."""
        return parse_xml(self.read(path), path)


def parse_xml(data: bytes, what: str = "XML") -> Element:
    """Parse an OFD XML part: no DTD, no entities, no external references, bounded size and depth."""
    if len(data) > MAX_XML_SIZE:
        raise _err(f"{what} is larger than {MAX_XML_SIZE} bytes", "ofd_too_large")
    try:
        root = safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (
        defusedxml.DTDForbidden,
        defusedxml.EntitiesForbidden,
        defusedxml.ExternalReferenceForbidden,
        defusedxml.NotSupportedError,
    ) as exc:
        raise _err(
            f"{what}: forbidden XML construct ({type(exc).__name__})", "ofd_xml_forbidden"
        ) from None
    except (ParseError, ValueError, TypeError, LookupError, RecursionError) as exc:
        raise _err(f"{what} is not well-formed XML ({exc})") from None
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_XML_DEPTH:
            raise _err(f"{what} nests deeper than {MAX_XML_DEPTH} elements")
        stack.extend((child, depth + 1) for child in element)
    return root


# --------------------------------------------------------------------------- XML helpers


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element | None, name: str) -> Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text or None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ReferenceResult:
    """One ``Reference`` of SignedInfo: a protected file and whether its digest matches."""

    path: str
    method: str
    status: CheckStatus
    expected: str
    actual: str | None
    detail: str

    @property
    def valid(self) -> bool:
        return self.status is CheckStatus.PASSED


@dataclass(frozen=True, slots=True)
class StampAnnot:
    """Where the seal image appears (SignedInfo/StampAnnot); ``page_ref`` is a page object ID."""

    id: str | None
    page_ref: str | None
    boundary: str | None
    clip: str | None


@dataclass(frozen=True, slots=True)
class OfdSignatureReport:
    """The verdict on one OFD signature and what it covers."""

    id: str | None
    type: str
    path: str
    signed_value_path: str | None
    provider: tuple[tuple[str, str], ...]
    signature_method: str | None
    signature_date_time: str | None
    stamp_annots: tuple[StampAnnot, ...]
    references: tuple[ReferenceResult, ...]
    report: SignatureReport

    @property
    def indication(self) -> Indication:
        return self.report.indication

    @property
    def sub_indication(self) -> SubIndication | None:
        return self.report.sub_indication

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.report.checks

    @property
    def reference_digests_valid(self) -> bool:
        """True iff there is at least one Reference and every digest matches."""
        return bool(self.references) and all(r.valid for r in self.references)


@dataclass(frozen=True, slots=True)
class OfdReport:
    """The verdict on a whole OFD package.

    ``indication`` is FAILED if any signature failed, else INDETERMINATE if any
    is indeterminate (or there is no signature: NO_SIGNATURE_FOUND), else PASSED.
    ``unsigned_parts`` are the files that no Reference protects and that are not
    part of a signature itself (signature list, Signature.xml, SignedValue, seal
    file) — for example an ``OFD.xml`` that the signer left out.
    """

    indication: Indication
    sub_indication: SubIndication | None
    signatures: tuple[OfdSignatureReport, ...]
    unsigned_parts: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.indication is Indication.PASSED


# --------------------------------------------------------------------------- verification

_CHECK_METHODS: Final = {
    "sm3": "sm3",
    OID.SM3: "sm3",
    "sha256": "sha256",
    "sha-256": "sha256",
    OID.SHA256: "sha256",
}

_DATE_FORMATS: Final = (
    "%Y%m%d%H%M%SZ",
    "%Y%m%d%H%M%S.%fZ",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y%m%d%H%M%S",
)


def _signature_date_time(text: str | None) -> datetime | None:
    """SignatureDateTime in the forms seen in real files; no offset means China Standard Time."""
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt.endswith("Z"):
            value = value.replace(tzinfo=UTC)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=_CST)
        return value.astimezone(UTC)
    return None


_CMS_SIGNED_DATA: Final = ("1.2.840.113549.1.7.2", OID.GM_CMS_SIGNED_DATA)


def _is_cms(data: bytes) -> bool:
    """Does ``data`` look like a CMS ContentInfo of SignedData (PKCS#7 / GB/T 35275)?"""
    if len(data) < 16 or data[0] != 0x30:
        return False
    try:
        info = cms.ContentInfo.load(data)
        return info["content_type"].dotted in _CMS_SIGNED_DATA
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return False


class _Verifier:
    def __init__(
        self,
        pkg: OfdPackage,
        *,
        roots: Collection[Certificate],
        intermediates: Collection[Certificate],
        signer_certs: Collection[Certificate],
        at: datetime | None,
    ) -> None:
        self.pkg = pkg
        self.roots = tuple(roots)
        self.intermediates = tuple(intermediates)
        self.signer_certs = tuple(signer_certs)
        self.at = at
        self.digests: dict[tuple[str, str], bytes] = {}
        self.covered: set[str] = set()

    def digest(self, path: str, method: str) -> bytes:
        key = (path, method)
        if key not in self.digests:
            self.digests[key] = digest(method, self.pkg.read(path))
        return self.digests[key]

    # ---------------------------------------------------------------- references

    def references(self, signed_info: Element | None, base_dir: str) -> list[ReferenceResult]:
        refs_el = _child(signed_info, "References")
        if refs_el is None:
            return []
        method_text = (refs_el.get("CheckMethod") or "").strip()
        method = _CHECK_METHODS.get(method_text.lower() if method_text else "sm3")
        results = []
        for ref in _children(refs_el, "Reference"):
            loc = ref.get("FileRef")
            if loc is None:
                raise _err("Reference without FileRef")
            path = _resolve(base_dir, loc)
            self.covered.add(path)
            expected = _text(_child(ref, "CheckValue")) or ""
            results.append(self._reference(path, method, method_text, expected))
        return results

    def _reference(
        self, path: str, method: str | None, method_text: str, expected: str
    ) -> ReferenceResult:
        label = method or method_text
        if method is None:
            return ReferenceResult(
                path, label, CheckStatus.INDETERMINATE, expected, None,
                f"unsupported CheckMethod {method_text!r}",
            )  # fmt: skip
        try:
            want = base64.b64decode("".join(expected.split()), validate=True)
        except (binascii.Error, ValueError):
            return ReferenceResult(
                path, label, CheckStatus.FAILED, expected, None, "CheckValue is not base64"
            )
        if not self.pkg.exists(path):
            return ReferenceResult(
                path, label, CheckStatus.INDETERMINATE, expected, None,
                "the referenced file is not in the package",
            )  # fmt: skip
        got = self.digest(path, method)
        actual = base64.b64encode(got).decode()
        if got != want:
            return ReferenceResult(
                path, label, CheckStatus.FAILED, expected, actual, f"{label} digest differs"
            )
        return ReferenceResult(path, label, CheckStatus.PASSED, expected, actual, "digest matches")

    @staticmethod
    def references_check(results: list[ReferenceResult]) -> Check:
        name = "references"
        if not results:
            return Check.failed(name, SubIndication.FORMAT_FAILURE, "SignedInfo has no References")
        failed = [r for r in results if r.status is CheckStatus.FAILED]
        if failed:
            sub = (
                SubIndication.HASH_FAILURE
                if any(r.actual is not None for r in failed)
                else SubIndication.FORMAT_FAILURE
            )
            listed = ", ".join(f"/{r.path}" for r in failed)
            return Check.failed(name, sub, f"{len(failed)} of {len(results)} differ: {listed}")
        unknown = [r for r in results if r.status is CheckStatus.INDETERMINATE]
        if unknown:
            missing = [r for r in unknown if r.method in ("sm3", "sha256")]
            sub = (
                SubIndication.SIGNED_DATA_NOT_FOUND
                if missing
                else SubIndication.CRYPTO_CONSTRAINTS_FAILURE
            )
            listed = ", ".join(f"/{r.path} ({r.detail})" for r in unknown)
            return Check.indeterminate(name, sub, listed)
        return Check.passed(name, f"all {len(results)} referenced files match their digests")

    # ---------------------------------------------------------------- one signature

    def signature(self, sigs_dir: str, entry: Element) -> OfdSignatureReport:
        sig_id = entry.get("ID")
        sig_type = (entry.get("Type") or "Seal").strip()
        base_loc = entry.get("BaseLoc")

        def broken(path: str, detail: str) -> OfdSignatureReport:
            check = Check.failed("signature_file", SubIndication.FORMAT_FAILURE, detail)
            return OfdSignatureReport(
                sig_id, sig_type, path, None, (), None, None, (), (), SignatureReport.of([check])
            )

        if not base_loc:
            return broken("", "Signature entry without BaseLoc")
        path = _resolve(sigs_dir, base_loc)
        if not self.pkg.exists(path):
            return broken(path, f"/{path} is not in the package")
        self.covered.add(path)
        xml_bytes = self.pkg.read(path)
        root = parse_xml(xml_bytes, path)
        if _local(root.tag) != "Signature":
            return broken(path, f"/{path} is not a Signature part")
        base_dir = _dirname(path)
        signed_info = _child(root, "SignedInfo")
        provider_el = _child(signed_info, "Provider")
        provider = tuple(sorted(provider_el.attrib.items())) if provider_el is not None else ()
        method = _text(_child(signed_info, "SignatureMethod"))
        date_text = _text(_child(signed_info, "SignatureDateTime"))
        stamps = tuple(
            StampAnnot(s.get("ID"), s.get("PageRef"), s.get("Boundary"), s.get("Clip"))
            for s in _children(signed_info, "StampAnnot")
        )
        refs = self.references(signed_info, base_dir)
        checks = [self.references_check(refs)]
        sv_loc = _text(_child(root, "SignedValue"))
        sv_path = _resolve(base_dir, sv_loc) if sv_loc else None

        def done(report: SignatureReport) -> OfdSignatureReport:
            return OfdSignatureReport(
                sig_id, sig_type, path, sv_path, provider, method, date_text, stamps,
                tuple(refs), report,
            )  # fmt: skip

        if sv_path is None or not self.pkg.exists(sv_path):
            checks.append(
                Check.failed(
                    "signed_value",
                    SubIndication.FORMAT_FAILURE,
                    "SignedValue is missing"
                    if sv_path is None
                    else f"/{sv_path} is not in the package",
                )
            )
            return done(SignatureReport.of(checks))
        self.covered.add(sv_path)
        signed_value = self.pkg.read(sv_path)
        if sig_type == "Sign":
            return done(self._bare(checks, xml_bytes, signed_value, method, date_text))
        if sig_type != "Seal":
            checks.append(
                Check.failed(
                    "signature_type", SubIndication.FORMAT_FAILURE, f"unknown Type {sig_type!r}"
                )
            )
            return done(SignatureReport.of(checks))
        return done(self._seal(checks, path, xml_bytes, signed_value, signed_info, base_dir))

    def _seal(
        self,
        checks: list[Check],
        path: str,
        xml_bytes: bytes,
        signed_value: bytes,
        signed_info: Element | None,
        base_dir: str,
    ) -> SignatureReport:
        try:
            ses = parse_signature(signed_value)
        except SealFormatError as exc:
            checks.append(Check.failed("signed_value", SubIndication.FORMAT_FAILURE, exc.message))
            return SignatureReport.of(checks)
        checks.append(Check.passed("signed_value", f"SES_Signature version {ses.version}"))
        checks.append(self._property_info(ses.property_info, path))
        seal_loc = _text(_child(_child(signed_info, "Seal"), "BaseLoc"))
        if seal_loc:
            seal_path = _resolve(base_dir, seal_loc)
            self.covered.add(seal_path)
            if not self.pkg.exists(seal_path):
                checks.append(
                    Check.indeterminate(
                        "seal_file", SubIndication.SIGNED_DATA_NOT_FOUND, f"/{seal_path} is missing"
                    )
                )
            elif self.pkg.read(seal_path) == ses.seal.der:
                checks.append(Check.passed("seal_file", f"/{seal_path} is the seal that signed"))
            else:
                checks.append(
                    Check.failed(
                        "seal_file",
                        SubIndication.SIG_CONSTRAINTS_FAILURE,
                        f"/{seal_path} differs from the seal inside SignedValue",
                    )
                )
        return verify_signature(
            ses,
            data_hash=sm3(xml_bytes),
            at=self.at,
            roots=self.roots,
            intermediates=self.intermediates,
            extra_checks=checks,
        )

    @staticmethod
    def _property_info(value: str, path: str) -> Check:
        name = "property_info"
        looks_like_path = value.startswith("/") or value.lower().endswith(".xml")
        if not looks_like_path:
            return Check.skipped(name, f"propertyInfo {value!r} is not a path")
        try:
            named = _resolve("", value)
        except OfdError:
            named = None
        if named == path:
            return Check.passed(name, f"propertyInfo names /{path}")
        return Check.failed(
            name,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            f"propertyInfo {value!r} does not name this Signature.xml (/{path})",
        )

    def _bare(
        self,
        checks: list[Check],
        xml_bytes: bytes,
        signed_value: bytes,
        method: str | None,
        date_text: str | None,
    ) -> SignatureReport:
        signing_time = _signature_date_time(date_text)
        if _is_cms(signed_value):
            checks.append(
                Check.indeterminate(
                    "signature",
                    SubIndication.FORMAT_FAILURE,
                    "SignedValue is a CMS SignedData (GB/T 35275); only bare SM2 signatures "
                    'are verified for Type="Sign"',
                )
            )
            return SignatureReport.of(checks, signing_time=signing_time)
        if not self.signer_certs:
            checks.append(
                Check.indeterminate(
                    "signature",
                    SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                    'a Type="Sign" signature carries no certificate and none was given',
                )
            )
            return SignatureReport.of(checks, signing_time=signing_time)
        try:
            alg = by_oid(method or "")
        except UnsupportedAlgorithm:
            checks.append(
                Check.failed(
                    "signature",
                    SubIndication.SIG_CRYPTO_FAILURE,
                    f"unsupported SignatureMethod {method!r}",
                )
            )
            return SignatureReport.of(checks, signing_time=signing_time)
        signer = next(
            (
                cert
                for cert in self.signer_certs
                if alg.family is cert.public_key.family
                and cert.public_key.verify(alg, xml_bytes, signed_value, encoding=SigEncoding.ANY)
            ),
            None,
        )
        if signer is None:
            # The caller named the possible signers; none of them signed these bytes.
            checks.append(
                Check.failed(
                    "signature",
                    SubIndication.SIG_CRYPTO_FAILURE,
                    f"the {alg.name} signature over Signature.xml verifies with none of the "
                    f"{len(self.signer_certs)} given certificate(s)",
                )
            )
            return SignatureReport.of(checks, signing_time=signing_time)
        checks.append(Check.passed("signature", f"signature verifies ({signer.subject})"))
        when = self.at.astimezone(UTC) if self.at is not None else signing_time
        if when is None:
            checks.append(
                Check.indeterminate(
                    "signer_certificate_validity",
                    SubIndication.NO_POE,
                    f"SignatureDateTime {date_text!r} is not a time",
                )
            )
        else:
            if when < signer.not_before:
                checks.append(
                    Check.failed(
                        "signer_certificate_validity",
                        SubIndication.NOT_YET_VALID,
                        f"certificate valid from {signer.not_before.isoformat()}",
                    )
                )
            elif when > signer.not_after:
                checks.append(
                    Check.failed(
                        "signer_certificate_validity",
                        SubIndication.EXPIRED,
                        f"certificate expired {signer.not_after.isoformat()}",
                    )
                )
            else:
                checks.append(
                    Check.passed("signer_certificate_validity", f"valid at {when.isoformat()}")
                )
            checks.append(
                chain_check(
                    "signer_chain",
                    signer,
                    roots=self.roots,
                    intermediates=self.intermediates,
                    at=when,
                )
            )
        return SignatureReport.of(
            checks,
            signer_subject=str(signer.subject),
            signing_time=signing_time,
            validation_time=when,
        )

    # ---------------------------------------------------------------- package

    def run(self) -> OfdReport:
        if not self.pkg.exists("OFD.xml"):
            raise _err("OFD.xml is missing: not an OFD package")
        ofd = self.pkg.xml("OFD.xml")
        if _local(ofd.tag) != "OFD":
            raise _err("OFD.xml has no OFD root element")
        bodies = _children(ofd, "DocBody")
        if not bodies:
            raise _err("OFD.xml has no DocBody")
        reports: list[OfdSignatureReport] = []
        for body in bodies:
            loc = _text(_child(body, "Signatures"))
            if loc is None:
                continue
            sigs_path = _resolve("", loc)
            if not self.pkg.exists(sigs_path):
                raise _err(f"signature list /{sigs_path} is missing")
            self.covered.add(sigs_path)
            sigs = self.pkg.xml(sigs_path)
            if _local(sigs.tag) != "Signatures":
                raise _err(f"/{sigs_path} is not a Signatures part")
            entries = _children(sigs, "Signature")
            if len(reports) + len(entries) > MAX_SIGNATURES:
                raise _err(f"more than {MAX_SIGNATURES} signatures", "ofd_too_large")
            reports.extend(self.signature(_dirname(sigs_path), e) for e in entries)
        unsigned = tuple(n for n in self.pkg.names if n not in self.covered)
        if not reports:
            return OfdReport(
                Indication.INDETERMINATE, SubIndication.NO_SIGNATURE_FOUND, (), unsigned
            )
        indication, sub = _document_indication(r.report for r in reports)
        return OfdReport(indication, sub, tuple(reports), unsigned)


def _document_indication(
    reports: Iterable[SignatureReport],
) -> tuple[Indication, SubIndication | None]:
    reports = tuple(reports)
    for wanted in (Indication.FAILED, Indication.INDETERMINATE):
        for r in reports:
            if r.indication is wanted:
                return wanted, r.sub_indication
    return Indication.PASSED, None


def verify_ofd(
    data: bytes,
    *,
    roots: Collection[Certificate] = (),
    intermediates: Collection[Certificate] = (),
    signer_certs: Collection[Certificate] = (),
    at: datetime | None = None,
) -> OfdReport:
    """Verify every signature of an OFD package (GB/T 33190-2016 ch. 18).

    ``roots`` are the trust anchors (without a matching one, chains are
    INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND); ``signer_certs`` are candidate
    certificates for ``Type="Sign"`` signatures, which carry none. Validity is
    judged at ``at`` (timezone-aware), by default at each signature's claimed
    signing time. Raises :class:`OfdError` only for an unusable package.
    """
    if at is not None and (not isinstance(at, datetime) or at.utcoffset() is None):
        raise TypeError("at must be a timezone-aware datetime")
    pkg = OfdPackage(data)
    return _Verifier(
        pkg, roots=roots, intermediates=intermediates, signer_certs=signer_certs, at=at
    ).run()
