"""govtrust.tlog_store: the database-backed RFC 9162 log, on SQLite and PostgreSQL.

Everything the store answers is checked with trust.tlog's verifiers and its
in-memory reference tree, never with the store itself.
"""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from sqlalchemy import delete, func, select, text, update

from govtrust.db import Database
from govtrust.tlog_models import LogCheckpoint, LogHead, LogLeaf, LogNode
from govtrust.tlog_store import (
    MAX_ENTRIES,
    LogRangeError,
    TransparencyLog,
    decode_leaf,
    encode_leaf,
    log_origin,
)
from trust import KeyNotFound
from trust.tlog import (
    EMPTY_ROOT,
    LogError,
    MemoryTree,
    leaf_hash,
    parse_checkpoint,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
    verify_note,
)


def unlogged_keys(hub):
    """A key store on the same database that does not log, so tests start from an empty log."""
    from keys import KeyStore, SoftwareCustody

    return KeyStore(hub.db, software=SoftwareCustody(hub.master_key), clock=hub.clock)


@pytest.fixture
def log(hub):
    unlogged_keys(hub).generate("log", "EdDSA")
    return hub.log


def event(i: int, tag: str = "e") -> tuple[str, dict[str, object]]:
    return "test.event", {"n": i, "tag": tag}


def append_each(hub, log: TransparencyLog, events) -> list[int]:
    out = []
    for kind, data in events:
        with hub.db.write() as s:
            out.append(log.append(s, kind, data))
    return out


def stored_leaves(db: Database) -> list[tuple[int, bytes, bytes]]:
    with db.session() as s:
        rows = s.execute(select(LogLeaf.idx, LogLeaf.leaf_hash, LogLeaf.data).order_by(LogLeaf.idx))
        return [(i, bytes(h), bytes(d)) for i, h, d in rows]


def reference(db: Database) -> MemoryTree:
    return MemoryTree(leaf_hash(d) for _, _, d in stored_leaves(db))


# --------------------------------------------------------------------------- leaf format


def test_leaf_bytes_are_canonical_json() -> None:
    raw = encode_leaf("participant.approved", {"名称": "浙江省", "b": [1, 2], "a": None})
    assert (
        raw
        == (
            '{"data":{"a":null,"b":[1,2],"名称":"浙江省"},"kind":"participant.approved","v":1}'
        ).encode()
    )
    assert decode_leaf(raw) == ("participant.approved", {"a": None, "b": [1, 2], "名称": "浙江省"})
    # Key order of the input does not matter.
    assert encode_leaf("k", {"y": 1, "x": 2}) == encode_leaf("k", {"x": 2, "y": 1})


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("", {}),
        ("k" * 65, {}),
        ("new\nline", {}),
        (1, {}),
        ("k", []),
        ("k", {"x": float("nan")}),
        ("k", {"x": float("inf")}),
        ("k", {"x": object()}),
        ("k", {"x": b"bytes"}),
        ("k", {"x": "\ud800"}),
        ("k", {"x": "x" * 70_000}),
    ],
)
def test_leaf_encoding_refuses(kind, data) -> None:
    with pytest.raises(LogError):
        encode_leaf(kind, data)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b"[]",
        b'{"kind":"k","data":{},"v":2}',
        b'{"kind":"k"}',
        b'{"kind":"k","data":[],"v":1}',
        b'{"kind":1,"data":{},"v":1}',
    ],
)
def test_decode_leaf_refuses(raw: bytes) -> None:
    with pytest.raises(LogError):
        decode_leaf(raw)


def test_origin_from_base_url() -> None:
    assert log_origin("http://127.0.0.1:8000") == "127.0.0.1:8000/govtrust/log"
    assert log_origin("https://Zwfw.Gov.cn/hub/") == "zwfw.gov.cn/govtrust/log"
    assert log_origin("https://user:pw@gov.cn:8443") == "gov.cn:8443/govtrust/log"
    with pytest.raises(LogError):
        log_origin("not a url")


def test_hub_log_origin(hub) -> None:
    assert hub.log.origin == "127.0.0.1:8000/govtrust/log"
    assert hub.log is hub.log


# --------------------------------------------------------------------------- appending


