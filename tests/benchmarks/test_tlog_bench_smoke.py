"""Smoke test of the transparency-log benchmark (benchmarks/tlog) in quick mode, SQLite only.

It checks that every figure is produced and every proof verified; it asserts
no timing: figures from a shared test machine say nothing about the code.
"""

from __future__ import annotations

import argparse
import json

from benchmarks.tlog import render, run


def test_tlog_benchmark_quick_mode_on_sqlite() -> None:
    args = argparse.Namespace(quick=True, seconds=0.3, tlog_backends=["sqlite"])
    result = run(args)
    json.dumps(result, allow_nan=False)  # what the runner emits as BENCH_JSON
    assert result["config"]["quick"] is True and result["config"]["leaves"] == 10_000
    r = result["backends"]["sqlite"]
    batched, single, proofs = r["batched"], r["single"], r["proofs"]
    assert batched["leaves"] == 10_000
    for key in ("ours", "peer", "ratio", "ratio_median_chunks", "ours_seconds", "peer_seconds"):
        assert batched[key] > 0, key
    for key in ("ours", "peer", "ratio", "ours_calls", "peer_calls"):
        assert single[key] > 0, key
    for key in ("inclusion_ms", "point_read_ms", "consistency_ms"):
        assert all(proofs[key][stat] > 0 for stat in ("median", "p99", "max")), key
    assert proofs["inclusion_verified"] == proofs["inclusion_ms"]["n"] == 1000
    assert proofs["consistency_verified"] == proofs["consistency_ms"]["n"] > 0
    assert r["bytes_per_leaf"] > 0 and r["peer_bytes_per_leaf"] > 0
    assert "postgres" not in result["backends"]
    assert {t["status"] for t in result["targets"]} <= {"PASS", "MISS"}
    assert len(result["targets"]) == 3
    table = render(result)
    assert "batched appends/s" in table and "inclusion proof" in table
