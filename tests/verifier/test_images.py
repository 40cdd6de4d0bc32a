"""QR photos → verdicts (verifier/images.py): rotated, tilted, blurred, noisy,
low-resolution and screen photos read; hostile and broken images refused with
``unreadable_image``, never an exception."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from test_licenses import NOW, Trust, qr

from benchmarks.verifier.photos import photo
from license_wallet.qr import render_qr
from verifier.images import MAX_IMAGE_BYTES, UnreadableImage, decode_qr_image, verify_license_image

FULL = qr(show="full")  # version 24: the hardest symbol a wallet shows


@pytest.mark.parametrize(
    "distortion",
    [
        {},
        {"angle": 90},
        {"angle": 180, "jpeg_quality": None},
        {"angle": 17},
        {"angle": -33, "tilt": 0.15},
        {"tilt": 0.25},
        {"blur": 1.5},
        {"noise": 48, "jpeg_quality": 40},
        {"side": 700, "fill": 0.85},  # low resolution: ~3 px a module
        {"dark_screen": True},
        {"fill": 0.3, "side": 2400},  # a small code in a large frame
        {"angle": -25, "tilt": 0.15, "blur": 1.0, "noise": 20, "jpeg_quality": 60},
    ],
    ids=repr,
)
def test_photos_of_a_full_disclosure_qr_are_read(distortion: dict) -> None:
    assert render_qr(FULL).version >= 20
    assert decode_qr_image(photo(FULL, **distortion)) == [FULL]


def test_a_photo_gets_the_same_verdict_as_the_text() -> None:
    text = qr()
    verdict, read = verify_license_image(photo(text, angle=12, blur=0.8), Trust(), now=NOW)
    assert read == text and verdict.verdict == "VALID", verdict
    assert verdict.license is not None and verdict.license.fields["holder_name"]


def test_exif_orientation_is_applied() -> None:
    # A phone stores the sensor's landscape pixels and an Orientation tag.
    img = Image.open(io.BytesIO(photo(FULL, jpeg_quality=None))).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° clockwise to display
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85, exif=exif.tobytes())
    assert decode_qr_image(out.getvalue()) == [FULL]


def test_several_codes_put_the_license_first() -> None:
    a = Image.open(io.BytesIO(render_qr("HTTPS://EXAMPLE.GOV.CN/X", scale=6).png))
    b = Image.open(io.BytesIO(render_qr(qr(), scale=6).png))
    canvas = Image.new("L", (a.width + b.width + 40, max(a.height, b.height) + 40), 255)
    canvas.paste(a, (10, 10))
    canvas.paste(b, (a.width + 30, 10))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    texts = decode_qr_image(out.getvalue())
    assert texts[0].startswith("GT1:") and "HTTPS://EXAMPLE.GOV.CN/X" in texts


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("L", (50, 50), 255).save(out, format="GIF")
    return out.getvalue()


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 200, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GT1:NOTANIMAGE",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a truncated PNG
        _png_header(100_000, 100_000),  # a decompression bomb by its header
        _png_header(30, 20),  # a valid header over a short, garbled body
        _gif(),  # not a format this verifier reads
        _blank_png(),  # an image without a QR code
        photo(FULL, blur=6.0),  # hopelessly out of focus
        photo(FULL, jpeg_quality=90)[:5000],  # a JPEG cut off early
        b"\xff\xd8\xff" + b"\x00" * 100,
    ],
    ids=lambda d: f"{len(d)}B",
)
def test_bad_images_are_unreadable_not_errors(data: bytes) -> None:
    with pytest.raises(UnreadableImage) as err:
        decode_qr_image(data)
    assert err.value.code == "unreadable_image"
    verdict, read = verify_license_image(data, Trust(), now=NOW)
    assert (verdict.verdict, verdict.reasons, read) == (
        "INDETERMINATE",
        ("unreadable_image",),
        None,
    )


def test_oversized_files_are_refused_unread() -> None:
    with pytest.raises(UnreadableImage) as err:
        decode_qr_image(b"\xff\xd8" + b"\x00" * MAX_IMAGE_BYTES)
    assert "larger" in err.value.message


def test_mutated_images_give_verdicts_never_exceptions() -> None:
    """Bit flips, truncations, spliced headers and random bytes: a verdict each time."""
    import random

    rng = random.Random(7)
    seeds = [photo(qr(), angle=5), photo(qr(), jpeg_quality=None, side=500), _blank_png()]
    seen = set()
    for i in range(300):
        data = bytearray(rng.choice(seeds))
        kind = i % 4
        if kind == 0:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data = data[: rng.randrange(len(data))]
        elif kind == 2:
            data[8 : 8 + 64] = bytes(rng.randrange(256) for _ in range(64))
        else:
            data = bytearray(
                data[:4] + bytes(rng.randrange(256) for _ in range(rng.randrange(2000)))
            )
        verdict, _ = verify_license_image(bytes(data), Trust(), now=NOW)
        assert verdict.verdict in ("VALID", "INVALID", "INDETERMINATE")
        seen.add(verdict.verdict)
    assert "INDETERMINATE" in seen
