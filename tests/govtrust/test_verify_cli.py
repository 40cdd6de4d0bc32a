"""``govtrust verify INPUT``: verdicts and exit codes (0 VALID, 1 INVALID, 2 INDETERMINATE)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govtrust.cli import cli
from govtrust.config import Config
from govtrust.hub import Hub
from seal_service.sealing import make_seal, sign_data
from trust.crypto import generate_private_key
from trust.pki import issue_end_entity, issue_root

OFDRW = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T_END = datetime(2034, 1, 1, tzinfo=UTC)


def run(*args: str, config: Config | None = None, tmp_path: Path | None = None) -> Result:
    if config is None:
        assert tmp_path is not None
        config = Config(data_dir=tmp_path / "no-hub")  # never a developer's ./instance
    return CliRunner().invoke(
        cli, ["verify", *args], obj={"config": config}, catch_exceptions=False
    )


def as_json(result: Result) -> dict:  # type: ignore[type-arg]
    return json.loads(result.stdout)


def tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A home-made seal: root PEM, a document and its detached SES_Signature."""
    d = tmp_path_factory.mktemp("sealed")
    root_key, maker_key, holder_key = (generate_private_key("sm2") for _ in range(3))
    root = issue_root(
        root_key.signer("SM2"), "CN=GovTrust CLI Test Root,C=CN", not_before=T0, not_after=T_END
    )
    maker = issue_end_entity(
        root_key.signer("SM2"), root, maker_key.public_key(), "CN=CLI Seal Maker,C=CN",
        purpose="seal", not_before=T0, not_after=T_END,
    )  # fmt: skip
    holder = issue_end_entity(
        root_key.signer("SM2"), root, holder_key.public_key(), "CN=测试机关,C=CN",
        purpose="seal", not_before=T0, not_after=T_END,
    )  # fmt: skip
    seal = make_seal(
        maker=maker_key.signer("SM2"), maker_cert=maker, holder_certs=[holder],
        es_id="11010000000088", name="命令行测试章", seal_type=1,
        created=T0 + timedelta(days=1), valid_start=T0 + timedelta(days=1),
        valid_end=T_END - timedelta(days=1), picture_png=tiny_png(),
        picture_width_mm=40, picture_height_mm=40,
    )  # fmt: skip
    doc = "准予登记".encode()
    sig = sign_data(
        seal_der=seal, signer=holder_key.signer("SM2"), signer_cert=holder, data=doc,
        property_info="doc.txt", sign_time=datetime(2025, 6, 1, tzinfo=UTC),
    )  # fmt: skip
    paths = {"roots": d / "roots.pem", "doc": d / "doc.txt", "sig": d / "SignedValue.dat"}
    paths["roots"].write_bytes(root.pem())
    paths["doc"].write_bytes(doc)
    paths["sig"].write_bytes(sig)
    return paths


def rezip_flipped(src: Path, entry: str, dst: Path) -> Path:
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == entry:
                body = body[:-1] + bytes([body[-1] ^ 0x01])
            zout.writestr(info, body)
    dst.write_bytes(out.getvalue())
    return dst


# --------------------------------------------------------------------------- ofdrw vectors


def test_999_at_signing_time_is_indeterminate(tmp_path: Path) -> None:
    r = run(str(OFDRW / "999.ofd"), tmp_path=tmp_path)
    assert r.exit_code == 2
    lines = r.stdout.splitlines()
    assert lines[0] == "无法确定 INDETERMINATE"
    assert "no_certificate_chain_found" in lines[1]
    assert "无法连接到可信根证书" in lines[1]
    assert any("50011200000323" in line for line in lines[2:])

    j = run(str(OFDRW / "999.ofd"), "--json", tmp_path=tmp_path)
    assert j.exit_code == 2
    obj = as_json(j)
    assert obj["verdict"] == "INDETERMINATE"
    assert obj["reasons"] == ["no_certificate_chain_found"]
    assert obj["kind"] == "ofd"
    assert obj["roots"] == "none"


def test_999_judged_now_is_invalid(tmp_path: Path) -> None:
    r = run(str(OFDRW / "999.ofd"), "--json", "--at", "2026-11-26T00:00:00Z", tmp_path=tmp_path)
    assert r.exit_code == 1
    assert as_json(r)["reasons"][0] == "expired"


