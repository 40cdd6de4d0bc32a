"""See the package docstring (:mod:`benchmarks.license`)."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Final

from .._harness import format_table, host_info, interleaved, loadavg, median, progress

ID_CARD: Final = "居民身份证"
QR_TARGET_VERSION: Final = 20
STATUS_TARGET_BYTES: Final = 140_000
DIGEST: Final = b"\x5a" * 32


def _signing(seconds: float, repetitions: int, clock: str) -> dict[str, Any]:
    from license_wallet.credential import issue_credential
    from license_wallet.identifier import build_identifier
    from license_wallet.types import example_fields, license_types
    from trust.crypto import generate_private_key

    card = next(t for t in license_types() if t.name_zh == ID_CARD)
    fields = example_fields(card.code)
    holder = generate_private_key("p256").signer("ES256").public_key
    lid = build_identifier(card.code, "113300000024820150", "330100202600012345", 1)
    t0 = int(datetime.now(UTC).timestamp())
    out: dict[str, Any] = {}
    for alg, family in (("SM2", "sm2"), ("ES256", "p256")):
        signer = generate_private_key(family).signer(alg)

        def raw(signer: Any = signer) -> None:
            signer.sign(DIGEST)

        def credential(signer: Any = signer) -> None:
            issue_credential(
                signer,
                signer.algorithm.cose,
                issuer_id="mps",
                type_code=card.code,
                identifier=lid,
                fields=fields,
                holder_public_key=holder,
                valid_from=t0,
                valid_until=t0 + 20 * 365 * 86400,
                status_uri="https://hub.example/api/license/v1/status/mps.cwt",
                status_index=123_456,
                issued_at=t0,
                kid=b"mps-0001",
            )

        ratios, rates = [], {"raw": [], "credential": []}
        for _ in range(repetitions):
            raw_s, cred_s = interleaved(
                [raw, credential], seconds, slice_seconds=min(0.25, seconds), clock=clock
            )
            raw_rate, cred_rate = raw_s.calls / raw_s.seconds, cred_s.calls / cred_s.seconds
            rates["raw"].append(raw_rate)
            rates["credential"].append(cred_rate)
            ratios.append(cred_rate / raw_rate)
        out[alg] = {
            "raw_per_s": median(rates["raw"]),
            "credential_per_s": median(rates["credential"]),
            "ratio": median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    return out


def _issuance(seconds: float, repetitions: int) -> dict[str, Any]:
    """Durable issuance through :class:`~license_wallet.service.LicenseService` (row,
    status index, event and log leaf committed, SQLite WAL ``synchronous=FULL``)
    beside raw SM2 signing with the same issuer's algorithm, wall clock."""
    import secrets
    import tempfile
    from pathlib import Path

    from govtrust.config import Config
    from govtrust.demo import seed_demo
    from govtrust.hub import Hub
    from license_wallet.types import example_fields, license_type
    from trust.crypto import generate_private_key
    from trust.identifiers import seed_participants

    code = license_type("resident_id_card").code
    fields = example_fields(code)
    holder = generate_private_key("p256").public_key().jwk()
    raw_signer = generate_private_key("sm2").signer("SM2")
    with tempfile.TemporaryDirectory(prefix="govtrust-bench-license-") as tmp:
        data_dir = Path(tmp) / "hub"
        hub = Hub(
            Config(
                data_dir=data_dir,
                database_url=f"sqlite:///{data_dir / 'govtrust.db'}",
                master_key=secrets.token_hex(32),
                base_url="http://127.0.0.1:8000",
            ),
            create_master_key=True,
        )
        try:
            hub.migrate()
            hub.ensure_hub_keys()
            hub.registry.seed(seed_participants())
            seed_demo(hub)

            def issue() -> None:
                hub.licenses.issue("mps", code, "bench-holder", holder, fields, actor="bench")

            def raw() -> None:
                raw_signer.sign(DIGEST)

            issue()  # warm: keys, status list, caches
            ours, peer, ratios = [], [], []
            for _ in range(repetitions):
                a, b = interleaved(
                    [issue, raw], seconds, slice_seconds=min(0.5, seconds), clock="wall"
                )
                ours.append(a.calls / a.seconds)
                peer.append(b.calls / b.seconds)
                ratios.append(ours[-1] / peer[-1])
            http = _http_issuance(hub, raw, code, fields, holder, seconds, repetitions)
        finally:
            hub.close()
    return {
        "issued_per_s": median(ours),
        "raw_sm2_per_s": median(peer),
        "ratio": median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "database": "SQLite WAL synchronous=FULL",
        "http": http,
    }


