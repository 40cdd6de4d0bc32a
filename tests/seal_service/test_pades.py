"""PAdES seals (ETSI EN 319 142-1 B-B, B-T, B-LT): seal_pdf / verify_pdf.

The PKI (an ECDSA P-256 root, RSA and ECDSA seal certificates, an RSA TSA),
the CRLs, the test PDF and the seal image are all built here; the time-stamps
come from pyHanko's in-process DummyTimeStamper (our own TSA is not used).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdf_samples import blank_pdf
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.pdf_embedded import extract_contents
from pyhanko_certvalidator import ValidationContext

from seal_service.pades import (
    PadesSealError,
    PdfError,
    PdfSignatureReport,
    _PyHankoSignerBridge,
    seal_pdf,
    verify_pdf,
)
from seal_service.report import CheckStatus, Indication, SubIndication
from seal_service.tsa_pyhanko import InProcessTimeStamper
from trust.crypto import PublicKey, Signer, generate_private_key
from trust.errors import CertificateError
from trust.pki import Certificate, issue_ca, issue_end_entity, issue_root

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T_END = datetime(2034, 1, 1, tzinfo=UTC)
MM = 72 / 25.4


# --------------------------------------------------------------------------- fixtures


class CountingSigner(Signer):
    """A Signer that is not a software key object (as an HSM key would be)."""

    def __init__(self, inner: Signer) -> None:
        self._inner = inner
        self.algorithm = inner.algorithm
        self.key_id = None
        self.calls: list[bytes] = []

    @property
    def public_key(self) -> PublicKey:
        return self._inner.public_key

    def sign(self, data: bytes) -> bytes:
        self.calls.append(data)
        return self._inner.sign(data)


class PKI:
    def __init__(self) -> None:
        self.root_key = generate_private_key("p256")
        self.root_signer = self.root_key.signer("ES256")
        self.root = issue_root(
            self.root_signer, "CN=GovTrust PAdES Test Root,O=GovTrust,C=CN",
            not_before=T0, not_after=T_END,
        )  # fmt: skip
        self.ec_key = generate_private_key("p256")
        self.ec_cert = self._leaf(self.ec_key.public_key(), "CN=测试机关 ECDSA 电子印章,C=CN")
        self.rsa_key = generate_private_key("rsa", rsa_bits=2048)
        self.rsa_cert = self._leaf(self.rsa_key.public_key(), "CN=测试机关 RSA 电子印章,C=CN")
        self.tsa_key = generate_private_key("rsa", rsa_bits=2048)
        self.tsa_cert = self._leaf(self.tsa_key.public_key(), "CN=Test TSA,C=CN", purpose="tsa")
        self.good_crl = self.crl()

    def _leaf(self, key: PublicKey, subject: str, purpose: str = "seal") -> Certificate:
        return issue_end_entity(
            self.root_signer, self.root, key, subject,
            purpose=purpose, not_before=T0, not_after=T_END,
        )  # fmt: skip

    def crl(self, revoked: tuple[int, ...] = ()) -> asn1_crl.CertificateList:
        """An RFC 5280 v2 CRL from the root, signed through our Signer."""
        alg = asn1_algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
        now = datetime.now(UTC).replace(microsecond=0)
        fields = {
            "version": "v2",
            "signature": alg,
            "issuer": asn1_x509.Certificate.load(self.root.der).subject,
            "this_update": asn1_x509.Time({"utc_time": now - timedelta(days=1)}),
            "next_update": asn1_x509.Time({"utc_time": now + timedelta(days=7)}),
        }
        if revoked:
            fields["revoked_certificates"] = [
                {
                    "user_certificate": serial,
                    "revocation_date": asn1_x509.Time({"utc_time": now - timedelta(hours=1)}),
                }
                for serial in revoked
            ]
        tbs = asn1_crl.TbsCertList(fields)
        return asn1_crl.CertificateList(
            {
                "tbs_cert_list": tbs,
                "signature_algorithm": alg,
                "signature": self.root_signer.sign(tbs.dump()),
            }
        )

    def timestamper(self) -> DummyTimeStamper:
        # pyHanko's test TSA signs in-process with an RSA key (test-only; ours is seal_service.tsa).
        return DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(self.tsa_cert.der),
            tsa_key=asn1_keys.PrivateKeyInfo.load(self.tsa_key.pkcs8_der()),
        )

    def validation_context(self, crls=None) -> ValidationContext:
        return ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(self.root.der)],
            allow_fetching=False,
            crls=[self.good_crl] if crls is None else crls,
            ocsps=[],
            revocation_mode="require",
        )

    def seal_key(self, kind: str) -> tuple[Signer, Certificate]:
        if kind == "ecdsa":
            return self.ec_key.signer("ES256"), self.ec_cert
        return self.rsa_key.signer("RS256"), self.rsa_cert


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


def make_png(side: int = 240) -> bytes:
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, side - 4, side - 4), outline=(230, 0, 18, 255), width=side // 25)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PDF = blank_pdf(2)
PNG = make_png()


def seal(pki: PKI, pdf: bytes = PDF, *, kind: str = "ecdsa", level: str = "B-B", **kwargs):
    signer, cert = pki.seal_key(kind)
    args = {
        "signer": signer,
        "certificate": cert,
        "chain": [pki.root],
        "seal_png": PNG,
        "page": 0,
        "x_mm": 120,
        "y_mm": 40,
        "level": level,
        "reason": "电子公文用印",
        "location": "Beijing",
    }
    if level != "B-B":
        args["timestamper"] = pki.timestamper()
    if level == "B-LT":
        args["validation_context"] = pki.validation_context()
    args.update(kwargs)
    return seal_pdf(pdf, **args)


def only(reports: list[PdfSignatureReport]) -> PdfSignatureReport:
    assert len(reports) == 1
    return reports[0]


def embedded(pdf: bytes, index: int = 0):
    return PdfFileReader(io.BytesIO(pdf)).embedded_signatures[index]


# --------------------------------------------------------------------------- sealing and PASSED


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_seal_verifies_passed(pki, kind, level):
    sealed = seal(pki, kind=kind, level=level)
    assert sealed.startswith(PDF)  # an incremental update: the original bytes are untouched

    report = only(verify_pdf(sealed, trust_roots=[pki.root]))
    assert report.indication is Indication.PASSED, report.checks
    assert report.sub_indication is None
    for name in ("digest", "signature", "certificate_chain", "modifications"):
        assert report.status(name) is CheckStatus.PASSED
    assert report.signer_subject == str(pki.seal_key(kind)[1].subject)
    assert report.field_name == "GovTrustSeal1"
    assert report.signing_time is not None
    assert abs(report.signing_time - datetime.now(UTC)) < timedelta(minutes=5)

    sig = embedded(sealed)
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.sig_object["/Reason"] == "电子公文用印"
    expected_alg = "sha256_ecdsa" if kind == "ecdsa" else "sha256_rsa"
    assert sig.signer_info["signature_algorithm"]["algorithm"].native == expected_alg
    assert sig.signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    # CAdES (EN 319 122-1 §5.2.2): signing-certificate-v2 is a signed attribute.
    signed_attr_types = {a["type"].native for a in sig.signer_info["signed_attrs"]}
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= signed_attr_types

    if level == "B-B":
        assert report.status("timestamp") is CheckStatus.SKIPPED
        assert report.timestamp_time is None and report.timestamp_valid is None
        assert report.covers_whole_document and report.modification_level == "NONE"
    else:
        assert report.status("timestamp") is CheckStatus.PASSED
        assert report.timestamp_valid is True
        assert report.signing_time == report.timestamp_time
    if level == "B-T":
        assert report.covers_whole_document
    if level == "B-LT":
        # The DSS lives in a second incremental update: allowed (LTA_UPDATES), not "whole file".
        assert not report.covers_whole_document
        assert report.modification_level == "LTA_UPDATES"


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_seal_under_an_intermediate_ca(pki, level):
    """The chain travels in the CMS; the RSA-4096 key also exercises B-B's size reservation."""
    ca_key = generate_private_key("rsa", rsa_bits=3072)
    ca = issue_ca(
        pki.root_signer, pki.root, ca_key.public_key(), "CN=GovTrust Seal CA 国家政务服务平台,C=CN",
        not_before=T0, not_after=T_END,
    )  # fmt: skip
    key = generate_private_key("rsa", rsa_bits=4096)
    cert = issue_end_entity(
        ca_key.signer("RS256"), ca, key.public_key(), "CN=" + "很长的机关名称" * 8 + ",C=CN",
        purpose="seal", not_before=T0, not_after=T_END,
    )  # fmt: skip
    sealed = seal(pki, level=level, signer=key.signer("RS256"), certificate=cert, chain=[ca])
    report = only(verify_pdf(sealed, trust_roots=[pki.root]))
    assert report.indication is Indication.PASSED, report.checks
    assert report.signer_subject == str(cert.subject)
    # Each certificate travels once: the seal's own and the CA's.
    from pyhanko.pdf_utils.reader import PdfFileReader

    embedded = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0].signed_data
    ders = [c.chosen.dump() for c in embedded["certificates"]]
    assert sorted(ders) == sorted([cert.der, ca.der])
    # Without the CA certificate in the CMS no path can be built.
    bare = seal(pki, level=level, signer=key.signer("RS256"), certificate=cert, chain=[])
    report = only(verify_pdf(bare, trust_roots=[pki.root]))
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_b_lt_embeds_dss_with_certificates_and_crl(pki):
    sealed = seal(pki, level="B-LT")
    reader = PdfFileReader(io.BytesIO(sealed))
    dss = reader.root["/DSS"]
    certs = {asn1_x509.Certificate.load(ref.get_object().data).sha256 for ref in dss["/Certs"]}
    expected = {asn1_x509.Certificate.load(c.der).sha256 for c in (pki.ec_cert, pki.tsa_cert)}
    assert expected <= certs
    crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss["/CRLs"]]
    assert pki.good_crl.dump() in [c.dump() for c in crls]

    # Only the embedded CRL can satisfy "require": the verifier is given none.
    report = only(verify_pdf(sealed, trust_roots=[pki.root], revocation_mode="require"))
    assert report.indication is Indication.PASSED, report.checks


