"""IETF Token Status List (draft-ietf-oauth-status-list): the compressed status list.

Pure Python (standard library and ``cbor2``), so the offline verifier and third
parties can use it. Section numbers are those of the recent revisions of the
draft (they moved between revisions); the examples tested against are from
commit 2fb61cd5 of the draft's repository. Implements the Status List itself
(draft §4), not the signed Status List Token (JWT/CWT, §5) nor the referenced
token's ``status`` claim (§6), which sit on top of it.

Format
------

* Each referenced token has an index; its status takes ``bits`` bits, with
  ``bits`` one of 1, 2, 4, 8 (§4.1).
* The statuses are packed into a byte array, index 0 in the **least
  significant** bits of byte 0 (for ``bits=1``, byte ``0xB9`` holds indexes
  7..0 = ``1 0 1 1 1 0 0 1``); unused bits of the last byte are zero.
* The byte array is compressed with DEFLATE (RFC 1951) in the ZLIB data format
  (RFC 1950); the draft recommends the highest compression level, which
  :meth:`StatusList.compress` uses by default (level 9).
* JSON (§4.2): ``{"bits": 1, "lst": "<base64url of the compressed bytes, no
  padding>"}``. CBOR (§4.3): a map ``{"bits": 1, "lst": <byte string>}``.
  Optional members (``aggregation_uri``) are ignored here.

Status values (§7.1, the draft's registered Status Types; values 0x03 and
0x0B-0x0F are application specific): ``0x00`` VALID, ``0x01`` INVALID
(revoked), ``0x02`` SUSPENDED. GovTrust e-licenses use ``bits=2`` with these
three values (:class:`StatusType`).

Decoding is bounded (SECURITY.md: 2,929 compressed bytes can inflate to 3 MB):
the inflater never produces more than ``max_size`` bytes (default
:data:`DEFAULT_MAX_SIZE`, 16 MiB = 67 million entries at 2 bits) and refuses a
larger list with :class:`~license_wallet.errors.StatusListTooLarge` (code
``status_list_too_large``); compressed input is capped at the same size.
Malformed base64url, ZLIB streams (truncated, trailing data, wrong format),
CBOR and shapes raise :class:`~license_wallet.errors.MalformedStatusList` with
distinct codes; no other exception escapes the decoders.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

import cbor2
import zopfli.zlib

from .errors import (
    InvalidStatusValue,
    MalformedStatusList,
    StatusIndexOutOfRange,
    StatusListTooLarge,
)

__all__ = [
    "ALLOWED_BITS",
    "DEFAULT_MAX_SIZE",
    "StatusType",
    "StatusList",
    "SizeReport",
    "size_report",
]

#: The ``bits`` values the draft allows (§4.1).
ALLOWED_BITS: Final = (1, 2, 4, 8)
#: Default cap on the inflated byte array (and on the compressed input): 16 MiB.
DEFAULT_MAX_SIZE: Final = 16 * 1024 * 1024

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


class StatusType(IntEnum):
    """Registered Status Type values (draft §7.1) used by GovTrust e-licenses."""

    VALID = 0x00  #: valid, correct or legal
    INVALID = 0x01  #: revoked, annulled, taken back, recalled or cancelled
    SUSPENDED = 0x02  #: temporarily invalid; reversible


def _bad(code: str, message: str) -> MalformedStatusList:
    return MalformedStatusList(message, code=code)


def _check_bits(bits: object) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int) or bits not in ALLOWED_BITS:
        raise _bad("status_list_bad_bits", f"bits must be one of {ALLOWED_BITS}, got {bits!r}")
    return bits


def _check_max_size(max_size: object) -> int:
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise ValueError("max_size must be a positive integer")
    return max_size


def _inflate(data: bytes, max_size: int) -> bytes:
    """Inflate one complete ZLIB stream, never producing more than ``max_size`` bytes."""
    if len(data) > max_size:
        raise StatusListTooLarge(f"compressed list larger than {max_size} bytes")
    inflater = zlib.decompressobj(wbits=15)  # ZLIB format only (RFC 1950), no gzip/raw
    try:
        # One byte over the cap tells "exactly max_size" from "more than max_size".
        out = inflater.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise _bad("status_list_bad_zlib", f"not a valid ZLIB stream: {exc}") from exc
    if len(out) > max_size:
        raise StatusListTooLarge(f"status list inflates past {max_size} bytes")
    if not inflater.eof:
        raise _bad("status_list_bad_zlib", "truncated ZLIB stream")
    if inflater.unused_data:
        raise _bad("status_list_bad_zlib", "data after the end of the ZLIB stream")
    return out


def _b64url_decode(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2): canonical encodings only."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise _bad("status_list_bad_base64", "lst is not unpadded base64url")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("status_list_bad_base64", "lst is not unpadded base64url") from exc
    if _b64url_encode(raw) != text:  # non-zero unused bits in the last character
        raise _bad("status_list_bad_base64", "lst is not canonical base64url")
    return raw


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class StatusList:
    """A Token Status List: ``size`` statuses of ``bits`` bits each, all VALID at first.

    A list decoded from its compressed form has ``size`` = the number of slots
    in the byte array (``8 * len / bits``): the draft does not record how many
    of the last slots are in use.
    """

    __slots__ = ("_bits", "_size", "_data")

    def __init__(self, size: int, bits: int = 2) -> None:
        self._bits = _check_bits(bits)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("size must be a non-negative integer")
        self._size = size
        self._data = bytearray((size * bits + 7) // 8)

    @classmethod
    def from_bytes(cls, raw: bytes, bits: int) -> StatusList:
        """A list over an uncompressed byte array (copied)."""
        if not isinstance(raw, bytes | bytearray):
            raise _bad("status_list_bad_shape", "the byte array must be bytes")
        bits = _check_bits(bits)
        sl = cls(0, bits)
        sl._data = bytearray(raw)
        sl._size = len(raw) * 8 // bits
        return sl

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def size(self) -> int:
        """Number of statuses (valid indexes are ``0 .. size - 1``)."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def _locate(self, index: object) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self._size:
            raise StatusIndexOutOfRange(f"index {index!r} not in 0..{self._size - 1}")
        bit = index * self._bits
        return bit // 8, bit % 8

    def get(self, index: int) -> int:
        """The status at ``index``; raises :class:`StatusIndexOutOfRange`."""
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & ((1 << self._bits) - 1)

    def set(self, index: int, status: int) -> None:
        """Set the status at ``index`` (``0 <= status < 2**bits``)."""
        byte, shift = self._locate(index)
        mask = (1 << self._bits) - 1
        if isinstance(status, bool) or not isinstance(status, int) or not 0 <= status <= mask:
            raise InvalidStatusValue(f"status {status!r} does not fit in {self._bits} bits")
        self._data[byte] = (self._data[byte] & ~(mask << shift) & 0xFF) | (status << shift)

    def statuses(self) -> list[int]:
        """Every status, index 0 first."""
        return [self.get(i) for i in range(self._size)]

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return bytes(self._data)

    # -- encoding -------------------------------------------------------------

    def compress(self, level: int = 9, *, small: bool = False) -> bytes:
        """The byte array compressed as a ZLIB stream (highest level by default).

        ``memLevel=9`` (zlib's maximum; its default is 8) saves about 0.1 % more.
        ``small=True`` uses Zopfli's DEFLATE encoder (one iteration): the same ZLIB
        format, any inflater reads it, about 10 % smaller for sparse lists, at
        about 15× the CPU time — for publishing large lists, not for every change.
        """
        if small:
            packed: bytes = zopfli.zlib.compress(bytes(self._data), numiterations=1)
            return packed
        deflater = zlib.compressobj(level, zlib.DEFLATED, 15, 9)
        return deflater.compress(bytes(self._data)) + deflater.flush()

    def to_json(self, level: int = 9, *, small: bool = False) -> dict[str, Any]:
        """The JSON form (§4.2): ``{"bits": ..., "lst": <base64url>}``."""
        return {"bits": self._bits, "lst": _b64url_encode(self.compress(level, small=small))}

    def to_cbor(self, level: int = 9, *, small: bool = False) -> bytes:
        """The CBOR form (§4.3): a map ``{"bits": ..., "lst": <bytes>}``."""
        return cbor2.dumps({"bits": self._bits, "lst": self.compress(level, small=small)})

    # -- decoding -------------------------------------------------------------

    @classmethod
    def decompress(cls, data: bytes, bits: int, *, max_size: int = DEFAULT_MAX_SIZE) -> StatusList:
        """Decode the compressed byte array, inflating at most ``max_size`` bytes."""
        bits = _check_bits(bits)
        if not isinstance(data, bytes | bytearray):
            raise _bad("status_list_bad_shape", "the compressed list must be bytes")
        return cls.from_bytes(_inflate(bytes(data), _check_max_size(max_size)), bits)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], *, max_size: int = DEFAULT_MAX_SIZE) -> StatusList:
        """Decode the JSON form (an already-parsed object with ``bits`` and ``lst``)."""
        if not isinstance(obj, Mapping) or "bits" not in obj or "lst" not in obj:
            raise _bad("status_list_bad_shape", "expected an object with bits and lst")
        bits = _check_bits(obj["bits"])
        lst = obj["lst"]
        if not isinstance(lst, str):
            raise _bad("status_list_bad_shape", "lst must be a string")
        max_size = _check_max_size(max_size)
        if len(lst) > (max_size * 4 + 2) // 3:
            raise StatusListTooLarge(f"compressed list larger than {max_size} bytes")
        return cls.decompress(_b64url_decode(lst), bits, max_size=max_size)

    @classmethod
    def from_cbor(cls, data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> StatusList:
        """Decode the CBOR form (§4.3), a map with ``bits`` and ``lst`` (a byte string)."""
        if not isinstance(data, bytes | bytearray):
            raise _bad("status_list_bad_cbor", "CBOR input must be bytes")
        max_size = _check_max_size(max_size)
        if len(data) > max_size + 64:
            raise StatusListTooLarge(f"CBOR input larger than {max_size} bytes")
        # The form is a flat map: refuse anything else before decoding it, so no
        # nesting, tags or indefinite lengths reach the CBOR decoder.
        if not data or data[0] & 0xE0 != 0xA0 or data[0] == 0xBF:
            raise _bad("status_list_bad_cbor", "expected a CBOR map")
        try:
            obj = cbor2.loads(bytes(data))
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise _bad("status_list_bad_cbor", f"malformed CBOR: {exc}") from exc
        if not isinstance(obj, dict) or "bits" not in obj or "lst" not in obj:
            raise _bad("status_list_bad_shape", "expected a map with bits and lst")
        bits = _check_bits(obj["bits"])
        lst = obj["lst"]
        if not isinstance(lst, bytes):
            raise _bad("status_list_bad_shape", "lst must be a byte string")
        return cls.decompress(lst, bits, max_size=max_size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits, self._size, self._data) == (other._bits, other._size, other._data)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(size={self._size}, bits={self._bits})"


@dataclass(frozen=True)
class SizeReport:
    """How large a status list gets (for the size benchmark)."""

    entries: int
    revoked: int
    bits: int
    level: int
    raw_bytes: int  #: uncompressed byte array
    compressed_bytes: int  #: ZLIB stream (the CBOR ``lst`` byte string)
    lst_chars: int  #: base64url ``lst`` in the JSON form


def size_report(
    n: int,
    revoked_fraction: float,
    seed: int,
    *,
    bits: int = 2,
    level: int = 9,
    small: bool = False,
) -> SizeReport:
    """Build a list of ``n`` entries, ``round(n * revoked_fraction)`` of them INVALID
    at indexes drawn uniformly without replacement (``random.Random(seed)``: a
    reproducible benchmark input, not a secret), and measure its encodings
    (``small``: with the Zopfli encoder, see :meth:`StatusList.compress`).
    """
    if not 0.0 <= revoked_fraction <= 1.0:
        raise ValueError("revoked_fraction must be within 0..1")
    sl = StatusList(n, bits)
    revoked = round(n * revoked_fraction)
    for index in random.Random(seed).sample(range(n), revoked):
        sl.set(index, StatusType.INVALID)
    compressed = len(sl.compress(level, small=small))
    return SizeReport(
        entries=n,
        revoked=revoked,
        bits=bits,
        level=level,
        raw_bytes=len(sl.to_bytes()),
        compressed_bytes=compressed,
        lst_chars=(compressed * 4 + 2) // 3,
    )
