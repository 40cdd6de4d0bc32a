"""OFD packages (GB/T 33190-2016) and their signatures (ch. 18): the bounded reader and verify_ofd."""

from __future__ import annotations

import base64
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ses_builders import (
    UNSIGNED_PARTS,
    flip,
    make_pki,
    non_minimal_der,
    raw,
    read_package,
    replace_parts,
    sealed_ofd,
    signature_xml,
    signatures_xml,
    signed_ofd,
    zip_package,
)

from seal_service import (
    CheckStatus,
    Indication,
    OfdError,
    OfdPackage,
    SubIndication,
    verify_ofd,
)
from seal_service import ofd as ofd_module
from trust.errors import TrustError
from trust.hashes import sha256, sm3
from trust.pki import load_certificate

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
SIG_XML = "Doc_0/Signs/Sign_0/Signature.xml"
SIGNED_VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"
CRYPTO_CHECKS = (
    "references",
    "signed_value",
    "property_info",
    "data_hash",
    "signature",
    "signer_in_seal",
    "seal_signature",
)
VALIDITY_CHECKS = (
    "seal_validity",
    "signer_certificate_validity",
    "seal_maker_certificate_validity",
)


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def cert(name: str):
    return load_certificate(vector(name))


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def only_signature(report):
    assert len(report.signatures) == 1
    return report.signatures[0]


def assert_valid_but_unanchored(report):
    """Every check passed except the chains, which lack CA certificates."""
    sig = only_signature(report)
    for c in sig.checks:
        if c.name in ("signer_chain", "seal_maker_chain"):
            assert c.status is CheckStatus.INDETERMINATE
            assert c.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        else:
            assert c.status is CheckStatus.PASSED, c
    assert sig.reference_digests_valid
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


# --------------------------------------------------------------------------- ofdrw vectors


def test_999_tax_invoice():
    report = verify_ofd(vector("999.ofd"))
    assert_valid_but_unanchored(report)
    sig = only_signature(report)
    assert (sig.id, sig.type, sig.path, sig.signed_value_path) == (
        "1",
        "Seal",
        SIG_XML,
        SIGNED_VALUE,
    )
    assert len(sig.references) == 20 and all(r.valid for r in sig.references)
    assert {r.method for r in sig.references} == {"sm3"}
    assert sig.references[0].path == "Doc_0/Pages/Page_0/Content.xml"
    assert sig.references[0].expected == "9HRBt45E5e9jYAIbCvCYu8qc0thEMM8T4z+EBZ74KLs="
    assert dict(sig.provider)["ProviderName"] == "KingGrid"
    assert sig.signature_method == "1.2.156.10197.1.501"
    assert sig.signature_date_time == "20200817111329Z"
    assert [(s.id, s.page_ref, s.boundary) for s in sig.stamp_annots] == [
        ("01", "10", "90.0 8.0 30.0 20.0")
    ]
    assert sig.report.signing_time == datetime(2020, 8, 17, 11, 13, 29, tzinfo=UTC)
    assert sig.report.seal_name == "测试全国统一发票监制章国家税务总局重庆市税务局"
    assert sig.report.seal_id == "50011200000323"
    assert "全国统一发票监制章" in (sig.report.signer_subject or "")
    assert report.unsigned_parts == ("OFD.xml",)  # 999 does not protect OFD.xml


def test_999_is_invalid_when_judged_today():
    """Seal validity ended 2023-07-23: judged now (not at signing time) it has expired."""
    report = verify_ofd(vector("999.ofd"), at=datetime(2026, 1, 1, tzinfo=UTC))
    sig = only_signature(report)
    assert sig.report.status("seal_validity") is CheckStatus.FAILED
    assert sig.report.status("seal_maker_certificate_validity") is CheckStatus.FAILED  # 2025-02-17
    assert (report.indication, report.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)


@pytest.mark.parametrize(("name", "refs"), [("signedFile.ofd", 13), ("v4signed.ofd", 13)])
def test_gomain_tax_invoices(name, refs):
    report = verify_ofd(vector(name))
    assert_valid_but_unanchored(report)
    assert len(only_signature(report).references) == refs