def test_b_b_without_revocation_data_is_indeterminate_when_required(pki):
    sealed = seal(pki, level="B-B")
    report = only(verify_pdf(sealed, trust_roots=[pki.root], revocation_mode="require"))
    assert report.indication is Indication.INDETERMINATE
    assert report.status("certificate_chain") is CheckStatus.INDETERMINATE
    # The same document passes once the verifier is handed the CRL.
    report = only(
        verify_pdf(sealed, trust_roots=[pki.root], revocation_mode="require", crls=[pki.good_crl])
    )
    assert report.indication is Indication.PASSED


def test_signing_goes_through_our_signer_once(pki):
    signer = CountingSigner(pki.ec_key.signer("ES256"))
    sealed = seal(pki, signer=signer)
    assert len(signer.calls) == 1  # size estimation never reaches the key
    sig = embedded(sealed)
    signed_attrs = bytearray(sig.signer_info["signed_attrs"].dump())
    signed_attrs[0] = 0x31  # [0] IMPLICIT → SET OF, the form that is signed (RFC 5652 §5.4)
    assert signer.calls[0] == bytes(signed_attrs)
    # Independent check of the raw signature with our own verifier.
    value = sig.signer_info["signature"].native
    assert pki.ec_cert.public_key.verify("ES256", bytes(signed_attrs), value)


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_space_is_reserved_without_a_dry_run(pki, kind, level, monkeypatch):
    """The CMS size is bounded up front: pyHanko never builds a throw-away CMS (its
    dry run asks the signer for a placeholder), and the bound is close, not lavish."""
    calls: list[bool] = []
    original = _PyHankoSignerBridge.async_sign_raw

    async def spy(self, data, digest_algorithm, dry_run=False):
        calls.append(dry_run)
        return await original(self, data, digest_algorithm, dry_run)

    monkeypatch.setattr(_PyHankoSignerBridge, "async_sign_raw", spy)
    sealed = seal(pki, kind=kind, level=level)
    assert calls == [False]
    sig = embedded(sealed)
    reserved = len(sig.pkcs7_content)  # the /Contents string, padding included
    used = len(
        asn1_cms.ContentInfo({"content_type": "signed_data", "content": sig.signed_data}).dump()
    )
    assert used <= reserved < used + 4096
    assert only(verify_pdf(sealed, trust_roots=[pki.root])).indication is Indication.PASSED