def _http_issuance(
    hub: Any,
    raw: Any,
    code: str,
    fields: dict[str, str],
    holder: dict[str, Any],
    seconds: float,
    repetitions: int,
) -> dict[str, Any]:
    """``POST /api/license/v1/licenses`` over HTTP/1.1 keep-alive to the hub's WSGI
    app (Werkzeug's threaded server in this process), one client, a machine token
    with ``license:issue`` fetched once, the per-client rate limit lifted; beside
    raw SM2 signing, wall clock."""
    import base64
    import http.client
    import json
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    from govtrust.app import create_app

    secret = "b" * 40
    hub.idp.clients.add(
        client_id="bench-mps",
        name="bench",
        secret=secret,
        scopes=["license:issue"],
        participant_id="mps",
        replace=True,
    )

    class Quiet(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = create_app(hub.config, hub=hub)
    app.config["LICENSE_API_RATE_LIMIT"] = (1e9, 10**9)  # measure the service, not the limit
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    try:
        basic = base64.b64encode(b"bench-mps:" + secret.encode()).decode()
        conn.request(
            "POST",
            "/idp/token",
            body="grant_type=client_credentials&scope=license%3Aissue",
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        resp = conn.getresponse()
        token = json.loads(resp.read())["access_token"]
        body = json.dumps(
            {
                "type": "resident_id_card",
                "holder": {"subject": "bench-holder", "key": holder},
                "fields": fields,
                "valid_from": "2026-01-01",
                "valid_until": "2046-01-01",
            }
        )
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def post() -> None:
            conn.request("POST", "/api/license/v1/licenses", body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            if r.status != 201:
                raise RuntimeError(f"issuance over HTTP: {r.status} {data[:200]!r}")

        post()
        ours, peer, ratios = [], [], []
        for _ in range(repetitions):
            a, b = interleaved([post, raw], seconds, slice_seconds=min(0.5, seconds), clock="wall")
            ours.append(a.calls / a.seconds)
            peer.append(b.calls / b.seconds)
            ratios.append(ours[-1] / peer[-1])
    finally:
        conn.close()
        server.shutdown()
        thread.join()
        server.server_close()
    return {
        "issued_per_s": median(ours),
        "raw_sm2_per_s": median(peer),
        "ratio": median(ratios),
        "server": "Werkzeug threaded, in process; one keep-alive client",
    }


def _qr(quick: bool) -> dict[str, Any]:
    from license_wallet.credential import qr_versions

    rows = qr_versions(error="M")
    card = [r for r in rows if r["name_zh"] == ID_CARD and r["disclosure"] == "minimal"]
    worst = max(r["version"] for r in card)
    return {
        "rows": rows,
        "distribution": dict(sorted(Counter(r["version"] for r in rows).items())),
        "id_card_minimal_max_version": worst,
    }


def _status(quick: bool) -> list[dict[str, Any]]:
    from license_wallet.status_list import size_report

    sizes = (10_000, 100_000) if quick else (1_000_000, 10_000_000)
    out = []
    for n in sizes:
        for small in (False, True):
            progress(f"license: status list {n:,} entries, {'zopfli' if small else 'zlib -9'}")
            start = time.process_time()
            report = size_report(n, 0.01, seed=1, small=small)
            out.append(
                {
                    "entries": n,
                    "encoder": "zopfli (1 iteration)" if small else "zlib level 9",
                    "compressed_bytes": report.compressed_bytes,
                    "raw_bytes": report.raw_bytes,
                    "cpu_seconds": round(time.process_time() - start, 2),
                }
            )
    return out


def _raw_sm2() -> Any:
    from trust.crypto import generate_private_key

    return generate_private_key("sm2").signer("SM2")


def _served_lines(served: dict[str, Any] | None) -> list[str]:
    if not served:
        return []
    return [
        f"  through the API under {served['server']}, {served['load']}: "
        f"{served['issued_per_s']:,.0f}/s ({served['issued_per_worker_s']:,.0f}/s per worker, "
        f"{served['issued_per_server_cpu_s']:,.0f} per server CPU-s) vs raw SM2 "
        f"{served['raw_sm2_per_s']:,.0f}/s per core -> per-worker ratio {served['ratio']:.3f} "
        f"({served['ratio_min']:.3f}–{served['ratio_max']:.3f}); errors {served['errors']}"
        + (f" e.g. {served['error_samples'][0]}" if served["error_samples"] else ""),
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    repetitions = getattr(args, "repetitions", None) or (1 if quick else 5)
    seconds = getattr(args, "seconds", None) or (0.3 if quick else 1.0)
    clock = getattr(args, "clock", "cpu") or "cpu"
    result: dict[str, Any] = {
        "config": {"quick": quick, "repetitions": repetitions, "seconds": seconds},
        "host": host_info(),
    }
    progress("license: credential signing vs raw signing")
    result["signing"] = _signing(seconds, repetitions, clock)
    progress("license: durable issuance (LicenseService) vs raw SM2 signing")
    result["issuance"] = _issuance(seconds, repetitions)
    progress("license: issuance through the API under govtrust serve --workers 2")
    from ._http import http_issuance

    raw_signer = _raw_sm2()
    result["issuance"]["served"] = http_issuance(
        lambda: raw_signer.sign(DIGEST),
        seconds=2.0 if quick else max(5.0, 5 * seconds),
        repetitions=1 if quick else 3,
    )
    progress("license: QR versions per type")
    result["qr"] = _qr(quick)
    result["status_lists"] = _status(quick)
    largest = [s for s in result["status_lists"] if s["entries"] == 10_000_000]
    best = min((s["compressed_bytes"] for s in largest), default=None)
    qr_worst = result["qr"]["id_card_minimal_max_version"]
    result["targets"] = [
        {
            "name": f"{ID_CARD} minimal presentation fits QR version {QR_TARGET_VERSION}-M",
            "value": qr_worst,
            "status": "PASS" if qr_worst <= QR_TARGET_VERSION else "MISS",
        },
        {
            "name": "status list, 10^7 entries at 1 % revoked <= 140 KB (best encoder)",
            "value": best,
            "status": "n/a" if best is None else "PASS" if best <= STATUS_TARGET_BYTES else "MISS",
        },
    ]
    result["loadavg_end"] = loadavg()
    return result


def render(result: dict[str, Any]) -> str:
    host = result["host"]
    lines = [
        f"license — credentials, QR sizes and status lists, {host['cpus']} CPUs "
        f"({host['cpu_model']}), loadavg {host['loadavg_start']} -> {result['loadavg_end']}"
        + ("; QUICK: figures mean nothing" if result["config"]["quick"] else ""),
        "",
        format_table(
            ["issuer key", "raw signs/s", "credentials/s", "credential ÷ raw", "min–max"],
            [
                [
                    alg,
                    f"{r['raw_per_s']:,.0f}",
                    f"{r['credential_per_s']:,.0f}",
                    f"{r['ratio']:.2f}",
                    f"{r['ratio_min']:.2f}–{r['ratio_max']:.2f}",
                ]
                for alg, r in result["signing"].items()
            ],
        ),
        f"  durable issuance (LicenseService, mps SM2, {result['issuance']['database']}): "
        f"{result['issuance']['issued_per_s']:,.0f}/s vs raw SM2 "
        f"{result['issuance']['raw_sm2_per_s']:,.0f}/s -> ratio {result['issuance']['ratio']:.3f} "
        f"({result['issuance']['ratio_min']:.3f}–{result['issuance']['ratio_max']:.3f})",
        f"  through the API (POST /api/license/v1/licenses, "
        f"{result['issuance']['http']['server']}): "
        f"{result['issuance']['http']['issued_per_s']:,.0f}/s vs raw SM2 "
        f"{result['issuance']['http']['raw_sm2_per_s']:,.0f}/s -> ratio "
        f"{result['issuance']['http']['ratio']:.3f}",
        *_served_lines(result["issuance"].get("served")),
        "",
        format_table(
            ["license type", "alg", "disclosure", "fields", "QR chars", "QR version (M)"],
            [
                [
                    r["name_zh"],
                    r["alg"],
                    r["disclosure"],
                    str(len(r["fields"])) if isinstance(r["fields"], list) else str(r["fields"]),
                    str(r["chars"]),
                    str(r["version"]),
                ]
                for r in result["qr"]["rows"]
            ],
        ),
        "  versions: " + ", ".join(f"v{v}: {n}" for v, n in result["qr"]["distribution"].items()),
        "",
        format_table(
            ["status list entries", "encoder", "compressed bytes", "raw bytes", "CPU s"],
            [
                [
                    f"{s['entries']:,}",
                    s["encoder"],
                    f"{s['compressed_bytes']:,}",
                    f"{s['raw_bytes']:,}",
                    f"{s['cpu_seconds']:.2f}",
                ]
                for s in result["status_lists"]
            ],
        ),
        "",
        format_table(
            ["target", "value", "status"],
            [[t["name"], str(t["value"]), t["status"]] for t in result["targets"]],
        ),
    ]
    return "\n".join(lines)
