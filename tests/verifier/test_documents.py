"""verifier.documents: verdicts on OFD packages and detached SES signatures.

The ofdrw vectors (tests/vectors/seal/ofdrw/README.md) give the interop cases;
a home-made SM2 test PKI with seal_service.sealing gives the VALID case.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seal_service.sealing import make_seal, sign_data
from trust.crypto import generate_private_key
from trust.pki import Certificate, issue_end_entity, issue_root, load_certificate
from verifier import documents
from verifier.documents import DocumentVerdict, verify_document

OFDRW = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T_END = datetime(2034, 1, 1, tzinfo=UTC)
SIGNING_TIME = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def vec(name: str) -> bytes:
    return (OFDRW / name).read_bytes()


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def rezip(data: bytes, path: str, change) -> bytes:  # type: ignore[no-untyped-def]
    """``data`` with entry ``path`` replaced by ``change(old bytes)``, order and names kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        assert path in src.namelist()
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info, change(body) if info.filename == path else body)
    return out.getvalue()


def flip_last(body: bytes) -> bytes:
    return body[:-1] + bytes([body[-1] ^ 0x01])


class SealWorld:
    """An SM2 root, a seal maker, a seal holder and one v4 seal, all under our control."""

    def __init__(self) -> None:
        root_key = generate_private_key("sm2")
        self.root = issue_root(
            root_key.signer("SM2"), "CN=GovTrust Verify Test Root,O=GovTrust,C=CN",
            not_before=T0, not_after=T_END,
        )  # fmt: skip
        maker_key = generate_private_key("sm2")
        self.maker = issue_end_entity(
            root_key.signer("SM2"), self.root, maker_key.public_key(),
            "CN=Verify Test Seal Maker,O=GovTrust,C=CN",
            purpose="seal", not_before=T0, not_after=T_END,
        )  # fmt: skip
        self.holder_key = generate_private_key("sm2")
        self.holder = issue_end_entity(
            root_key.signer("SM2"), self.root, self.holder_key.public_key(),
            "CN=测试机关,O=GovTrust,C=CN",
            purpose="seal", not_before=T0, not_after=T_END,
        )  # fmt: skip
        self.seal = make_seal(
            maker=maker_key.signer("SM2"),
            maker_cert=self.maker,
            holder_certs=[self.holder],
            es_id="11010000000077",
            name="GovTrust 验证测试章",
            seal_type=1,
            created=T0 + timedelta(days=1),
            valid_start=T0 + timedelta(days=1),
            valid_end=T_END - timedelta(days=1),
            picture_png=tiny_png(),
            picture_width_mm=40,
            picture_height_mm=40,
        )

    def sign(self, data: bytes) -> bytes:
        return sign_data(
            seal_der=self.seal,
            signer=self.holder_key.signer("SM2"),
            signer_cert=self.holder,
            data=data,
            property_info="licence.pdf",
            sign_time=SIGNING_TIME,
        )


@pytest.fixture(scope="module")
def world() -> SealWorld:
    return SealWorld()


# --------------------------------------------------------------------------- ofdrw OFD vectors


def test_999_at_signing_time_is_indeterminate_for_want_of_a_chain() -> None:
    v = verify_document(vec("999.ofd"))
    assert (v.verdict, v.reasons, v.kind) == (
        "INDETERMINATE",
        ("no_certificate_chain_found",),
        "ofd",
    )
    assert v.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    [sig] = v.signatures
    assert sig["type"] == "Seal"
    assert sig["es_id"] == "50011200000323"
    assert "国家税务总局重庆市税务局" in sig["seal_name"]
    assert sig["signer_subject"].startswith("CN=全国统一发票监制章")
    assert sig["signing_time"] == "2020-08-17T11:13:29+00:00"
    assert sig["indication"] == "INDETERMINATE"
    checks = {c["name"]: c["status"] for c in sig["checks"]}
    assert checks["references"] == "passed"
    assert checks["signature"] == "passed"
    assert all(r["status"] == "passed" for r in sig["references"])
    assert len(sig["references"]) == 20


def test_999_judged_now_is_invalid_expired() -> None:
    v = verify_document(vec("999.ofd"), at=datetime(2026, 11, 26, tzinfo=UTC))
    assert v.verdict == "INVALID"
    assert v.reasons[0] == "expired"
    assert "no_certificate_chain_found" not in v.reasons  # only failures explain INVALID


def test_flipped_byte_in_a_referenced_file_is_invalid_hash_failure() -> None:
    data = rezip(vec("v4signed.ofd"), "Doc_0/Pages/Page_0/Content.xml", flip_last)
    v = verify_document(data)
    assert v.verdict == "INVALID"
    assert v.reasons == ("hash_failure",)
    [sig] = v.signatures
    bad = [r["path"] for r in sig["references"] if r["status"] != "passed"]
    assert bad == ["Doc_0/Pages/Page_0/Content.xml"]


def test_untouched_v4signed_is_indeterminate_not_invalid() -> None:
    assert verify_document(vec("v4signed.ofd")).reasons == ("no_certificate_chain_found",)


def test_unsigned_ofd_has_no_signature() -> None:
    v = verify_document(vec("helloworld.ofd"))
    assert (v.verdict, v.reasons, v.kind, v.signatures) == (
        "INDETERMINATE",
        ("no_signature_found",),
        "ofd",
        (),
    )


def test_type_sign_needs_signer_certs() -> None:
    assert verify_document(vec("DigitalSign.ofd")).reasons == ("no_signing_certificate_found",)
    user = load_certificate(vec("USER.cert.pem"))
    v = verify_document(vec("DigitalSign.ofd"), signer_certs=[user])
    assert v.verdict != "INVALID"
    assert "no_signing_certificate_found" not in v.reasons