def test_a_bound_that_falls_short_is_retried_with_pyhankos_estimate(pki, monkeypatch):
    """Should the computed bound ever be too small (a stamper's tokens grown since
    its dummy was cached), the seal is made once more with pyHanko's own estimate
    instead of failing the request."""
    import seal_service.pades as pades

    async def too_small(*args, **kwargs):
        return 64

    monkeypatch.setattr(pades, "_cms_size_bound", too_small)
    signer = CountingSigner(pki.ec_key.signer("ES256"))
    sealed = seal(pki, signer=signer, level="B-T")
    assert len(signer.calls) == 2  # the first CMS did not fit; the second did
    assert only(verify_pdf(sealed, trust_roots=[pki.root])).indication is Indication.PASSED
    assert len(PdfFileReader(io.BytesIO(sealed)).embedded_signatures) == 1


class FailingTimeStamper(DummyTimeStamper):
    async def async_request_tsa_response(self, req):
        raise TimestampRequestError("TSA unreachable")


def test_tsa_failure_is_not_a_document_error(pki):
    stamper = FailingTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(pki.tsa_cert.der),
        tsa_key=asn1_keys.PrivateKeyInfo.load(pki.tsa_key.pkcs8_der()),
    )
    with pytest.raises(PadesSealError) as info:
        seal(pki, level="B-T", timestamper=stamper)
    assert info.value.code == "tsa_unavailable"