def test_empty_log(log) -> None:
    assert log.head().size == 0 and log.head().root == EMPTY_ROOT
    assert log.root(0) == EMPTY_ROOT
    assert log.consistency_proof(0, 0) == []
    assert log.recent() == [] and log.find_leaf(b"\x00" * 32) is None
    cp = verify_note(log.checkpoint(), {log.origin: log._current_signer().public_key})
    assert (cp.size, cp.root_hash) == (0, EMPTY_ROOT)


def test_append_single_and_batch(hub, log) -> None:
    assert append_each(hub, log, [event(0)]) == [0]
    with hub.db.write() as s:
        assert log.append_many(s, [event(i) for i in range(1, 100)]) == list(range(1, 100))
    with hub.db.write() as s:
        assert log.append_many(s, []) == []
    assert append_each(hub, log, [event(100), event(101)]) == [100, 101]
    with hub.db.write() as s:
        assert log.append_many(s, [event(i) for i in range(102, 133)]) == list(range(102, 133))

    leaves = stored_leaves(hub.db)
    assert [i for i, _, _ in leaves] == list(range(133))
    for i, h, raw in leaves:
        assert h == leaf_hash(raw) == leaf_hash(encode_leaf(*event(i)))
    head = log.head()
    assert head.size == 133
    assert head.root == root_from_leaves(h for _, h, _ in leaves)
    # Every perfect subtree of height >= 1 is stored, and nothing else.
    tree = reference(hub.db)
    with hub.db.session() as s:
        nodes = {
            (lv, i): bytes(h)
            for lv, i, h in s.execute(select(LogNode.level, LogNode.idx, LogNode.hash))
        }
    want = {(lv, i) for lv in range(1, 8) for i in range(133 >> lv)}
    assert set(nodes) == want
    for (lv, i), h in nodes.items():
        assert h == tree.subtree(i << lv, (i + 1) << lv)
    for size in (1, 2, 3, 64, 100, 132, 133):
        assert log.root(size) == tree.root(size)


def test_append_rolls_back_with_the_callers_transaction(hub, log) -> None:
    append_each(hub, log, [event(0), event(1)])
    with pytest.raises(RuntimeError), hub.db.write() as s:
        log.append(s, *event(2))
        raise RuntimeError("the service failed after logging")
    assert log.head().size == 2
    assert append_each(hub, log, [event(2)]) == [2]
    assert log.head().root == reference(hub.db).root()


def test_append_refuses_bad_events_without_side_effects(hub, log) -> None:
    append_each(hub, log, [event(0)])
    with pytest.raises(LogError), hub.db.write() as s:
        log.append_many(s, [event(1), ("k", {"x": float("nan")})])
    assert log.head().size == 1


# --------------------------------------------------------------------------- proofs


@pytest.fixture
def filled(hub, log):
    """70 leaves appended in uneven batches and single appends."""
    sizes = [1, 2, 5, 1, 8, 13, 1, 1, 21, 17]
    n = 0
    for k in sizes:
        with hub.db.write() as s:
            log.append_many(s, [event(i) for i in range(n, n + k)])
        n += k
    assert n == 70
    return log


def test_inclusion_proofs_from_the_database(hub, filled) -> None:
    tree = reference(hub.db)
    leaves = stored_leaves(hub.db)
    for size in range(1, 71):
        root = tree.root(size)
        assert filled.root(size) == root
        for index in range(size):
            proof = filled.inclusion_proof(index, size)
            assert proof == tree.inclusion_proof(index, size)
            assert verify_inclusion(leaf_hash(leaves[index][2]), index, size, proof, root)


