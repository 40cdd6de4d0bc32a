"""Transparency-log throughput and proof latency on SQLite and PostgreSQL.

What is measured, per database, on a scratch database built for the run
(SQLite: a temporary file in WAL mode with ``synchronous=FULL``, as the hub
runs it; PostgreSQL: a scratch schema, dropped afterwards):

build (batched appends)
    ``TransparencyLog.append_many`` in transactions of ``batch`` events until
    the log holds ``leaves`` entries (10^6; 10^4 with ``--quick``). This is also
    how long it takes to build a log that size.
peer for the batched rate
    the same rows (same canonical leaf bytes and leaf hash, same columns and
    index) inserted into a plain table ``peer_leaves``, same batch size, same
    database: an event table without the Merkle work (no head lock, no
    frontier, no subtree rows). Log and peer alternate in chunks of
    ``chunk`` batches so that both see the same table sizes and machine load;
    the ratio is ours / peer, over the whole build and per chunk (median).
single appends
    one event per write transaction (``Database.write()`` + ``append``), the
    way a service logs one event; peer: one plain INSERT per transaction.
    Interleaved in slices. Each commit waits for the disk (fsync), so this
    measures the disk as much as the code.
inclusion proofs
    ``inclusion_proof(index, size)`` at size = ``leaves`` for 1000 random
    indexes (fixed seed); median, p99, max in ms. Every proof is then checked
    with :func:`trust.tlog.verify_inclusion` against the root (outside the
    timing). Peer: a primary-key read of one leaf row through the same engine
    (new connection checkout, one driver-level query), interleaved.
consistency proofs
    ``consistency_proof(old, leaves)`` for random ``old``; same statistics.

The wall clock is used throughout (``--clock`` is ignored): appends wait on
fsync and, on PostgreSQL, on the server process, which CPU time of this
process would not count.

Targets: ≥ 5,000 batched appends/s; inclusion proof ≤ 5 ms at 10^6 leaves
(median and p99 are both reported against it). A MISS is a finding, not an
error.

Extra knobs (``python -m benchmarks.tlog`` takes them as options; through
``python -m benchmarks`` use the environment): ``--leaves N``
(``GOVTRUST_BENCH_TLOG_LEAVES``), ``--pg URL`` (``GOVTRUST_BENCH_PG``, else
``TEST_DATABASE_URL``), ``--backends sqlite,postgres``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from govtrust.db import Database, UTCDateTime
from govtrust.migrate import upgrade
from govtrust.tlog_store import TransparencyLog, encode_leaf
from trust.tlog import leaf_hash, verify_consistency, verify_inclusion

from .._harness import format_table, host_info, interleaved, progress

KIND: Final = "participant.updated"
BATCHED_TARGET: Final = 5_000.0
PROOF_TARGET_MS: Final = 5.0
SEED: Final = 20261126


@dataclass(frozen=True, slots=True)
class Mode:
    leaves: int
    batch: int
    chunk: int  # batches per interleaved chunk of the build
    single_seconds: float
    slice_seconds: float
    proofs: int
    consistency: int


FULL: Final = Mode(1_000_000, 1000, 25, 10.0, 1.0, 1000, 200)
QUICK: Final = Mode(10_000, 1000, 2, 1.0, 0.25, 1000, 100)


def event(i: int) -> dict[str, Any]:
    """A typical registry event: a few short strings and a number."""
    return {
        "participant": f"zj-{i % 9973:05d}",
        "actor": "admin:zhang.wei",
        "at": "2026-11-26T08:00:00+00:00",
        "change": {"status": "active", "version": i},
    }


# --------------------------------------------------------------------------- databases


def _peer_table(metadata: sa.MetaData) -> sa.Table:
    """Same columns, key and index as log_leaves."""
    return sa.Table(
        "peer_leaves",
        metadata,
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False, index=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="govtrust-tlog-bench-")
    try:
        yield f"sqlite:///{os.path.join(folder, 'bench.db')}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def scratch_postgres(base: str) -> Iterator[str]:
    schema = f"bench_tlog_{secrets.token_hex(5)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def table_bytes(db: Database, *tables: str) -> int | None:
    """Bytes on disk of ``tables`` with their indexes (SQLite: the dbstat table)."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            marks = ", ".join("?" * len(tables))
            try:
                total = conn.exec_driver_sql(
                    "SELECT SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name "
                    f"WHERE m.tbl_name IN ({marks})",
                    tables,
                ).scalar_one()
            except sa.exc.OperationalError:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
                return None
        else:
            total = conn.exec_driver_sql(
                " + ".join(["pg_total_relation_size(%s)"] * len(tables)).join(["SELECT ", ""]),
                tables,
            ).scalar_one()
    return int(total)