def test_flipped_referenced_file_is_invalid(tmp_path: Path) -> None:
    bad = rezip_flipped(
        OFDRW / "v4signed.ofd", "Doc_0/Pages/Page_0/Content.xml", tmp_path / "bad.ofd"
    )
    r = run(str(bad), tmp_path=tmp_path)
    assert r.exit_code == 1
    assert r.stdout.splitlines()[0] == "无效 INVALID"
    assert "hash_failure" in r.stdout
    obj = as_json(run(str(bad), "--json", tmp_path=tmp_path))
    assert (obj["verdict"], obj["reasons"]) == ("INVALID", ["hash_failure"])


def test_unsigned_ofd(tmp_path: Path) -> None:
    r = run(str(OFDRW / "helloworld.ofd"), "--json", tmp_path=tmp_path)
    assert r.exit_code == 2
    assert as_json(r)["reasons"] == ["no_signature_found"]


def test_detached_signature_with_other_data_is_hash_failure(tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"\x00" * 32)  # SM3 of this is not the 32 zero bytes signed
    r = run(str(OFDRW / "SignedValueV4.dat"), "--data", str(data), "--json", tmp_path=tmp_path)
    assert r.exit_code == 1
    obj = as_json(r)
    assert (obj["verdict"], obj["reasons"], obj["kind"]) == ("INVALID", ["hash_failure"], "ses")


def test_detached_signature_without_data_is_indeterminate(tmp_path: Path) -> None:
    r = run(str(OFDRW / "SignedValueV4.dat"), "--json", tmp_path=tmp_path)
    assert r.exit_code == 2
    assert as_json(r)["reasons"][0] == "signed_data_not_found"


def test_type_sign_with_signer_cert(tmp_path: Path) -> None:
    r = run(str(OFDRW / "DigitalSign.ofd"), "--json", tmp_path=tmp_path)
    assert as_json(r)["reasons"] == ["no_signing_certificate_found"]
    r = run(
        str(OFDRW / "DigitalSign.ofd"), "--json",
        "--signer-cert", str(OFDRW / "USER.cert.pem"), tmp_path=tmp_path,
    )  # fmt: skip
    assert "no_signing_certificate_found" not in as_json(r)["reasons"]
    assert r.exit_code in (0, 2)


# --------------------------------------------------------------------------- VALID


def test_home_made_seal_is_valid_with_roots(tmp_path: Path, sealed: dict[str, Path]) -> None:
    args = [str(sealed["sig"]), "--data", str(sealed["doc"]), "--roots", str(sealed["roots"])]
    r = run(*args, tmp_path=tmp_path)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "有效 VALID"
    assert "命令行测试章" in lines[1] and "11010000000088" in lines[1]
    obj = as_json(run(*args, "--json", tmp_path=tmp_path))
    assert (obj["verdict"], obj["reasons"]) == ("VALID", [])
    assert obj["roots"] == str(sealed["roots"])


def test_home_made_seal_without_roots_or_judged_late(
    tmp_path: Path, sealed: dict[str, Path]
) -> None:
    base = [str(sealed["sig"]), "--data", str(sealed["doc"]), "--json"]
    r = run(*base, tmp_path=tmp_path)
    assert (r.exit_code, as_json(r)["reasons"]) == (2, ["no_certificate_chain_found"])
    r = run(*base, "--roots", str(sealed["roots"]), "--at", "2040-01-01", tmp_path=tmp_path)
    assert (r.exit_code, as_json(r)["reasons"][0]) == (1, "expired")


def test_hub_roots_are_the_default(config: Config, sealed: dict[str, Path]) -> None:
    hub = Hub(config)
    hub.migrate()
    hub.ensure_hub_keys()
    hub.pki.ensure()
    n = len(hub.pki.roots())
    hub.close()
    assert n >= 1
    r = run(str(sealed["sig"]), "--data", str(sealed["doc"]), "--json", config=config)
    obj = as_json(r)
    assert obj["roots"] == f"hub ({n} roots)"
    # the hub's roots do not anchor a home-made seal: still no chain
    assert (r.exit_code, obj["reasons"]) == (2, ["no_certificate_chain_found"])
    r = run(
        str(sealed["sig"]), "--data", str(sealed["doc"]), "--json",
        "--roots", str(sealed["roots"]), config=config,
    )  # fmt: skip
    assert (r.exit_code, as_json(r)["verdict"]) == (0, "VALID")