def test_signed_file_maker_certificate_expired_after_signing():
    """Finding 3: signedFile's maker certificate (2019-10-16 – 2022-10-16) was valid at signing time."""
    sig = only_signature(verify_ofd(vector("signedFile.ofd")))
    assert sig.report.signing_time == datetime(2020, 10, 4, 7, 28, 55, tzinfo=UTC)
    assert sig.report.status("seal_maker_certificate_validity") is CheckStatus.PASSED


def test_ride_right_cross_page_seal():
    report = verify_ofd(vector("V4RideRight.ofd"))
    assert_valid_but_unanchored(report)
    sig = only_signature(report)
    assert len(sig.references) == 9
    assert [s.page_ref for s in sig.stamp_annots] == ["1", "21", "43", "63", "83"]
    assert all(s.clip for s in sig.stamp_annots)
    assert sig.report.status("seal_file") is CheckStatus.PASSED


def test_sesv4_sign_doc_is_expired_at_its_signing_time():
    """Finding 1: every cryptographic check passes, but the seal (validEnd 2022-04-22) and both
    certificates (notAfter 2022-04-21) had expired at the signing time 2026-08-04."""
    report = verify_ofd(vector("SESV4SignDoc.ofd"))
    sig = only_signature(report)
    for name in (*CRYPTO_CHECKS, "seal_file"):
        assert sig.report.status(name) is CheckStatus.PASSED, name
    for name in VALIDITY_CHECKS:
        assert sig.report.status(name) is CheckStatus.FAILED, name
    assert sig.report.signing_time == datetime(2026, 8, 4, 2, 8, 9, tzinfo=UTC)
    assert (report.indication, report.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)
    # judged inside the seal's window, it is valid
    inside = verify_ofd(vector("SESV4SignDoc.ofd"), at=datetime(2021, 6, 1, tzinfo=UTC))
    assert_valid_but_unanchored(inside)


def test_digital_sign_bare_signature():
    data = vector("DigitalSign.ofd")
    signed_value = read_package(data)[SIGNED_VALUE]
    assert len(signed_value) == 70 and signed_value[0] == 0x30  # bare DER SEQUENCE { r, s }
    user = cert("USER.cert.pem")
    report = verify_ofd(data, signer_certs=[user])
    sig = only_signature(report)
    assert sig.type == "Sign" and sig.reference_digests_valid and len(sig.references) == 4
    assert [(c.name, c.status) for c in sig.checks] == [
        ("references", CheckStatus.PASSED),
        ("signature", CheckStatus.PASSED),
        ("signer_certificate_validity", CheckStatus.PASSED),
        ("signer_chain", CheckStatus.INDETERMINATE),
    ]
    assert sig.report.signer_subject == str(user.subject)
    # "2020-04-22 16:22:44" without offset is China Standard Time
    assert sig.report.signing_time == datetime(2020, 4, 22, 8, 22, 44, tzinfo=UTC)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


def test_digital_sign_needs_a_certificate():
    """Finding 4: nothing in the package names the signer."""
    report = verify_ofd(vector("DigitalSign.ofd"))
    sig = only_signature(report)
    assert sig.reference_digests_valid
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
    )
    wrong = verify_ofd(vector("DigitalSign.ofd"), signer_certs=[cert("SealBuilder.cert.pem")])
    assert (wrong.indication, wrong.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )
    both = verify_ofd(
        vector("DigitalSign.ofd"),
        signer_certs=[cert("SealBuilder.cert.pem"), cert("USER.cert.pem")],
    )
    assert only_signature(both).report.status("signature") is CheckStatus.PASSED


@pytest.mark.parametrize("encode", [raw, non_minimal_der], ids=["raw-r-s", "non-minimal-der"])
def test_digital_sign_real_world_encodings(encode):
    data = vector("DigitalSign.ofd")
    changed = replace_parts(data, {SIGNED_VALUE: encode(read_package(data)[SIGNED_VALUE])})
    report = verify_ofd(changed, signer_certs=[cert("USER.cert.pem")])
    assert only_signature(report).report.status("signature") is CheckStatus.PASSED


@pytest.mark.parametrize("name", ["helloworld.ofd", "Page5.ofd", "VPage7.ofd"])
def test_unsigned_documents_have_no_signatures(name):
    report = verify_ofd(vector(name))
    assert report.signatures == ()
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_SIGNATURE_FOUND,
    )
    assert "OFD.xml" in report.unsigned_parts


