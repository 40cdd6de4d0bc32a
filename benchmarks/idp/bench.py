"""OpenID Provider throughput: the GovTrust hub against node-oidc-provider, same machine, same run.

Servers (both started by the benchmark on free loopback ports, see ``_servers.py``):

ours
    ``govtrust init`` on a fresh data directory (SQLite; PostgreSQL in a scratch
    schema with ``--backends sqlite,postgres``), a first-party web client, a
    third-party one, an agency machine client and N citizens (argon2id at an
    OWASP minimum configuration, m = 7 MiB, t = 5, p = 1, as Keycloak), then
    ``govtrust serve --workers 2`` (gunicorn with the worker class and threads the CLI chooses; the table
    prints them).
node
    node-oidc-provider (``node/package.json``) in 2 ``node:cluster`` workers with
    the same clients, secret and accounts: ``node/provider.config.js`` and
    ``node/server.js`` (interaction routes for a POSTed login and consent). Its
    storage is the in-memory adapter and its accounts have **no password hash**
    (a constant-time comparison), as in the provider's own examples.

Scenarios, measured with the same load generator (``_client.py``: P processes
× T threads of stdlib HTTP/1.1, each thread one request or login at a time):

client_credentials
    ``POST token`` with HTTP Basic, ``scope=seal:sign`` → a JWT access token
    (RFC 9068, ES256 on both sides; node through resource indicators with
    ``accessTokenFormat: 'jwt'``). Connections are kept alive when the server
    allows it (each server as it is deployed). The hub also writes one row per
    token (revocation, introspection); node keeps nothing for JWT access tokens.
login
    authorize (code, PKCE S256, state, nonce) → login form → POST username and
    password → (consent, none for the first-party client on either side) →
    redirect with ``code`` → token request → ID token (RS256 on both) verified
    with the server's JWKS by joserfc: five HTTP requests on each side. Each login
    uses its own TCP connection (node keeps interactions in the memory of one
    worker). Accounts are dealt so that no two threads use the same one.

Before timing, each side passes one functional round: a verified access token,
a first-party login, and a third-party login through the consent form.

Method: a warm-up slice per side and scenario, then R repetitions; in each,
each scenario runs S seconds on ours then node (node first on odd repetitions).
Throughput is successful operations per wall second; a ratio is the median of
per-repetition ratios. Latency percentiles pool every repetition. CPU time is
read from /proc for each server's process tree (and its PostgreSQL backends):
"server CPU ms/op" is what one operation cost the server, whoever else used the
machine, and "ops per server CPU-s" its inverse — the figure comparable to a
per-vCPU sizing figure measured with the load generator on another machine.
The wall clock is used for rates (``--clock`` does not apply).

Targets (a MISS is reported, never raised):

* client_credentials tokens/s, ours ≥ 1.0 × node-oidc-provider;
* full logins ≥ 30/s per core — twice Keycloak's published sizing figure of 15
  password logins/s per vCPU — both as throughput ÷ cores of this machine and
  as logins per server CPU-second. The argon2id cost per login is measured in
  the run and printed next to it, with the ceiling it sets on its own.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from .._harness import format_table, host_info, loadavg, progress, time_loop
from . import _servers
from ._client import Http, LoadSpec, Target, client_credentials, keyset, login, run_load

KEYCLOAK_LOGINS_PER_VCPU: Final = 15.0
LOGIN_TARGET_PER_CORE: Final = 2 * KEYCLOAK_LOGINS_PER_VCPU
CC_TARGET_RATIO: Final = 1.0
SCENARIOS: Final = ("client_credentials", "login")
_KIND: Final = {"client_credentials": "cc", "login": "login"}


@dataclass(frozen=True, slots=True)
class Mode:
    repetitions: int
    cc_seconds: float  # one timed slice of client_credentials
    login_seconds: float  # one timed slice of logins
    warmup_seconds: float
    accounts: int
    processes: int  # load-generator processes
    threads: int  # threads per process (concurrent requests = processes × threads)
    argon2_seconds: float


FULL: Final = Mode(5, 5.0, 8.0, 1.5, 64, 2, 4, 2.0)
QUICK: Final = Mode(1, 1.0, 2.0, 0.3, 8, 1, 4, 0.3)


def _mode(args: argparse.Namespace) -> Mode:
    mode = QUICK if getattr(args, "quick", False) else FULL
    if getattr(args, "repetitions", None):
        mode = replace(mode, repetitions=int(args.repetitions))
    if getattr(args, "seconds", None):
        mode = replace(mode, cc_seconds=float(args.seconds), login_seconds=float(args.seconds))
    for name in ("accounts", "processes", "threads"):
        value = getattr(args, f"idp_{name}", None) or os.environ.get(
            f"GOVTRUST_BENCH_IDP_{name.upper()}"
        )
        if value:
            mode = replace(mode, **{name: int(value)})
    if mode.accounts < mode.processes * mode.threads:
        raise ValueError("--accounts must be at least processes × threads (one account each)")
    return mode


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def _summary(slices: list[dict[str, Any]], ncpu: int) -> dict[str, Any]:
    rates = [s["ok"] / s["wall"] for s in slices if s["wall"] > 0]
    lat = sorted(x for s in slices for x in s["latencies_ms"])
    ok = sum(s["ok"] for s in slices)
    wall = sum(s["wall"] for s in slices)
    server_cpu = sum(s["server_cpu"] for s in slices)
    client_cpu = sum(s["client_cpu"] for s in slices)
    ms_per_op = server_cpu * 1000.0 / ok if ok else None
    return {
        "rate": statistics.median(rates) if rates else 0.0,
        "rate_min": min(rates, default=0.0),
        "rate_max": max(rates, default=0.0),
        "rates": [round(r, 2) for r in rates],
        "ok": ok,
        "errors": sum(s["errors"] for s in slices),
        "error_samples": [e for s in slices for e in s["error_samples"]][:5],
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "max_ms": lat[-1] if lat else None,
        "requests_per_op": round(sum(s["requests"] for s in slices) / ok, 2) if ok else None,
        "server_cpu_ms_per_op": ms_per_op,
        "ops_per_server_cpu_s": 1000.0 / ms_per_op if ms_per_op else None,
        "server_cpu_share": server_cpu / (wall * ncpu) if wall else None,
        "client_cpu_share": client_cpu / (wall * ncpu) if wall else None,
        "seconds": round(wall, 2),
    }


def _ratio_stats(ours: list[float], peer: list[float]) -> dict[str, Any] | None:
    ratios = [a / b for a, b in zip(ours, peer, strict=False) if b > 0]
    if not ratios:
        return None
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}


# --------------------------------------------------------------------------- measuring


def _target(server: _servers.Server, seed: _servers.Seed) -> Target:
    return Target(
        side=server.side,
        base_url=server.base_url,
        issuer=server.issuer,
        authorize_path=server.authorize_path,
        token_path=server.token_path,
        redirect_uri=_servers.REDIRECT_URI,
        web_client="bench-web",
        machine_client="bench-machine",
        secret=seed.secret,
        jwks=server.jwks,
        accounts=tuple((u, p) for u, p, _ in seed.accounts),
        machine_audience=server.machine_audience,
    )


def functional_check(t: Target) -> dict[str, Any]:
    """One verified access token, a first-party login, a third-party login with consent."""
    keys = keyset(t.jwks)
    conn = Http(t.base_url)
    try:
        client_credentials(conn, t, keys)
        user, password = t.accounts[0]
        out: dict[str, Any] = {"client_credentials": "verified"}
        for client, label in (
            ("bench-web", "login_first_party"),
            ("bench-3p", "login_third_party"),
        ):
            conn.close()
            r = login(conn, t, user, password, keys, client_id=client)
            out[label] = {"requests": r.requests, "consent_form": r.consent, "id_token": "verified"}
        if out["login_first_party"]["consent_form"] or not out["login_third_party"]["consent_form"]:
            raise RuntimeError(f"{t.side}: consent where none was expected, or none where one was")
        return out
    finally:
        conn.close()


def _slice(
    pool: Any, server: _servers.Server, target: Target, kind: str, seconds: float, mode: Mode
) -> dict[str, Any]:
    specs = [
        LoadSpec(_KIND[kind], target, mode.threads, seconds, i, mode.processes)
        for i in range(mode.processes)
    ]
    before = _servers.tree_cpu(server)
    parts = pool.map(run_load, specs)
    after = _servers.tree_cpu(server)
    return {
        "ok": sum(p["ok"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "requests": sum(p["requests"] for p in parts),
        "latencies_ms": [x for p in parts for x in p["latencies_ms"]],
        "error_samples": [e for p in parts for e in p["error_samples"]],
        "wall": max(p["wall"] for p in parts),
        "client_cpu": sum(p["cpu"] for p in parts),
        "server_cpu": _servers.cpu_delta(before, after),
    }


def argon2_cost(seconds: float) -> dict[str, Any]:
    """CPU ms of one argon2id verification with the hub's parameters (in this process:
    the same library and parameters as the server's workers), and beside it the
    OWASP cheat sheet's 19 MiB configuration of equal strength, for comparison."""
    from idp.accounts import PASSWORD_HASHER
    from trust.passwords import OWASP_ARGON2ID_19MIB

    def ms_per_verify(hasher: Any, budget: float) -> tuple[float, int]:
        stored = hasher.hash("Bench-Password-0000")
        sample = time_loop(lambda: hasher.verify(stored, "Bench-Password-0000"), budget)
        return 1000.0 / sample.rate, sample.calls

    ms, calls = ms_per_verify(PASSWORD_HASHER, seconds)
    ms_19, _ = ms_per_verify(OWASP_ARGON2ID_19MIB, seconds / 2)
    return {
        "params": {
            "memory_kib": PASSWORD_HASHER.memory_cost,
            "time_cost": PASSWORD_HASHER.time_cost,
            "parallelism": PASSWORD_HASHER.parallelism,
        },
        "ms_cpu_per_verify": ms,
        "verifies": calls,
        "logins_per_core_ceiling": 1000.0 / ms,
        "ms_cpu_per_verify_19mib_t2": ms_19,
    }


