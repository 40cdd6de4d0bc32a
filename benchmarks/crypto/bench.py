"""Signatures per second: GovTrust's API vs the native library vs ``openssl speed``.

For each family — SM2 with SM3, ECDSA P-256 (ES256), RSA-2048 PKCS#1 v1.5
(RS256), Ed25519 — sign/s and verify/s are measured three ways, on this
machine, in this run:

ours
    ``generate_private_key(family).signer(alg).sign(msg)`` and
    ``PublicKey.verify(alg, msg, sig)`` (:mod:`trust.crypto`).
native
    the library underneath called directly with the same key and message:
    tongsuopy for SM2, pyca/cryptography for the rest. The signature-algorithm
    objects (``ECDSA(SM3())`` …) are built once, as the fastest direct caller
    would do.
openssl
    ``openssl speed -seconds S -mr [-elapsed] <token>`` (tokens ``sm2``,
    ``ecdsap256``, ``rsa2048``, ``ed25519``), parsed from its ``+F`` lines.
    It uses its own keys (built-in test key for RSA) and signs 20 bytes: a
    message for SM2 and Ed25519, a ready-made digest for ECDSA and RSA.

Method: warm-up, then R repetitions; in each repetition and for each family
and operation, ours and native alternate in slices of 0.1 s until each has
run S seconds (ours first on even repetitions, native first on odd), then one
``openssl speed`` run for that family. Figures are medians over repetitions;
a ratio is the median of the ratios within each repetition (side-by-side
measurements share the machine's load).

Targets: SM2 sign and verify through our API ≥ 0.85 × openssl speed; every
family and operation ≥ 0.90 × the native library. A MISS is reported, never
raised.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from typing import Any, Final

from cryptography.hazmat.backends.openssl.backend import backend as pyca_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from tongsuopy.backends.tongsuo.backend import backend as tongsuo_backend
from tongsuopy.crypto import hashes as ts_hashes
from tongsuopy.crypto.asymciphers import ec as ts_ec

from trust.crypto import generate_private_key

from .._harness import (
    Sample,
    fmt_rate,
    fmt_ratio,
    format_table,
    host_info,
    interleaved,
    loadavg,
    median,
    paired_ratios,
    progress,
    rel_spread,
    time_loop,
)

# openssl speed signs 20 bytes; so do we, so that hashing costs the same on every side.
MESSAGE: Final = bytes(range(1, 21))

OPS: Final = ("sign", "verify")


@dataclass(frozen=True, slots=True)
class Mode:
    repetitions: int
    seconds: float  # per timed measurement of ours / native
    slice_seconds: float  # ours and native alternate in slices this long
    warmup: float  # per callable, before the first repetition
    openssl_rounds: int | None  # None: one openssl speed run per repetition


FULL: Final = Mode(repetitions=7, seconds=1.0, slice_seconds=0.1, warmup=0.3, openssl_rounds=None)
# Smoke use: openssl speed cannot run under 1 s per operation, so it runs once.
QUICK: Final = Mode(repetitions=3, seconds=0.05, slice_seconds=0.025, warmup=0.02, openssl_rounds=1)


@dataclass(frozen=True, slots=True)
class Family:
    key: str  # trust.algorithms.KeyFamily value
    alg: str  # GovTrust signature algorithm name
    label: str
    native_library: str
    openssl_token: str  # `openssl speed` algorithm name
    mr_tag: str  # its "+F" line in -mr output
    mr_bits: str


FAMILIES: Final = (
    Family("sm2", "SM2", "SM2 / SM3", "tongsuopy", "sm2", "+F7", "256"),
    Family("p256", "ES256", "ECDSA P-256", "cryptography", "ecdsap256", "+F4", "256"),
    Family("rsa", "RS256", "RSA-2048 v1.5", "cryptography", "rsa2048", "+F2", "2048"),
    Family("ed25519", "EdDSA", "Ed25519", "cryptography", "ed25519", "+F6", "253"),
)


@dataclass(frozen=True, slots=True)
class Target:
    family: str
    op: str
    versus: str  # "native" or "openssl"
    threshold: float


TARGETS: Final = (
    Target("sm2", "sign", "openssl", 0.85),
    Target("sm2", "verify", "openssl", 0.85),
    *(Target(f.key, op, "native", 0.90) for f in FAMILIES for op in OPS),
)


class OpenSSLSpeedError(RuntimeError):
    pass


# --------------------------------------------------------------------------- subjects


def _subjects(fam: Family) -> dict[tuple[str, str], Callable[[], object]]:
    """The four zero-argument callables timed for ``fam``: (impl, op) → call."""
    private = generate_private_key(fam.key, **({"rsa_bits": 2048} if fam.key == "rsa" else {}))
    signer = private.signer(fam.alg)
    public = signer.public_key
    signature = signer.sign(MESSAGE)
    native_pub = public.native

    native_sign: Callable[[], object]
    native_verify: Callable[[], object]
    if fam.key == "sm2":
        sm2 = ts_ec.ECDSA(ts_hashes.SM3())
        native_key = private._key  # type: ignore[attr-defined]  # tongsuopy key; no .native
        native_sign = partial(native_key.sign, MESSAGE, sm2)
        native_verify = partial(native_pub.verify, signature, MESSAGE, sm2)
    elif fam.key == "p256":
        ecdsa = ec.ECDSA(hashes.SHA256())
        native_sign = partial(private.native.sign, MESSAGE, ecdsa)  # type: ignore[attr-defined]
        native_verify = partial(native_pub.verify, signature, MESSAGE, ecdsa)
    elif fam.key == "rsa":
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        native_sign = partial(private.native.sign, MESSAGE, pkcs1, sha256)  # type: ignore[attr-defined]
        native_verify = partial(native_pub.verify, signature, MESSAGE, pkcs1, sha256)
    else:
        native_sign = partial(private.native.sign, MESSAGE)  # type: ignore[attr-defined]
        native_verify = partial(native_pub.verify, signature, MESSAGE)

    ours_sign = partial(signer.sign, MESSAGE)
    ours_verify = partial(public.verify, fam.alg, MESSAGE, signature)

    # Both sides must do the same job: each verifies the other's signature.
    native_signature = native_sign()
    if not isinstance(native_signature, bytes) or not public.verify(
        fam.alg, MESSAGE, native_signature
    ):
        raise AssertionError(f"{fam.alg}: GovTrust rejects the native signature")
    native_verify()  # raises InvalidSignature if the two disagree
    if ours_verify() is not True:
        raise AssertionError(f"{fam.alg}: GovTrust rejects its own signature")

    return {
        ("ours", "sign"): ours_sign,
        ("native", "sign"): native_sign,
        ("ours", "verify"): ours_verify,
        ("native", "verify"): native_verify,
    }


# --------------------------------------------------------------------------- openssl speed


def openssl_version(exe: str) -> str:
    out = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=30, check=False)
    return out.stdout.strip()


def parse_speed_mr(stdout: str, fam: Family) -> tuple[float, float]:
    """(sign/s, verify/s) from ``openssl speed -mr`` output.

    OpenSSL 3.0 prints one ``+F`` line per key size tested:
    ``+F2:k:bits:sign:verify`` (RSA), ``+F4:k:bits:sign:verify`` (ECDSA),
    ``+F6:k:bits:name:sign:verify`` (EdDSA), ``+F7:k:bits:name:sign:verify`` (SM2);
    each rate is count / seconds of the loop.
    """
    found = []
    for line in stdout.splitlines():
        parts = line.strip().split(":")
        if parts[0] == fam.mr_tag and len(parts) >= 5 and parts[2] == fam.mr_bits:
            found.append((float(parts[-2]), float(parts[-1])))
    if len(found) != 1:
        raise OpenSSLSpeedError(
            f"expected one {fam.mr_tag} line for {fam.mr_bits} bits in openssl speed -mr "
            f"output, found {len(found)}:\n{stdout}"
        )
    return found[0]


def run_openssl_speed(exe: str, fam: Family, seconds: int, clock: str) -> dict[str, Any]:
    cmd = [exe, "speed", "-seconds", str(seconds), "-mr"]
    if clock == "wall":
        cmd.append("-elapsed")
    cmd.append(fam.openssl_token)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=60 + 4 * seconds, check=False
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise OpenSSLSpeedError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    sign, verify = parse_speed_mr(proc.stdout, fam)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"sign": sign, "verify": verify, "cpu_share": cpu / wall if wall > 0 else 1.0}


# --------------------------------------------------------------------------- run


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    base = QUICK if getattr(args, "quick", False) else FULL
    reps = getattr(args, "repetitions", None) or base.repetitions
    seconds = getattr(args, "seconds", None) or base.seconds
    return {
        "quick": bool(getattr(args, "quick", False)),
        "repetitions": reps,
        "seconds": seconds,
        "slice_seconds": min(base.slice_seconds, seconds),
        "warmup_seconds": base.warmup,
        "openssl_rounds": min(reps, base.openssl_rounds or reps),
        # openssl speed only takes whole seconds.
        "openssl_seconds": max(1, round(seconds)),
        "clock": getattr(args, "clock", "cpu"),
        "message_bytes": len(MESSAGE),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = _settings(args)
    host = host_info()
    exe = shutil.which("openssl")
    versions = {
        "cryptography": version("cryptography"),
        "cryptography_openssl": pyca_backend.openssl_version_text(),
        "tongsuopy": version("tongsuopy"),
        "tongsuopy_openssl": tongsuo_backend.openssl_version_text(),
        "openssl_cli": openssl_version(exe) if exe else None,
    }
    if exe is None:
        progress("crypto: WARNING: `openssl` is not on PATH — the peer is skipped, ratios n/a")

    progress("crypto: generating keys and cross-checking signatures")
    subjects = {f.key: _subjects(f) for f in FAMILIES}
    clock = cfg["clock"]

    progress(f"crypto: warm-up {cfg['warmup_seconds']} s per call")
    for calls in subjects.values():
        for fn in calls.values():
            time_loop(fn, cfg["warmup_seconds"], clock=clock)

    samples: dict[str, dict[str, dict[str, list[Sample]]]] = {
        f.key: {op: {"ours": [], "native": []} for op in OPS} for f in FAMILIES
    }
    speed: dict[str, list[dict[str, Any]]] = {f.key: [] for f in FAMILIES}
    speed_rep: dict[str, list[int]] = {f.key: [] for f in FAMILIES}
    openssl_errors: list[str] = []

    for rep in range(cfg["repetitions"]):
        progress(f"crypto: repetition {rep + 1}/{cfg['repetitions']}")
        order = ("ours", "native") if rep % 2 == 0 else ("native", "ours")
        for fam in FAMILIES:
            for op in OPS:
                fns = [subjects[fam.key][(impl, op)] for impl in order]
                timed = interleaved(
                    fns, cfg["seconds"], slice_seconds=cfg["slice_seconds"], clock=clock
                )
                for impl, sample in zip(order, timed, strict=True):
                    samples[fam.key][op][impl].append(sample)
            if exe and rep < cfg["openssl_rounds"]:
                try:
                    res = run_openssl_speed(exe, fam, cfg["openssl_seconds"], clock)
                except (OpenSSLSpeedError, OSError, subprocess.SubprocessError) as exc:
                    openssl_errors.append(f"{fam.openssl_token}: {exc}")
                    progress(f"crypto: WARNING: openssl speed {fam.openssl_token} failed: {exc}")
                else:
                    speed[fam.key].append(res)
                    speed_rep[fam.key].append(rep)

    families: dict[str, Any] = {}
    for fam in FAMILIES:
        entry: dict[str, Any] = {
            "algorithm": fam.alg,
            "label": fam.label,
            "native_library": fam.native_library,
            "openssl_token": fam.openssl_token,
        }
        for op in OPS:
            ours = [s.rate for s in samples[fam.key][op]["ours"]]
            native = [s.rate for s in samples[fam.key][op]["native"]]
            ossl = [r[op] for r in speed[fam.key]]
            ours_at_ossl = [ours[i] for i in speed_rep[fam.key]]
            vs_native = paired_ratios(ours, native)
            vs_openssl = paired_ratios(ours_at_ossl, ossl)
            overhead = [1e6 / o - 1e6 / n for o, n in zip(ours, native, strict=True)]
            entry[op] = {
                "ours": _series(samples[fam.key][op]["ours"]),
                "native": _series(samples[fam.key][op]["native"]),
                "openssl": {"median": _r(median(ossl), 1), "rates": [round(x, 1) for x in ossl]},
                "ours_per_native": _ratio(vs_native),
                "ours_per_openssl": _ratio(vs_openssl),
                "overhead_us_per_call": _r(median(overhead), 3),
            }
        families[fam.key] = entry

    targets = []
    for t in TARGETS:
        ratio = families[t.family][t.op][f"ours_per_{t.versus}"]
        value = ratio["median"]
        status = "n/a" if value is None else ("PASS" if value >= t.threshold else "MISS")
        targets.append(
            {
                "family": t.family,
                "op": t.op,
                "metric": f"ours/{t.versus}",
                "threshold": t.threshold,
                "value": value,
                "min": ratio["min"],
                "max": ratio["max"],
                "status": status,
            }
        )

    shares = [
        s.cpu_share
        for fam in samples.values()
        for per_op in fam.values()
        for ss in per_op.values()
        for s in ss
    ]
    ossl_shares = [r["cpu_share"] for rs in speed.values() for r in rs]
    return {
        "config": cfg,
        "host": host,
        "versions": versions,
        "families": families,
        "targets": targets,
        "noise": {
            "loadavg_end": loadavg(),
            "cpu_share_ours_native": {"median": _r(median(shares), 3), "min": _r(min(shares), 3)},
            "cpu_share_openssl": {
                "median": _r(median(ossl_shares), 3),
                "min": _r(min(ossl_shares), 3) if ossl_shares else None,
            },
        },
        "openssl_errors": openssl_errors,
    }


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _series(samples: list[Sample]) -> dict[str, Any]:
    rates = [s.rate for s in samples]
    return {
        "median": _r(median(rates), 1),
        "rates": [round(r, 1) for r in rates],
        "spread": _r(rel_spread(rates), 4),
        "cpu_share": [round(s.cpu_share, 3) for s in samples],
    }


def _ratio(values: list[float]) -> dict[str, Any]:
    return {
        "median": _r(median(values), 4),
        "min": _r(min(values), 4) if values else None,
        "max": _r(max(values), 4) if values else None,
        "n": len(values),
    }


# --------------------------------------------------------------------------- table


def render(result: dict[str, Any]) -> str:
    cfg, ver, host, noise = result["config"], result["versions"], result["host"], result["noise"]
    elapsed = " -elapsed" if cfg["clock"] == "wall" else ""
    head = [
        "crypto — signatures per second: GovTrust API (ours) vs native library vs openssl speed"
        + ("   [QUICK: smoke run, not figures]" if cfg["quick"] else ""),
        f"  median of {cfg['repetitions']} repetitions × {cfg['seconds']:g} s "
        f"({cfg['clock']} clock; ours and native alternate every {cfg['slice_seconds']:g} s), "
        f"warm-up {cfg['warmup_seconds']:g} s;"
        + (
            f"\n  openssl speed -seconds {cfg['openssl_seconds']} -mr{elapsed}, "
            f"{cfg['openssl_rounds']} run(s) per family"
            if ver["openssl_cli"]
            else "openssl speed NOT RUN (no openssl on PATH)"
        )
        + f"; message {cfg['message_bytes']} bytes",
        f"  cryptography {ver['cryptography']} ({ver['cryptography_openssl']}); "
        f"tongsuopy {ver['tongsuopy']} ({ver['tongsuopy_openssl']}); "
        f"openssl CLI: {ver['openssl_cli'] or 'NOT FOUND'}",
        f"  host: {host['cpus']} CPUs, {host['cpu_model']}; Python {host['python']}; "
        f"load {_load(host['loadavg_start'])} → {_load(noise['loadavg_end'])}; "
        f"CPU share of our loops median {_pct(noise['cpu_share_ours_native']['median'])}, "
        f"min {_pct(noise['cpu_share_ours_native']['min'])}; "
        f"of openssl runs min {_pct(noise['cpu_share_openssl']['min'])}",
    ]

    rows = []
    for fam in FAMILIES:
        entry = result["families"][fam.key]
        for op in OPS:
            e = entry[op]
            rows.append(
                [
                    fam.label if op == "sign" else "",
                    op,
                    fmt_rate(e["ours"]["median"]),
                    fmt_rate(e["native"]["median"]),
                    fmt_rate(e["openssl"]["median"]),
                    fmt_ratio(e["ours_per_native"]["median"]),
                    fmt_ratio(e["ours_per_openssl"]["median"]),
                    _signed(e["overhead_us_per_call"]),
                    _pct(e["ours"]["spread"], plus_minus=True),
                    _pct(e["native"]["spread"], plus_minus=True),
                ]
            )
    table = format_table(
        [
            "family",
            "op",
            "ours/s",
            "native/s",
            "openssl/s",
            "ours/native",
            "ours/openssl",
            "Δ µs/call",
            "ours ±",
            "native ±",
        ],
        rows,
        left=2,
    )

    labels = {f.key: f.label for f in FAMILIES}
    trows = [
        [
            labels[t["family"]],
            t["op"],
            t["metric"],
            f"≥ {t['threshold']:.2f}",
            fmt_ratio(t["value"]),
            "n/a" if t["min"] is None else f"{t['min']:.2f}–{t['max']:.2f}",
            t["status"],
        ]
        for t in result["targets"]
    ]
    ttable = format_table(
        ["family", "op", "ratio", "target", "median", "range", "result"], trows, left=3
    )
    counts = {s: sum(t["status"] == s for t in result["targets"]) for s in ("PASS", "MISS", "n/a")}
    summary = f"targets: {counts['PASS']} PASS, {counts['MISS']} MISS, {counts['n/a']} n/a"
    notes = [
        "  ours/native, ours/openssl: median of per-repetition ratios (range: min–max);",
        "  Δ µs/call: median of 1/ours − 1/native, the cost of the GovTrust layer per call;",
        "  ours ±, native ±: half the min–max range of the repetitions, relative to the median.",
    ]
    errors = [f"  openssl error: {e}" for e in result.get("openssl_errors", [])]
    return "\n".join([*head, "", table, "", ttable, "", summary, *notes, *errors])


def _load(values: list[float] | None) -> str:
    return "n/a" if not values else "/".join(f"{v:.2f}" for v in values)


def _pct(value: float | None, *, plus_minus: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.1f}%" if plus_minus else f"{value * 100:.0f}%"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"