def test_with_ofdrw_root_the_chain_is_refused():
    report = verify_ofd(vector("V4RideRight.ofd"), roots=[cert("ROOT.cert.pem")])
    sig = only_signature(report)
    assert (
        sig.report.check("signer_chain").sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    )
    assert report.indication is Indication.INDETERMINATE


# --------------------------------------------------------------------------- home-made: PASSED


def test_home_made_sealed_ofd_passes(pki):
    report = verify_ofd(sealed_ofd(pki), roots=[pki.root])
    sig = only_signature(report)
    assert all(c.status is CheckStatus.PASSED for c in sig.checks), sig.checks
    assert report.indication is Indication.PASSED and report.passed
    assert report.unsigned_parts == ()
    unanchored = verify_ofd(sealed_ofd(pki))
    assert unanchored.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


@pytest.mark.parametrize("encode", [raw, non_minimal_der], ids=["raw-r-s", "non-minimal-der"])
def test_home_made_signed_ofd_passes(pki, encode):
    report = verify_ofd(signed_ofd(pki, encode=encode), roots=[pki.root], signer_certs=[pki.holder])
    assert report.passed, only_signature(report).checks


def test_sha256_references_are_checked(pki):
    parts = dict(UNSIGNED_PARTS)
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(("s1", "Sign", "Sign_0/Signature.xml"))
    xml = signature_xml(parts, check_method="2.16.840.1.101.3.4.2.1", digest=sha256)
    parts[SIG_XML] = xml
    parts[SIGNED_VALUE] = pki.holder_key.sign("SM2", xml)
    report = verify_ofd(zip_package(parts), roots=[pki.root], signer_certs=[pki.holder])
    assert report.passed
    assert {r.method for r in only_signature(report).references} == {"sha256"}


def test_unsupported_check_method_is_indeterminate(pki):
    parts = dict(UNSIGNED_PARTS)
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(("s1", "Sign", "Sign_0/Signature.xml"))
    xml = signature_xml(parts, check_method="MD5")
    parts[SIG_XML] = xml
    parts[SIGNED_VALUE] = pki.holder_key.sign("SM2", xml)
    report = verify_ofd(zip_package(parts), roots=[pki.root], signer_certs=[pki.holder])
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
    )


def test_two_signatures_and_the_worst_wins(pki):
    parts = read_package(sealed_ofd(pki))
    sigs = parts["Doc_0/Signs/Signatures.xml"].replace(
        b"</ofd:Signatures>",
        b'<ofd:Signature ID="2" BaseLoc="Sign_1/Signature.xml"/></ofd:Signatures>',
    )
    parts["Doc_0/Signs/Signatures.xml"] = sigs
    parts["Doc_0/Signs/Sign_1/Signature.xml"] = parts[SIG_XML].replace(
        b"Sign_0/SignedValue", b"Sign_1/SignedValue"
    )
    parts["Doc_0/Signs/Sign_1/SignedValue.dat"] = parts[SIGNED_VALUE]  # dataHash is of Sign_0's XML
    report = verify_ofd(zip_package(parts), roots=[pki.root])
    first, second = report.signatures
    assert first.indication is Indication.PASSED
    assert second.indication is Indication.FAILED
    assert second.report.status("property_info") is CheckStatus.FAILED
    assert second.report.status("data_hash") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.HASH_FAILURE,
    )


# --------------------------------------------------------------------------- mutations of signed parts


def test_changed_referenced_file_fails():
    data = vector("999.ofd")
    page = "Doc_0/Pages/Page_0/Content.xml"
    content = read_package(data)[page]
    index = content.index(b"<ofd:TextCode") + 20
    report = verify_ofd(replace_parts(data, {page: flip(content, index)}))
    sig = only_signature(report)
    assert not sig.reference_digests_valid
    bad = [r for r in sig.references if not r.valid]
    assert [r.path for r in bad] == [page] and bad[0].status is CheckStatus.FAILED
    assert bad[0].actual != bad[0].expected
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_changed_signature_xml_fails():
    data = vector("999.ofd")
    xml = read_package(data)[SIG_XML]
    index = xml.index(b"KingGrid") + 2  # inside an attribute value: still well-formed
    report = verify_ofd(replace_parts(data, {SIG_XML: flip(xml, index)}))
    sig = only_signature(report)
    assert sig.reference_digests_valid  # the files are untouched …
    assert sig.report.status("data_hash") is CheckStatus.FAILED  # … but Signature.xml is signed
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_changed_signature_value_fails():
    data = vector("999.ofd")
    sv = read_package(data)[SIGNED_VALUE]
    report = verify_ofd(replace_parts(data, {SIGNED_VALUE: flip(sv, len(sv) - 1)}))
    sig = only_signature(report)
    assert sig.report.status("signature") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )


def test_changed_seal_inside_signed_value_fails():
    data = vector("V4RideRight.ofd")
    sv = read_package(data)[SIGNED_VALUE]
    index = sv.index(b"PNG") + 200  # inside the seal picture, signed by the maker
    report = verify_ofd(replace_parts(data, {SIGNED_VALUE: flip(sv, index)}))
    sig = only_signature(report)
    assert sig.report.status("seal_signature") is CheckStatus.FAILED
    assert sig.report.status("signature") is CheckStatus.FAILED  # TBS_Sign contains the seal
    assert sig.report.status("seal_file") is CheckStatus.FAILED  # no longer the Seal.esl
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )


def test_changed_seal_file_fails():
    data = vector("V4RideRight.ofd")
    seal_path = "Doc_0/Signs/Sign_0/Seal.esl"
    seal = read_package(data)[seal_path]
    report = verify_ofd(replace_parts(data, {seal_path: flip(seal, 100)}))
    sig = only_signature(report)
    assert sig.report.status("references") is CheckStatus.FAILED
    assert sig.report.status("seal_file") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_changed_bare_signature_fails():
    data = vector("DigitalSign.ofd")
    xml = read_package(data)[SIG_XML]
    changed = replace_parts(data, {SIG_XML: flip(xml, xml.index(b"ofdrw-sign") + 1)})
    report = verify_ofd(changed, signer_certs=[cert("USER.cert.pem")])
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )


def test_malformed_der_in_signed_value_is_a_failed_report():
    data = vector("999.ofd")
    for bad in (b"", b"\x30\x03\x02\x01", b"garbage" * 10, read_package(data)[SIGNED_VALUE][:-5]):
        report = verify_ofd(replace_parts(data, {SIGNED_VALUE: bad}))
        sig = only_signature(report)
        assert sig.report.status("signed_value") is CheckStatus.FAILED
        assert (report.indication, report.sub_indication) == (
            Indication.FAILED,
            SubIndication.FORMAT_FAILURE,
        )