def test_in_process_tsa_failure_is_typed(pki):
    def authority():
        raise OSError("HSM session closed")

    with pytest.raises(PadesSealError) as info:
        seal(pki, level="B-T", timestamper=InProcessTimeStamper(authority))
    assert info.value.code == "tsa_unavailable"
    assert "OSError" in info.value.message


class BrokenSigner(CountingSigner):
    def sign(self, data: bytes) -> bytes:
        raise OSError("token removed")


def test_key_failure_is_not_a_document_error(pki):
    with pytest.raises(PadesSealError) as info:
        seal(pki, signer=BrokenSigner(pki.ec_key.signer("ES256")))
    assert info.value.code == "signer_failed"


# --------------------------------------------------------------------------- FAILED / INDETERMINATE


def _signed_ranges(sealed: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", sealed)
    assert match
    a, b, c, d = (int(x) for x in match.groups())
    return a, b, c, d


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_changed_byte_in_signed_range_fails(pki, kind):
    sealed = seal(pki, kind=kind)
    start, length, _, _ = _signed_ranges(sealed)
    assert start == 0
    pos = sealed.index(b"/MediaBox [0 0 595 842]") + len(b"/MediaBox [0 0 5")
    assert pos < length
    tampered = sealed[:pos] + b"8" + sealed[pos + 1 :]  # 595 → 585, still a valid PDF
    report = only(verify_pdf(tampered, trust_roots=[pki.root]))
    assert report.indication is Indication.FAILED
    assert report.sub_indication is SubIndication.HASH_FAILURE
    assert report.status("digest") is CheckStatus.FAILED


def test_changed_byte_in_second_range_fails(pki):
    sealed = seal(pki)
    _, _, second, _ = _signed_ranges(sealed)
    pos = sealed.index(b"/Location", second)
    tampered = sealed[:pos] + b"/Locatiom" + sealed[pos + len(b"/Location") :]
    report = only(verify_pdf(tampered, trust_roots=[pki.root]))
    assert report.indication is Indication.FAILED
    assert report.sub_indication is SubIndication.HASH_FAILURE


def test_changed_signature_value_fails_crypto(pki):
    sealed = seal(pki, kind="rsa")
    value = embedded(sealed).signer_info["signature"].native
    hex_value = value.hex().encode()
    pos = sealed.lower().index(hex_value) + 40
    flipped = b"0" if sealed[pos : pos + 1] != b"0" else b"1"
    tampered = sealed[:pos] + flipped + sealed[pos + 1 :]
    report = only(verify_pdf(tampered, trust_roots=[pki.root]))
    assert report.indication is Indication.FAILED
    assert report.sub_indication is SubIndication.SIG_CRYPTO_FAILURE
    assert report.status("digest") is CheckStatus.PASSED


def test_untrusted_root_is_indeterminate(pki):
    other = PKI()
    sealed = seal(pki)
    report = only(verify_pdf(sealed, trust_roots=[other.root]))
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert report.status("digest") is CheckStatus.PASSED
    assert report.status("signature") is CheckStatus.PASSED


def test_untrusted_tsa_makes_timestamp_indeterminate(pki):
    other = PKI()
    sealed = seal(pki, level="B-T", timestamper=other.timestamper())
    report = only(verify_pdf(sealed, trust_roots=[pki.root]))
    assert report.indication is Indication.INDETERMINATE
    assert report.status("timestamp") is CheckStatus.INDETERMINATE
    assert report.timestamp_valid is False


def test_revoked_seal_certificate(pki):
    revoked_crl = pki.crl(revoked=(pki.ec_cert.serial,))
    sealed = seal(pki)
    report = only(
        verify_pdf(sealed, trust_roots=[pki.root], revocation_mode="require", crls=[revoked_crl])
    )
    assert report.indication is not Indication.PASSED
    assert report.ades_sub_indication in ("REVOKED", "REVOKED_NO_POE")
    assert report.sub_indication in (SubIndication.REVOKED, SubIndication.REVOKED_NO_POE)
    assert report.status("certificate_chain") in (CheckStatus.FAILED, CheckStatus.INDETERMINATE)
    # Sealing at B-LT validates the signer first and refuses a revoked certificate.
    with pytest.raises(PadesSealError) as info:
        seal(pki, level="B-LT", validation_context=pki.validation_context(crls=[revoked_crl]))
    assert info.value.code == "pades_signing_failed"


def test_expired_at_validation_time(pki):
    sealed = seal(pki)
    report = only(verify_pdf(sealed, trust_roots=[pki.root], at=T_END + timedelta(days=1)))
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE  # ETSI EN 319 102-1


def test_empty_trust_list_never_passes(pki):
    with pytest.raises(CertificateError) as info:
        verify_pdf(seal(pki), trust_roots=[])
    assert info.value.code == "cert_untrusted_root"


# --------------------------------------------------------------------------- several seals, changes


def test_two_successive_seals_both_valid(pki):
    first = seal(pki, kind="rsa", page=0)
    second = seal(pki, first, kind="ecdsa", level="B-T", page=1, x_mm=20, y_mm=20)
    assert second.startswith(first)
    reports = verify_pdf(second, trust_roots=[pki.root])
    assert [r.field_name for r in reports] == ["GovTrustSeal1", "GovTrustSeal2"]
    assert all(r.indication is Indication.PASSED for r in reports), [r.checks for r in reports]
    assert not reports[0].covers_whole_document
    assert reports[0].modification_level == "FORM_FILLING"
    assert reports[1].covers_whole_document
    assert reports[0].signer_subject == str(pki.rsa_cert.subject)
    assert reports[1].signer_subject == str(pki.ec_cert.subject)


def test_page_content_added_after_sealing_fails(pki):
    sealed = seal(pki)
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (forged) Tj ET")
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    report = only(verify_pdf(out.getvalue(), trust_roots=[pki.root]))
    assert report.indication is Indication.FAILED
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert report.status("digest") is CheckStatus.PASSED  # the signed revision itself is intact
    assert report.status("modifications") is CheckStatus.FAILED
    assert not report.covers_whole_document


def test_unsigned_pdf_has_no_reports(pki):
    assert verify_pdf(PDF, trust_roots=[pki.root]) == []


# --------------------------------------------------------------------------- the visible seal


def _annots(reader: PdfFileReader, page: int) -> list:
    page_obj = reader.root["/Pages"]["/Kids"][page].get_object()
    return [a.get_object() for a in page_obj.get("/Annots", [])]


@pytest.mark.parametrize(("page", "x_mm", "y_mm", "size_mm"), [(0, 120, 40, 42), (1, 10, 200, 30)])
def test_seal_widget_on_the_right_page_and_place(pki, page, x_mm, y_mm, size_mm):
    sealed = seal(pki, page=page, x_mm=x_mm, y_mm=y_mm, size_mm=size_mm)
    reader = PdfFileReader(io.BytesIO(sealed))
    assert _annots(reader, 1 - page) == []
    (widget,) = _annots(reader, page)
    assert widget["/Subtype"] == "/Widget"
    assert widget["/FT"] == "/Sig" and widget["/T"] == "GovTrustSeal1"
    assert widget["/P"].get_object() is reader.root["/Pages"]["/Kids"][page].get_object()
    rect = [float(v) for v in widget["/Rect"]]
    expected = [x_mm * MM, y_mm * MM, (x_mm + size_mm) * MM, (y_mm + size_mm) * MM]
    assert rect == pytest.approx(expected, abs=0.01)
    # The appearance draws the seal image, transparency kept as a soft mask.
    appearance = widget["/AP"]["/N"].get_object()
    images = []

    def collect(xobject) -> None:
        for ref in xobject.get("/Resources", {}).get("/XObject", {}).values():
            obj = ref.get_object()
            if obj["/Subtype"] == "/Image":
                images.append(obj)
            else:
                collect(obj)

    collect(appearance)
    (image,) = images
    assert (image["/Width"], image["/Height"]) == Image.open(io.BytesIO(PNG)).size
    assert "/SMask" in image


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"page": 2}, "seal_position"),
        ({"page": -1}, "seal_position"),
        ({"x_mm": 190}, "seal_position"),
        ({"y_mm": -1}, "seal_position"),
        ({"size_mm": float("nan")}, "seal_position"),
        ({"size_mm": 1000}, "seal_position"),
        ({"level": "B-LTA"}, "pades_level"),
        ({"level": "B-T"}, "pades_level"),  # no timestamper
        ({"seal_png": b"\x89PNG\r\n\x1a\nnot really"}, "seal_image_invalid"),
        ({"seal_png": b""}, "seal_image_invalid"),
    ],
)
def test_seal_requests_refused(pki, kwargs, code):
    signer, cert = pki.seal_key("ecdsa")
    args = {"signer": signer, "certificate": cert, "seal_png": PNG, "page": 0}
    args |= {"x_mm": 10, "y_mm": 10, **kwargs}
    with pytest.raises(PadesSealError) as info:
        seal_pdf(PDF, **args)
    assert info.value.code == code


