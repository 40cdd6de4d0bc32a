"""Sealing OFD packages (seal_service.ofd_sign, GB/T 33190-2016 ch. 18): checked with verify_ofd."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from ses_builders import SIGNING_TIME, TestPKI, make_pki, seal_v4

from seal_service import CheckStatus, Indication, OfdError, SubIndication, verify_ofd
from seal_service.ofd import parse_xml
from seal_service.ofd_sign import OfdSignError, seal_ofd
from seal_service.sealing import SealingError

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
NS = "{http://www.ofdspec.org/2016}"


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return make_pki()


@pytest.fixture(scope="module")
def seal(pki: TestPKI) -> bytes:
    return seal_v4(pki)  # picture 40 × 40 mm


def do_seal(pki: TestPKI, seal: bytes, ofd: bytes, **over: object) -> bytes:
    kwargs: dict[str, object] = {
        "seal_der": seal,
        "signer": pki.holder_key.signer("SM2"),
        "signer_cert": pki.holder,
        "sign_time": SIGNING_TIME,
        "x_mm": 120,
        "y_mm": 200.5,
    }
    kwargs.update(over)
    return seal_ofd(ofd, **kwargs)  # type: ignore[arg-type]


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hello_sealed(pki: TestPKI, seal: bytes) -> bytes:
    return do_seal(pki, seal, vector("helloworld.ofd"))


def test_sealed_helloworld_passes(pki, hello_sealed):
    report = verify_ofd(hello_sealed, roots=[pki.root])
    assert report.indication is Indication.PASSED, report
    (sig,) = report.signatures
    assert sig.indication is Indication.PASSED
    assert sig.type == "Seal"
    assert sig.path == "Doc_0/Signs/Sign_0/Signature.xml"
    assert sig.signed_value_path == "Doc_0/Signs/Sign_0/SignedValue.dat"
    assert sig.reference_digests_valid
    assert {r.path for r in sig.references} == {
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/PublicRes.xml",
        "Doc_0/Pages/Page_0/Content.xml",
    }
    assert sig.signature_method == "1.2.156.10197.1.501"
    assert sig.signature_date_time == "20250601120000Z"
    assert dict(sig.provider)["ProviderName"] == "GovTrust"
    assert {"Version", "Company"} <= set(dict(sig.provider))
    (stamp,) = sig.stamp_annots
    assert (stamp.page_ref, stamp.boundary, stamp.clip) == ("1", "120 200.5 40 40", None)
    assert sig.report.status("property_info") is CheckStatus.PASSED
    assert report.unsigned_parts == ()


def test_sealed_helloworld_without_roots_is_unanchored(hello_sealed):
    report = verify_ofd(hello_sealed)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )
    (sig,) = report.signatures
    for c in sig.checks:
        if c.name in ("signer_chain", "seal_maker_chain"):
            assert c.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        else:
            assert c.status is CheckStatus.PASSED, c


def test_package_layout(hello_sealed):
    files = parts(hello_sealed)
    ofd = parse_xml(files["OFD.xml"])
    assert ofd.find(f"{NS}DocBody/{NS}Signatures").text == "Doc_0/Signs/Signatures.xml"
    sigs = parse_xml(files["Doc_0/Signs/Signatures.xml"])
    assert [c.tag for c in sigs] == [f"{NS}MaxSignId", f"{NS}Signature"]
    assert sigs[1].attrib == {
        "ID": "1",
        "Type": "Seal",
        "BaseLoc": "/Doc_0/Signs/Sign_0/Signature.xml",
    }
    assert sigs[0].text == "2"  # the StampAnnot took ID 2
    with zipfile.ZipFile(io.BytesIO(hello_sealed)) as z:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())


def test_output_is_deterministic(pki, seal, hello_sealed):
    # SM2 signatures are randomised: compare everything but SignedValue.dat
    again = parts(do_seal(pki, seal, vector("helloworld.ofd")))
    first = parts(hello_sealed)
    assert list(again) == list(first)
    first.pop("Doc_0/Signs/Sign_0/SignedValue.dat")
    again.pop("Doc_0/Signs/Sign_0/SignedValue.dat")
    assert again == first


def test_second_seal_keeps_the_first(pki, seal, hello_sealed):
    twice = do_seal(
        pki, seal, hello_sealed, sign_time=SIGNING_TIME + timedelta(hours=1), x_mm=20, y_mm=20
    )
    report = verify_ofd(twice, roots=[pki.root])
    assert report.indication is Indication.PASSED
    first, second = report.signatures
    assert first.indication is second.indication is Indication.PASSED
    assert first.reference_digests_valid and second.reference_digests_valid
    assert first.id == "1" and second.id == "3"
    assert second.path == "Doc_0/Signs/Sign_1/Signature.xml"
    protected = {r.path for r in second.references}
    assert {"Doc_0/Signs/Sign_0/Signature.xml", "Doc_0/Signs/Sign_0/SignedValue.dat"} <= protected
    assert "Doc_0/Signs/Signatures.xml" not in protected
    sigs = parse_xml(parts(twice)["Doc_0/Signs/Signatures.xml"])
    assert sigs[0].text == "4"
    assert report.unsigned_parts == ()


def test_cross_page_seal_on_page5(pki, seal):
    sealed = do_seal(pki, seal, vector("Page5.ofd"), cross_page=True, y_mm=40)
    report = verify_ofd(sealed, roots=[pki.root])
    assert report.indication is Indication.PASSED
    (sig,) = report.signatures
    assert [s.page_ref for s in sig.stamp_annots] == ["1", "21", "43", "63", "83"]
    # as ofdrw's V4RideRight.ofd: 40 mm seal, 8 mm slices on the right edge of A4
    assert [s.boundary for s in sig.stamp_annots] == [
        "202 40 40 40",
        "194 40 40 40",
        "186 40 40 40",
        "178 40 40 40",
        "170 40 40 40",
    ]
    assert [s.clip for s in sig.stamp_annots] == [
        "0 0 8 40",
        "8 0 8 40",
        "16 0 8 40",
        "24 0 8 40",
        "32 0 8 40",
    ]
    assert len({s.id for s in sig.stamp_annots}) == 5


def test_page_choice_and_size(pki, seal):
    sealed = do_seal(pki, seal, vector("Page5.ofd"), page=3, width_mm=30, height_mm=25.25)
    (sig,) = verify_ofd(sealed, roots=[pki.root]).signatures
    assert sig.indication is Indication.PASSED
    (stamp,) = sig.stamp_annots
    assert (stamp.page_ref, stamp.boundary) == ("43", "120 200.5 30 25.25")


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("Doc_0/Pages/Page_0/Content.xml", b'Boundary="31.7', b'Boundary="31.8'),
        ("Doc_0/Pages/Page_0/Content.xml", b"Writer", b"Writes"),
        ("Doc_0/Document.xml", b"0 0 210 297", b"0 0 210 298"),
        ("Doc_0/PublicRes.xml", b"</", b" </"),
        ("OFD.xml", b"2020-04-25", b"2020-04-26"),
    ],
)
def test_changing_a_byte_after_sealing_fails(pki, hello_sealed, name, old, new):
    files = parts(hello_sealed)
    assert old in files[name]
    files[name] = files[name].replace(old, new, 1)
    report = verify_ofd(rezip(files), roots=[pki.root])
    assert report.indication is Indication.FAILED
    check = report.signatures[0].report.check("references")
    assert check.status is CheckStatus.FAILED
    assert check.sub_indication is SubIndication.HASH_FAILURE


def test_changing_every_byte_of_the_page_fails(pki, hello_sealed):
    files = parts(hello_sealed)
    page = files["Doc_0/Pages/Page_0/Content.xml"]
    for i in range(0, len(page), max(1, len(page) // 25)):
        changed = dict(files)
        changed["Doc_0/Pages/Page_0/Content.xml"] = (
            page[:i] + bytes([page[i] ^ 0x20]) + page[i + 1 :]
        )
        report = verify_ofd(rezip(changed), roots=[pki.root])
        assert report.indication is Indication.FAILED


def test_sealing_a_third_party_signed_vector_keeps_its_signature(pki, seal):
    original = verify_ofd(vector("v4signed.ofd"))
    (theirs_before,) = original.signatures
    sealed = do_seal(pki, seal, vector("v4signed.ofd"))
    report = verify_ofd(sealed, roots=[pki.root])
    theirs, ours = report.signatures
    assert theirs.path == theirs_before.path
    assert theirs.reference_digests_valid
    assert theirs.indication is theirs_before.indication
    assert [c.status for c in theirs.checks] == [c.status for c in theirs_before.checks]
    assert ours.indication is Indication.PASSED
    assert ours.id == "2" and ours.path == "Doc_0/Signs/Sign_1/Signature.xml"
    sigs = parse_xml(parts(sealed)["Doc_0/Signs/Signatures.xml"])
    assert sigs[0].text == "3"
    assert parts(sealed)["OFD.xml"] == parts(vector("v4signed.ofd"))["OFD.xml"]


def test_prefixed_ids_are_continued(pki, seal):
    sealed = do_seal(pki, seal, vector("V4RideRight.ofd"))
    report = verify_ofd(sealed, roots=[pki.root])
    theirs, ours = report.signatures
    # ofdrw's whole-protected seal digests Signatures.xml, which a new seal must extend
    assert theirs.report.status("references") is CheckStatus.FAILED
    assert [r.path for r in theirs.references if not r.valid] == ["Doc_0/Signs/Signatures.xml"]
    assert ours.indication is Indication.PASSED
    assert ours.id == "s007"
    assert ours.stamp_annots[0].id == "s008"
    sigs = parse_xml(parts(sealed)["Doc_0/Signs/Signatures.xml"])
    assert sigs[0].text == "s008"


def test_xml_special_characters_are_escaped(pki, seal):
    files = parts(vector("helloworld.ofd"))
    # a package whose page IDs and paths need escaping
    files["Doc_0/Document.xml"] = files["Doc_0/Document.xml"].replace(
        b'ID="1"', b'ID="1&amp;&quot;&lt;x"'
    )
    sealed = do_seal(pki, seal, rezip(files))
    (sig,) = verify_ofd(sealed, roots=[pki.root]).signatures
    assert sig.indication is Indication.PASSED
    assert sig.stamp_annots[0].page_ref == '1&"<x'


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip",
        b"",
        rezip({"Doc_0/Document.xml": b"<x/>"}),  # no OFD.xml
        rezip({"OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody"}),
        rezip({"OFD.xml": b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'}),
        rezip({"../evil": b"x", "OFD.xml": b"<x/>"}),
        rezip(
            {
                "OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody>"
                b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
            }
        ),  # the document is missing
    ],
)
def test_malformed_input_raises_ofd_error(pki, seal, data):
    with pytest.raises(OfdError):
        do_seal(pki, seal, data)


def test_bad_arguments(pki, seal):
    hello = vector("helloworld.ofd")
    with pytest.raises(OfdSignError) as exc:
        do_seal(pki, seal, hello, page=2)
    assert exc.value.code == "page_out_of_range"
    with pytest.raises(OfdSignError):
        do_seal(pki, seal, hello, page=0)
    with pytest.raises(OfdSignError):
        do_seal(pki, seal, hello, width_mm=-1)
    with pytest.raises(OfdSignError):
        do_seal(pki, seal, hello, x_mm=float("nan"))
    with pytest.raises(SealingError) as sealing_exc:
        do_seal(pki, seal, hello, sign_time=SIGNING_TIME.replace(tzinfo=None))
    assert sealing_exc.value.code == "invalid_argument"
    with pytest.raises(SealingError) as sealing_exc:
        do_seal(pki, b"\x30\x03\x02\x01\x01", hello)
    assert sealing_exc.value.code == "malformed_seal"
    other = make_pki()
    with pytest.raises(SealingError) as sealing_exc:
        do_seal(pki, seal, hello, signer=other.holder_key.signer("SM2"), signer_cert=other.holder)
    assert sealing_exc.value.code == "signer_not_in_seal"


def test_ofd_xml_with_a_default_namespace_and_a_tricky_comment(pki, seal):
    files = parts(vector("helloworld.ofd"))
    files["OFD.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<OFD xmlns="http://www.ofdspec.org/2016"'
        b' Version="1.0" DocType="OFD"><DocBody><DocRoot>Doc_0/Document.xml</DocRoot>'
        b"</DocBody></OFD>"
    )
    sealed = do_seal(pki, seal, rezip(files))
    assert verify_ofd(sealed, roots=[pki.root]).indication is Indication.PASSED
    files["OFD.xml"] = files["OFD.xml"].replace(b"<DocBody>", b"<DocBody><!-- </DocBody> -->")
    with pytest.raises(OfdError):
        do_seal(pki, seal, rezip(files))