def test_consistency_proofs_from_the_database(hub, filled) -> None:
    tree = reference(hub.db)
    for new in range(0, 71):
        for old in range(0, new + 1):
            proof = filled.consistency_proof(old, new)
            assert proof == tree.consistency_proof(old, new)
            assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def test_entries_and_lookup(hub, filled) -> None:
    got = filled.entries(10, 20)
    assert [e.index for e in got] == list(range(10, 20))
    assert all(e.hash_matches and e.data == {"n": e.index, "tag": "e"} for e in got)
    assert [e.index for e in filled.entries(65, 1065)] == list(range(65, 70))  # past the end
    assert filled.entries(70, 80) == []
    assert [e.index for e in filled.recent(3)] == [69, 68, 67]
    assert filled.entry(70) is None and filled.entry(3).kind == "test.event"
    assert filled.find_leaf(got[0].leaf_hash) == 10
    # The same event twice has the same leaf: the lowest index is reported.
    with hub.db.write() as s:
        again = filled.append(s, *event(10))
    assert again == 70 and filled.find_leaf(got[0].leaf_hash) == 10


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("inclusion_proof", (70, 70)),
        ("inclusion_proof", (0, 71)),
        ("inclusion_proof", (-1, 5)),
        ("inclusion_proof", (0, 2**63)),
        ("inclusion_proof", ("1", 5)),
        ("inclusion_proof", (True, 5)),
        ("consistency_proof", (5, 4)),
        ("consistency_proof", (5, 71)),
        ("consistency_proof", (-1, 5)),
        ("root", (71,)),
        ("entries", (5, 5)),
        ("entries", (0, MAX_ENTRIES + 1)),
        ("entries", (-1, 3)),
        ("entry", (-1,)),
        ("find_leaf", (b"short",)),
    ],
)
def test_out_of_range_requests(filled, call, args) -> None:
    with pytest.raises(LogRangeError) as err:
        getattr(filled, call)(*args)
    assert err.value.code == "log_out_of_range"


# --------------------------------------------------------------------------- tampering


def test_tampered_entry_is_detected(hub, filled) -> None:
    cp = parse_checkpoint(filled.checkpoint().split("\n\n")[0] + "\n")
    original = filled.entry(5)
    forged = encode_leaf("test.event", {"n": 5, "tag": "forged"})
    with hub.db.write() as s:
        s.execute(update(LogLeaf).where(LogLeaf.idx == 5).values(data=forged))
    entry = filled.entry(5)
    assert entry.leaf == forged and not entry.hash_matches
    proof = filled.inclusion_proof(5, cp.size)
    assert verify_inclusion(entry.leaf_hash, 5, cp.size, proof, cp.root_hash)  # the stored hash
    assert not verify_inclusion(leaf_hash(entry.leaf), 5, cp.size, proof, cp.root_hash)
    # Rewriting the stored hash too does not help: the signed root still binds the old leaf.
    with hub.db.write() as s:
        s.execute(update(LogLeaf).where(LogLeaf.idx == 5).values(leaf_hash=leaf_hash(forged)))
    entry = filled.entry(5)
    assert entry.hash_matches
    proof = filled.inclusion_proof(5, cp.size)
    assert not verify_inclusion(entry.leaf_hash, 5, cp.size, proof, cp.root_hash)
    # The signed root still binds the original leaf, and a full audit (hashing every
    # stored leaf) no longer reproduces the checkpoint.
    assert verify_inclusion(original.leaf_hash, 5, cp.size, proof, cp.root_hash)
    audit = root_from_leaves(leaf_hash(d) for _, _, d in stored_leaves(hub.db)[: cp.size])
    assert audit != cp.root_hash


def test_damaged_frontier_stops_appends(hub, filled) -> None:
    # 70 = 64 + 4 + 2: the level-6 subtree is on the right edge.
    with hub.db.write() as s:
        s.execute(
            update(LogNode).where(LogNode.level == 6, LogNode.idx == 0).values(hash=b"\x01" * 32)
        )
    with pytest.raises(LogError) as err, hub.db.write() as s:
        filled.append(s, *event(70))
    assert err.value.code == "log_corrupt"
    with hub.db.write() as s:
        s.execute(delete(LogNode).where(LogNode.level == 6))
    with pytest.raises(LogError) as err:
        filled.inclusion_proof(65, 70)  # its path needs the subtree over [0, 64)
    assert err.value.code == "log_corrupt"


# --------------------------------------------------------------------------- checkpoints


def test_checkpoints_are_signed_lazily(hub, log) -> None:
    key = log._current_signer().public_key
    append_each(hub, log, [event(0), event(1)])
    note = log.checkpoint()
    cp = verify_note(note, {log.origin: key}, origin="127.0.0.1:8000/govtrust/log")
    assert (cp.size, cp.root_hash) == (2, log.head().root)
    assert log.checkpoint() == note  # unchanged head: the stored note
    append_each(hub, log, [event(2)])
    newer = log.checkpoint()
    assert newer != note and verify_note(newer, {log.origin: key}).size == 3
    with hub.db.session() as s:
        assert s.scalars(select(LogCheckpoint.size).order_by(LogCheckpoint.size)).all() == [2, 3]