def test_sesv4signdoc_is_invalid_expired() -> None:
    v = verify_document(vec("SESV4SignDoc.ofd"))
    assert (v.verdict, v.reasons[0]) == ("INVALID", "expired")


# --------------------------------------------------------------------------- detached SES


def test_detached_signature_with_wrong_document_is_hash_failure() -> None:
    v = verify_document(vec("SignedValueV4.dat"), signed_data=b"not the signed document")
    assert (v.verdict, v.reasons, v.kind) == ("INVALID", ("hash_failure",), "ses")
    [sig] = v.signatures
    assert sig["data_hash"] == "00" * 32
    assert sig["version"] == 4


def test_detached_signature_without_document_is_not_valid() -> None:
    v = verify_document(vec("SignedValueV4.dat"))
    assert v.verdict == "INDETERMINATE"
    assert v.reasons == ("signed_data_not_found", "no_certificate_chain_found")


def test_home_made_signature_is_valid_under_its_root(world: SealWorld) -> None:
    doc = "营业执照 准予登记".encode()
    v = verify_document(world.sign(doc), signed_data=doc, roots=[world.root])
    assert (v.verdict, v.reasons, v.kind) == ("VALID", (), "ses")
    assert v.valid
    [sig] = v.signatures
    assert sig["seal_name"] == "GovTrust 验证测试章"
    assert sig["es_id"] == "11010000000077"
    assert sig["indication"] == "PASSED"
    assert {c["status"] for c in sig["checks"]} <= {"passed", "skipped"}


def test_home_made_signature_other_cases(world: SealWorld) -> None:
    doc = b"document"
    sig = world.sign(doc)
    assert verify_document(sig, signed_data=doc + b"!", roots=[world.root]).reasons == (
        "hash_failure",
    )
    assert verify_document(sig, signed_data=doc).reasons == ("no_certificate_chain_found",)
    other = SealWorld().root
    assert verify_document(sig, signed_data=doc, roots=[other]).verdict == "INDETERMINATE"
    late = verify_document(sig, signed_data=doc, roots=[world.root], at=T_END + timedelta(1))
    assert (late.verdict, late.reasons[0]) == ("INVALID", "expired")
    tampered = sig[:-1] + bytes([sig[-1] ^ 0x01])  # inside the signature BIT STRING
    bad = verify_document(tampered, signed_data=doc, roots=[world.root])
    assert (bad.verdict, bad.reasons) == ("INVALID", ("sig_crypto_failure",))


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\xff\xfe\xfd" * 50,
        b"PK\x03\x04" + b"\x00junk" * 20,
        b"\x30\x82\x01\x00" + b"\xffjunk" * 10,
    ],
    ids=["empty", "binary", "broken-zip", "broken-der"],
)
def test_junk_is_indeterminate_malformed(data: bytes) -> None:
    v = verify_document(data)
    assert (v.verdict, v.reasons, v.signatures) == ("INDETERMINATE", ("malformed",), ())
    assert v.detail


def test_truncated_ofd_is_malformed() -> None:
    data = vec("v4signed.ofd")
    assert verify_document(data[: len(data) // 2]).reasons == ("malformed",)


def test_not_a_certificate_der_is_malformed() -> None:
    cert = load_certificate(vec("ROOT.cert.pem"))
    assert isinstance(cert, Certificate)
    assert verify_document(cert.der).reasons == ("malformed",)


@pytest.mark.parametrize(
    "data",
    [
        b"GT1:eyJsaWNlbnNlIjoiMTIzIn0",  # QR text: later, with the license wallet
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        tiny_png(),
    ],
    ids=["qr-text", "pem", "png"],  # PDF: tests/verifier/test_documents_pdf_cms.py
)
def test_other_formats_are_unsupported(data: bytes) -> None:
    v = verify_document(data)
    assert (v.verdict, v.reasons) == ("INDETERMINATE", ("unsupported_input",))


def test_zip_without_ofd_xml_is_unsupported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", b"<w/>")
    assert verify_document(out.getvalue()).reasons == ("unsupported_input",)


def test_unsafe_ofd_gives_the_ofd_error_code() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("OFD.xml", b"<ofd:OFD/>")
        z.writestr("../evil.xml", b"<x/>")
    v = verify_document(out.getvalue())
    assert (v.verdict, v.kind) == ("INDETERMINATE", "ofd")
    assert v.reasons == ("ofd_path_traversal",)


def test_oversized_input_is_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_INPUT_SIZE", 100)
    assert verify_document(vec("SignedValueV4.dat")).reasons == ("malformed",)


def test_random_mutations_never_raise() -> None:
    rng = random.Random(20261126)
    sources = [vec("v4signed.ofd"), vec("SignedValueV4.dat")]
    for _ in range(60):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        v = verify_document(bytes(data))
        assert v.verdict in ("VALID", "INVALID", "INDETERMINATE")
        assert v.verdict == "VALID" or v.reasons


# --------------------------------------------------------------------------- the value


def test_verdict_is_frozen_and_json_ready() -> None:
    v = verify_document(vec("999.ofd"))
    assert isinstance(v, DocumentVerdict)
    with pytest.raises(FrozenInstanceError):
        v.verdict = "VALID"  # type: ignore[misc]
    obj = json.loads(json.dumps(v.to_dict(), ensure_ascii=False))
    assert obj["verdict"] == "INDETERMINATE"
    assert obj["reasons"] == ["no_certificate_chain_found"]
    assert obj["signatures"][0]["es_id"] == "50011200000323"


def test_naive_time_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        verify_document(vec("999.ofd"), at=datetime(2020, 8, 17))