def test_signer_must_match_certificate(pki):
    with pytest.raises(PadesSealError) as info:
        seal(pki, signer=pki.rsa_key.signer("RS256"))
    assert info.value.code == "key_mismatch"


def test_unsupported_seal_algorithm(pki):
    key = generate_private_key("ed25519")
    cert = pki._leaf(key.public_key(), "CN=Ed25519 seal,C=CN")
    with pytest.raises(PadesSealError) as info:
        seal(pki, signer=key.signer("EdDSA"), certificate=cert)
    assert info.value.code == "unsupported_algorithm"


def test_oversized_seal_image_refused_before_decoding(pki):
    image = Image.new("L", (5000, 5000), 0)
    out = io.BytesIO()
    image.save(out, "PNG")
    with pytest.raises(PadesSealError) as info:
        seal(pki, seal_png=out.getvalue())
    assert info.value.code == "seal_image_invalid"


# --------------------------------------------------------------------------- malformed input


def test_size_limit_checked_before_parsing(pki):
    with pytest.raises(PdfError) as info:
        verify_pdf(b"\x00" * 1025, trust_roots=[pki.root], max_size=1024)
    assert info.value.code == "pdf_too_large"  # garbage, yet refused for its size alone
    with pytest.raises(PdfError) as info:
        seal(pki, PDF, max_size=len(PDF) - 1)
    assert info.value.code == "pdf_too_large"


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"%PDF-1.7\n", PDF[: len(PDF) // 2], PDF.replace(b"/Root 1 0 R", b"")],
)
def test_malformed_pdf_typed_error(pki, data):
    with pytest.raises(PdfError) as info:
        verify_pdf(data, trust_roots=[pki.root])
    assert info.value.code == "pdf_malformed"
    with pytest.raises(PdfError):
        seal(pki, data)


