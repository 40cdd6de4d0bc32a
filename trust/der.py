"""A strict DER check (X.690 §10–11) that walks the encoding once, without a schema.

``asn1crypto`` can tell DER from BER only by re-encoding a parsed value
(``dump(force=True)``) and comparing bytes, and its forced re-encoding redoes
nested structures many times over: about 80 ms for a 1.8 KB time-stamp token.
:func:`check_der` walks the TLVs instead, linear in the input, and refuses what
DER forbids in the encoding itself:

* indefinite lengths (BER ``0x80``), lengths not in their shortest form, tag
  numbers in the high-tag form when the low form fits, or with leading zero
  groups;
* a universal SET (``0x31``) whose elements are not in ascending order of their
  encodings (§11.6, SET OF; a SET's components are sorted by tag, which for
  distinct tags is the same order);
* an INTEGER or ENUMERATED that is empty or has a redundant leading byte
  (§8.3.2), a BOOLEAN that is not one byte ``0x00`` or ``0xFF`` (§11.1), a NULL
  with content, a BIT STRING whose unused bits are not zero (§11.2);
* trailing bytes after the outer element.

It recurses into every constructed encoding (universal, application, context
and private), so the children of ``[0] IMPLICIT SET OF`` are checked for form
but cannot be checked for order — the schema knows they are a SET. Callers
check those SETs they care about with :func:`check_set_order`. What a schema is
needed for is also out of reach: DEFAULT values that should have been omitted,
and the content of OCTET STRINGs that wrap DER of their own.

Depth and element count are bounded, so hostile input costs at most
``max_elements`` header reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["DerError", "check_der", "check_set_order"]

MAX_DEPTH: Final = 64
MAX_ELEMENTS: Final = 100_000


class DerError(ValueError):
    """The input is not DER; the message says where and why."""


def _header(data: bytes, pos: int, limit: int) -> tuple[int, bool, int, int]:
    """(first tag octet, constructed, content start, content end) of the TLV at ``pos``."""
    if pos >= limit:
        raise DerError(f"truncated tag at {pos}")
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:  # high-tag-number form
        if pos >= limit:
            raise DerError(f"truncated tag at {pos}")
        if data[pos] == 0x80:
            raise DerError(f"tag number with a leading zero group at {pos}")
        number = 0
        for _ in range(4):
            if pos >= limit:
                raise DerError(f"truncated tag at {pos}")
            octet = data[pos]
            pos += 1
            number = (number << 7) | (octet & 0x7F)
            if not octet & 0x80:
                break
        else:
            raise DerError(f"tag number too large at {pos}")
        if number < 31:
            raise DerError(f"tag number {number} in the high-tag form at {pos}")
    if pos >= limit:
        raise DerError(f"truncated length at {pos}")
    octet = data[pos]
    pos += 1
    if octet < 0x80:
        length = octet
    elif octet == 0x80:
        raise DerError(f"indefinite length (BER) at {pos - 1}")
    else:
        count = octet & 0x7F
        if count > 4 or pos + count > limit:
            raise DerError(f"bad length at {pos - 1}")
        raw = data[pos : pos + count]
        if raw[0] == 0:
            raise DerError(f"length with a leading zero octet at {pos - 1}")
        length = int.from_bytes(raw, "big")
        if length < 0x80:
            raise DerError(f"length {length} in the long form at {pos - 1}")
        pos += count
    if pos + length > limit:
        raise DerError(f"content at {pos} runs past its enclosing element")
    return first, bool(first & 0x20), pos, pos + length


def _check_primitive(tag: int, content: bytes, at: int) -> None:
    if tag in (0x02, 0x0A):  # INTEGER, ENUMERATED
        if not content:
            raise DerError(f"empty INTEGER at {at}")
        if len(content) > 1 and (
            (content[0] == 0x00 and content[1] < 0x80)
            or (content[0] == 0xFF and content[1] >= 0x80)
        ):
            raise DerError(f"INTEGER not in its shortest form at {at}")
    elif tag == 0x01:  # BOOLEAN
        if content not in (b"\x00", b"\xff"):
            raise DerError(f"BOOLEAN other than 0x00 or 0xFF at {at}")
    elif tag == 0x05:  # NULL
        if content:
            raise DerError(f"NULL with content at {at}")
    elif tag == 0x03:  # BIT STRING
        if not content or content[0] > 7 or (len(content) == 1 and content[0]):
            raise DerError(f"bad BIT STRING at {at}")
        if content[0] and content[-1] & ((1 << content[0]) - 1):
            raise DerError(f"BIT STRING with unused bits set at {at}")


def check_set_order(encodings: Sequence[bytes], what: str = "SET OF") -> None:
    """Refuse ``encodings`` (the elements of one SET OF) unless in ascending order."""
    for earlier, later in zip(encodings, encodings[1:], strict=False):
        if earlier > later:
            raise DerError(f"{what} not in DER order")


def check_der(data: bytes, *, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS) -> None:
    """Raise :class:`DerError` unless ``data`` is exactly one DER element (see the
    module docstring for what is and is not checked)."""
    data = bytes(data)
    if not data:
        raise DerError("empty input")
    tag, constructed, start, end = _header(data, 0, len(data))
    if end != len(data):
        raise DerError(f"{len(data) - end} trailing bytes after the element")
    if not constructed:
        _check_primitive(tag, data[start:end], 0)
        return
    # One frame per open constructed element: [next child, end, SET?, previous child].
    stack: list[list[int]] = [[start, end, tag == 0x31, -1]]
    elements = 1
    while stack:
        frame = stack[-1]
        pos, limit = frame[0], frame[1]
        if pos == limit:
            stack.pop()
            continue
        child_tag, child_constructed, c_start, c_end = _header(data, pos, limit)
        elements += 1
        if elements > max_elements:
            raise DerError(f"more than {max_elements} elements")
        if frame[2]:  # inside a universal SET: each element after the one before
            previous = frame[3]
            if previous >= 0 and data[previous:pos] > data[pos:c_end]:
                raise DerError(f"SET elements not in DER order at {pos}")
            frame[3] = pos
        frame[0] = c_end
        if child_constructed:
            if len(stack) >= max_depth:
                raise DerError(f"nested deeper than {max_depth} levels")
            stack.append([c_start, c_end, child_tag == 0x31, -1])
        else:
            _check_primitive(child_tag, data[c_start:c_end], pos)