# --------------------------------------------------------------------------- unusable input


def test_junk_is_malformed(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02\xff\xfe" * 40)
    r = run(str(junk), tmp_path=tmp_path)
    assert r.exit_code == 2
    assert r.stdout.splitlines()[0] == "无法确定 INDETERMINATE"
    assert "malformed" in r.stdout
    obj = as_json(run(str(junk), "--json", tmp_path=tmp_path))
    assert (obj["verdict"], obj["reasons"]) == ("INDETERMINATE", ["malformed"])


def test_missing_file_is_exit_2_with_a_message(tmp_path: Path) -> None:
    r = run(str(tmp_path / "nope.ofd"), tmp_path=tmp_path)
    assert r.exit_code == 2
    assert "nope.ofd" in r.stderr and "no such file" in r.stderr
    r = run(str(tmp_path / "nope.ofd"), "--json", tmp_path=tmp_path)
    assert (r.exit_code, as_json(r)["verdict"]) == (2, "INDETERMINATE")


def test_missing_data_or_roots_file_is_exit_2(tmp_path: Path) -> None:
    sig = str(OFDRW / "SignedValueV4.dat")
    assert run(sig, "--data", str(tmp_path / "x"), tmp_path=tmp_path).exit_code == 2
    r = run(sig, "--roots", str(tmp_path / "roots.pem"), tmp_path=tmp_path)
    assert r.exit_code == 2
    assert "io_error" in r.stderr


def test_bad_roots_file_is_exit_2(tmp_path: Path) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_text("not a certificate")
    r = run(str(OFDRW / "999.ofd"), "--roots", str(roots), tmp_path=tmp_path)
    assert r.exit_code == 2
    assert r.stderr.startswith("govtrust: ")


def test_bad_at_is_a_usage_error(tmp_path: Path) -> None:
    r = run(str(OFDRW / "999.ofd"), "--at", "yesterday", tmp_path=tmp_path)
    assert r.exit_code == 2
    assert "ISO 8601" in r.stderr


def test_qr_photos_are_read(tmp_path: Path) -> None:
    from benchmarks.verifier.photos import photo

    shot = tmp_path / "photo.JPG"
    shot.write_bytes(photo("HC1:6BFOXN", angle=20))  # another scheme's QR
    r = run(str(shot), "--json", tmp_path=tmp_path)
    assert r.exit_code == 2
    obj = as_json(r)
    assert (obj["verdict"], obj["reasons"], obj["input"]) == (
        "INDETERMINATE",
        ["unsupported_version"],
        "qr-image",
    )


@pytest.mark.parametrize("name", ["qr.png", "photo.jpg", "no-suffix"])
def test_unreadable_images_are_indeterminate(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(tiny_png() if name != "photo.jpg" else b"\xff\xd8\xff\xe0garbage")
    r = run(str(path), tmp_path=tmp_path)
    assert r.exit_code == 2
    assert r.stdout.splitlines()[0] == "无法确定 INDETERMINATE"
    assert "图片中无法识别二维码" in r.stdout
    obj = as_json(run(str(path), "--json", tmp_path=tmp_path))
    assert (obj["verdict"], obj["reasons"]) == ("INDETERMINATE", ["unreadable_image"])


@pytest.mark.parametrize(
    ("text", "reason"), [("GT1:abc", "malformed"), ("HC1:6BFOXN", "unsupported_version")]
)
def test_unreadable_qr_text_is_indeterminate(tmp_path: Path, text: str, reason: str) -> None:
    obj = as_json(run("--text", text, "--json", tmp_path=tmp_path))
    assert (obj["verdict"], obj["reasons"]) == ("INDETERMINATE", [reason])


def test_help_lists_the_options(tmp_path: Path) -> None:
    r = run("--help", tmp_path=tmp_path)
    assert r.exit_code == 0
    for opt in ("--json", "--data", "--roots", "--signer-cert", "--at", "--text"):
        assert opt in r.stdout
