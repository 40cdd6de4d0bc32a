"""See the package docstring (:mod:`benchmarks.verifier`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .._harness import format_table, host_info, interleaved, loadavg, median, progress

TARGETS: Final = {"ES256": 3000.0, "SM2": 1500.0}
STATUS_URI: Final = "https://hub.example/api/license/v1/status/mps.cwt"


@dataclass
class _Trust:
    info: Any
    key: Any

    def issuer(self, participant_id: str) -> Any:
        return self.info if participant_id == self.info.participant_id else None

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> Iterable[Any]:
        return [self.key]

    def status(self, uri: str, index: int) -> int | None:
        return 0 if uri == STATUS_URI else None

    def stale(self, now: datetime) -> str | None:
        return None


def _case(alg: str, family: str, now: datetime) -> tuple[Any, Any, Any]:
    from license_wallet.credential import issue_credential, present_qr_text
    from license_wallet.identifier import build_identifier
    from license_wallet.types import example_fields, license_types
    from trust.crypto import generate_private_key
    from verifier.licenses import VALID, IssuerInfo, verify_license_qr

    card = next(t for t in license_types() if t.name_zh == "居民身份证")
    issuer_key = generate_private_key(family)
    holder_key = generate_private_key("p256")
    signer = issuer_key.signer(alg)
    credential = issue_credential(
        signer,
        signer.algorithm.cose,
        issuer_id="mps",
        type_code=card.code,
        identifier=build_identifier(card.code, "113300000024820150", "330100202600000007", 1),
        fields=example_fields(card.code),
        holder_public_key=holder_key.public_key(),
        valid_from=now - timedelta(days=30),
        valid_until=now + timedelta(days=3650),
        status_uri=STATUS_URI,
        status_index=7,
        issued_at=now - timedelta(days=30),
        kid=b"mps-0001",
    )
    nonce = b"counter-0001"
    text = present_qr_text(credential, "minimal", holder_key.signer("ES256"), now=now, nonce=nonce)
    trust = _Trust(
        IssuerInfo("mps", "公安部", "MPS", True, frozenset({card.code})),
        issuer_key.public_key(),
    )
    verdict = verify_license_qr(text, trust, now=now, expected_nonce=nonce)
    if verdict.verdict != VALID:
        raise RuntimeError(f"benchmark input does not verify: {verdict}")

    def verify() -> None:
        verify_license_qr(text, trust, now=now, expected_nonce=nonce)

    message = b"x" * 200
    issuer_sig = signer.sign(message)
    holder_sig = holder_key.signer("ES256").sign(message)
    issuer_pub, holder_pub = issuer_key.public_key(), holder_key.public_key()

    def raw() -> None:
        issuer_pub.verify(alg, message, issuer_sig)
        holder_pub.verify("ES256", message, holder_sig)

    return verify, raw, len(text)


def run(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    repetitions = getattr(args, "repetitions", None) or (1 if quick else 5)
    seconds = getattr(args, "seconds", None) or (0.2 if quick else 1.0)
    clock = getattr(args, "clock", "cpu") or "cpu"
    now = datetime.now(UTC)
    result: dict[str, Any] = {
        "config": {"quick": quick, "repetitions": repetitions, "seconds": seconds},
        "host": host_info(),
        "algorithms": {},
    }
    for alg, family in (("ES256", "p256"), ("SM2", "sm2")):
        progress(f"verifier: {alg} QR verdicts vs raw verification")
        verify, raw, chars = _case(alg, family, now)
        ours, peer, ratios = [], [], []
        for _ in range(repetitions):
            a, b = interleaved(
                [verify, raw], seconds, slice_seconds=min(0.25, seconds), clock=clock
            )
            ours.append(a.calls / a.seconds)
            peer.append(b.calls / b.seconds)
            ratios.append(ours[-1] / peer[-1])
        rate = median(ours)
        result["algorithms"][alg] = {
            "qr_chars": chars,
            "verdicts_per_s": rate,
            "raw_pairs_per_s": median(peer),
            "ratio": median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "target": TARGETS[alg],
            "status": "PASS" if rate is not None and rate >= TARGETS[alg] else "MISS",
        }
    result["loadavg_end"] = loadavg()
    return result


def render(result: dict[str, Any]) -> str:
    host = result["host"]
    rows = [
        [
            alg,
            str(r["qr_chars"]),
            f"{r['verdicts_per_s']:,.0f}",
            f"{r['raw_pairs_per_s']:,.0f}",
            f"{r['ratio']:.2f} ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})",
            f"{r['target']:,.0f}",
            r["status"],
        ]
        for alg, r in result["algorithms"].items()
    ]
    return "\n".join(
        [
            f"verifier — QR text → verdict per core, {host['cpus']} CPUs ({host['cpu_model']}), "
            f"loadavg {host['loadavg_start']} -> {result['loadavg_end']}"
            + ("; QUICK: figures mean nothing" if result["config"]["quick"] else ""),
            "",
            format_table(
                [
                    "issuer",
                    "QR chars",
                    "verdicts/s",
                    "raw 2 verifies/s",
                    "ratio",
                    "target/s",
                    "status",
                ],
                rows,
            ),
        ]
    )
