"""Smoke test of benchmarks/verifier in quick mode: figures are produced, no timing asserted."""

from __future__ import annotations

import argparse
import json
import os
import shutil

from benchmarks.verifier import render, run


def test_verifier_benchmark_quick_mode() -> None:
    result = run(
        argparse.Namespace(quick=True, seconds=0.05, repetitions=1, clock="cpu", fuzz_cases=500)
    )
    json.dumps(result, allow_nan=False)
    assert set(result["algorithms"]) == {"ES256", "SM2"}
    for figures in result["algorithms"].values():
        assert figures["verdicts_per_s"] > 0 and figures["raw_pairs_per_s"] > 0
        assert 0 < figures["ratio"] < 1.5
        assert figures["status"] in {"PASS", "MISS"}
    assert result["photo"]["qr_version"] >= 20 and result["photo"]["ms"] > 0
    fuzz = result["fuzz"]
    assert fuzz["cases"] == 500 and fuzz["exceptions"] == 0 and fuzz["status"] == "PASS"
    assert all(fuzz["verdicts"].get(v, 0) > 0 for v in ("VALID", "INVALID", "INDETERMINATE"))
    dcc = result["dcc"]
    assert dcc["cases"] == 233 and dcc["ours_as_expected"] == 233
    assert dcc["ours_per_s"] > 0 and dcc["reference_per_s"] > 0
    browser = result["browser"]  # measured wherever Chromium is, always in CI
    if shutil.which("chromium") or os.environ.get("CI") == "true":
        assert browser["status"] == "MEASURED", browser
        assert set(browser["algorithms"]) == {"ES256", "SM2"}
        assert all(
            r["browser_ms"] > 0 and r["python_ms"] > 0 for r in browser["algorithms"].values()
        )
    text = render(result)
    assert (
        "verdicts/s" in text and "photo → verdict" in text and "fuzz:" in text and "EU DCC" in text
    ) and ("in-browser verifier" in text)