def _wanted_backends(args: argparse.Namespace) -> list[str]:
    backends = getattr(args, "idp_backends", None)
    if backends:
        return list(backends)
    return ["sqlite", "postgres"] if _pg_url(args) else ["sqlite"]


def _pg_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "pg", None) or os.environ.get("GOVTRUST_BENCH_PG") or None


def run(args: argparse.Namespace) -> dict[str, Any]:
    mode = _mode(args)
    ncpu = os.cpu_count() or 1
    with_node = getattr(args, "idp_node", True) and os.environ.get("GOVTRUST_BENCH_IDP_NODE") != "0"
    node_problem = _servers.node_problem() if with_node else "not asked for (--no-node)"
    backends = _wanted_backends(args)
    pg = _pg_url(args)
    if "postgres" in backends and not pg:
        raise ValueError("postgres asked for but no --pg URL or GOVTRUST_BENCH_PG")
    result: dict[str, Any] = {
        "config": {
            **asdict(mode),
            "quick": bool(getattr(args, "quick", False)),
            "clock": "wall",
            "concurrency": mode.processes * mode.threads,
            "backends": backends,
        },
        "host": host_info(),
        "servers": {},
        "skipped": {} if node_problem is None else {"node": node_problem},
        "checks": {},
    }
    progress(f"idp: argon2id cost ({mode.argon2_seconds} s)")
    result["argon2id"] = argon2_cost(mode.argon2_seconds)
    seed = _servers.Seed.make(mode.accounts)

    with tempfile.TemporaryDirectory(prefix="govtrust-bench-idp-") as tmp:
        workdir = Path(tmp)
        servers: list[_servers.Server] = []
        from contextlib import ExitStack

        with ExitStack() as stack:
            for backend in backends:
                progress(f"idp: starting ours on {backend} ({mode.accounts} accounts)")
                servers.append(
                    stack.enter_context(
                        _servers.hub_server(
                            workdir, seed, pg_base=pg if backend == "postgres" else None
                        )
                    )
                )
            if node_problem is None:
                progress("idp: starting node-oidc-provider")
                servers.append(stack.enter_context(_servers.node_server(workdir, seed)))
            targets = {s.side: _target(s, seed) for s in servers}
            for s in servers:
                result["servers"][s.side] = {"description": s.description, **s.info}
                result["checks"][s.side] = functional_check(targets[s.side])

            slices: dict[str, dict[str, list[dict[str, Any]]]] = {
                k: {s.side: [] for s in servers} for k in SCENARIOS
            }
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(mode.processes) as pool:
                for kind in SCENARIOS:
                    for s in servers:
                        _slice(pool, s, targets[s.side], kind, mode.warmup_seconds, mode)
                for rep in range(mode.repetitions):
                    order = servers if rep % 2 == 0 else servers[::-1]
                    for kind in SCENARIOS:
                        seconds = (
                            mode.cc_seconds if kind == "client_credentials" else mode.login_seconds
                        )
                        for s in order:
                            progress(f"idp: rep {rep + 1}/{mode.repetitions} {kind} {s.side}")
                            slices[kind][s.side].append(
                                _slice(pool, s, targets[s.side], kind, seconds, mode)
                            )

    result["scenarios"] = {
        k: {side: _summary(v, ncpu) for side, v in by_side.items()} for k, by_side in slices.items()
    }
    result["ratios"] = _ratios(slices)
    result["loadavg_end"] = loadavg()
    result["targets"] = _targets(result, ncpu)
    return result


