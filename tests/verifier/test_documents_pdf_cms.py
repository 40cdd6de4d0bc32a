"""verifier.documents and ``govtrust verify`` on PAdES PDFs and detached CMS SignedData.

PDFs are sealed here with :func:`seal_service.pades.seal_pdf` (ECDSA P-256 test
PKI); CMS signatures are made with :func:`trust.cms.sign_detached` (SM2 with the
GB/T 35275 content types, and ECDSA P-256 with the RFC 5652 ones).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from govtrust.cli import cli
from govtrust.config import Config
from seal_service.pades import seal_pdf
from trust.cms import sign_detached
from trust.crypto import PrivateKey, generate_private_key
from trust.pki import Certificate, issue_end_entity, issue_root
from verifier.documents import verify_document

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T_END = datetime(2034, 1, 1, tzinfo=UTC)
SIGNING_TIME = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DOC = "准予登记 — the signed document\n".encode()


@dataclass(frozen=True)
class Pki:
    root: Certificate
    key: PrivateKey
    cert: Certificate
    alg: str


def make_pki(family: str = "p256", name: str = "A") -> Pki:
    alg = {"p256": "ES256", "sm2": "SM2"}[family]
    root_key, key = generate_private_key(family), generate_private_key(family)
    root = issue_root(
        root_key.signer(alg), f"CN=GovTrust verifier test root {name},C=CN",
        not_before=T0, not_after=T_END,
    )  # fmt: skip
    cert = issue_end_entity(
        root_key.signer(alg), root, key.public_key(), f"CN=测试机关 {name} 电子印章,C=CN",
        purpose="seal", not_before=T0, not_after=T_END,
    )  # fmt: skip
    return Pki(root, key, cert, alg)


def blank_pdf() -> bytes:
    """A one-page PDF 1.7 with a classic cross-reference table."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        start,
    )
    return bytes(out)


def seal_png() -> bytes:
    image = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((3, 3, 117, 117), outline=(230, 0, 18, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PDF = blank_pdf()


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki("p256", "A")


@pytest.fixture(scope="module")
def other() -> Pki:
    return make_pki("p256", "B")


@pytest.fixture(scope="module")
def sealed(pki: Pki) -> bytes:
    return seal_pdf(
        PDF, signer=pki.key.signer(pki.alg), certificate=pki.cert, chain=[pki.root],
        seal_png=seal_png(), page=0, x_mm=120, y_mm=40,
    )  # fmt: skip


def change_signed_byte(sealed: bytes) -> bytes:
    """The sealed PDF with one byte of the original (signed) revision changed."""
    index = sealed.index(b"/MediaBox [0 0 595 842]") + len(b"/MediaBox [0 0 59")
    assert index < len(PDF) and sealed[index : index + 1] == b"5"
    return sealed[:index] + b"6" + sealed[index + 1 :]


# --------------------------------------------------------------------------- PDF


def test_sealed_pdf_is_valid_with_its_root(pki: Pki, sealed: bytes) -> None:
    v = verify_document(sealed, roots=[pki.root])
    assert (v.verdict, v.reasons, v.kind) == ("VALID", (), "pdf")
    assert (v.indication, v.sub_indication) == ("PASSED", None)
    (sig,) = v.signatures
    assert sig["indication"] == "PASSED"
    assert sig["signer_subject"] == str(pki.cert.subject)
    assert sig["field_name"] == "GovTrustSeal1"
    assert sig["covers_whole_document"] is True
    assert sig["signing_time"] is not None
    names = {c["name"]: c["status"] for c in sig["checks"]}
    for name in ("digest", "signature", "certificate_chain", "modifications"):
        assert names[name] == "passed"
    # the same JSON shape as OFD and SES verdicts
    assert set(v.to_dict()) == {
        "verdict", "reasons", "kind", "indication", "sub_indication",
        "signatures", "unsigned_parts", "detail",
    }  # fmt: skip
    assert {"signer_subject", "seal_name", "es_id", "signing_time", "indication", "checks"} <= set(
        sig
    )
    json.dumps(v.to_dict())


def test_changed_byte_in_signed_range_is_invalid(pki: Pki, sealed: bytes) -> None:
    v = verify_document(change_signed_byte(sealed), roots=[pki.root])
    assert v.verdict == "INVALID" and v.kind == "pdf"
    assert v.reasons[0] == "hash_failure"
    (sig,) = v.signatures
    assert {c["name"]: c["status"] for c in sig["checks"]}["digest"] == "failed"


def test_wrong_root_is_indeterminate(other: Pki, sealed: bytes) -> None:
    v = verify_document(sealed, roots=[other.root])
    assert v.verdict == "INDETERMINATE" and v.kind == "pdf"
    assert v.reasons  # says why: the chain
    (sig,) = v.signatures
    checks = {c["name"]: c["status"] for c in sig["checks"]}
    assert checks["certificate_chain"] == "indeterminate"
    assert checks["digest"] == checks["signature"] == "passed"


def test_no_roots_is_indeterminate_but_tampering_still_invalid(sealed: bytes) -> None:
    v = verify_document(sealed)
    assert v.verdict == "INDETERMINATE" and v.reasons and "no trust anchors" in v.detail
    assert verify_document(change_signed_byte(sealed)).verdict == "INVALID"


def test_unsigned_pdf_is_no_signature_found(pki: Pki) -> None:
    v = verify_document(PDF, roots=[pki.root])
    assert (v.verdict, v.reasons, v.kind) == ("INDETERMINATE", ("no_signature_found",), "pdf")
    assert v.sub_indication == "NO_SIGNATURE_FOUND" and v.signatures == ()


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"%PDF-", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"],
    ids=["header-only", "magic-only", "truncated"],
)
def test_garbage_pdf_is_indeterminate_with_a_reason(pki: Pki, data: bytes) -> None:
    v = verify_document(data, roots=[pki.root])
    assert (v.verdict, v.kind) == ("INDETERMINATE", "pdf")
    assert v.reasons == ("pdf_malformed",)


@settings(max_examples=30, deadline=None)
@given(tail=st.binary(max_size=400))
def test_arbitrary_pdf_bytes_never_raise(tail: bytes) -> None:
    v = verify_document(b"%PDF-1.7\n" + tail)
    assert v.verdict in ("INDETERMINATE", "INVALID")
    assert v.reasons


@settings(max_examples=15, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(PDF) - 1), mask=st.integers(1, 255))
def test_any_flipped_signed_byte_is_never_valid(
    sealed: bytes, pki: Pki, position: int, mask: int
) -> None:
    changed = bytearray(sealed)
    changed[position] ^= mask
    v = verify_document(bytes(changed), roots=[pki.root])
    assert v.verdict != "VALID"
    assert v.reasons


