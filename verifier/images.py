"""QR codes in photos: a phone or webcam picture of a wallet QR → its text.

:func:`decode_qr_image` reads PNG and JPEG (what cameras and screenshots
produce), applies the EXIF orientation, refuses decompression bombs before any
pixel is decoded, and hands a greyscale image to zxing-cpp (rotation, downscale
and inversion search on; QR Code only). A photo that the first pass cannot read
(blur, glare, a small code in a large frame) gets two more: a sharpened copy and
a global-histogram binarizer.

:func:`verify_license_image` is :func:`verifier.licenses.verify_license_qr` for
an image: an unreadable image is INDETERMINATE ``unreadable_image``, never an
exception.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from typing import Any, Final

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from license_wallet.qr import PREFIX
from trust.errors import MalformedInput
from verifier.licenses import INDETERMINATE, LicenseTrust, LicenseVerdict, verify_license_qr

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_PIXELS",
    "UnreadableImage",
    "decode_qr_image",
    "verify_license_image",
]

#: The largest image file read (a 50-megapixel phone JPEG is ~20 MB).
MAX_IMAGE_BYTES: Final = 25 * 1024 * 1024
#: The most pixels decoded (a 64-megapixel sensor); more is refused unread.
MAX_PIXELS: Final = 64_000_000
#: Images are scaled down to this longest side before decoding: a QR that fills
#: a tenth of the frame still has ≥ 2 pixels a module at version 20.
DECODE_SIDE: Final = 2_000
_FORMATS: Final = frozenset({"PNG", "JPEG", "WEBP"})


class UnreadableImage(MalformedInput):
    """Not an image this verifier reads, too large, or no QR code found in it."""

    def __init__(self, message: str, code: str = "unreadable_image") -> None:
        super().__init__(message, code=code)


def _open(data: bytes) -> Image.Image:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UnreadableImage("the image must be bytes")
    if len(data) > MAX_IMAGE_BYTES:
        raise UnreadableImage(f"image file larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)), formats=sorted(_FORMATS))
            width, height = img.size  # from the header: nothing is decoded yet
            if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
                raise UnreadableImage(f"image of {width}×{height} pixels is too large")
            img.load()
    except UnreadableImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,  # PIL raises it for some corrupt PNG chunks
        EOFError,
    ) as exc:
        raise UnreadableImage(f"not a readable PNG or JPEG image ({type(exc).__name__})") from None
    return img


def _greyscale(img: Image.Image) -> Image.Image:
    try:
        img = ImageOps.exif_transpose(img) or img
    except (ValueError, TypeError, OSError, KeyError):
        pass  # a broken EXIF block: keep the stored orientation
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels over white, as a screen shows them.
        base = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(base, img.convert("RGBA"))
    img = img.convert("L")
    longest = max(img.size)
    if longest > DECODE_SIDE:
        scale = DECODE_SIDE / longest
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
            Image.Resampling.BOX,
        )
    return img


def _read(img: Image.Image, **options: Any) -> list[str]:
    import zxingcpp

    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(img, formats=qr_only, **options)
    return [b.text for b in found if b.valid and b.text]


def _passes(img: Image.Image) -> Iterable[list[str]]:
    import zxingcpp

    yield _read(img)
    yield _read(img.filter(ImageFilter.UnsharpMask(radius=2, percent=160, threshold=2)))
    yield _read(img, binarizer=zxingcpp.Binarizer.GlobalHistogram)


def decode_qr_image(data: bytes) -> list[str]:
    """The texts of the QR codes found in a PNG or JPEG image, ``GT1:`` texts
    first. Raises :class:`UnreadableImage` when the image cannot be read or holds
    no readable QR code."""
    img = _greyscale(_open(data))
    for texts in _passes(img):
        if texts:
            unique = list(dict.fromkeys(texts))
            return sorted(unique, key=lambda t: not t.startswith(PREFIX))
    raise UnreadableImage("no readable QR code in the image")


def verify_license_image(
    data: bytes, trust: LicenseTrust, **options: Any
) -> tuple[LicenseVerdict, str | None]:
    """The verdict on a photo of a license QR and the QR text read from it
    (None when none was). ``options`` go to :func:`verify_license_qr`. Never
    raises for bad input."""
    try:
        texts = decode_qr_image(data)
    except UnreadableImage as exc:
        return LicenseVerdict(INDETERMINATE, ("unreadable_image",), exc.message), None
    return verify_license_qr(texts[0], trust, **options), texts[0]
