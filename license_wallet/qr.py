"""QR transport for e-licenses: RFC 9285 Base45, bounded zlib (RFC 1950), a
versioned text envelope and QR rendering (ISO/IEC 18004 alphanumeric mode).

Envelope: ``GT1:`` + Base45(zlib(COSE_Sign1 bytes)) — the EU DCC ``HC1:``
layout under our own context identifier. Every character of it is in the QR
alphanumeric set (Base45's alphabet is exactly that set, RFC 9285 §4), so the
symbol is encoded in alphanumeric mode at 5.5 bits per character.

Every malformed input raises :class:`QrError` (a
:class:`~trust.errors.MalformedInput`) with a stable ``code``; these error
classes live here, not in ``license_wallet.errors``.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import segno

from trust.errors import MalformedInput

__all__ = [
    "BASE45_ALPHABET",
    "QrError",
    "QrImage",
    "b45decode",
    "b45encode",
    "decode_qr_text",
    "encode_qr_text",
    "inflate",
    "render_qr",
    "strip_prefix",
]

BASE45_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUE: Final = {c: i for i, c in enumerate(BASE45_ALPHABET)}
_B45_TABLE: Final = bytes(_B45_VALUE.get(chr(b), 0xFF) for b in range(256))

PREFIX: Final = "GT1:"
MAX_QR_TEXT: Final = 4296  # alphanumeric capacity of a version 40-L symbol
MAX_INFLATED: Final = 64 * 1024


class QrError(MalformedInput):
    """A QR payload could not be decoded (prefix, Base45, zlib or size)."""

    code = "qr_malformed"


# --------------------------------------------------------------------------- Base45


def b45encode(data: bytes) -> str:
    """RFC 9285 §4: each two bytes → three characters, a last odd byte → two."""
    out: list[str] = []
    a = BASE45_ALPHABET
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (a[c], a[d], a[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (a[c], a[d])
    return "".join(out)


def _b45_triplets(values: bytes) -> bytearray:
    """Decode whole triplets of Base45 digit values (each < 45) to two bytes each.

    All groups at once with big-integer lanes: the c, d, e digits of group i sit
    in the low byte of 24-bit lane i of three integers, so c + 45·d + 2025·e
    (at most 91,124, 17 bits) fills each lane without carrying into the next;
    the lanes' top bytes must then be zero (a group above 65,535 is invalid) and
    their low two bytes are the output. Same result as the per-group loop of
    RFC 9285 §4.2, in C-level slicing instead of Python arithmetic per group."""
    k = len(values) // 3
    if k == 0:
        return bytearray()
    lanes = bytearray(3 * k)
    total = 0
    for offset, weight in ((0, 1), (1, 45), (2, 2025)):
        lanes[2::3] = values[offset::3]
        total += weight * int.from_bytes(lanes, "big")
    wide = total.to_bytes(3 * k, "big")
    if wide[0::3].count(0) != k:
        raise QrError("Base45 triplet above 65535", code="base45_out_of_range")
    out = bytearray(2 * k)
    out[0::2] = wide[1::3]
    out[1::2] = wide[2::3]
    return out


def b45decode(text: str) -> bytes:
    """RFC 9285 §4.2 decoding. Characters outside the alphabet
    (``base45_invalid_char``), a length ≡ 1 mod 3 (``base45_invalid_length``)
    and groups above 65535 / 255 (``base45_out_of_range``) raise :class:`QrError`."""
    if not isinstance(text, str):
        raise QrError("Base45 input must be text", code="base45_invalid_char")
    if len(text) % 3 == 1:
        raise QrError("Base45 length must not be 1 mod 3", code="base45_invalid_length")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        bad = next(c for c in text if not c.isascii())
        raise QrError(f"invalid Base45 character {bad!r}", code="base45_invalid_char") from None
    values = raw.translate(_B45_TABLE)  # one byte per character: its value, 0xFF if invalid
    if b"\xff" in values:
        bad = chr(raw[values.index(b"\xff")])
        raise QrError(f"invalid Base45 character {bad!r}", code="base45_invalid_char")
    full = len(values) - len(values) % 3
    out = _b45_triplets(values[:full])
    if full != len(values):
        n = values[full] + values[full + 1] * 45
        if n > 0xFF:
            raise QrError("Base45 final pair above 255", code="base45_out_of_range")
        out.append(n)
    return bytes(out)


# --------------------------------------------------------------------------- zlib


def inflate(data: bytes, *, max_output: int = MAX_INFLATED) -> bytes:
    """Decompress one complete zlib stream (RFC 1950) producing at most
    ``max_output`` bytes. A bomb raises ``zlib_too_large``; a broken, truncated
    or non-zlib stream, or bytes after it, raise ``zlib_invalid``."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_output)
    except zlib.error:
        raise QrError("not a valid zlib stream", code="zlib_invalid") from None
    if not inflater.eof:
        if inflater.unconsumed_tail or len(out) >= max_output:
            raise QrError(f"inflates beyond {max_output} bytes", code="zlib_too_large")
        raise QrError("truncated zlib stream", code="zlib_invalid")
    if inflater.unused_data:
        raise QrError("bytes after the zlib stream", code="zlib_invalid")
    return out