def test_truncated_sealed_pdf(pki):
    sealed = seal(pki)
    for cut in (len(sealed) - 7, len(sealed) - 200, len(PDF) + 100, 100):
        try:
            reports = verify_pdf(sealed[:cut], trust_roots=[pki.root])
        except PdfError as exc:
            assert exc.code == "pdf_malformed"
        else:  # a truncated update can leave the original revision readable: then no PASS
            assert all(r.indication is not Indication.PASSED for r in reports)


@pytest.fixture(scope="module")
def sealed_ecdsa(pki) -> bytes:
    return seal(pki)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=2048))
def test_fuzz_garbage_only_typed_errors(pki, data):
    try:
        reports = verify_pdf(b"%PDF-1.7\n" + data, trust_roots=[pki.root])
    except PdfError as exc:
        assert exc.code in ("pdf_malformed", "pdf_encrypted")
    else:
        assert all(r.indication is not Indication.PASSED for r in reports)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.floats(0, 1, exclude_max=True), value=st.integers(0, 255))
def test_fuzz_mutated_sealed_pdf(pki, sealed_ecdsa, position, value):
    pos = int(position * len(sealed_ecdsa))
    mutated = sealed_ecdsa[:pos] + bytes([value]) + sealed_ecdsa[pos + 1 :]
    try:
        reports = verify_pdf(mutated, trust_roots=[pki.root])
    except PdfError as exc:
        assert exc.code in ("pdf_malformed", "pdf_encrypted")
        return
    for report in reports:
        assert isinstance(report, PdfSignatureReport)
        if mutated != sealed_ecdsa and report.indication is Indication.PASSED:
            # The only bytes a change may hit harmlessly lie outside both signed ranges:
            # the /Contents hex string (here, its zero padding).
            a, b, c, d = _signed_ranges(sealed_ecdsa)
            assert b <= pos < c


