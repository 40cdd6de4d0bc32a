"""Seal service throughput through the HTTP API, beside the signing it wraps, same run.

See the package docstring (:mod:`benchmarks.seal`) for what is measured and why;
``_server.py`` starts the hub, ``_load.py`` is the load generator.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from .._harness import format_table, host_info, loadavg, progress, time_loop
from ..idp import _servers
from ..idp._client import Http, Target, client_credentials, keyset
from . import _server
from ._load import CLIENTS_PER_THREAD, SealLoadSpec, run_load, sign_once

KINDS: Final = ("ses", "pdf")
TARGETS: Final = {"ses": 0.5, "pdf": 0.8}
PEER_NAMES: Final = {
    "ses": "raw SM2 sign (trust.crypto Signer.sign, 32 bytes)",
    "pdf": "pyHanko PdfSigner directly (its defaults; the hub's RSA seal, B-T, hub ES256 TSA)",
}
# A second in-process peer, without a target: the API's own sealing call.
LIBRARY_NAMES: Final = {
    "pdf": "seal_service.pades.seal_pdf in-process (the API's own sealing call)",
}
API_NAMES: Final = {
    "ses": "API: detached SES, JSON hash mode (SM2 seal)",
    "pdf": "API: PDF upload, format=pdf (RSA seal, B-T from the hub's TSA)",
}
MM: Final = 72 / 25.4
A4: Final = (595, 842)


@dataclass(frozen=True, slots=True)
class Mode:
    repetitions: int
    api_seconds: float  # one timed slice of API load
    peer_seconds: float  # CPU seconds of one in-process peer measurement
    warmup_seconds: float
    processes: int  # load-generator processes
    threads: int  # threads per process (each its own machine client and token)


FULL: Final = Mode(5, 5.0, 2.0, 1.5, 2, 4)
QUICK: Final = Mode(1, 1.0, 0.3, 0.3, 1, 2)


def _mode(args: argparse.Namespace) -> Mode:
    mode = QUICK if getattr(args, "quick", False) else FULL
    if getattr(args, "repetitions", None):
        mode = replace(mode, repetitions=int(args.repetitions))
    if getattr(args, "seconds", None):
        mode = replace(mode, api_seconds=float(args.seconds))
    for name in ("processes", "threads"):
        value = getattr(args, f"seal_{name}", None) or os.environ.get(
            f"GOVTRUST_BENCH_SEAL_{name.upper()}"
        )
        if value:
            mode = replace(mode, **{name: int(value)})
    return mode


# --------------------------------------------------------------------------- inputs


def make_pdf() -> bytes:
    """A minimal valid PDF 1.7: one empty A4 page, a classic xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << >> >>" % A4,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def sm2_peer() -> Callable[[], bytes]:
    """SM2 signing of 32 bytes through the trust core (a fresh software key)."""
    from trust.crypto import generate_private_key

    key = generate_private_key("sm2")
    signer = key.signer("SM2")
    message = os.urandom(32)
    signature = signer.sign(message)
    signer.public_key.verify("SM2", message, signature)
    return lambda: signer.sign(message)


def pdf_peer(pdf: bytes, rsa_seal: dict[str, Any]) -> tuple[Callable[[], bytes], dict[str, Any]]:
    """``seal_pdf`` in this process with what the hub's worker uses for the same
    request: the RSA seal's own key, certificate and chain (as the hub embeds it),
    its image, size and name, level B-T with the hub's own ES256 RFC 3161
    authority — the API's work minus HTTP, authentication and the database."""
    from seal_service.pades import seal_pdf
    from seal_service.tsa_pyhanko import InProcessTimeStamper

    signer, certificate, chain = rsa_seal["signer"], rsa_seal["certificate"], rsa_seal["chain"]
    authority = rsa_seal["tsa"]
    timestamper = InProcessTimeStamper(lambda: authority)

    def call() -> bytes:
        return seal_pdf(
            pdf,
            signer=signer,
            certificate=certificate,
            chain=chain,
            seal_png=rsa_seal["image_png"],
            page=0,
            x_mm=20.0,
            y_mm=20.0,
            size_mm=rsa_seal["width_mm"],
            level="B-T",
            timestamper=timestamper,
            name=rsa_seal["name"],
        )

    return call, {"rsa_bits": int(rsa_seal["key_bits"]), "chain_embedded": len(chain)}