# --------------------------------------------------------------------------- envelope


def encode_qr_text(cose_bytes: bytes, *, prefix: str = PREFIX) -> str:
    """``prefix`` + Base45(zlib(``cose_bytes``)), zlib at level 9."""
    text = prefix + b45encode(zlib.compress(cose_bytes, 9))
    if len(text) > MAX_QR_TEXT:
        raise QrError(f"QR text would exceed {MAX_QR_TEXT} characters", code="qr_too_long")
    return text


def strip_prefix(text: str, prefixes: Sequence[str] = (PREFIX,)) -> str:
    """The Base45 part of ``text`` after one of ``prefixes`` (exact, case-sensitive)."""
    if not isinstance(text, str):
        raise QrError("QR content must be text", code="qr_prefix")
    if len(text) > MAX_QR_TEXT:
        raise QrError(f"QR text over {MAX_QR_TEXT} characters", code="qr_too_long")
    for prefix in prefixes:
        if prefix and text.startswith(prefix):
            return text[len(prefix) :]
    raise QrError("unknown or missing context prefix", code="qr_prefix")


def decode_qr_text(
    text: str,
    *,
    prefixes: Sequence[str] = (PREFIX,),
    max_output: int = MAX_INFLATED,
) -> bytes:
    """Inverse of :func:`encode_qr_text`: the COSE bytes, not yet decoded or verified."""
    return inflate(b45decode(strip_prefix(text, prefixes)), max_output=max_output)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class QrImage:
    """A rendered QR symbol."""

    text: str
    version: int
    error: str
    mode: str
    png: bytes = field(repr=False)
    svg: str = field(repr=False)


def render_qr(text: str, *, error: str = "M", scale: int = 4) -> QrImage:
    """Render ``text`` in alphanumeric mode with error correction M (or Q).

    Text outside the QR alphanumeric set raises ``qr_not_alphanumeric`` rather
    than silently falling back to byte mode."""
    if error not in ("M", "Q"):
        raise ValueError("error correction must be 'M' or 'Q'")
    if not isinstance(text, str) or any(c not in _B45_VALUE for c in text):
        raise QrError("QR text must be QR-alphanumeric", code="qr_not_alphanumeric")
    if len(text) > MAX_QR_TEXT:
        raise QrError(f"QR text over {MAX_QR_TEXT} characters", code="qr_too_long")
    try:
        qr = segno.make_qr(text, error=error, mode="alphanumeric", boost_error=False)
    except segno.DataOverflowError:
        raise QrError("text does not fit a QR symbol", code="qr_too_long") from None
    if qr.mode != "alphanumeric" or not isinstance(qr.version, int):
        raise QrError("QR symbol is not in alphanumeric mode", code="qr_not_alphanumeric")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=scale, border=4)
    svg = io.BytesIO()
    qr.save(svg, kind="svg", scale=scale, border=4, xmldecl=False)
    return QrImage(
        text=text,
        version=qr.version,
        error=qr.error.upper() if qr.error else error,
        mode=qr.mode,
        png=png.getvalue(),
        svg=svg.getvalue().decode("utf-8"),
    )
