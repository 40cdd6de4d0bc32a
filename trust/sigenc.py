"""Encodings of (r, s) signatures: DER ``SEQUENCE { INTEGER r, INTEGER s }``
(X.509, CMS, GB/T 38540 SES, OpenSSL) and fixed-width raw ``r‖s`` (JOSE
RFC 7518 §3.4, COSE RFC 9053 §2.1).

Signers emit only canonical DER or exact-width raw. Verifiers accept what real
Chinese seal files contain — raw r‖s and non-minimal DER (long-form lengths,
redundant leading zero octets) — and re-encode canonically before the native
library sees the signature. :func:`decode_der_rs` refuses negative integers,
trailing bytes and truncated structures; :func:`decode_rs` also refuses zero
and values ≥ n.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from .algorithms import KeyFamily
from .errors import MalformedInput

__all__ = [
    "SigEncoding",
    "CURVE_ORDERS",
    "decode_der_rs",
    "encode_der_rs",
    "raw_to_der",
    "der_to_raw",
    "decode_rs",
]

CURVE_ORDERS: Final[dict[KeyFamily, int]] = {
    KeyFamily.SM2: 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
    KeyFamily.P256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    KeyFamily.P384: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}
COORDINATE_SIZES: Final[dict[KeyFamily, int]] = {
    KeyFamily.SM2: 32,
    KeyFamily.P256: 32,
    KeyFamily.P384: 48,
}


class SigEncoding(StrEnum):
    """How an (r, s) signature is presented to a verifier."""

    DER = "der"  # DER, leniently decoded (non-minimal forms accepted)
    RAW = "raw"  # exactly 2 × coordinate size octets
    ANY = "any"  # DER if it decodes as such, else raw


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise MalformedInput("truncated DER length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 4:
        raise MalformedInput("unsupported DER length form")
    if pos + count > len(data):
        raise MalformedInput("truncated DER length")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def _read_integer(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data) or data[pos] != 0x02:
        raise MalformedInput("expected DER INTEGER")
    length, pos = _read_length(data, pos + 1)
    if length == 0 or pos + length > len(data):
        raise MalformedInput("bad DER INTEGER length")
    body = data[pos : pos + length]
    if body[0] & 0x80:
        raise MalformedInput("negative INTEGER in signature")
    return int.from_bytes(body, "big"), pos + length


def decode_der_rs(signature: bytes) -> tuple[int, int]:
    """Decode a (possibly non-minimal) DER ECDSA/SM2 signature into (r, s)."""
    if len(signature) < 8 or len(signature) > 256 or signature[0] != 0x30:
        raise MalformedInput("not a DER signature")
    length, pos = _read_length(signature, 1)
    if pos + length != len(signature):
        raise MalformedInput("DER signature length does not match its content")
    r, pos = _read_integer(signature, pos)
    s, pos = _read_integer(signature, pos)
    if pos != len(signature):
        raise MalformedInput("trailing data in DER signature")
    return r, s


def _der_int(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_len(len(body)) + body


def _der_len(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_der_rs(r: int, s: int) -> bytes:
    """Canonical (minimal) DER of (r, s)."""
    if r <= 0 or s <= 0:
        raise MalformedInput("r and s must be positive")
    body = _der_int(r) + _der_int(s)
    return b"\x30" + _der_len(len(body)) + body


def raw_to_der(raw: bytes, size: int) -> bytes:
    """Fixed-width r‖s (2 × ``size`` octets) → canonical DER."""
    if len(raw) != 2 * size:
        raise MalformedInput(f"raw signature must be {2 * size} bytes, got {len(raw)}")
    return encode_der_rs(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))


def der_to_raw(der: bytes, size: int) -> bytes:
    """DER (lenient) → fixed-width r‖s of 2 × ``size`` octets."""
    r, s = decode_der_rs(der)
    if r.bit_length() > 8 * size or s.bit_length() > 8 * size:
        raise MalformedInput("signature integer too large for the curve")
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def decode_rs(signature: bytes, family: KeyFamily, encoding: SigEncoding) -> tuple[int, int]:
    """Decode a signature into (r, s) and check 1 ≤ r, s ≤ n − 1.

    Raises :class:`MalformedInput` for anything else, including the
    "psychic signature" r = s = 0 and values ≥ n.
    """
    size = COORDINATE_SIZES[family]
    if encoding is SigEncoding.RAW:
        if len(signature) != 2 * size:
            raise MalformedInput("raw signature has the wrong length")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
    elif encoding is SigEncoding.DER:
        r, s = decode_der_rs(signature)
    else:
        try:
            r, s = decode_der_rs(signature)
        except MalformedInput:
            if len(signature) != 2 * size:
                raise MalformedInput("signature is neither DER nor raw r‖s") from None
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
    n = CURVE_ORDERS[family]
    if not (0 < r < n and 0 < s < n):
        raise MalformedInput("signature value out of range [1, n-1]")
    return r, s
