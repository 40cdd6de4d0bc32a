"""trust.tlog against RFC 9162 §2.1, C2SP tlog-checkpoint and C2SP signed-note.

The Merkle proofs are compared with a second implementation written here
straight from the RFC's recursive definitions, with every leaf in memory.
Known answers come from elsewhere, as data files under tests/vectors/tlog/ (see
its README): the Certificate Transparency tree of transparency-dev/merkle
(Apache-2.0) and the signed note of golang.org/x/mod/sumdb/note (BSD-3-Clause).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

import trust
from trust import tlog
from trust.errors import TrustError
from trust.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    Frontier,
    LogClient,
    LogError,
    MemoryTree,
    check_growth,
    consistency_proof,
    format_checkpoint,
    inclusion_proof,
    leaf_hash,
    node_hash,
    open_note,
    parse_checkpoint,
    parse_note,
    root_from_leaves,
    sign_note,
    verify_consistency,
    verify_inclusion,
    verify_note,
)

# --------------------------------------------------------------------------- RFC 9162 reference


def ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over entries (not leaf hashes)."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = ref_split(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = ref_split(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_split(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def entries(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


@functools.cache
def big_log() -> tuple[list[bytes], MemoryTree]:
    data = entries(5000)
    return data, MemoryTree(leaf_hash(x) for x in data)


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


# --------------------------------------------------------------------------- known answers

# transparency-dev/merkle: leaves, every perfect subtree, roots for sizes 0..8, proofs
# (tests/vectors/tlog/README.md).
CT_VECTORS = "tlog/ct-merkle-testonly.json"


def test_ct_known_roots_and_proofs(vectors: Callable[[str], Any]) -> None:
    ct = vectors(CT_VECTORS)
    leaves = [bytes.fromhex(x) for x in ct["leaves"]]
    tree = MemoryTree(leaf_hash(x) for x in leaves)
    assert len(ct["roots"]) == len(leaves) + 1
    for n, want in enumerate(ct["roots"]):
        assert tree.root(n).hex() == want
        assert root_from_leaves(leaf_hash(x) for x in leaves[:n]).hex() == want
        assert ref_mth(leaves[:n]).hex() == want
    for level, hashes in enumerate(ct["node_hashes"]):
        for index, want in enumerate(hashes):
            assert tree.subtree(index << level, (index + 1) << level).hex() == want
    for v in ct["inclusion"]:
        index, size = v["index"], v["size"]
        assert [p.hex() for p in tree.inclusion_proof(index, size)] == v["proof"]
        proof = [bytes.fromhex(p) for p in v["proof"]]
        assert verify_inclusion(tree.leaf(index), index, size, proof, tree.root(size))
    for v in [*ct["consistency"], *ct["consistency_derived"]["vectors"]]:
        old, new = v["old"], v["new"]
        assert [p.hex() for p in tree.consistency_proof(old, new)] == v["proof"]
        proof = [bytes.fromhex(p) for p in v["proof"]]
        assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def test_hash_prefixes() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == root_from_leaves([])
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root_from_leaves([a]) == a
    assert root_from_leaves([a, b]) == node_hash(a, b)


# --------------------------------------------------------------------------- proofs, exhaustively


SMALL = 70


@functools.cache
def small_log() -> tuple[list[bytes], MemoryTree]:
    data = entries(SMALL, b"small")
    return data, MemoryTree(leaf_hash(x) for x in data)


@pytest.mark.parametrize("size", range(1, SMALL + 1))
def test_inclusion_matches_rfc_for_every_index(size: int) -> None:
    data, tree = small_log()
    root = ref_mth(data[:size])
    assert tree.root(size) == root
    for index in range(size):
        proof = inclusion_proof(index, size, tree)
        assert proof == ref_path(index, data[:size])
        leaf = leaf_hash(data[index])
        assert verify_inclusion(leaf, index, size, proof, root)
        assert not verify_inclusion(flip(leaf), index, size, proof, root)
        assert not verify_inclusion(leaf, index, size, proof, flip(root))
        for i in range(len(proof)):
            tampered = proof[:i] + [flip(proof[i])] + proof[i + 1 :]
            assert not verify_inclusion(leaf, index, size, tampered, root)
        for wrong in {index - 1, index + 1, index ^ 1, index ^ 2} - {index}:
            if 0 <= wrong:
                assert not verify_inclusion(leaf, wrong, size, proof, root)
        # Not size ± 1: the same hashing pattern can fit a neighbouring size (index 0 of
        # 3 and of 4), so the size is bound by the signed checkpoint, not by the proof.
        for wrong in {size * 2, size // 2} - {size}:
            assert not verify_inclusion(leaf, index, wrong, proof, root)
        if proof:
            assert not verify_inclusion(leaf, index, size, proof[:-1], root)
            assert not verify_inclusion(leaf, index, size, proof[1:], root)
        assert not verify_inclusion(leaf, index, size, [*proof, proof[0] if proof else leaf], root)
        assert not verify_inclusion(leaf, index, size, [*proof, root], root)


@pytest.mark.parametrize("new", range(1, SMALL + 1))
def test_consistency_matches_rfc_for_every_old_size(new: int) -> None:
    data, tree = small_log()
    new_root = tree.root(new)
    for old in range(0, new + 1):
        old_root = tree.root(old)
        proof = consistency_proof(old, new, tree)
        assert proof == ([] if old in (0, new) else ref_proof(old, data[:new]))
        assert verify_consistency(old, new, old_root, new_root, proof)
        assert not verify_consistency(old, new, flip(old_root), new_root, proof)
        if old:  # every tree extends the empty one
            assert not verify_consistency(old, new, old_root, flip(new_root), proof)
        for i in range(len(proof)):
            tampered = proof[:i] + [flip(proof[i])] + proof[i + 1 :]
            assert not verify_consistency(old, new, old_root, new_root, tampered)
        if proof:
            assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
            assert not verify_consistency(old, new, old_root, new_root, proof[1:])
        assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
        for wrong_old in {old - 1, old + 1} - {old}:
            if 0 <= wrong_old <= new:
                assert not verify_consistency(wrong_old, new, old_root, new_root, proof)
        if 0 < old < new:
            # As with inclusion, new ± 1 can share the hashing pattern (old = 1 of 3 and 4).
            assert not verify_consistency(old, new * 2, old_root, new_root, proof)
            if new // 2 > old:
                assert not verify_consistency(old, new // 2, old_root, new_root, proof)
            assert not verify_consistency(new, old, new_root, old_root, proof)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_proofs_in_large_trees(draw: st.DataObject) -> None:
    data, tree = big_log()
    size = draw.draw(st.integers(1, len(data)), label="size")
    index = draw.draw(st.integers(0, size - 1), label="index")
    old = draw.draw(st.integers(1, size), label="old")
    root = ref_mth(data[:size])
    assert tree.root(size) == root

    proof = inclusion_proof(index, size, tree)
    assert proof == ref_path(index, data[:size])
    assert verify_inclusion(leaf_hash(data[index]), index, size, proof, root)
    if size > 1:
        assert not verify_inclusion(leaf_hash(data[index]), index ^ 1, size, proof, root)

    cproof = consistency_proof(old, size, tree)
    assert cproof == ([] if old == size else ref_proof(old, data[:size]))
    assert verify_consistency(old, size, tree.root(old), root, cproof)
    if cproof:
        assert not verify_consistency(old, size, tree.root(old), root, cproof[:-1])
        assert not verify_consistency(old, size, flip(tree.root(old)), root, cproof)


class CountingReader:
    """Records what proof generation asks storage for."""

    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.calls: list[tuple[int, int]] = []

    def subtree(self, start: int, end: int) -> bytes:
        self.calls.append((start, end))
        return self.tree.subtree(start, end)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 100, 1023, 1024, 1025, 4999, 5000])
def test_proofs_read_log_n_ranges_aligned_or_on_the_right_edge(size: int) -> None:
    _, tree = big_log()
    bound = max(1, size - 1).bit_length() + 1
    for index in {0, size // 3, size // 2, size - 1}:
        reader = CountingReader(tree)
        inclusion_proof(index, size, reader)
        assert len(reader.calls) <= bound
        for old in {1, size // 2 or 1, size - 1 or 1, size}:
            reader = CountingReader(tree)
            consistency_proof(old, size, reader)
            assert len(reader.calls) <= bound + 1
            for start, end in reader.calls:
                n = end - start
                perfect = n & (n - 1) == 0 and start % n == 0
                assert perfect or end == size


def test_verifiers_never_raise_on_junk() -> None:
    h = leaf_hash(b"")
    junk: list[object] = [None, "x", b"", b"\x00" * 31, b"\x00" * 33, -1, 2**64, True, 1.0, [h]]
    for x in junk:
        args_i = [
            (x, 0, 1, [], h), (h, x, 1, [], h), (h, 0, x, [], h), (h, 0, 1, x, h), (h, 0, 1, [], x),
            (h, 0, 1, [x], h),
        ]  # fmt: skip
        for args in args_i:
            assert verify_inclusion(*args) is False  # type: ignore[arg-type]
        args_c = [
            (x, 2, h, h, [h]), (1, x, h, h, [h]), (1, 2, x, h, [h]), (1, 2, h, x, [h]),
            (1, 2, h, h, x), (1, 2, h, h, [x]),
        ]  # fmt: skip
        for args in args_c:
            assert verify_consistency(*args) is False  # type: ignore[arg-type]
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 1, 1, [], h)
    assert not verify_inclusion(h, 0, 0, [], h)
    assert not verify_inclusion(h, 0, 1, [h] * 1000, h)
    assert verify_consistency(0, 5, EMPTY_ROOT, h, [])
    assert not verify_consistency(0, 5, h, h, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, h, [h])
    assert verify_consistency(3, 3, h, h, [])
    assert not verify_consistency(3, 3, h, h, [h])
    assert not verify_consistency(3, 3, h, flip(h), [])
    assert not verify_consistency(3, 5, h, h, [])


def test_proof_generation_rejects_bad_ranges() -> None:
    _, tree = small_log()
    for args in [(0, 0), (5, 5), (-1, 3), (3, 2**64)]:
        with pytest.raises(LogError):
            inclusion_proof(*args, tree)
    for args in [(5, 4), (-1, 3), (1, 2**64)]:
        with pytest.raises(LogError):
            consistency_proof(*args, tree)
    with pytest.raises(LogError):
        tree.subtree(0, SMALL + 1)
    with pytest.raises(LogError):
        tree.root(SMALL + 1)

    class Broken:
        def subtree(self, start: int, end: int) -> bytes:
            return b"short"

    with pytest.raises(LogError):
        inclusion_proof(0, 2, Broken())


# --------------------------------------------------------------------------- frontier


def test_frontier_roots_and_created_nodes() -> None:
    n = 300
    data = entries(n, b"frontier")
    hashes = [leaf_hash(x) for x in data]
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    seen: dict[tuple[int, int], bytes] = {}
    for size in range(1, n + 1):
        frontier, created = frontier.append(hashes[size - 1])
        assert frontier.size == size
        assert frontier.root() == root_from_leaves(hashes[:size]) == ref_mth(data[:size])
        # Exactly the perfect subtrees whose last leaf is the new one, lowest first.
        want = [(lv, (size >> lv) - 1) for lv in range(size.bit_length()) if size % (1 << lv) == 0]
        assert [(lv, i) for lv, i, _ in created] == want
        for level, index, h in created:
            assert (level, index) not in seen
            seen[(level, index)] = h
        assert Frontier.load(size, lambda lv, i: seen[(lv, i)]) == frontier
    every_perfect = {(lv, i) for lv in range(n.bit_length()) for i in range(n >> lv)}
    assert set(seen) == every_perfect
    for (level, index), h in seen.items():
        assert h == ref_mth(data[index << level : (index + 1) << level])


def test_frontier_rejects_inconsistent_state() -> None:
    h = leaf_hash(b"")
    for size, hashes in [(1, ()), (2, (h, h)), (3, (h,)), (-1, ()), (1, (b"short",))]:
        with pytest.raises(LogError):
            Frontier(size, hashes)
    with pytest.raises(LogError):
        Frontier().append(b"not a hash")
    with pytest.raises(LogError):
        Frontier(2**64 - 1, (h,) * 64).append(h)


# --------------------------------------------------------------------------- checkpoints

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_B64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()


def test_checkpoint_round_trip() -> None:
    cp = Checkpoint("gov.cn/tlog", 20852163, ROOT)
    text = format_checkpoint(cp)
    assert text == f"gov.cn/tlog\n20852163\n{ROOT_B64}\n"
    assert parse_checkpoint(text) == cp
    assert parse_checkpoint(text.encode()) == cp
    ext = Checkpoint("国家政务服务平台/tlog", 0, EMPTY_ROOT, ("ext one", "— two"))
    assert parse_checkpoint(format_checkpoint(ext)) == ext
    # The C2SP tlog-checkpoint example body.
    example = (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert format_checkpoint(parse_checkpoint(example)) == example


@given(
    origin=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20),
        max_size=3,
    ),
)
def test_checkpoint_round_trip_any(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(format_checkpoint(cp)) == cp


BAD_CHECKPOINTS = {
    "empty": "",
    "no trailing newline": f"o\n1\n{ROOT_B64}",
    "two lines": "o\n1\n",
    "empty origin": f"\n1\n{ROOT_B64}\n",
    "empty extension line": f"o\n1\n{ROOT_B64}\n\n",
    "empty line between": f"o\n1\n{ROOT_B64}\n\next\n",
    "leading zero": f"o\n01\n{ROOT_B64}\n",
    "double zero": f"o\n00\n{ROOT_B64}\n",
    "plus sign": f"o\n+1\n{ROOT_B64}\n",
    "minus sign": f"o\n-1\n{ROOT_B64}\n",
    "space in size": f"o\n 1\n{ROOT_B64}\n",
    "underscore": f"o\n1_0\n{ROOT_B64}\n",
    "fullwidth digit": f"o\n\uff11\n{ROOT_B64}\n",
    "hex size": f"o\n0x1\n{ROOT_B64}\n",
    "size over 64 bits": f"o\n{2**64}\n{ROOT_B64}\n",
    "bad base64": "o\n1\n!!!!\n",
    "urlsafe base64": f"o\n1\n{URLSAFE_B64}\n",
    "unpadded base64": f"o\n1\n{ROOT_B64.rstrip('=')}\n",
    "non-canonical base64": f"o\n1\n{ROOT_B64[:-2]}B=\n",
    "root 31 bytes": f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",
    "root 33 bytes": f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",
    "CRLF": f"o\r\n1\r\n{ROOT_B64}\r\n",
    "CR in origin": f"o\r\n1\n{ROOT_B64}\n",
    "tab": f"o\t\n1\n{ROOT_B64}\n",
    "NUL": f"o\x00\n1\n{ROOT_B64}\n",
    "oversized": "o" * (1 << 20) + f"\n1\n{ROOT_B64}\n",
    "oversized in UTF-8": "政" * 400_000 + f"\n1\n{ROOT_B64}\n",
    "lone surrogate": f"\ud800\n1\n{ROOT_B64}\n",
}


@pytest.mark.parametrize("text", BAD_CHECKPOINTS.values(), ids=BAD_CHECKPOINTS.keys())
def test_parse_checkpoint_rejects(text: str) -> None:
    with pytest.raises(LogError) as err:
        parse_checkpoint(text)
    assert err.value.code == "log_invalid"


def test_parse_checkpoint_rejects_bad_bytes_and_types() -> None:
    with pytest.raises(LogError):
        parse_checkpoint(b"o\xff\n1\n" + ROOT_B64.encode() + b"\n")
    with pytest.raises(LogError):
        parse_checkpoint(None)  # type: ignore[arg-type]


def test_checkpoint_constructor_validates() -> None:
    for args in [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        ("o", -1, ROOT, ()),
        ("o", 2**64, ROOT, ()),
        ("o", 1, ROOT[:31], ()),
        ("o", 1, ROOT, ("",)),
        ("o", 1, ROOT, ("a\nb",)),
        ("o", 1, ROOT, ["list"]),
    ]:
        with pytest.raises(LogError):
            Checkpoint(*args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- signed notes

FAMILIES = [("ed25519", "EdDSA"), ("p256", "ES256"), ("sm2", "SM2")]


@functools.cache
def signer(family: str, alg: str) -> trust.Signer:
    return trust.generate_private_key(family).signer(alg)


def body(size: int = 5, origin: str = "gov.cn/tlog") -> str:
    return format_checkpoint(Checkpoint(origin, size, hashlib.sha256(str(size).encode()).digest()))


@pytest.mark.parametrize(("family", "alg"), FAMILIES)
def test_sign_and_verify_each_algorithm(family: str, alg: str) -> None:
    s = signer(family, alg)
    note = sign_note(body(), [("gov.cn/tlog", s)])
    assert note.startswith(body() + "\n\u2014 gov.cn/tlog ")
    cp = verify_note(note, {"gov.cn/tlog": s.public_key})
    assert cp == parse_checkpoint(body())
    assert verify_note(note.encode(), {"gov.cn/tlog": s.public_key}, origin="gov.cn/tlog") == cp
    with pytest.raises(LogError):
        verify_note(note, {"gov.cn/tlog": s.public_key}, origin="other.example/log")
    # A different key under the same name is an unknown key: ignored, so nothing verifies.
    other = trust.generate_private_key(family).public_key()
    with pytest.raises(LogError, match="no signature by a known key"):
        verify_note(note, {"gov.cn/tlog": other})
    with pytest.raises(LogError):
        verify_note(note, {})
    # A known key whose signature does not verify rejects the note.
    tampered = note.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(LogError, match="does not verify"):
        verify_note(tampered, {"gov.cn/tlog": s.public_key})
    sig = parse_note(note).signatures[0]
    bad = tlog.NoteSignature(
        sig.name, sig.key_id, sig.signature[:-1] + bytes([sig.signature[-1] ^ 1])
    )
    with pytest.raises(LogError, match="does not verify"):
        verify_note(body() + "\n" + bad.line(), {"gov.cn/tlog": s.public_key})


def test_ecdsa_and_sm2_note_signatures_are_der() -> None:
    for family, alg in FAMILIES[1:]:
        s = signer(family, alg)
        sig = parse_note(sign_note(body(), [("k", s)])).signatures[0].signature
        assert sig[0] == 0x30
        kid = tlog.key_id("k", s.public_key)
        raw = trust.der_to_raw(sig, 32)
        # The same (r, s) as raw r||s, or as DER with a long-form length, is refused.
        long_form = b"\x30\x81" + sig[1:]
        assert s.public_key.verify(alg, body().encode(), long_form)
        for other in (raw, long_form):
            with pytest.raises(LogError, match="does not verify"):
                open_note(
                    body() + "\n" + tlog.NoteSignature("k", kid, other).line(), {"k": s.public_key}
                )


def test_multiple_signers_and_unknown_lines() -> None:
    signers = [(f"gov.cn/{alg.lower()}", signer(fam, alg)) for fam, alg in FAMILIES]
    note = sign_note(body(), signers)
    assert len(parse_note(note).signatures) == 3
    for name, s in signers:
        assert verify_note(note, {name: s.public_key}).size == 5
    assert verify_note(note, {n: s.public_key for n, s in signers}).size == 5
    # An unknown witness line is ignored; a bad line from a known key is not.
    witness = tlog.NoteSignature("witness.example", b"\x00\x00\x00\x00", b"\x01" * 64).line()
    assert open_note(note + witness, {signers[0][0]: signers[0][1].public_key}) == body()
    forged = tlog.NoteSignature(
        signers[0][0], tlog.key_id(signers[0][0], signers[0][1].public_key), b"\x01" * 64
    ).line()
    with pytest.raises(LogError):
        open_note(note + forged, {n: s.public_key for n, s in signers})


def test_key_ids() -> None:
    ed = signer("ed25519", "EdDSA")
    raw = ed.public_key.native.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert (
        tlog.key_id("a.example", ed.public_key)
        == hashlib.sha256(b"a.example\n\x01" + raw).digest()[:4]
    )
    for family, alg, sig_type in [("p256", "ES256", b"\xf1"), ("sm2", "SM2", b"\xf2")]:
        pub = signer(family, alg).public_key
        want = hashlib.sha256(b"a.example\n" + sig_type + pub.spki_der()).digest()[:4]
        assert tlog.key_id("a.example", pub) == want
    for bad in ["", "a b", "a+b", "a\u3000b", "a\nb"]:
        with pytest.raises(LogError):
            tlog.key_id(bad, ed.public_key)
    rsa = trust.generate_private_key("rsa", rsa_bits=2048)
    with pytest.raises(LogError):
        tlog.key_id("a", rsa.public_key())
    with pytest.raises(LogError):
        sign_note(body(), [("a", rsa.signer("RS256"))])


# golang.org/x/mod/sumdb/note note_test.go: a key, a text and its Ed25519 signed note
# (tests/vectors/tlog/README.md).
GO_VECTORS = "tlog/go-sumdb-note.json"


def test_go_sumdb_note_vector(vectors: Callable[[str], Any]) -> None:
    go = vectors(GO_VECTORS)
    # maxsplit: base64 key material may itself contain '+'.
    name, key_hash, vkey = go["vkey"].split("+", 2)
    vkey_bytes = base64.b64decode(vkey)
    assert vkey_bytes[0] == 0x01  # signature type: Ed25519
    # The signed-note key-hash rule, computed here without trust.tlog.
    assert hashlib.sha256(name.encode() + b"\n" + vkey_bytes).digest()[:4].hex() == key_hash

    seed = base64.b64decode(go["skey"].split("+", 4)[4])[1:]
    native = Ed25519PrivateKey.from_private_bytes(seed)
    pkcs8 = native.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    s = trust.load_private_key(pkcs8).signer("EdDSA")
    pub = trust.load_public_key(
        Ed25519PublicKey.from_public_bytes(vkey_bytes[1:]).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert s.public_key == pub
    assert tlog.key_id(name, pub).hex() == key_hash
    # Ed25519 is deterministic: the same note, byte for byte.
    assert sign_note(go["text"], [(name, s)]) == go["note"]
    assert open_note(go["note"], {name: pub}) == go["text"]
    with pytest.raises(LogError):
        open_note(go["note"].replace("cryptography", "cryptographY"), {name: pub})


def test_ed25519_checkpoint_checked_independently() -> None:
    s = signer("ed25519", "EdDSA")
    note = sign_note(body(42), [("gov.cn/tlog", s)])
    text, sig_line = note.rsplit("\n\n", 1)
    assert sig_line.endswith("\n") and sig_line.count("\n") == 1
    dash, name, blob = sig_line[:-1].split(" ")
    assert dash == "\u2014" and name == "gov.cn/tlog"
    raw_sig = base64.b64decode(blob, validate=True)
    raw_pub = s.public_key.native.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert raw_sig[:4] == hashlib.sha256(b"gov.cn/tlog\n\x01" + raw_pub).digest()[:4]
    Ed25519PublicKey.from_public_bytes(raw_pub).verify(raw_sig[4:], (text + "\n").encode())


def valid_line() -> str:
    return tlog.NoteSignature("k", b"\x00\x01\x02\x03", b"\x05" * 64).line()


BAD_NOTES = {
    "no signature block": body(),
    "blank line, no signature": body() + "\n",
    "no trailing newline": body() + "\n" + valid_line()[:-1],
    "ASCII dashes": body() + "\n" + valid_line().replace("\u2014", "--"),
    "en dash": body() + "\n" + valid_line().replace("\u2014", "\u2013"),
    "no space after dash": body() + "\n" + valid_line().replace("\u2014 ", "\u2014"),
    "three fields": body() + "\n" + valid_line().replace(" k ", " k x "),
    "two spaces": body() + "\n" + valid_line().replace(" k ", " k  "),
    "name with plus": body() + "\n" + valid_line().replace(" k ", " k+1 "),
    "empty name": body() + "\n" + valid_line().replace(" k ", "  "),
    "bad base64": body() + "\n\u2014 k !!!!\n",
    "unpadded base64": body() + "\n\u2014 k AAECAwQF\n".replace("AAECAwQF", "AAECAwQ"),
    "key ID only": body() + "\n\u2014 k AAECAw==\n",
    "CR": body() + "\n" + valid_line().replace("\n", "\r\n"),
    "blank line after signatures": body() + "\n" + valid_line() + "\n",
    "101 signatures": body() + "\n" + valid_line() * 101,
    "oversized": body() + "x" * (1 << 20) + "\n\n" + valid_line(),
    "invalid UTF-8": (body() + "\n" + valid_line()).encode() + b"\xff",
}


@pytest.mark.parametrize("note", BAD_NOTES.values(), ids=BAD_NOTES.keys())
def test_parse_note_rejects(note: str | bytes) -> None:
    with pytest.raises(LogError):
        parse_note(note)


def test_parse_note_limits_and_blank_lines_in_text() -> None:
    assert len(parse_note(body() + "\n" + valid_line() * 100).signatures) == 100
    # The last blank line separates text from signatures (C2SP signed-note).
    text = "para one\n\npara two\n"
    s = signer("ed25519", "EdDSA")
    assert open_note(sign_note(text, [("k", s)]), {"k": s.public_key}) == text


def test_sign_note_rejects_bad_input() -> None:
    s = signer("ed25519", "EdDSA")
    for text in ["", "no newline", "tab\t\n", "cr\r\n"]:
        with pytest.raises(LogError):
            sign_note(text, [("k", s)])
    with pytest.raises(LogError):
        sign_note(body(), [])
    with pytest.raises(LogError):
        sign_note(body(), [("bad name", s)])
    with pytest.raises(LogError):
        sign_note(body(), [("k", s)] * 101)
    with pytest.raises(LogError):
        sign_note("x" * ((1 << 20) - 10) + "\n", [("k", s)])


def test_verify_note_needs_a_checkpoint_body(vectors: Callable[[str], Any]) -> None:
    s = signer("ed25519", "EdDSA")
    with pytest.raises(LogError):
        verify_note(sign_note(vectors(GO_VECTORS)["text"], [("k", s)]), {"k": s.public_key})


# --------------------------------------------------------------------------- forks and rollbacks


def checkpoint(
    tree: MemoryTree, size: int | None = None, origin: str = "gov.cn/tlog"
) -> Checkpoint:
    n = tree.size if size is None else size
    return Checkpoint(origin, n, tree.root(n))


def forked_logs() -> tuple[MemoryTree, MemoryTree]:
    shared = [leaf_hash(x) for x in entries(10, b"shared")]
    a = MemoryTree([*shared, *(leaf_hash(x) for x in entries(6, b"a"))])
    b = MemoryTree([*shared, *(leaf_hash(x) for x in entries(6, b"b"))])
    return a, b


def test_honest_growth_passes() -> None:
    a, _ = forked_logs()
    for old in range(0, a.size + 1):
        check_growth(checkpoint(a, old), checkpoint(a), a.consistency_proof(old))


def test_fork_detected() -> None:
    a, b = forked_logs()
    assert a.root(10) == b.root(10)
    with pytest.raises(LogError) as err:
        check_growth(checkpoint(a), checkpoint(b), [])
    assert err.value.code == "log_fork"
    for old in (11, 12, 15):
        # B's proof from its own past cannot link A's past to B's present, nor can A's.
        for proof in (b.consistency_proof(old), a.consistency_proof(old)):
            with pytest.raises(LogError) as err:
                check_growth(checkpoint(a, old), checkpoint(b), proof)
            assert err.value.code == "log_fork"
    # Both are honest extensions of the shared prefix: a fork is only visible with both.
    check_growth(checkpoint(a, 10), checkpoint(a), a.consistency_proof(10))
    check_growth(checkpoint(a, 10), checkpoint(b), b.consistency_proof(10))


def test_rewritten_history_detected() -> None:
    data = [leaf_hash(x) for x in entries(20, b"h")]
    honest = MemoryTree(data)
    rewritten = MemoryTree([*data[:3], leaf_hash(b"changed"), *data[4:]])
    old = checkpoint(honest, 8)
    with pytest.raises(LogError) as err:
        check_growth(old, checkpoint(rewritten), rewritten.consistency_proof(8))
    assert err.value.code == "log_fork"


def test_rollback_detected() -> None:
    a, _ = forked_logs()
    with pytest.raises(LogError) as err:
        check_growth(checkpoint(a), checkpoint(a, 10), [])
    assert err.value.code == "log_rollback"
    assert isinstance(err.value, TrustError)


def test_different_logs_are_not_compared() -> None:
    a, _ = forked_logs()
    with pytest.raises(LogError) as err:
        check_growth(checkpoint(a, 10), checkpoint(a, origin="other/log"), a.consistency_proof(10))
    assert err.value.code == "log_invalid"


def test_log_client() -> None:
    a, b = forked_logs()
    s = signer("sm2", "SM2")
    client = LogClient(origin="gov.cn/tlog", verifiers={"gov.cn/tlog": s.public_key})

    def signed(cp: Checkpoint) -> str:
        return sign_note(format_checkpoint(cp), [("gov.cn/tlog", s)])

    first = client.verify_checkpoint(signed(checkpoint(a, 10)))
    latest = client.update(first, signed(checkpoint(a)), a.consistency_proof(10))
    assert latest == checkpoint(a)
    client.check_inclusion(latest, a.leaf(12), 12, a.inclusion_proof(12))
    with pytest.raises(LogError):
        client.check_inclusion(latest, b.leaf(12), 12, a.inclusion_proof(12))
    with pytest.raises(LogError) as err:
        client.update(latest, signed(checkpoint(b)), [])
    assert err.value.code == "log_fork"
    with pytest.raises(LogError) as err:
        client.update(latest, signed(checkpoint(a, 12)), [])
    assert err.value.code == "log_rollback"
    with pytest.raises(LogError):
        client.verify_checkpoint(signed(checkpoint(a, origin="other/log")))
    with pytest.raises(LogError):
        LogClient(origin="gov.cn/tlog", verifiers={})