# --------------------------------------------------------------------------- phases


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _latency(values_ns: list[int]) -> dict[str, float]:
    ms = [v / 1e6 for v in values_ns]
    return {
        "median": round(statistics.median(ms), 4),
        "p99": round(_quantile(ms, 0.99), 4),
        "max": round(max(ms), 4),
        "n": len(ms),
    }


def build(db: Database, log: TransparencyLog, peer: sa.Table, mode: Mode) -> dict[str, Any]:
    """Batched appends to ``mode.leaves``, interleaved chunk by chunk with the peer."""
    insert_peer = sa.insert(peer)
    ours_s = peer_s = 0.0
    chunk_ratios: list[float] = []
    chunk_rates: list[float] = []
    peer_rates: list[float] = []
    n = 0
    chunk_no = 0
    started = time.perf_counter()
    last_report = started
    while n < mode.leaves:
        size = min(mode.chunk * mode.batch, mode.leaves - n)
        batches = [
            [(KIND, event(i)) for i in range(start, min(start + mode.batch, n + size))]
            for start in range(n, n + size, mode.batch)
        ]

        def ours(batches: list[list[tuple[str, dict[str, Any]]]] = batches) -> float:
            t0 = time.perf_counter()
            for batch in batches:
                with db.write() as s:
                    log.append_many(s, batch)
            return time.perf_counter() - t0

        def plain(
            first: int = n, batches: list[list[tuple[str, dict[str, Any]]]] = batches
        ) -> float:
            t0 = time.perf_counter()
            i = first
            for batch in batches:
                now = datetime.now(UTC)
                rows = []
                for kind, data in batch:
                    raw = encode_leaf(kind, data)
                    rows.append(
                        {
                            "idx": i,
                            "leaf_hash": leaf_hash(raw),
                            "kind": kind,
                            "data": raw,
                            "created_at": now,
                        }
                    )
                    i += 1
                with db.write() as s:
                    s.execute(insert_peer, rows)
            return time.perf_counter() - t0

        if chunk_no % 2 == 0:
            a = ours()
            b = plain()
        else:
            b = plain()
            a = ours()
        ours_s += a
        peer_s += b
        chunk_rates.append(size / a)
        peer_rates.append(size / b)
        chunk_ratios.append(b / a)  # (size/a) / (size/b)
        n += size
        chunk_no += 1
        now = time.perf_counter()
        if now - last_report > 15:
            progress(
                f"  tlog build: {n:,} / {mode.leaves:,} leaves, "
                f"{size / a:,.0f}/s (peer {size / b:,.0f}/s)"
            )
            last_report = now
    return {
        "leaves": n,
        "batch": mode.batch,
        "ours_seconds": round(ours_s, 2),
        "peer_seconds": round(peer_s, 2),
        "wall_seconds": round(time.perf_counter() - started, 2),
        "ours": round(n / ours_s, 1),
        "peer": round(n / peer_s, 1),
        "ratio": round(peer_s and (n / ours_s) / (n / peer_s), 3),
        "ratio_median_chunks": round(statistics.median(chunk_ratios), 3),
        "ours_first_chunk": round(chunk_rates[0], 1),
        "ours_last_chunk": round(chunk_rates[-1], 1),
        "peer_last_chunk": round(peer_rates[-1], 1),
    }


def proofs(db: Database, log: TransparencyLog, size: int, mode: Mode) -> dict[str, Any]:
    rng = random.Random(SEED)
    indexes = [rng.randrange(size) for _ in range(mode.proofs)]
    root = log.root(size)
    mark = "?" if db.is_sqlite else "%s"
    point = f"SELECT leaf_hash FROM log_leaves WHERE idx = {mark}"

    def read_one(i: int) -> bytes:
        with db.engine.connect() as conn:
            return bytes(conn.exec_driver_sql(point, (i,)).scalar_one())

    for i in indexes[:50]:  # warm-up: connections, statement caches, page cache
        log.inclusion_proof(i, size)
        read_one(i)
    ours_ns: list[int] = []
    peer_ns: list[int] = []
    got: list[list[bytes]] = []
    for k, i in enumerate(indexes):
        order = (0, 1) if k % 2 == 0 else (1, 0)
        for side in order:
            t0 = time.perf_counter_ns()
            if side == 0:
                proof = log.inclusion_proof(i, size)
                ours_ns.append(time.perf_counter_ns() - t0)
                got.append(proof)
            else:
                read_one(i)
                peer_ns.append(time.perf_counter_ns() - t0)
    verified = sum(
        verify_inclusion(read_one(i), i, size, p, root) for i, p in zip(indexes, got, strict=True)
    )
    ours = _latency(ours_ns)
    peer = _latency(peer_ns)

    pairs = sorted(rng.randrange(1, size) for _ in range(mode.consistency))
    cons_ns: list[int] = []
    cons: list[list[bytes]] = []
    for old in pairs:
        t0 = time.perf_counter_ns()
        cons.append(log.consistency_proof(old, size))
        cons_ns.append(time.perf_counter_ns() - t0)
    cons_ok = sum(
        verify_consistency(old, size, log.root(old), root, p)
        for old, p in zip(pairs, cons, strict=True)
    )
    return {
        "size": size,
        "inclusion_ms": ours,
        "point_read_ms": peer,
        "ratio_median": round(ours["median"] / peer["median"], 2) if peer["median"] else None,
        "inclusion_verified": verified,
        "proof_hashes_max": max(len(p) for p in got),
        "consistency_ms": _latency(cons_ns),
        "consistency_verified": cons_ok,
    }


