"""Smoke test of ``python -m benchmarks crypto --quick`` (benchmarks/).

It checks that the runner and the crypto benchmark work end to end — a rate
for every family, operation and side, the BENCH_JSON line, the results file —
and asserts no ratio: timings on a shared test machine say nothing about the
code. ``openssl`` is measured when it is on PATH; on CI (``CI=true``) it must be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("sm2", "p256", "rsa", "ed25519")
OPS = ("sign", "verify")
PREFIX = "BENCH_JSON "


@pytest.mark.slow
def test_crypto_benchmark_quick_mode_measures_every_family(tmp_path: Path) -> None:
    have_openssl = shutil.which("openssl") is not None
    if not have_openssl and os.environ.get("CI") == "true":
        pytest.fail("'openssl' is not on PATH (Debian package openssl); CI=true, so this fails")

    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "crypto", "--quick", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr

    lines = [line for line in proc.stdout.splitlines() if line.startswith(PREFIX)]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0].removeprefix(PREFIX))
    assert result == json.loads((tmp_path / "crypto.json").read_text(encoding="utf-8"))
    assert result["benchmark"] == "crypto"
    assert result["config"]["quick"] is True

    for family in FAMILIES:
        for op in OPS:
            figures = result["families"][family][op]
            assert figures["ours"]["median"] > 0, (family, op)
            assert figures["native"]["median"] > 0, (family, op)
            if have_openssl:
                assert figures["openssl"]["median"] > 0, (family, op)
            else:
                assert figures["openssl"]["median"] is None, (family, op)
    assert {t["status"] for t in result["targets"]} <= {"PASS", "MISS", "n/a"}
    if have_openssl:
        assert result["openssl_errors"] == []