# --------------------------------------------------------------------------- independent check


@pytest.mark.openssl
@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_openssl_verifies_the_cms(pki, kind, tmp_path):
    """OpenSSL checks the detached CMS over the /ByteRange on its own."""
    openssl = _require_openssl()
    sealed = seal(pki, kind=kind, level="B-T")
    a, b, c, d = _signed_ranges(sealed)
    (tmp_path / "content.bin").write_bytes(sealed[a : a + b] + sealed[c : c + d])
    contents = extract_contents(embedded(sealed).sig_object)
    (tmp_path / "sig.der").write_bytes(asn1_cms.ContentInfo.load(contents).dump())
    (tmp_path / "root.pem").write_bytes(pki.root.pem())

    def run(content: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [openssl, "cms", "-verify", "-binary", "-inform", "DER",
             "-in", str(tmp_path / "sig.der"), "-content", str(tmp_path / content),
             "-CAfile", str(tmp_path / "root.pem"), "-purpose", "any", "-out", "/dev/null"],
            capture_output=True, check=False,
        )  # fmt: skip

    ok = run("content.bin")
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "bad.bin").write_bytes(sealed[a : a + b] + sealed[c : c + d] + b"\x00")
    assert run("bad.bin").returncode != 0


def _require_openssl() -> str:
    """The openssl CLI: skipped where it is missing, but in CI (which installs it) a failure."""
    path = shutil.which("openssl")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("required in CI: 'openssl' not found (Debian package openssl)")
        pytest.skip("'openssl' not found (Debian package openssl)")
    return path
