"""license_wallet.qr: RFC 9285 Base45, bounded zlib, the GT1: envelope and QR rendering."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib

import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from license_wallet.qr import (
    BASE45_ALPHABET,
    QrError,
    b45decode,
    b45encode,
    decode_qr_text,
    encode_qr_text,
    inflate,
    render_qr,
    strip_prefix,
)
from trust.cose import sign1, verify_sign1
from trust.crypto import Signer, generate_private_key
from trust.errors import MalformedInput

# --------------------------------------------------------------------------- Base45

RFC9285_EXAMPLES = [  # RFC 9285 §4.3 and §4.4
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("raw", "text"), RFC9285_EXAMPLES)
def test_rfc9285_examples(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


def test_base45_edges() -> None:
    assert b45encode(b"") == "" and b45decode("") == b""
    assert b45encode(b"\x00") == "00" and b45encode(b"\xff") == "U5"
    assert b45encode(b"\xff\xff") == "FGW"  # 65535 = 30 + 36*45 + 32*2025
    assert b45decode("FGW") == b"\xff\xff"
    assert BASE45_ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("GGW", "base45_out_of_range"),  # 65536 (RFC 9285 §6: must be refused)
        (":::", "base45_out_of_range"),
        ("V5", "base45_out_of_range"),  # 256 in the final pair
        ("::", "base45_out_of_range"),
        ("A", "base45_invalid_length"),
        ("BB8A", "base45_invalid_length"),
        ("bb8", "base45_invalid_char"),  # lower case is not Base45
        ("BB=", "base45_invalid_char"),
        ("BB\n", "base45_invalid_char"),
        ("BB\u0660", "base45_invalid_char"),
    ],
)
def test_base45_refusals(text: str, code: str) -> None:
    with pytest.raises(QrError) as exc:
        b45decode(text)
    assert exc.value.code == code
    assert isinstance(exc.value, MalformedInput)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_base45_round_trip(data: bytes) -> None:
    text = b45encode(data)
    assert len(text) == 3 * (len(data) // 2) + 2 * (len(data) % 2)
    assert set(text) <= set(BASE45_ALPHABET)
    assert b45decode(text) == data


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_base45_fuzz_only_typed_errors(text: str) -> None:
    try:
        data = b45decode(text)
    except QrError as exc:
        assert exc.code.startswith("base45_")
    else:
        assert b45encode(data) == text  # canonical: no two texts decode to the same bytes


# --------------------------------------------------------------------------- zlib


def test_inflate_bomb_refused() -> None:
    bomb = zlib.compress(b"\x00" * 3_000_000, 9)
    assert len(bomb) < 4_000  # fits in a QR code (SECURITY.md)
    with pytest.raises(QrError) as exc:
        inflate(bomb)
    assert exc.value.code == "zlib_too_large"
    with pytest.raises(QrError):
        inflate(zlib.compress(b"\x00" * 1001), max_output=1000)
    assert inflate(zlib.compress(b"\x00" * 1000), max_output=1000) == b"\x00" * 1000


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not zlib",
        zlib.compress(b"hello")[:-3],  # truncated
        zlib.compress(b"hello") + b"trailing",
        zlib.compress(b"hello")[:-1] + b"\x00",  # bad Adler-32
        zlib.compressobj(wbits=-15).compress(b"raw") + zlib.compressobj(wbits=-15).flush(),
    ],
)
def test_inflate_refusals(data: bytes) -> None:
    with pytest.raises(QrError) as exc:
        inflate(data)
    assert exc.value.code == "zlib_invalid"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_inflate_fuzz_only_typed_errors(data: bytes) -> None:
    try:
        inflate(b"\x78\x9c" + data, max_output=4096)
    except QrError as exc:
        assert exc.code in ("zlib_invalid", "zlib_too_large")


# --------------------------------------------------------------------------- envelope


@pytest.fixture(scope="module")
def cose_token() -> tuple[bytes, Signer]:
    signer = generate_private_key("sm2").signer("SM2")
    return sign1(b"\xa1\x01\x62GT" * 20, signer, alg="SM2", kid=b"seal-1"), signer


def test_envelope_round_trip(cose_token: tuple[bytes, Signer]) -> None:
    token, signer = cose_token
    text = encode_qr_text(token)
    assert text.startswith("GT1:") and set(text) <= set(BASE45_ALPHABET)
    assert decode_qr_text(text) == token
    assert decode_qr_text(encode_qr_text(token, prefix="HC1:"), prefixes=("HC1:",)) == token
    msg = verify_sign1(decode_qr_text(text), signer.public_key, allowed_algs={-65601})
    assert msg.kid == b"seal-1"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("HC1:BB8", "qr_prefix"),
        ("gt1:BB8", "qr_prefix"),
        ("BB8", "qr_prefix"),
        ("GT1:" + "0" * 4293, "qr_too_long"),
        ("GT1:BB8A", "base45_invalid_length"),
        ("GT1:bb8", "base45_invalid_char"),
        ("GT1:BB8", "zlib_invalid"),
    ],
)
def test_envelope_refusals(text: str, code: str) -> None:
    with pytest.raises(QrError) as exc:
        decode_qr_text(text)
    assert exc.value.code == code


def test_envelope_bomb_refused() -> None:
    text = "GT1:" + b45encode(zlib.compress(b"\x00" * 1_000_000, 9))
    assert len(text) <= 4296
    with pytest.raises(QrError) as exc:
        decode_qr_text(text)
    assert exc.value.code == "zlib_too_large"


def test_strip_prefix_takes_the_listed_prefixes_only() -> None:
    assert strip_prefix("HC1:ABC", ("GT1:", "HC1:")) == "ABC"
    with pytest.raises(QrError):
        strip_prefix("HC1:ABC", ())


def test_envelope_too_long_to_encode() -> None:
    with pytest.raises(QrError) as exc:
        noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(100))
        encode_qr_text(noise)  # incompressible: 3,200 bytes → ~4,800 characters
    assert exc.value.code == "qr_too_long"


# --------------------------------------------------------------------------- rendering


def png_modules(png: bytes) -> tuple[bytes, int, int]:
    """Read segno's PNG (1-bit greyscale, filters None/Up) into 8-bit greyscale."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, ctype, interlace) == (1, 0, 0)
        elif kind == b"IDAT":
            idat += body
    raw, stride = zlib.decompress(idat), (width + 7) // 8
    prev, out = bytes(stride), bytearray()
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        row = raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        assert ftype in (0, 2)
        if ftype == 2:
            row = bytes((a + b) & 0xFF for a, b in zip(row, prev, strict=True))
        prev = row
        out += bytes(255 if (row[x >> 3] >> (7 - (x & 7))) & 1 else 0 for x in range(width))
    return bytes(out), width, height


QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # ITF false positives otherwise


def read_qr(png: bytes) -> list[zxingcpp.Barcode]:
    grey, width, height = png_modules(png)
    image = memoryview(grey).cast("B", (height, width))
    return list(zxingcpp.read_barcodes(image, formats=QR_ONLY))


@pytest.mark.parametrize("error", ["M", "Q"])
def test_rendered_qr_decodes_back(cose_token: tuple[bytes, Signer], error: str) -> None:
    token, _ = cose_token
    text = encode_qr_text(token)
    image = render_qr(text, error=error)
    assert (image.mode, image.error, image.text) == ("alphanumeric", error, text)
    assert 1 <= image.version <= 40
    barcodes = read_qr(image.png)
    assert [b.text for b in barcodes] == [text]
    assert barcodes[0].format == zxingcpp.BarcodeFormat.QRCode
    assert barcodes[0].symbology_identifier == "]Q1"  # QR model 2, no ECI/FNC1
    assert decode_qr_text(barcodes[0].text) == token
    assert image.svg.startswith("<svg") and "</svg>" in image.svg
    # The chosen version is the smallest that holds the text in alphanumeric mode.
    assert segno.make_qr(text, error=error, mode="alphanumeric", boost_error=False).version == (
        image.version
    )


def test_alphanumeric_mode_is_smaller_than_byte_mode(cose_token: tuple[bytes, Signer]) -> None:
    token, _ = cose_token
    text = encode_qr_text(token)
    alnum = render_qr(text)
    byte_mode = segno.make_qr(text, error="M", mode="byte", boost_error=False)
    assert alnum.version < int(byte_mode.version)  # 5.5 vs 8 bits per character


def test_svg_is_the_same_symbol() -> None:
    image = render_qr("GT1:BB8")
    size = int(re.search(r'width="(\d+)"', image.svg).group(1))  # type: ignore[union-attr]
    assert size == (17 + 4 * image.version + 8) * 4  # modules + 2×4 quiet zone, scale 4


@pytest.mark.parametrize("text", ["gt1:abc", "GT1:ABC\n", "GT1:ÄBC", "GT1:A=B"])
def test_render_refuses_non_alphanumeric(text: str) -> None:
    with pytest.raises(QrError) as exc:
        render_qr(text)
    assert exc.value.code == "qr_not_alphanumeric"


def test_render_refusals() -> None:
    with pytest.raises(ValueError):
        render_qr("GT1:ABC", error="L")
    with pytest.raises(QrError) as exc:
        render_qr("0" * 4297)
    assert exc.value.code == "qr_too_long"