def pyhanko_peer(pdf: bytes, rsa_seal: dict[str, Any]) -> Callable[[], bytes]:
    """pyHanko's ``PdfSigner`` called directly, as its documentation shows, with
    pyHanko's defaults (the signature's size estimated by a dry-run CMS), on the
    same PDF with the same material as the hub: the RSA seal's key (reached through
    the same bridge as the hub's, so no key leaves the key store), certificate and
    chain, the seal image as a static stamp at the same place and size, PAdES B-T
    from the hub's ES256 authority. The image is decoded once, not per call, and
    nothing is checked beyond what pyHanko checks: this peer is, if anything, given
    the advantage."""
    import io

    from asn1crypto import x509 as asn1_x509
    from PIL import Image
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from seal_service.pades import _PyHankoSignerBridge, seal_stamp_style
    from seal_service.tsa_pyhanko import InProcessTimeStamper

    authority = rsa_seal["tsa"]
    timestamper = InProcessTimeStamper(lambda: authority)
    bridge = _PyHankoSignerBridge(
        rsa_seal["signer"],
        asn1_x509.Certificate.load(rsa_seal["certificate"].der),
        [asn1_x509.Certificate.load(c.der) for c in rsa_seal["chain"]],
    )
    image = Image.open(io.BytesIO(rsa_seal["image_png"]))
    image.load()
    style = seal_stamp_style(image)  # the hub's stamp: the seal image filling the widget
    side = rsa_seal["width_mm"] * MM
    box = (20 * MM, 20 * MM, 20 * MM + side, 20 * MM + side)

    def call() -> bytes:
        pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(
                field_name="Seal1",
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                name=rsa_seal["name"],
            ),
            signer=bridge,
            timestamper=timestamper,
            stamp_style=style,
            new_field_spec=fields.SigFieldSpec(sig_field_name="Seal1", on_page=0, box=box),
        )
        out = io.BytesIO()
        pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out)
        return out.getvalue()

    return call


# --------------------------------------------------------------------------- checks


def functional_check(hub: _server.SealHub, target: Target, pdf: bytes) -> dict[str, Any]:
    """One SES and one PDF seal through the API, each parsed and verified here."""
    from seal_service.pades import verify_pdf
    from seal_service.ses import parse_signature, verify_signature

    conn = Http(target.base_url)
    try:
        token = client_credentials(
            conn, replace(target, machine_client=hub.clients[0]), keyset(target.jwks)
        )
        digest, ses, ses_index = sign_once(conn, token, "ses", hub.ses_seal, pdf)
        sealed, sealed_pdf, pdf_index = sign_once(conn, token, "pdf", hub.pdf_seal, pdf)
    finally:
        conn.close()
    sig = parse_signature(ses)
    if sig.data_hash != digest:
        raise RuntimeError("the SES signature does not bind the digest that was sent")
    ses_report = verify_signature(sig, data_hash=digest, roots=hub.roots, intermediates=hub.cas)
    pdf_reports = verify_pdf(sealed_pdf, trust_roots=hub.roots)
    if len(pdf_reports) != 1:
        raise RuntimeError(f"the sealed PDF has {len(pdf_reports)} signatures")
    return {
        "access_token": "verified",
        "ses": {
            "bytes": len(ses),
            "data_hash": "matches",
            "log_index": ses_index,
            "indication": str(ses_report.indication),
        },
        "pdf": {
            "bytes_in": len(sealed),
            "bytes_out": len(sealed_pdf),
            "log_index": pdf_index,
            "indication": str(pdf_reports[0].indication),
        },
    }


def peer_check(
    hub: _server.SealHub,
    pdf: bytes,
    pyhanko_fn: Callable[[], bytes],
    library_fn: Callable[[], bytes],
) -> dict[str, str]:
    """Each in-process peer's sealed PDF verifies (PASSED) against the hub's roots."""
    from seal_service.pades import verify_pdf

    out = {}
    for name, fn in (("pyhanko", pyhanko_fn), ("seal_pdf", library_fn)):
        reports = verify_pdf(fn(), trust_roots=hub.roots)
        if len(reports) != 1 or reports[0].indication.name != "PASSED":
            raise RuntimeError(f"the {name} peer's PDF does not verify: {reports}")
        out[name] = str(reports[0].indication)
    return out


# --------------------------------------------------------------------------- measuring