def test_log_without_a_key_cannot_sign(hub) -> None:
    with pytest.raises(KeyNotFound):
        hub.log.checkpoint()
    bare = TransparencyLog(hub.db, origin="x/log")
    with pytest.raises(LogError) as err2:
        bare.checkpoint()
    assert err2.value.code == "log_no_key"


def test_racing_checkpoints_store_one_note(hub) -> None:
    # ECDSA signatures are randomised: racing workers make different notes for one size.
    unlogged_keys(hub).generate("log", "ES256")
    log = hub.log
    append_each(hub, log, [event(0)])
    notes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        try:
            barrier.wait()
            notes.append(log.checkpoint())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(notes)) == 1
    with hub.db.session() as s:
        assert s.scalar(select(func.count()).select_from(LogCheckpoint)) == 1
        assert s.scalar(select(LogCheckpoint.note)) == notes[0]


def test_hub_refuses_to_sign_a_rollback_or_a_second_root(hub, filled) -> None:
    filled.checkpoint()
    good = filled.head()
    with hub.db.write() as s:
        s.execute(update(LogHead).values(size=60, root=filled.root(60)))
    with pytest.raises(LogError) as err:
        filled.checkpoint()
    assert err.value.code == "log_rollback"
    with hub.db.write() as s:
        s.execute(update(LogHead).values(size=good.size, root=b"\x02" * 32))
    with pytest.raises(LogError) as err:
        filled.checkpoint()
    assert err.value.code == "log_fork"


def test_checkpoint_is_resigned_after_key_rotation(hub, log, monkeypatch) -> None:
    append_each(hub, log, [event(0)])
    old_key = log._current_signer().public_key
    first = log.checkpoint()
    # Rotated by another process: this one sees it once its active-key cache expires.
    unlogged_keys(hub).rotate("log", "EdDSA")
    import keys._store as store

    later = time.monotonic() + store.ACTIVE_CACHE_SECONDS + 1
    monkeypatch.setattr(store.time, "monotonic", lambda: later)
    new_key = log._current_signer().public_key
    assert new_key != old_key
    second = log.checkpoint()
    assert second != first
    assert verify_note(second, {log.origin: new_key}).size == 1
    assert verify_note(first, {log.origin: old_key}).size == 1


# --------------------------------------------------------------------------- concurrency


def test_concurrent_appends_from_threads(hub, log) -> None:
    errors: list[BaseException] = []
    got: list[int] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            for i in range(50):
                with hub.db.write() as s:
                    index = log.append(s, *event(i, f"thread-{t}"))
                with lock:
                    got.append(index)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(200))
    leaves = stored_leaves(hub.db)
    assert [i for i, _, _ in leaves] == list(range(200))
    assert all(h == leaf_hash(d) for _, h, d in leaves)
    assert log.head() == type(log.head())(200, reference(hub.db).root())
    tree = reference(hub.db)
    for index in (0, 77, 199):
        proof = log.inclusion_proof(index, 200)
        assert verify_inclusion(tree.leaf(index), index, 200, proof, tree.root())


def _append_worker(url: str, tag: str, count: int) -> list[int]:
    """Runs in a spawned process: its own engine, its own transactions."""
    db = Database(url)
    log = TransparencyLog(db, origin="test/log")
    out = []
    try:
        for i in range(count):
            with db.write() as s:
                out.append(log.append(s, "test.process", {"n": i, "tag": tag}))
    finally:
        db.dispose()
    return out


def test_concurrent_appends_from_processes(hub, database_url) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_append_worker, [(database_url, "p0", 60), (database_url, "p1", 60)])
    indexes = sorted(results[0] + results[1])
    assert indexes == list(range(120))
    assert all(r == sorted(r) for r in results)  # each process sees its own appends in order
    leaves = stored_leaves(hub.db)
    assert [i for i, _, _ in leaves] == list(range(120))
    head = TransparencyLog(hub.db, origin="test/log").head()
    assert head.size == 120 and head.root == reference(hub.db).root()


def test_head_row_is_created_if_missing(hub, log) -> None:
    with hub.db.write() as s:
        s.execute(text("DELETE FROM log_head"))
    assert log.head().size == 0
    assert append_each(hub, log, [event(0)]) == [0]
    assert log.head().size == 1