# --------------------------------------------------------------------------- detached CMS


@pytest.fixture(scope="module", params=["sm2", "p256"])
def cms_pki(request: pytest.FixtureRequest) -> Pki:
    return make_pki(request.param, f"CMS {request.param}")


@pytest.fixture(scope="module")
def cms_sig(cms_pki: Pki) -> bytes:
    return sign_detached(
        cms_pki.key.signer(cms_pki.alg), cms_pki.cert, content=DOC, signing_time=SIGNING_TIME,
        chain=[cms_pki.root], gm_content_types=cms_pki.alg == "SM2",
    )  # fmt: skip


def test_detached_cms_with_data_is_valid(cms_pki: Pki, cms_sig: bytes) -> None:
    v = verify_document(cms_sig, signed_data=DOC, roots=[cms_pki.root])
    assert (v.verdict, v.reasons, v.kind) == ("VALID", (), "cms")
    (sig,) = v.signatures
    assert sig["signer_subject"] == str(cms_pki.cert.subject)
    assert sig["signing_time"] == SIGNING_TIME.isoformat()
    assert sig["validation_time"] == SIGNING_TIME.isoformat()
    assert sig["signature_algorithm"] == cms_pki.alg
    checks = {c["name"]: c["status"] for c in sig["checks"]}
    assert checks == {
        "signed_data": "passed", "message_digest": "passed", "signature": "passed",
        "signer_certificate_validity": "passed", "signer_chain": "passed",
    }  # fmt: skip


def test_detached_cms_with_other_data_is_invalid(cms_pki: Pki, cms_sig: bytes) -> None:
    v = verify_document(cms_sig, signed_data=DOC + b"!", roots=[cms_pki.root])
    assert (v.verdict, v.reasons, v.kind) == ("INVALID", ("hash_failure",), "cms")


def test_detached_cms_without_data_is_indeterminate(cms_pki: Pki, cms_sig: bytes) -> None:
    v = verify_document(cms_sig, roots=[cms_pki.root])
    assert (v.verdict, v.reasons, v.kind) == ("INDETERMINATE", ("signed_data_not_found",), "cms")
    (sig,) = v.signatures
    # what the signature claims is shown, nothing is called verified
    assert sig["signer_subject"] is not None and "CMS" in sig["signer_subject"]
    assert sig["signing_time"] == SIGNING_TIME.isoformat()
    assert [c["status"] for c in sig["checks"]] == ["indeterminate"]


def test_detached_cms_with_wrong_or_no_root(cms_pki: Pki, cms_sig: bytes, other: Pki) -> None:
    for roots in ([other.root], []):
        v = verify_document(cms_sig, signed_data=DOC, roots=roots)
        assert (v.verdict, v.reasons) == ("INDETERMINATE", ("no_certificate_chain_found",))