def _api_slice(
    pool: Any, hub: _server.SealHub, target: Target, kind: str, pdf: bytes, seconds: float, m: Mode
) -> dict[str, Any]:
    seal = hub.ses_seal if kind == "ses" else hub.pdf_seal
    specs = [
        SealLoadSpec(
            kind,
            target,
            hub.clients[
                i * m.threads * CLIENTS_PER_THREAD : (i + 1) * m.threads * CLIENTS_PER_THREAD
            ],
            seal,
            pdf,
            seconds,
        )
        for i in range(m.processes)
    ]
    before = _servers.tree_cpu(hub.server)
    parts = pool.map(run_load, specs)
    after = _servers.tree_cpu(hub.server)
    return {
        "ok": sum(p["ok"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "rate_limited": sum(p["rate_limited"] for p in parts),
        "latencies_ms": [x for p in parts for x in p["latencies_ms"]],
        "error_samples": [e for p in parts for e in p["error_samples"]],
        "wall": max(p["wall"] for p in parts),
        "client_cpu": sum(p["cpu"] for p in parts),
        "server_cpu": _servers.cpu_delta(before, after),
    }


def _peer_slice(fn: Callable[[], object], seconds: float) -> dict[str, Any]:
    s = time_loop(fn, seconds, clock="cpu")
    return {"calls": s.calls, "cpu": s.cpu, "wall": s.wall, "rate": s.rate, "share": s.cpu_share}


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def _stats(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _summary(api: list[dict[str, Any]], peer: list[dict[str, Any]], ncpu: int) -> dict[str, Any]:
    rates = [s["ok"] / s["wall"] for s in api if s["wall"] > 0]
    per_worker = [r / _server.WORKERS for r in rates]
    per_cpu_s = [s["ok"] / s["server_cpu"] if s["server_cpu"] > 0 else 0.0 for s in api]
    peer_rates = [p["rate"] for p in peer]
    lat = sorted(x for s in api for x in s["latencies_ms"])
    ok = sum(s["ok"] for s in api)
    wall = sum(s["wall"] for s in api)
    server_cpu = sum(s["server_cpu"] for s in api)
    client_cpu = sum(s["client_cpu"] for s in api)
    ms_per_op = server_cpu * 1000.0 / ok if ok else None
    return {
        "api": {
            "rate": statistics.median(rates) if rates else 0.0,
            "rate_min": min(rates, default=0.0),
            "rate_max": max(rates, default=0.0),
            "rates": [round(r, 2) for r in rates],
            "per_worker": statistics.median(per_worker) if per_worker else 0.0,
            "ok": ok,
            "errors": sum(s["errors"] for s in api),
            "rate_limited": sum(s["rate_limited"] for s in api),
            "error_samples": [e for s in api for e in s["error_samples"]][:5],
            "p50_ms": percentile(lat, 50),
            "p99_ms": percentile(lat, 99),
            "max_ms": lat[-1] if lat else None,
            "server_cpu_ms_per_op": ms_per_op,
            "ops_per_server_cpu_s": 1000.0 / ms_per_op if ms_per_op else None,
            "server_cpu_share": server_cpu / (wall * ncpu) if wall else None,
            "client_cpu_share": client_cpu / (wall * ncpu) if wall else None,
            "seconds": round(wall, 2),
        },
        "peer": {
            "rate_per_core": statistics.median(peer_rates) if peer_rates else 0.0,
            "rate_min": min(peer_rates, default=0.0),
            "rate_max": max(peer_rates, default=0.0),
            "ms_cpu_per_op": 1000.0 / statistics.median(peer_rates) if peer_rates else None,
            "calls": sum(p["calls"] for p in peer),
            "cpu_share": statistics.median([p["share"] for p in peer]) if peer else None,
        },
        "ratios": {
            # API ops/s ÷ 2 workers, over the peer's ops per CPU-second, per repetition
            "per_worker": _stats(
                [a / p for a, p in zip(per_worker, peer_rates, strict=False) if p > 0]
            ),
            # API ops per server CPU-second, over the peer's ops per CPU-second
            "per_server_cpu_s": _stats(
                [a / p for a, p in zip(per_cpu_s, peer_rates, strict=False) if p > 0]
            ),
        },
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    mode = _mode(args)
    ncpu = os.cpu_count() or 1
    pdf = make_pdf()
    nclients = mode.processes * mode.threads * CLIENTS_PER_THREAD
    result: dict[str, Any] = {
        "config": {
            **asdict(mode),
            "quick": bool(getattr(args, "quick", False)),
            "clock": "wall for API rates, process CPU for the in-process peers",
            "concurrency": mode.processes * mode.threads,
            "machine_clients": nclients,
            "workers": _server.WORKERS,
            "pdf_bytes": len(pdf),
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        },
        "host": host_info(),
    }
    progress("seal: SM2 peer")
    sm2 = sm2_peer()
    with tempfile.TemporaryDirectory(prefix="govtrust-bench-seal-") as tmp:
        progress(f"seal: govtrust init --demo, {nclients} machine clients, govtrust serve")
        with _server.seal_hub(Path(tmp), nclients) as hub:
            s = hub.server
            target = Target(
                side=s.side,
                base_url=s.base_url,
                issuer=s.issuer,
                authorize_path=s.authorize_path,
                token_path=s.token_path,
                redirect_uri=_servers.REDIRECT_URI,
                web_client="",
                machine_client=hub.clients[0],
                secret=hub.secret,
                jwks=s.jwks,
                accounts=(),
                machine_audience=s.machine_audience,
            )
            result["server"] = {
                "description": s.description,
                **hub.info,
                "seals": {"ses": hub.ses_seal, "pdf": hub.pdf_seal},
            }
            library_fn, pdf_info = pdf_peer(pdf, hub.rsa_seal)
            pyhanko_fn = pyhanko_peer(pdf, hub.rsa_seal)
            result["config"]["pdf_peer"] = pdf_info
            result["config"]["seal_width_mm"] = hub.rsa_seal["width_mm"]
            progress("seal: functional check")
            result["checks"] = functional_check(hub, target, pdf)
            result["checks"]["pdf_peers"] = peer_check(hub, pdf, pyhanko_fn, library_fn)
            peers = {"ses": sm2, "pdf": pyhanko_fn}
            libraries = {"pdf": library_fn}
            api: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            peer: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            library: dict[str, list[dict[str, Any]]] = {k: [] for k in libraries}
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(mode.processes) as pool:
                for kind in KINDS:  # warm-up: every side, every kind
                    _api_slice(pool, hub, target, kind, pdf, mode.warmup_seconds, mode)
                    _peer_slice(peers[kind], mode.warmup_seconds)
                    if kind in libraries:
                        _peer_slice(libraries[kind], mode.warmup_seconds)
                for rep in range(mode.repetitions):
                    for kind in KINDS:
                        progress(f"seal: rep {rep + 1}/{mode.repetitions} {kind}")
                        sides = ["api", "peer"] if rep % 2 == 0 else ["peer", "api"]
                        for side in sides:
                            if side == "api":
                                api[kind].append(
                                    _api_slice(pool, hub, target, kind, pdf, mode.api_seconds, mode)
                                )
                            else:
                                peer[kind].append(_peer_slice(peers[kind], mode.peer_seconds))
                                if kind in libraries:
                                    library[kind].append(
                                        _peer_slice(libraries[kind], mode.peer_seconds)
                                    )
    result["kinds"] = {k: _summary(api[k], peer[k], ncpu) for k in KINDS}
    for k, runs in library.items():
        lib = _summary(api[k], runs, ncpu)
        result["kinds"][k]["library"] = {"peer": lib["peer"], "ratios": lib["ratios"]}
    result["loadavg_end"] = loadavg()
    result["targets"] = _targets(result)
    return result


def _status(value: float | None, target: float) -> str:
    return "n/a" if value is None else ("PASS" if value >= target else "MISS")


def _targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for kind in KINDS:
        r = result["kinds"][kind]["ratios"]
        goal = TARGETS[kind]
        what = "SES seals" if kind == "ses" else "PDF seals"
        peer = "raw SM2 signs/s per core" if kind == "ses" else "pyHanko-direct seals/s per core"
        for key, label in (
            ("per_worker", f"API {what}/s per worker (ops/s / {_server.WORKERS})"),
            ("per_server_cpu_s", f"API {what} per server CPU-second"),
        ):
            value = None if r[key] is None else r[key]["median"]
            out.append(
                {
                    "kind": kind,
                    "basis": key,
                    "target": f"{label} >= {goal:.1f} x {peer}",
                    "goal": goal,
                    "value": value,
                    "status": _status(value, goal),
                }
            )
    return out


# --------------------------------------------------------------------------- table


def _f(value: float | None, spec: str = ",.1f") -> str:
    return "n/a" if value is None else format(value, spec)


def _peer_row(label: str, p: dict[str, Any]) -> list[str]:
    return [
        label,
        _f(p["rate_per_core"]),
        f"{_f(p['rate_min'])}–{_f(p['rate_max'])}",
        "(per core)",
        _f(p["ms_cpu_per_op"], ".2f"),
        _f(p["rate_per_core"]),
        "",
        "",
        f"{_f(100 * (p['cpu_share'] or 0), '.0f')}",
        "",
    ]


def render(result: dict[str, Any]) -> str:
    cfg, host = result["config"], result["host"]
    lines = [
        f"seal — sealing API throughput vs the signing it wraps, {host['cpus']} CPUs "
        f"({host['cpu_model']}), loadavg {host['loadavg_start']} -> {result.get('loadavg_end')}",
        f"  server: {result['server']['description']}",
        f"  load: {cfg['processes']} processes x {cfg['threads']} threads "
        f"({cfg['concurrency']} in flight; {cfg.get('machine_clients', cfg['concurrency'])} "
        "machine clients, each thread taking its clients' tokens in turn), "
        f"{cfg['repetitions']} repetitions x {cfg['api_seconds']:g} s API / "
        f"{cfg['peer_seconds']:g} CPU-s peer, interleaved"
        + ("; QUICK: figures mean nothing" if cfg["quick"] else ""),
        f"  PDF: {cfg['pdf_bytes']} bytes, 1 page; peer RSA-{cfg['pdf_peer']['rsa_bits']}, "
        f"{cfg['pdf_peer']['chain_embedded']} CA cert(s) embedded, seal image "
        f"{cfg['seal_width_mm']} mm",
        "",
    ]
    rows = []
    for kind in KINDS:
        k = result["kinds"][kind]
        a, p = k["api"], k["peer"]
        rows.append(
            [
                API_NAMES[kind],
                _f(a["rate"]),
                f"{_f(a['rate_min'])}–{_f(a['rate_max'])}",
                _f(a["per_worker"]),
                _f(a["server_cpu_ms_per_op"], ".2f"),
                _f(a["ops_per_server_cpu_s"]),
                _f(a["p50_ms"]),
                _f(a["p99_ms"]),
                f"{_f(100 * (a['server_cpu_share'] or 0), '.0f')}/"
                f"{_f(100 * (a['client_cpu_share'] or 0), '.0f')}",
                f"{a['errors']}/{a['rate_limited']}",
            ]
        )
        rows.append(_peer_row("  peer: " + PEER_NAMES[kind], p))
        if "library" in k:
            rows.append(_peer_row("  also: " + LIBRARY_NAMES[kind], k["library"]["peer"]))
    lines.append(
        format_table(
            [
                "measured",
                "ops/s",
                "min–max",
                "per worker",
                "CPU ms/op",
                "ops/CPU-s",
                "p50 ms",
                "p99 ms",
                "CPU% srv/cli",
                "err/429",
            ],
            rows,
        )
    )
    lines += [
        "",
        "  API CPU ms/op is the server's (/proc, master + workers); peer CPU ms/op is this",
        "  process's. CPU% srv/cli: share of all cores used by the server / load generator.",
        "",
        format_table(
            ["ratio (median of per-repetition ratios)", "median", "min–max"],
            [
                [
                    f"{kind} {label}",
                    _f(r["median"], ".2f"),
                    f"{_f(r['min'], '.2f')}–{_f(r['max'], '.2f')}",
                ]
                for kind in KINDS
                for key, label in (
                    ("per_worker", "API per worker / peer per core"),
                    ("per_server_cpu_s", "API per server CPU-s / peer per CPU-s"),
                )
                if (r := result["kinds"][kind]["ratios"][key]) is not None
            ]
            + [
                [
                    f"{kind} {label}",
                    _f(r["median"], ".2f"),
                    f"{_f(r['min'], '.2f')}–{_f(r['max'], '.2f')}",
                ]
                for kind in KINDS
                if "library" in result["kinds"][kind]
                for key, label in (
                    ("per_worker", "API per worker / seal_pdf per core (no target)"),
                    ("per_server_cpu_s", "API per server CPU-s / seal_pdf per CPU-s"),
                )
                if (r := result["kinds"][kind]["library"]["ratios"][key]) is not None
            ],
        ),
        "",
        format_table(
            ["target", "value", "status"],
            [[t["target"], _f(t["value"], ".2f"), t["status"]] for t in result["targets"]],
        ),
    ]
    errors = [(kind, e) for kind in KINDS for e in result["kinds"][kind]["api"]["error_samples"]]
    if errors:
        lines += ["", "errors (samples):"] + [f"  {k}: {e}" for k, e in errors]
    return "\n".join(lines)
