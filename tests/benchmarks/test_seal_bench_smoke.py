"""Smoke test of the seal-service benchmark (benchmarks/seal) in quick mode.

It starts the hub the way the benchmark does (``govtrust init --demo``, one
machine client of the demo agency per load thread, ``govtrust serve`` on a free
loopback port), checks one SES and one PDF seal through the API end to end,
runs one short repetition of each kind beside its in-process peer (raw SM2
signing, pyHanko ``seal_pdf``), and checks that every figure is produced. It
asserts no timing: figures from a shared test machine say nothing about the code.
"""

from __future__ import annotations

import argparse
import json

import pytest

from benchmarks.seal import render, run


@pytest.mark.slow
def test_seal_benchmark_quick_mode() -> None:
    args = argparse.Namespace(quick=True, seconds=None, repetitions=None)
    result = run(args)
    json.dumps(result, allow_nan=False)  # what the runner emits as BENCH_JSON

    assert result["config"]["quick"] is True
    assert result["config"]["workers"] == 2
    assert result["server"]["server"]["workers"] == 2
    checks = result["checks"]
    assert checks["access_token"] == "verified"
    assert checks["ses"]["data_hash"] == "matches"
    assert checks["ses"]["indication"].endswith("PASSED")
    assert checks["pdf"]["indication"].endswith("PASSED")
    assert checks["pdf"]["bytes_out"] > checks["pdf"]["bytes_in"]
    assert checks["pdf"]["log_index"] > checks["ses"]["log_index"] >= 0
    assert checks["pdf_peers"] == {"pyhanko": "PASSED", "seal_pdf": "PASSED"}

    for kind in ("ses", "pdf"):
        k = result["kinds"][kind]
        api, peer = k["api"], k["peer"]
        assert api["ok"] > 0 and api["rate"] > 0, (kind, api["error_samples"])
        assert api["errors"] == 0 and api["rate_limited"] == 0, api["error_samples"]
        assert api["per_worker"] == pytest.approx(api["rate"] / 2)
        assert api["p50_ms"] > 0 and api["p99_ms"] >= api["p50_ms"]
        assert api["server_cpu_ms_per_op"] is not None and api["server_cpu_ms_per_op"] > 0
        assert api["ops_per_server_cpu_s"] > 0
        assert peer["calls"] > 0 and peer["rate_per_core"] > 0
        for basis in ("per_worker", "per_server_cpu_s"):
            assert k["ratios"][basis]["median"] > 0, (kind, basis)

    library = result["kinds"]["pdf"]["library"]
    assert library["peer"]["calls"] > 0 and library["peer"]["rate_per_core"] > 0
    assert library["ratios"]["per_worker"]["median"] > 0
    assert "library" not in result["kinds"]["ses"]

    targets = result["targets"]
    assert len(targets) == 4
    assert {(t["kind"], t["basis"]) for t in targets} == {
        (kind, basis) for kind in ("ses", "pdf") for basis in ("per_worker", "per_server_cpu_s")
    }
    assert {t["status"] for t in targets} <= {"PASS", "MISS"}
    assert {t["goal"] for t in targets if t["kind"] == "ses"} == {0.5}
    assert {t["goal"] for t in targets if t["kind"] == "pdf"} == {0.8}
    table = render(result)
    assert "raw SM2 sign" in table and "pyHanko PdfSigner directly" in table
    assert "seal_pdf in-process" in table and "status" in table