def test_detached_cms_judged_after_expiry_is_invalid(cms_pki: Pki, cms_sig: bytes) -> None:
    v = verify_document(
        cms_sig, signed_data=DOC, roots=[cms_pki.root], at=T_END + timedelta(days=1)
    )
    assert v.verdict == "INVALID" and v.reasons[0] == "expired"


def test_detached_cms_tampered_signature_is_invalid(cms_pki: Pki, cms_sig: bytes) -> None:
    class AnySignedData(asn1_core.Sequence):  # RFC 5652 or GB/T 35275 signedData OID
        _fields = [
            ("content_type", asn1_core.ObjectIdentifier),
            ("content", asn1_cms.SignedData, {"explicit": 0}),
        ]

    ci = AnySignedData.load(cms_sig)
    si = ci["content"]["signer_infos"][0]
    raw = bytearray(si["signature"].native)
    raw[-2] ^= 0x01
    si["signature"] = bytes(raw)
    v = verify_document(bytes(ci.dump(force=True)), signed_data=DOC, roots=[cms_pki.root])
    assert (v.verdict, v.reasons) == ("INVALID", ("sig_crypto_failure",))


def test_truncated_cms_is_malformed(cms_pki: Pki, cms_sig: bytes) -> None:
    v = verify_document(cms_sig[:-7], signed_data=DOC, roots=[cms_pki.root])
    assert (v.verdict, v.reasons) == ("INDETERMINATE", ("malformed",))


def test_cms_and_ses_are_told_apart_by_structure() -> None:
    # a ContentInfo whose OID is not signedData (id-data) is not taken for CMS
    id_data = bytes.fromhex("300f06092a864886f70d010701a0020400")
    assert verify_document(id_data).kind in ("ses", None)
    assert verify_document(id_data, signed_data=DOC).kind != "cms"


# --------------------------------------------------------------------------- CLI


def run(tmp_path: Path, *args: str) -> Result:
    config = Config(data_dir=tmp_path / "no-hub")
    return CliRunner().invoke(
        cli, ["verify", *args], obj={"config": config}, catch_exceptions=False
    )


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_cli_pdf_exit_codes(tmp_path: Path, pki: Pki, other: Pki, sealed: bytes) -> None:
    roots = write(tmp_path, "roots.pem", pki.root.pem())
    wrong = write(tmp_path, "wrong.pem", other.root.pem())
    good = run(tmp_path, write(tmp_path, "sealed.pdf", sealed), "--roots", roots, "--json")
    assert good.exit_code == 0, good.output
    obj = json.loads(good.stdout)
    assert (obj["verdict"], obj["kind"]) == ("VALID", "pdf")
    assert obj["signatures"][0]["field_name"] == "GovTrustSeal1"
    bad = run(tmp_path, write(tmp_path, "bad.pdf", change_signed_byte(sealed)), "--roots", roots)
    assert bad.exit_code == 1 and "hash_failure" in bad.output
    assert run(tmp_path, str(tmp_path / "sealed.pdf"), "--roots", wrong).exit_code == 2
    unsigned = run(tmp_path, write(tmp_path, "plain.pdf", PDF), "--roots", roots)
    assert unsigned.exit_code == 2 and "no_signature_found" in unsigned.output
    junk = run(tmp_path, write(tmp_path, "junk.pdf", b"%PDF-1.7\nnot a pdf"), "--json")
    assert junk.exit_code == 2
    assert json.loads(junk.stdout)["reasons"] == ["pdf_malformed"]


def test_cli_cms_exit_codes(tmp_path: Path, cms_pki: Pki, cms_sig: bytes) -> None:
    roots = write(tmp_path, "roots.pem", cms_pki.root.pem())
    sig = write(tmp_path, "doc.p7s", cms_sig)
    good = run(tmp_path, sig, "--data", write(tmp_path, "doc.txt", DOC), "--roots", roots)
    assert good.exit_code == 0, good.output
    assert "VALID" in good.output and str(cms_pki.cert.subject) in good.output
    other_data = write(tmp_path, "other.txt", DOC + b"x")
    bad = run(tmp_path, sig, "--data", other_data, "--roots", roots, "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["reasons"] == ["hash_failure"]
    missing = run(tmp_path, sig, "--roots", roots, "--json")
    assert missing.exit_code == 2
    assert json.loads(missing.stdout)["reasons"] == ["signed_data_not_found"]


def test_cli_untrusted_pdf_logs_no_library_warnings(
    tmp_path: Path, other: Pki, sealed: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = write(tmp_path, "wrong.pem", other.root.pem())
    with caplog.at_level(logging.WARNING):
        result = run(tmp_path, write(tmp_path, "sealed.pdf", sealed), "--roots", wrong)
    assert result.exit_code == 2 and "no_certificate_chain_found" in result.output
    assert not [r for r in caplog.records if r.name.startswith("pyhanko")]
    # and the library's loggers are restored afterwards
    assert logging.getLogger("pyhanko").level == logging.NOTSET
