"""Smoke test of the identity-provider benchmark (benchmarks/idp) in quick mode, our side only.

It starts the hub the way the benchmark does (``govtrust init``, seeded clients
and citizens, ``govtrust serve`` on a free loopback port), runs one short
repetition of client_credentials tokens and full browserless logins, and checks
that every figure is produced and every token verified. The node-oidc-provider
peer is not started here — it needs ``npm ci`` (``make bench`` does that) — so
the test passes the same with or without node. It asserts no timing: figures
from a shared test machine say nothing about the code.
"""

from __future__ import annotations

import argparse
import json

import pytest

from benchmarks.idp import render, run


@pytest.mark.slow
def test_idp_benchmark_quick_mode_ours_only() -> None:
    args = argparse.Namespace(quick=True, seconds=None, idp_node=False, idp_backends=["sqlite"])
    result = run(args)
    json.dumps(result, allow_nan=False)  # what the runner emits as BENCH_JSON

    assert result["config"]["quick"] is True
    assert set(result["servers"]) == {"ours"}
    assert result["skipped"] == {"node": "not asked for (--no-node)"}
    checks = result["checks"]["ours"]
    assert checks["client_credentials"] == "verified"
    assert checks["login_first_party"] == {
        "requests": 4,  # authorize, login form, login POST (answers with the code), token
        "consent_form": False,
        "id_token": "verified",
    }
    assert checks["login_third_party"]["consent_form"] is True

    for scenario in ("client_credentials", "login"):
        r = result["scenarios"][scenario]["ours"]
        assert r["ok"] > 0 and r["rate"] > 0, (scenario, r["error_samples"])
        assert r["errors"] == 0, r["error_samples"]
        assert r["p50_ms"] > 0 and r["p99_ms"] >= r["p50_ms"]
        assert r["server_cpu_ms_per_op"] is not None and r["server_cpu_ms_per_op"] > 0
    assert result["scenarios"]["login"]["ours"]["requests_per_op"] == 4
    assert result["argon2id"]["ms_cpu_per_verify"] > 0
    assert result["ratios"] == {}  # no peer, no ratio
    statuses = {t["target"]: t["status"] for t in result["targets"]}
    assert len(statuses) == 3
    assert set(statuses.values()) <= {"PASS", "MISS", "n/a"}
    assert [t["status"] for t in result["targets"] if "x node" in t["target"]] == ["n/a"]
    table = render(result)
    assert "client_credentials" in table and "login" in table and "SKIPPED" in table
