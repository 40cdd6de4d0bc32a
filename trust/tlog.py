"""Transparency-log formats: RFC 9162 Merkle trees and proofs, C2SP checkpoints and signed notes.

Implements, without Flask or a database:

* RFC 9162 §2.1.1 Merkle Tree Hash (MTH) with SHA-256: ``leaf_hash``,
  ``node_hash``, ``root_from_leaves``;
* RFC 9162 §2.1.3.1 inclusion proofs (PATH) and §2.1.4.1 consistency proofs
  (PROOF/SUBPROOF), generated from a :class:`HashReader` with O(log n) reads,
  so a log never has to hold its leaves in memory;
* RFC 9162 §2.1.3.2 and §2.1.4.2 proof verification (``verify_inclusion``,
  ``verify_consistency``), which answer ``False`` on any bad input and never raise;
* :class:`Frontier`, the right edge of the tree (one perfect subtree per set
  bit of the size), with which an appender computes the new root in O(log n)
  and learns which perfect subtrees became complete;
* C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) bodies and C2SP
  signed-note (https://c2sp.org/signed-note) envelopes.

Signed-note key IDs (``key ID = SHA-256(key name || 0x0A || type || key)[:4]``):

========  ======  ====================================  ==================
GovTrust  type    key encoding                          status
========  ======  ====================================  ==================
EdDSA     0x01    32-byte RFC 8032 public key           C2SP signed-note
ES256     0xF1    DER SubjectPublicKeyInfo (P-256)      GovTrust extension
SM2       0xF2    DER SubjectPublicKeyInfo (SM2 curve)  GovTrust extension
========  ======  ====================================  ==================

The two GovTrust extension types are not assigned by the signed-note
specification (which assigns 0x01–0x05 and reserves 0xFA–0xFF); they are a
private agreement of the GovTrust federation. Their signatures are the
minimal DER returned by :meth:`trust.crypto.Signer.sign` (ECDSA with SHA-256;
SM2 with SM3 and the GM/T 0009 default signer ID) over the note text; raw
r||s and non-minimal DER are refused. Outside
verifiers can only check the Ed25519 signature, so a hub that wants to be
audited by standard tooling signs every checkpoint with an Ed25519 key too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeAlias

from .algorithms import KeyFamily
from .crypto import PublicKey, Signer, b64url_decode
from .errors import MalformedInput, TrustError
from .sigenc import SigEncoding, decode_der_rs, encode_der_rs

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "Checkpoint",
    "Frontier",
    "HashReader",
    "LogClient",
    "LogError",
    "MemoryTree",
    "Node",
    "Note",
    "NoteSignature",
    "check_growth",
    "consistency_proof",
    "format_checkpoint",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "root_from_leaves",
    "sign_note",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
MAX_NOTE_SIZE: Final = 1 << 20
# Go's golang.org/x/mod/sumdb/note uses the same cap; the spec asks for at least 16.
MAX_SIGNATURES: Final = 100
# Tree sizes are uint64 everywhere else in the tlog ecosystem (tiles, witnesses).
_MAX_SIZE: Final = (1 << 64) - 1
# A proof for a uint64-sized tree has at most 64 (inclusion) or 65 (consistency) hashes.
_MAX_PROOF: Final = 66

_SIG_TYPE_ED25519: Final = 0x01
_SIG_TYPE_ES256: Final = 0xF1
_SIG_TYPE_SM2: Final = 0xF2
_NOTE_ALGS: Final = {KeyFamily.ED25519: "EdDSA", KeyFamily.P256: "ES256", KeyFamily.SM2: "SM2"}

_SIG_PREFIX: Final = "\u2014 "
_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class LogError(TrustError):
    """A transparency-log proof, checkpoint or signed note is not acceptable."""

    code = "log_invalid"


# --------------------------------------------------------------------------- RFC 9162 §2.1.1


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise LogError(f"{what} must be {HASH_SIZE} bytes")
    return value


def root_from_leaves(hashes: Iterable[bytes]) -> bytes:
    """MTH of the given leaf hashes; ``SHA-256("")`` for none.

    Streams: memory stays O(log n) whatever the number of leaves.
    """
    frontier = Frontier()
    for h in hashes:
        frontier = frontier._extend(_check_hash(h, "leaf hash"), None)
    return frontier.root()


def subtree_hash(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH of leaves ``[start, end)`` from stored perfect subtrees.

    ``node(level, index)`` returns the hash of the perfect subtree covering
    leaves ``[index << level, (index + 1) << level)`` (level 0 = leaf hashes),
    as reported by :meth:`Frontier.append`. Ranges asked for by proof
    generation start on a multiple of a power of two at least as large as
    themselves, and then this costs O(log(end - start)) ``node`` calls.
    """
    n = end - start
    if start < 0 or n < 1:
        raise LogError(f"empty or negative range [{start}, {end})")
    if n & (n - 1) == 0 and start % n == 0:
        return node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


