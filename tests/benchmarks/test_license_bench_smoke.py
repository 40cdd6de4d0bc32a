"""Smoke test of benchmarks/license in quick mode: every figure is produced; no timing
is asserted (figures from a shared test machine say nothing about the code)."""

from __future__ import annotations

import argparse
import json

from benchmarks.license import render, run
from license_wallet.types import license_types


def test_license_benchmark_quick_mode() -> None:
    result = run(argparse.Namespace(quick=True, seconds=0.05, repetitions=1, clock="cpu"))
    json.dumps(result, allow_nan=False)  # what the runner emits as BENCH_JSON
    for alg in ("SM2", "ES256"):
        figures = result["signing"][alg]
        assert figures["raw_per_s"] > 0 and figures["credential_per_s"] > 0
        assert 0 < figures["ratio"] <= 1.5
    issuance = result["issuance"]
    assert issuance["issued_per_s"] > 0 and issuance["raw_sm2_per_s"] > 0
    assert 0 < issuance["ratio"] < 1
    assert issuance["http"]["issued_per_s"] > 0 and 0 < issuance["http"]["ratio"] < 1
    served = issuance["served"]  # through govtrust serve --workers 2
    assert served["errors"] == 0, served["error_samples"]
    assert served["issued_per_s"] > 0 and served["issued_per_server_cpu_s"] > 0
    assert 0 < served["ratio"] < 1 and "granian" in served["server"]
    rows = result["qr"]["rows"]
    assert len(rows) == len(license_types()) * 2 * 2  # types x algorithms x disclosures
    assert all(1 <= r["version"] <= 40 for r in rows)
    assert sum(result["qr"]["distribution"].values()) == len(rows)
    sizes = result["status_lists"]
    assert {s["entries"] for s in sizes} == {10_000, 100_000}
    assert all(0 < s["compressed_bytes"] < s["raw_bytes"] for s in sizes)
    assert [t["status"] for t in result["targets"]][1] == "n/a"  # no 10^7 list in quick mode
    assert result["targets"][0]["status"] in {"PASS", "MISS"}
    assert "QR version" in render(result)