def test_missing_parts():
    data = vector("999.ofd")
    page = "Doc_0/Pages/Page_0/Content.xml"
    gone = verify_ofd(replace_parts(data, {page: None}))
    missing = [r for r in only_signature(gone).references if not r.valid]
    assert [r.path for r in missing] == [page] and missing[0].status is CheckStatus.INDETERMINATE
    assert (gone.indication, gone.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIGNED_DATA_NOT_FOUND,
    )
    no_value = verify_ofd(replace_parts(data, {SIGNED_VALUE: None}))
    assert (no_value.indication, no_value.sub_indication) == (
        Indication.FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    no_xml = verify_ofd(replace_parts(data, {SIG_XML: None}))
    assert (no_xml.indication, no_xml.sub_indication) == (
        Indication.FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    with pytest.raises(OfdError, match="signature list"):
        verify_ofd(replace_parts(data, {"Doc_0/Signs/Signatures.xml": None}))
    with pytest.raises(OfdError, match="OFD.xml"):
        verify_ofd(replace_parts(data, {"OFD.xml": None}))


def test_bad_check_value_is_a_format_failure():
    data = vector("999.ofd")
    xml = read_package(data)[SIG_XML].replace(
        b"9HRBt45E5e9jYAIbCvCYu8qc0thEMM8T4z+EBZ74KLs=", b"!!not base64!!", 1
    )
    report = verify_ofd(replace_parts(data, {SIG_XML: xml}))
    assert (
        only_signature(report).report.check("references").sub_indication
        is SubIndication.FORMAT_FAILURE
    )
    assert report.indication is Indication.FAILED


def _signed_parts(name: str) -> list[str]:
    """Signature.xml, SignedValue.dat and every file a Reference protects."""
    sig = only_signature(verify_ofd(vector(name), signer_certs=[cert("USER.cert.pem")]))
    return [SIG_XML, SIGNED_VALUE, *(r.path for r in sig.references)]


# Signed vectors that verify cleanly at their signing time (SESV4SignDoc already fails).
_SIGNED_PARTS = {
    name: _signed_parts(name) for name in ("999.ofd", "V4RideRight.ofd", "DigitalSign.ofd")
}


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_changing_any_byte_of_a_signed_part_makes_verification_fail(data):
    name = data.draw(st.sampled_from(sorted(_SIGNED_PARTS)))
    part = data.draw(st.sampled_from(_SIGNED_PARTS[name]))
    package = vector(name)
    content = read_package(package)[part]
    index = data.draw(st.integers(0, len(content) - 1))
    mask = data.draw(st.integers(1, 255))
    changed = replace_parts(package, {part: flip(content, index, mask)})
    try:
        report = verify_ofd(changed, signer_certs=[cert("USER.cert.pem")])
    except OfdError:
        return  # a part that no longer parses is refused outright
    assert report.indication is Indication.FAILED, (part, index, mask, report.signatures[0].checks)


# --------------------------------------------------------------------------- unusable packages


def _ofd_with(extra: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    parts = list(UNSIGNED_PARTS.items())
    parts += list(extra.items()) if isinstance(extra, dict) else list(extra)
    return zip_package(parts)


def test_zip_bomb_is_refused_before_inflating():
    bomb = zip_package(
        {**UNSIGNED_PARTS, "Doc_0/Res/bomb.bin": bytes(ofd_module.MAX_ENTRY_SIZE + 1)}
    )
    assert len(bomb) < 200_000
    with pytest.raises(OfdError) as info:
        verify_ofd(bomb)
    assert info.value.code == "ofd_too_large"


def test_high_compression_ratio_is_refused():
    ratio = zip_package({**UNSIGNED_PARTS, "Doc_0/Res/zeros.bin": bytes(4 * 1024 * 1024)})
    with pytest.raises(OfdError) as info:
        OfdPackage(ratio)
    assert info.value.code == "ofd_too_large"


def test_total_size_and_entry_count_limits(monkeypatch):
    parts = {**UNSIGNED_PARTS, **{f"Doc_0/Res/r{i}.bin": bytes([i]) * 600 for i in range(5)}}
    monkeypatch.setattr(ofd_module, "MAX_TOTAL_SIZE", 2500)
    with pytest.raises(OfdError) as info:
        OfdPackage(zip_package(parts))
    assert info.value.code == "ofd_too_large"
    monkeypatch.setattr(ofd_module, "MAX_TOTAL_SIZE", 10**9)
    monkeypatch.setattr(ofd_module, "MAX_ENTRIES", 5)
    with pytest.raises(OfdError) as info:
        OfdPackage(zip_package(parts))
    assert info.value.code == "ofd_too_large"


def test_entry_that_inflates_past_its_declared_size_is_caught(monkeypatch):
    # The reader also counts the bytes it actually inflates, whatever the headers say.
    monkeypatch.setattr(ofd_module, "RATIO_GRACE_SIZE", 10**9)
    pkg = OfdPackage(zip_package({**UNSIGNED_PARTS, "big.bin": bytes(5000)}))
    monkeypatch.setattr(ofd_module, "MAX_ENTRY_SIZE", 4096)
    with pytest.raises(OfdError) as info:
        pkg.read("big.bin")
    assert info.value.code == "ofd_too_large"


@pytest.mark.parametrize(
    "name",
    [
        "../evil.xml",
        "Doc_0/../../evil.xml",
        "/etc/passwd",
        "Doc_0\\..\\evil.xml",
        "C:/evil.xml",
        "Doc_0/..",
    ],
)
def test_path_traversal_entry_names_are_refused(name):
    with pytest.raises(OfdError) as info:
        verify_ofd(_ofd_with({name: b"x"}))
    assert info.value.code == "ofd_path_traversal"


@pytest.mark.parametrize("name", ["Doc_0//x.xml", "./x.xml", "a\x01b"])
def test_odd_entry_names_are_malformed(name):
    with pytest.raises(OfdError) as info:
        verify_ofd(_ofd_with({name: b"x"}))
    assert info.value.code == "malformed"


def test_duplicate_entries_are_refused():
    with pytest.raises(OfdError) as info:
        verify_ofd(_ofd_with([("OFD.xml", UNSIGNED_PARTS["OFD.xml"])]))
    assert info.value.code == "ofd_duplicate_entry"
    with pytest.raises(OfdError) as info:
        verify_ofd(_ofd_with([("Doc_0/Document.xml/", b"")]))
    assert info.value.code == "ofd_duplicate_entry"


@pytest.mark.parametrize(
    "loc",
    ["../../../../etc/passwd", "/../secret.xml", "..\\..\\secret.xml"],
)
def test_references_that_leave_the_package_are_refused(pki, loc):
    parts = dict(UNSIGNED_PARTS)
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(("s1", "Sign", "Sign_0/Signature.xml"))
    xml = signature_xml(parts, extra_refs=((loc, base64.b64encode(sm3(b"")).decode()),))
    parts[SIG_XML] = xml
    parts[SIGNED_VALUE] = pki.holder_key.sign("SM2", xml)
    with pytest.raises(OfdError) as info:
        verify_ofd(zip_package(parts))
    assert info.value.code == "ofd_path_traversal"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ofd:OFD [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>&xxe;</ofd:DocRoot></ofd:DocBody></ofd:OFD>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>&lol3;</ofd:DocRoot></ofd:DocBody></ofd:OFD>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ofd:OFD SYSTEM "http://attacker.example/ofd.dtd">
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody/></ofd:OFD>"""


@pytest.mark.parametrize(
    "xml", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"]
)
@pytest.mark.parametrize("part", ["OFD.xml", "Doc_0/Signs/Signatures.xml", SIG_XML])
def test_forbidden_xml_is_refused(xml, part):
    data = replace_parts(vector("999.ofd"), {part: xml})
    with pytest.raises(OfdError) as info:
        verify_ofd(data)
    assert info.value.code == "ofd_xml_forbidden"


def test_deep_or_large_or_broken_xml_is_refused(monkeypatch):
    deep = b"<ofd:OFD xmlns:ofd='x'>" + b"<a>" * 200 + b"</a>" * 200 + b"</ofd:OFD>"
    with pytest.raises(OfdError, match="deeper") as info:
        verify_ofd(replace_parts(vector("999.ofd"), {"OFD.xml": deep}))
    assert info.value.code == "malformed"
    for broken in (
        b"<ofd:OFD",
        b"",
        b"\xff\xfe<",
        b"<a></b>",
        b'<?xml version="1.0" encoding="UTF-1"?><a/>',  # unknown codec: LookupError inside expat
    ):
        with pytest.raises(OfdError) as info:
            verify_ofd(replace_parts(vector("999.ofd"), {"OFD.xml": broken}))
        assert info.value.code == "malformed"
    monkeypatch.setattr(ofd_module, "MAX_XML_SIZE", 1000)
    with pytest.raises(OfdError) as info:
        verify_ofd(vector("999.ofd"))
    assert info.value.code == "ofd_too_large"


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04", b"not a zip", None],
    ids=["empty", "magic-only", "junk", "truncated"],
)
def test_not_a_zip_is_malformed(data):
    if data is None:
        whole = vector("999.ofd")
        data = whole[: len(whole) // 2]
    with pytest.raises(OfdError) as info:
        verify_ofd(data)
    assert info.value.code == "malformed" and isinstance(info.value, TrustError)


def test_other_refusals():
    with pytest.raises(OfdError):
        verify_ofd("999.ofd")  # type: ignore[arg-type]
    bz = zip_package(UNSIGNED_PARTS, compression=zipfile.ZIP_BZIP2)
    with pytest.raises(OfdError, match="compression"):
        verify_ofd(bz)
    with pytest.raises(OfdError, match="DocBody"):
        verify_ofd(
            replace_parts(vector("helloworld.ofd"), {"OFD.xml": b"<ofd:OFD xmlns:ofd='x'/>"})
        )
    with pytest.raises(TypeError):
        verify_ofd(vector("999.ofd"), at=datetime(2020, 1, 1))


def test_too_many_signatures(monkeypatch, pki):
    monkeypatch.setattr(ofd_module, "MAX_SIGNATURES", 3)
    parts = read_package(sealed_ofd(pki))
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(
        *[(str(i), "Seal", "Sign_0/Signature.xml") for i in range(4)]
    )
    with pytest.raises(OfdError) as info:
        verify_ofd(zip_package(parts))
    assert info.value.code == "ofd_too_large"


# --------------------------------------------------------------------------- fuzz

_PACKAGES = [
    vector(n) for n in ("999.ofd", "DigitalSign.ofd", "SESV4SignDoc.ofd", "helloworld.ofd")
]


@st.composite
def mutated_package(draw):
    package = draw(st.sampled_from(_PACKAGES))
    if draw(st.booleans()):  # damage the ZIP itself
        data = bytearray(package)
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        return bytes(data)
    parts = read_package(package)  # damage one part's content
    name = draw(st.sampled_from(sorted(parts)))
    content = bytearray(parts[name])
    if content:
        pos = draw(st.integers(0, len(content) - 1))
        if draw(st.booleans()):
            content[pos] ^= draw(st.integers(1, 255))
        else:
            del content[pos:]
    parts[name] = bytes(content)
    return zip_package(parts)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.one_of(st.binary(max_size=400), mutated_package()))
def test_fuzz_reader_raises_only_ofd_error(data):
    try:
        verify_ofd(data, signer_certs=[cert("USER.cert.pem")])
    except OfdError:
        pass


# --------------------------------------------------------------------------- less common shapes


def test_cms_signed_value_in_a_sign_signature_is_indeterminate():
    """GB/T 35275 SignedData (ofdrw's newer Type="Sign" container) is recognised, not misread as tampering."""
    content_info = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v1",
                    "digest_algorithms": [],
                    "encap_content_info": {"content_type": "data"},
                    "signer_infos": [],
                }
            ),
        }
    ).dump()
    data = replace_parts(vector("DigitalSign.ofd"), {SIGNED_VALUE: content_info})
    report = verify_ofd(data, signer_certs=[cert("USER.cert.pem")])
    assert only_signature(report).report.check("signature").status is CheckStatus.INDETERMINATE
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.FORMAT_FAILURE,
    )