# --------------------------------------------------------------------------- frontier


# (level, index, hash): the perfect subtree over leaves [index << level, (index + 1) << level).
Node: TypeAlias = tuple[int, int, bytes]


@dataclass(frozen=True, slots=True)
class Frontier:
    """The right edge of a tree of ``size`` leaves: its perfect subtrees, left to right.

    A tree of size n is the concatenation of one perfect subtree per set bit
    of n, largest first; RFC 9162's split puts exactly these at the right
    edge, so folding them right to left gives the MTH. An appender keeps
    only this (O(log n) hashes) between appends.
    """

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if type(self.size) is not int or not 0 <= self.size <= _MAX_SIZE:
            raise LogError("frontier size out of range")
        if not isinstance(self.hashes, tuple) or len(self.hashes) != self.size.bit_count():
            raise LogError("a frontier holds one hash per set bit of its size")
        for h in self.hashes:
            _check_hash(h, "frontier hash")

    @classmethod
    def load(cls, size: int, node: Callable[[int, int], bytes]) -> Frontier:
        """Rebuild the frontier of ``size`` from stored nodes (``node(level, index)``)."""
        hashes = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                hashes.append(node(level, start >> level))
                start += 1 << level
        return cls(size, tuple(hashes))

    def append(self, leaf: bytes) -> tuple[Frontier, list[Node]]:
        """Add one leaf hash; returns the new frontier and every node it completed.

        The nodes are the leaf itself (level 0) and each perfect subtree
        whose last leaf this is, lowest first: storing them is enough for
        :func:`subtree_hash` to answer any proof request later.
        """
        created: list[Node] = []
        return self._extend(_check_hash(leaf, "leaf hash"), created), created

    def _extend(self, leaf: bytes, created: list[Node] | None) -> Frontier:
        if self.size == _MAX_SIZE:
            raise LogError("the tree is full")
        stack = list(self.hashes)
        h, level, index = leaf, 0, self.size
        if created is not None:
            created.append((0, index, h))
        # Each trailing one bit of the old size is a perfect subtree of the same
        # height as the one being carried: merge, exactly like binary addition.
        while index & 1:
            h = node_hash(stack.pop(), h)
            level, index = level + 1, index >> 1
            if created is not None:
                created.append((level, index, h))
        stack.append(h)
        return Frontier(self.size + 1, tuple(stack))

    def root(self) -> bytes:
        """The MTH of the tree (``SHA-256("")`` when empty)."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            root = node_hash(h, root)
        return root


# --------------------------------------------------------------------------- proofs


class HashReader(Protocol):
    """Read access to a log's hashes, however they are stored."""

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``.

        Proof generation only asks for ranges that are perfect aligned
        subtrees, or that end at the tree size being proven (the right edge);
        :func:`subtree_hash` answers both from stored perfect subtrees.
        """
        ...


def _read(reader: HashReader, start: int, end: int) -> bytes:
    h = reader.subtree(start, end)
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        raise LogError(f"storage returned a malformed hash for [{start}, {end})")
    return h


def _check_size(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_SIZE:
        raise LogError(f"{what} must be an integer in [0, 2**64)")
    return value


def inclusion_proof(index: int, size: int, reader: HashReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``, leaf side first."""
    _check_size(index, "index")
    _check_size(size, "size")
    if index >= size:
        raise LogError(f"index {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    # Walk root to leaf; PATH lists the siblings leaf to root, hence the reversal.
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(_read(reader, mid, end))
            end = mid
        else:
            path.append(_read(reader, start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[new_size])``; empty when old is 0 or new."""
    _check_size(old_size, "old size")
    _check_size(new_size, "new size")
    if old_size > new_size:
        raise LogError(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m = 0, new_size, old_size
    whole = True  # SUBPROOF's b: still on the left edge, where the verifier knows the node
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_read(reader, start + k, end))
            end = start + k
        else:
            proof.append(_read(reader, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(_read(reader, start, end))
    proof.reverse()
    return proof


class MemoryTree:
    """An in-memory log of leaf hashes with every perfect subtree kept: for tests and small logs.

    It stores what a database backend would (the ``Node`` list from
    :meth:`Frontier.append`) and answers :meth:`subtree` the same way, so
    it serves proofs and roots for every past size too.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = []
        self._frontier = Frontier()
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return self._frontier.size

    def append(self, leaf: bytes) -> int:
        """Append a leaf hash; returns its index."""
        self._frontier, nodes = self._frontier.append(leaf)
        for level, _, h in nodes:
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(h)
        return self._frontier.size - 1

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def _node(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def subtree(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= self.size:
            raise LogError(f"range [{start}, {end}) is outside a tree of {self.size} leaves")
        return subtree_hash(start, end, self._node)

    def root(self, size: int | None = None) -> bytes:
        """The MTH at ``size`` (default: now)."""
        if size is None:
            return self._frontier.root()
        if not 0 <= size <= self.size:
            raise LogError(f"no tree of size {size} yet")
        return self.subtree(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, self.size if new_size is None else new_size, self)


# --------------------------------------------------------------------------- verification


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return type(value) is int and 0 <= value <= _MAX_SIZE


def _proof_list(proof: object) -> list[bytes] | None:
    if not isinstance(proof, list | tuple) or len(proof) > _MAX_PROOF:
        return None
    if not all(_is_hash(p) for p in proof):
        return None
    return list(proof)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put ``leaf_hash`` at ``index`` in the tree ``root``?"""
    path = _proof_list(proof)
    if path is None or not (_is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not (_is_size(index) and _is_size(size)) or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``old_root`` a prefix of the tree ``new_root``?

    The RFC defines proofs for 0 < old < new; for old == new the proof must be
    empty and the roots equal, for old == 0 the proof must be empty and
    ``old_root`` the empty-tree hash.
    """
    path = _proof_list(proof)
    if path is None or not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    if old_size == new_size:
        return not path and hmac.compare_digest(old_root, new_root)
    if old_size == 0:
        return not path and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not path:
        return False
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect subtree of the new one, so the proof omits it.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


# --------------------------------------------------------------------------- text helpers


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4): padded, canonical, nothing else."""
    if not text.isascii():
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Non-zero trailing bits decode too; refusing them keeps one encoding per value.
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _note_text(text: object, what: str) -> str:
    if isinstance(text, bytes | bytearray):
        if len(text) > MAX_NOTE_SIZE:
            raise LogError(f"{what} is larger than {MAX_NOTE_SIZE} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise LogError(f"{what} is not UTF-8") from None
    if not isinstance(text, str):
        raise LogError(f"{what} must be text")
    if len(text) > MAX_NOTE_SIZE:
        raise LogError(f"{what} is larger than {MAX_NOTE_SIZE} bytes")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise LogError(f"{what} is not valid Unicode") from None
    if size > MAX_NOTE_SIZE:
        raise LogError(f"{what} is larger than {MAX_NOTE_SIZE} bytes")
    if _CONTROL.search(text):
        raise LogError(f"{what} contains a control character other than newline")
    if not text.endswith("\n"):
        raise LogError(f"{what} does not end with a newline")
    return text


def _valid_key_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() for c in name)
        and _CONTROL.search(name) is None
    )


# --------------------------------------------------------------------------- C2SP tlog-checkpoint


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        lines = (self.origin, *self.extensions) if isinstance(self.extensions, tuple) else None
        if lines is None or not all(isinstance(x, str) and x for x in lines):
            raise LogError("origin and extension lines must be non-empty text")
        if any("\n" in x or _CONTROL.search(x) for x in lines):
            raise LogError("origin and extension lines must be single lines without controls")
        _check_size(self.size, "tree size")
        _check_hash(self.root_hash, "root hash")


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint's note text, ending in a newline."""
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root_hash).decode("ascii"),
        *checkpoint.extensions,
    ]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint body (the note text only, no signatures); strict."""
    text = _note_text(text, "checkpoint")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise LogError("a checkpoint has an origin, a size and a root hash line")
    if not all(lines):
        raise LogError("checkpoint lines must be non-empty")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text):
        raise LogError("tree size must be decimal without sign or leading zeros")
    size = int(size_text)
    if size > _MAX_SIZE:
        raise LogError("tree size does not fit in 64 bits")
    root = _b64decode(root_text)
    if root is None or len(root) != HASH_SIZE:
        raise LogError(f"root hash must be {HASH_SIZE} bytes in standard base64")
    return Checkpoint(origin, size, root, tuple(extensions))


# --------------------------------------------------------------------------- C2SP signed-note


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, signature bytes (unverified)."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not _valid_key_name(self.name):
            raise LogError("key names are non-empty, without spaces or '+'")
        if not isinstance(self.key_id, bytes) or len(self.key_id) != 4:
            raise LogError("a key ID is 4 bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise LogError("a signature is non-empty bytes")

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIG_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed, not yet verified, signed note. ``text`` ends with its final newline."""

    text: str
    signatures: tuple[NoteSignature, ...]


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signature lines; no signature is checked."""
    note = _note_text(note, "signed note")
    # The text may itself contain blank lines: the last one starts the signatures.
    split = note.rfind("\n\n")
    if split < 0:
        raise LogError("signed note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise LogError("signed note has no signature")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise LogError(f"signed note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise LogError("signature line does not start with an em dash and a space")
        parts = line[len(_SIG_PREFIX) :].split(" ")
        if len(parts) != 2 or not _valid_key_name(parts[0]):
            raise LogError("signature line is not '— <key name> <base64>'")
        blob = _b64decode(parts[1])
        if blob is None or len(blob) < 5:
            raise LogError("signature is not base64 of a key ID and a signature")
        signatures.append(NoteSignature(parts[0], blob[:4], blob[4:]))
    return Note(text, tuple(signatures))


def _key_type_and_bytes(public_key: PublicKey) -> tuple[int, bytes]:
    if public_key.family is KeyFamily.ED25519:
        return _SIG_TYPE_ED25519, b64url_decode(public_key.jwk()["x"])
    if public_key.family is KeyFamily.P256:
        return _SIG_TYPE_ES256, public_key.spki_der()
    if public_key.family is KeyFamily.SM2:
        return _SIG_TYPE_SM2, public_key.spki_der()
    raise LogError(f"{public_key.family} keys cannot sign notes (EdDSA, ES256 or SM2 only)")


def key_id(name: str, public_key: PublicKey) -> bytes:
    """The 4-byte signed-note key ID of ``public_key`` under ``name`` (table in module doc)."""
    if not _valid_key_name(name):
        raise LogError("key names are non-empty, without spaces or '+'")
    sig_type, key = _key_type_and_bytes(public_key)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + key).digest()[:4]


def sign_note(text: str, signers: Sequence[tuple[str, Signer]]) -> str:
    """Sign note ``text`` (ending in a newline) with each ``(key name, signer)``, in order."""
    text = _note_text(text, "note text")
    if not signers:
        raise LogError("a signed note needs at least one signature")
    if len(signers) > MAX_SIGNATURES:
        raise LogError(f"more than {MAX_SIGNATURES} signatures")
    data = text.encode("utf-8")
    lines = []
    for name, signer in signers:
        alg = _NOTE_ALGS.get(signer.public_key.family)
        if alg is None or signer.algorithm.name != alg:
            raise LogError(f"{signer.algorithm.name} cannot sign notes (EdDSA, ES256 or SM2 only)")
        lines.append(NoteSignature(name, key_id(name, signer.public_key), signer.sign(data)).line())
    note = text + "\n" + "".join(lines)
    if len(note.encode("utf-8")) > MAX_NOTE_SIZE:
        raise LogError(f"signed note would be larger than {MAX_NOTE_SIZE} bytes")
    return note


def _canonical_der(signature: bytes) -> bool:
    try:
        return encode_der_rs(*decode_der_rs(signature)) == signature
    except MalformedInput:
        return False


def _verify_note_signature(key: PublicKey, data: bytes, signature: bytes) -> bool:
    alg = _NOTE_ALGS[key.family]
    if key.family is KeyFamily.ED25519:
        return key.verify(alg, data, signature)
    # Minimal DER only: one byte string per signature, so notes can be compared as bytes.
    return _canonical_der(signature) and key.verify(alg, data, signature, encoding=SigEncoding.DER)


def open_note(note: str | bytes, verifiers: Mapping[str, PublicKey]) -> str:
    """Verify a signed note; returns its text.

    Per C2SP signed-note: a line whose (key name, key ID) pair is not one of
    ``verifiers`` is ignored (other keys, witnesses, rotated keys); a line
    from a known key must verify, or the whole note is rejected; at least
    one must verify.
    """
    parsed = parse_note(note)
    known = {(name, key_id(name, key)): key for name, key in verifiers.items()}
    data = parsed.text.encode("utf-8")
    verified = 0
    for sig in parsed.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not _verify_note_signature(key, data, sig.signature):
            raise LogError(f"signature by {sig.name} does not verify")
        verified += 1
    if not verified:
        raise LogError("no signature by a known key")
    return parsed.text


def verify_note(
    note: str | bytes, verifiers: Mapping[str, PublicKey], *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint (see :func:`open_note`) and parse it.

    A key trusted for several logs must be checked against the expected
    ``origin``, or one log's checkpoint could be passed off as another's.
    """
    checkpoint = parse_checkpoint(open_note(note, verifiers))
    if origin is not None and checkpoint.origin != origin:
        raise LogError(f"checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


# --------------------------------------------------------------------------- auditing


def check_growth(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise unless ``new`` extends ``old`` (``proof`` from :func:`consistency_proof`).

    Codes: ``log_rollback`` when the new tree is smaller, ``log_fork`` when the
    histories differ (same size with another root, or a failing proof),
    ``log_invalid`` when the checkpoints are for different logs.
    """
    if old.origin != new.origin:
        raise LogError(f"checkpoints are for different logs ({old.origin!r}, {new.origin!r})")
    if new.size < old.size:
        raise LogError(f"log went back from {old.size} to {new.size}", code="log_rollback")
    if new.size == old.size and not hmac.compare_digest(old.root_hash, new.root_hash):
        raise LogError(f"two different trees of size {new.size}", code="log_fork")
    if not verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof):
        raise LogError(
            f"tree of size {new.size} does not extend the tree of size {old.size}",
            code="log_fork",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LogClient:
    """What a third party auditing one log needs: its origin and its checkpoint keys.

    Stateless: the caller keeps the latest checkpoint it accepted and passes
    it back to :meth:`update`.
    """

    origin: str
    verifiers: Mapping[str, PublicKey]

    def __post_init__(self) -> None:
        if not self.verifiers:
            raise LogError("a log client needs at least one checkpoint key")

    def verify_checkpoint(self, note: str | bytes) -> Checkpoint:
        return verify_note(note, self.verifiers, origin=self.origin)

    def update(self, old: Checkpoint, note: str | bytes, proof: Sequence[bytes]) -> Checkpoint:
        """Verify a newer signed checkpoint and that it extends ``old``; returns it."""
        new = self.verify_checkpoint(note)
        check_growth(old, new, proof)
        return new

    def check_inclusion(
        self, checkpoint: Checkpoint, leaf: bytes, index: int, proof: Sequence[bytes]
    ) -> None:
        """Raise unless ``proof`` puts the leaf hash ``leaf`` at ``index`` under ``checkpoint``."""
        if checkpoint.origin != self.origin:
            raise LogError(f"checkpoint is for {checkpoint.origin!r}, not {self.origin!r}")
        if not verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root_hash):
            raise LogError(f"leaf {index} is not proven in the tree of size {checkpoint.size}")