def singles(
    db: Database, log: TransparencyLog, peer: sa.Table, mode: Mode, start: int
) -> dict[str, Any]:
    ours_i = itertools.count(start)
    peer_i = itertools.count(start)
    insert_peer = sa.insert(peer)

    def ours() -> None:
        with db.write() as s:
            log.append(s, KIND, event(next(ours_i)))

    def plain() -> None:
        i = next(peer_i)
        raw = encode_leaf(KIND, event(i))
        row = {
            "idx": i,
            "leaf_hash": leaf_hash(raw),
            "kind": KIND,
            "data": raw,
            "created_at": datetime.now(UTC),
        }
        with db.write() as s:
            s.execute(insert_peer, [row])

    a, b = interleaved(
        [ours, plain], mode.single_seconds, slice_seconds=mode.slice_seconds, clock="wall"
    )
    return {
        "ours": round(a.rate, 1),
        "peer": round(b.rate, 1),
        "ratio": round(a.rate / b.rate, 3) if b.rate else None,
        "ours_calls": a.calls,
        "peer_calls": b.calls,
        "cpu_share": [round(a.cpu_share, 3), round(b.cpu_share, 3)],
    }


def bench_backend(name: str, url: str, mode: Mode) -> dict[str, Any]:
    db = Database(url)
    try:
        upgrade(db.engine)
        peer = _peer_table(sa.MetaData())
        peer.create(db.engine)
        log = TransparencyLog(db, origin="bench.invalid/govtrust/log")
        progress(f"tlog [{name}]: building {mode.leaves:,} leaves in batches of {mode.batch}")
        built = build(db, log, peer, mode)
        head = log.head()
        assert head.size == mode.leaves
        progress(f"tlog [{name}]: built in {built['wall_seconds']} s; proofs")
        proof = proofs(db, log, head.size, mode)
        stored = table_bytes(db, "log_leaves", "log_nodes")
        peer_bytes = table_bytes(db, "peer_leaves")
        progress(f"tlog [{name}]: single appends, {mode.single_seconds} s per side")
        single = singles(db, log, peer, mode, head.size)
        return {
            "database": f"{db.engine.dialect.name} {db.engine.dialect.server_version_info or ''}",
            "root_at_size": head.root.hex(),
            "batched": built,
            "single": single,
            "proofs": proof,
            "bytes_per_leaf": None if stored is None else round(stored / head.size, 1),
            "peer_bytes_per_leaf": None if peer_bytes is None else round(peer_bytes / head.size, 1),
        }
    finally:
        db.dispose()


# --------------------------------------------------------------------------- entry points


def _pg_url(args: argparse.Namespace) -> str | None:
    return (
        getattr(args, "pg", None)
        or os.environ.get("GOVTRUST_BENCH_PG")
        or os.environ.get("TEST_DATABASE_URL")
        or None
    )


def _mode(args: argparse.Namespace) -> Mode:
    mode = QUICK if getattr(args, "quick", False) else FULL
    leaves = getattr(args, "tlog_leaves", None) or os.environ.get("GOVTRUST_BENCH_TLOG_LEAVES")
    if leaves:
        mode = Mode(**{**asdict(mode), "leaves": int(leaves)})
    seconds = getattr(args, "seconds", None)
    if seconds:
        mode = Mode(**{**asdict(mode), "single_seconds": float(seconds)})
    if mode.leaves < 2:
        raise ValueError("the benchmark needs at least 2 leaves")
    return mode


def run(args: argparse.Namespace) -> dict[str, Any]:
    mode = _mode(args)
    wanted = getattr(args, "tlog_backends", None) or ["sqlite", "postgres"]
    pg = _pg_url(args)
    result: dict[str, Any] = {
        "config": {**asdict(mode), "quick": bool(getattr(args, "quick", False)), "clock": "wall"},
        "host": host_info(),
        "backends": {},
    }
    for name in wanted:
        if name == "sqlite":
            with scratch_sqlite() as url:
                result["backends"][name] = bench_backend(name, url, mode)
        elif name == "postgres":
            if not pg:
                result["backends"][name] = {
                    "skipped": "no --pg URL, GOVTRUST_BENCH_PG or TEST_DATABASE_URL"
                }
                continue
            with scratch_postgres(pg) as url:
                result["backends"][name] = bench_backend(name, url, mode)
        else:
            raise ValueError(f"unknown backend {name!r} (sqlite, postgres)")
    result["targets"] = _targets(result, mode)
    return result