def _ratios(slices: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, by_side in slices.items():
        if "node" not in by_side:
            continue
        peer = [s["ok"] / s["wall"] for s in by_side["node"]]
        peer_cpu = [s["server_cpu"] / s["ok"] if s["ok"] else 0.0 for s in by_side["node"]]
        for side, v in by_side.items():
            if side == "node":
                continue
            ours = [s["ok"] / s["wall"] for s in v]
            ours_cpu = [s["server_cpu"] / s["ok"] if s["ok"] else 0.0 for s in v]
            out.setdefault(kind, {})[side] = {
                "throughput": _ratio_stats(ours, peer),
                # node CPU per op ÷ ours: > 1 when ours costs the server less per operation
                "cpu_efficiency": _ratio_stats(peer_cpu, ours_cpu),
            }
    return out


def _status(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _targets(result: dict[str, Any], ncpu: int) -> list[dict[str, Any]]:
    out = []
    for side in result["scenarios"]["client_credentials"]:
        if side == "node":
            continue
        ratio = (result["ratios"].get("client_credentials", {}).get(side) or {}).get("throughput")
        out.append(
            {
                "target": f"{side}: client_credentials tokens/s >= {CC_TARGET_RATIO:.1f} x node",
                "value": None if ratio is None else ratio["median"],
                "status": "n/a" if ratio is None else _status(ratio["median"] >= CC_TARGET_RATIO),
            }
        )
    for side, r in result["scenarios"]["login"].items():
        if side == "node":
            continue
        per_core = r["rate"] / ncpu
        out.append(
            {
                "target": f"{side}: logins/s per core (throughput / {ncpu} cores) "
                f">= {LOGIN_TARGET_PER_CORE:.0f}",
                "value": per_core,
                "status": _status(per_core >= LOGIN_TARGET_PER_CORE),
            }
        )
        per_cpu = r["ops_per_server_cpu_s"]
        out.append(
            {
                "target": f"{side}: logins per server CPU-second >= {LOGIN_TARGET_PER_CORE:.0f}",
                "value": per_cpu,
                "status": "n/a" if per_cpu is None else _status(per_cpu >= LOGIN_TARGET_PER_CORE),
            }
        )
    return out


# --------------------------------------------------------------------------- table


def _f(value: float | None, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def render(result: dict[str, Any]) -> str:
    cfg, host = result["config"], result["host"]
    lines = [
        f"idp — OpenID Provider throughput, {host['cpus']} CPUs ({host['cpu_model']}), "
        f"loadavg {host['loadavg_start']} -> {result.get('loadavg_end')}",
    ]
    for side, s in result["servers"].items():
        lines.append(f"  {side:8} {s['description']}")
    for side, why in result["skipped"].items():
        lines.append(f"  {side:8} SKIPPED: {why}")
    lines.append(
        f"  load: {cfg['processes']} processes x {cfg['threads']} threads "
        f"({cfg['concurrency']} in flight), {cfg['repetitions']} repetitions x "
        f"{cfg['cc_seconds']:g} s (tokens) / {cfg['login_seconds']:g} s (logins), "
        f"interleaved; {cfg['accounts']} accounts"
        + ("; QUICK: figures mean nothing" if cfg["quick"] else "")
    )
    lines.append("")
    rows = []
    for kind, by_side in result["scenarios"].items():
        for side, r in by_side.items():
            rows.append(
                [
                    kind,
                    side,
                    _f(r["rate"], ",.1f"),
                    f"{_f(r['rate_min'], ',.1f')}–{_f(r['rate_max'], ',.1f')}",
                    _f(r["p50_ms"], ".1f"),
                    _f(r["p99_ms"], ".1f"),
                    _f(r["server_cpu_ms_per_op"], ".2f"),
                    _f(r["ops_per_server_cpu_s"], ",.1f"),
                    f"{_f(100 * (r['server_cpu_share'] or 0), '.0f')}/"
                    f"{_f(100 * (r['client_cpu_share'] or 0), '.0f')}",
                    _f(r["requests_per_op"], ".0f"),
                    str(r["errors"]),
                ]
            )
    lines.append(
        format_table(
            [
                "scenario",
                "side",
                "ops/s",
                "min–max",
                "p50 ms",
                "p99 ms",
                "srv CPU ms/op",
                "ops/srv CPU-s",
                "CPU% srv/cli",
                "req/op",
                "errors",
            ],
            rows,
            left=2,
        )
    )
    ratio_rows = []
    for kind, by_side in result["ratios"].items():
        for side, r in by_side.items():
            for what, label in (
                ("throughput", "ops/s ours ÷ node"),
                ("cpu_efficiency", "srv CPU/op node ÷ ours"),
            ):
                x = r[what]
                if x is not None:
                    ratio_rows.append(
                        [kind, side, label, f"{x['median']:.2f}", f"{x['min']:.2f}–{x['max']:.2f}"]
                    )
    if ratio_rows:
        lines += [
            "",
            format_table(["scenario", "side", "ratio", "median", "min–max"], ratio_rows, left=3),
        ]
    a = result["argon2id"]
    p = a["params"]
    lines += [
        "",
        f"argon2id verify (m={p['memory_kib']} KiB, t={p['time_cost']}, p={p['parallelism']}): "
        f"{a['ms_cpu_per_verify']:.1f} ms CPU -> at most "
        f"{a['logins_per_core_ceiling']:.1f} logins/s per core from the hash alone.",
    ]
    if a.get("ms_cpu_per_verify_19mib_t2"):
        lines.append(
            "  (the cheat sheet's m=19456 KiB, t=2 configuration of equal strength: "
            f"{a['ms_cpu_per_verify_19mib_t2']:.1f} ms CPU)"
        )
    for side, r in result["scenarios"]["login"].items():
        ms = r["server_cpu_ms_per_op"]
        if ms is None:
            continue
        if side == "node":
            lines.append(f"  node: {ms:.2f} ms server CPU per login, no password hash at all.")
        else:
            lines.append(
                f"  {side}: {ms:.2f} ms server CPU per login = {a['ms_cpu_per_verify']:.1f} ms "
                f"argon2id + {ms - a['ms_cpu_per_verify']:.2f} ms everything else."
            )
    lines += [
        "",
        format_table(
            ["target", "value", "status"],
            [[t["target"], _f(t["value"], ".2f"), t["status"]] for t in result["targets"]],
        ),
    ]
    errors = [
        (kind, side, e)
        for kind, by_side in result["scenarios"].items()
        for side, r in by_side.items()
        for e in r["error_samples"]
    ]
    if errors:
        lines += ["", "errors (samples):"] + [f"  {k} {s}: {e}" for k, s, e in errors]
    return "\n".join(lines)