def test_free_text_property_info_is_not_judged(pki):
    report = verify_ofd(sealed_ofd(pki, property_info="invoice 2025-0001"), roots=[pki.root])
    assert only_signature(report).report.status("property_info") is CheckStatus.SKIPPED
    assert report.passed
    moved = verify_ofd(
        sealed_ofd(pki, property_info="/Doc_0/Signs/Sign_9/Signature.xml"), roots=[pki.root]
    )
    assert only_signature(moved).report.status("property_info") is CheckStatus.FAILED
    assert (moved.indication, moved.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )


def test_seal_file_declared_but_missing(pki):
    data = sealed_ofd(pki)
    parts = read_package(data)
    parts[SIG_XML] = parts[SIG_XML].replace(
        b"Sign_0/Seal.esl</ofd:BaseLoc>", b"Sign_0/Gone.esl</ofd:BaseLoc>"
    )
    parts[SIGNED_VALUE] = read_package(sealed_ofd(pki))[
        SIGNED_VALUE
    ]  # dataHash no longer matters here
    report = verify_ofd(zip_package(parts), roots=[pki.root])
    assert (
        only_signature(report).report.check("seal_file").sub_indication
        is SubIndication.SIGNED_DATA_NOT_FOUND
    )


def test_unknown_signature_type_fails(pki):
    parts = read_package(sealed_ofd(pki))
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(("1", "Stamp", "Sign_0/Signature.xml"))
    report = verify_ofd(zip_package(parts), roots=[pki.root])
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.FORMAT_FAILURE,
    )


def test_seal_without_signer_timestamp_or_seal_file(pki):
    report = verify_ofd(sealed_ofd(pki, with_seal_file=False), roots=[pki.root])
    assert report.passed
    assert "seal_file" not in {c.name for c in only_signature(report).checks}


def test_entry_count_is_checked_before_zipfile_reads_the_directory(monkeypatch):
    package = zip_package({**UNSIGNED_PARTS, **{f"Doc_0/Res/r{i}.bin": b"x" for i in range(10)}})
    assert ofd_module._declared_entry_count(package) == 13
    monkeypatch.setattr(ofd_module, "MAX_ENTRIES", 12)
    calls = []
    monkeypatch.setattr(ofd_module.zipfile, "ZipFile", lambda *a, **k: calls.append(a))
    with pytest.raises(OfdError) as info:
        OfdPackage(package)
    assert info.value.code == "ofd_too_large" and calls == []