def _status(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _targets(result: dict[str, Any], mode: Mode) -> list[dict[str, Any]]:
    out = []
    for name, r in result["backends"].items():
        if "skipped" in r:
            continue
        rate = r["batched"]["ours"]
        out.append(
            {
                "target": f"{name}: batched appends/s >= {BATCHED_TARGET:,.0f}",
                "value": rate,
                "status": _status(rate >= BATCHED_TARGET),
            }
        )
        for stat in ("median", "p99"):
            ms = r["proofs"]["inclusion_ms"][stat]
            out.append(
                {
                    "target": f"{name}: inclusion proof {stat} <= {PROOF_TARGET_MS} ms "
                    f"at {r['proofs']['size']:,} leaves",
                    "value": ms,
                    "status": _status(ms <= PROOF_TARGET_MS),
                }
            )
    if mode.leaves != FULL.leaves:
        for t in out:
            t["note"] = f"measured at {mode.leaves:,} leaves, targets are for {FULL.leaves:,}"
    return out


def render(result: dict[str, Any]) -> str:
    cfg = result["config"]
    lines = [
        f"Transparency log — {cfg['leaves']:,} leaves, batches of {cfg['batch']}, wall clock"
        f"{' (QUICK: figures mean little)' if cfg['quick'] else ''}",
        f"host: {result['host'].get('cpu_model')} × {result['host'].get('cpus')}, "
        f"python {result['host'].get('python')}",
        "",
    ]
    rows = []
    for name, r in result["backends"].items():
        if "skipped" in r:
            rows.append([name, "skipped: " + r["skipped"], "", "", ""])
            continue
        b, s, p = r["batched"], r["single"], r["proofs"]
        rows += [
            [
                name,
                f"time to build {b['leaves']:,} (batched)",
                f"{b['ours_seconds']:,.1f} s",
                f"{b['peer_seconds']:,.1f} s",
                f"wall incl. peer {b['wall_seconds']:,.0f} s",
            ],
            [
                name,
                "batched appends/s",
                f"{b['ours']:,.0f}",
                f"{b['peer']:,.0f}",
                f"{b['ratio']:.2f} (chunks {b['ratio_median_chunks']:.2f})",
            ],
            [
                name,
                "  first / last chunk",
                f"{b['ours_first_chunk']:,.0f} / {b['ours_last_chunk']:,.0f}",
                f"{b['peer_last_chunk']:,.0f} last",
                "",
            ],
            [
                name,
                "single appends/s (1 tx each)",
                f"{s['ours']:,.1f}",
                f"{s['peer']:,.1f}",
                f"{s['ratio']:.2f}" if s["ratio"] else "n/a",
            ],
            [
                name,
                "inclusion proof ms median / p99",
                f"{p['inclusion_ms']['median']:.3f} / {p['inclusion_ms']['p99']:.3f}",
                f"{p['point_read_ms']['median']:.3f} / {p['point_read_ms']['p99']:.3f}",
                f"{p['ratio_median']:.2f}" if p["ratio_median"] else "n/a",
            ],
            [
                name,
                "consistency proof ms median / p99",
                f"{p['consistency_ms']['median']:.3f} / {p['consistency_ms']['p99']:.3f}",
                "",
                "",
            ],
            [
                name,
                "proofs verified",
                f"{p['inclusion_verified']}/{p['inclusion_ms']['n']} + "
                f"{p['consistency_verified']}/{p['consistency_ms']['n']}",
                "",
                "",
            ],
            [
                name,
                "bytes per leaf (leaves+nodes)",
                "n/a" if r["bytes_per_leaf"] is None else f"{r['bytes_per_leaf']:,.0f}",
                "" if r["peer_bytes_per_leaf"] is None else f"{r['peer_bytes_per_leaf']:,.0f}",
                "",
            ],
        ]
    lines.append(format_table(["db", "figure", "ours", "peer", "ours/peer"], rows, left=2))
    lines.append("")
    lines.append(
        "peer: batched/single = plain INSERT of the same rows into an identical table "
        "(no Merkle work); proofs = one primary-key row read"
    )
    lines.append("")
    lines.append(
        format_table(
            ["target", "value", "status"],
            [[t["target"], f"{t['value']:,}", t["status"]] for t in result["targets"]],
        )
    )
    return "\n".join(lines)
