"""See the package docstring (:mod:`benchmarks.verifier`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .._harness import format_table, host_info, interleaved, loadavg, median, progress

TARGETS: Final = {"ES256": 3000.0, "SM2": 1500.0}
PHOTO_TARGET_MS: Final = 15.0
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

    verify.text = text  # type: ignore[attr-defined]
    verify.trust = trust  # type: ignore[attr-defined]
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
    progress("verifier: EU DCC test suite, ours vs a cbor2 + cryptography reference")
    result["dcc"] = _dcc(repetitions, seconds, clock)
    progress("verifier: photo of a version-20 QR → verdict")
    result["photo"] = _photo(now, 8 if quick else 60)
    progress("verifier: the counter page's own verifier in headless Chromium vs Python")
    from .browser import measure

    result["browser"] = measure(10 if quick else 50)
    fuzz_cases = int(getattr(args, "fuzz_cases", 0) or (2_000 if quick else 100_000))
    progress(f"verifier: fuzz, {fuzz_cases:,} mutated QR texts")
    result["fuzz"] = _fuzz(now, fuzz_cases)
    result["loadavg_end"] = loadavg()
    return result


def _photo(now: datetime, calls: int) -> dict[str, Any]:
    """Median wall time of photo → verdict for a 1000-pixel JPEG of an ES256
    issuer's minimal presentation (QR version ≥ 20, turned 15°, slightly tilted
    and soft), beside the bare pipeline on the same bytes: Pillow decode +
    greyscale + one zxing-cpp pass."""
    import io
    import time

    import zxingcpp
    from PIL import Image

    from license_wallet.qr import render_qr
    from verifier.images import verify_license_image
    from verifier.licenses import VALID

    from .photos import photo

    verify, _, _ = _case("ES256", "p256", now)
    text, trust = verify.text, verify.trust  # type: ignore[attr-defined]
    version = render_qr(text).version
    jpeg = photo(text, side=1000, angle=15, tilt=0.08, blur=0.7, noise=12, jpeg_quality=80)

    def ours() -> None:
        verdict, _ = verify_license_image(jpeg, trust, now=now)
        if verdict.verdict != VALID:
            raise RuntimeError(f"photo does not verify: {verdict}")

    def peer() -> None:
        img = Image.open(io.BytesIO(jpeg)).convert("L")
        if not zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode):
            raise RuntimeError("zxing-cpp does not read the photo")

    a, b = [], []
    for _ in range(calls):  # interleaved, wall clock (what the clerk waits)
        t = time.perf_counter()
        ours()
        a.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        peer()
        b.append((time.perf_counter() - t) * 1000)
    ms, peer_ms = median(a), median(b)
    assert ms is not None and peer_ms is not None
    return {
        "qr_version": version,
        "jpeg_bytes": len(jpeg),
        "ms": ms,
        "peer_ms": peer_ms,
        "ratio": ms / peer_ms,
        "target_ms": PHOTO_TARGET_MS,
        "status": "PASS" if ms <= PHOTO_TARGET_MS and version >= 20 else "MISS",
    }


def _dcc(repetitions: int, seconds: float, clock: str) -> dict[str, Any]:
    """Cases of the EU DCC public suite verified per second (see benchmarks/verifier/dcc.py)."""
    from .dcc import agreement, load_cases, ours, reference, suite_runner

    cases = load_cases()
    agreed = agreement(cases)
    ours_rates, ref_rates, ratios = [], [], []
    for _ in range(repetitions):
        a, b = interleaved(
            [suite_runner(ours, cases), suite_runner(reference, cases)],
            seconds,
            slice_seconds=min(0.25, seconds),
            clock=clock,
        )
        ours_rates.append(a.calls * len(cases) / a.seconds)
        ref_rates.append(b.calls * len(cases) / b.seconds)
        ratios.append(ours_rates[-1] / ref_rates[-1])
    return {
        **agreed,
        "ours_per_s": median(ours_rates),
        "reference_per_s": median(ref_rates),
        "ratio": median(ratios),
    }


def _mutations(text: str, rng: Any) -> Any:
    """Random and hostile QR texts: bit flips, truncations, insertions, other
    prefixes, Base45 of zlib bombs and of deeply nested CBOR, random Base45."""
    import zlib

    from license_wallet.qr import PREFIX, b45decode, b45encode

    b45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    bomb = PREFIX + b45encode(zlib.compress(b"\x00" * 5_000_000, 9))
    deep = PREFIX + b45encode(zlib.compress(b"\x81" * 100_000 + b"\x00"))
    inner = zlib.decompress(b45decode(text[len(PREFIX) :]))
    while True:
        choice = rng.randrange(9)
        if choice == 8:  # valid envelope, a changed byte inside: signatures must catch it
            body = bytearray(inner)
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
            yield PREFIX + b45encode(zlib.compress(bytes(body)))
            continue
        chars = list(text)
        if choice == 0:
            for _ in range(rng.randrange(1, 4)):
                i = rng.randrange(len(PREFIX), len(chars))
                chars[i] = rng.choice(b45)
            yield "".join(chars)
        elif choice == 1:
            yield text[: rng.randrange(len(text))]
        elif choice == 2:
            i = rng.randrange(len(PREFIX), len(text))
            yield text[:i] + "".join(rng.choice(b45) for _ in range(rng.randrange(1, 9))) + text[i:]
        elif choice == 3:
            yield rng.choice(["HC1:", "GT2:", "gt1:", "", "GT1:GT1:", "DGC1:"]) + text[4:]
        elif choice == 4:
            yield rng.choice([bomb, deep])
        elif choice == 5:
            yield PREFIX + "".join(rng.choice(b45) for _ in range(rng.randrange(0, 900)))
        elif choice == 6:
            data = bytearray(text.encode())
            data[rng.randrange(len(data))] = rng.randrange(256)
            yield bytes(data)
        else:
            yield text  # the genuine one, so VALID stays reachable


def _fuzz(now: datetime, cases: int) -> dict[str, Any]:
    """Only verdicts come out of :func:`verify_license_qr`, never an exception."""
    import random
    import time
    from collections import Counter

    from verifier.licenses import verify_license_qr

    verify, _, _ = _case("ES256", "p256", now)
    text, trust = verify.text, verify.trust  # type: ignore[attr-defined]
    rng = random.Random(20261127)
    verdicts: Counter[str] = Counter()
    exceptions = 0
    start = time.perf_counter()
    for _, candidate in zip(range(cases), _mutations(text, rng), strict=False):
        try:
            verdicts[verify_license_qr(candidate, trust, now=now).verdict] += 1
        except Exception:  # noqa: BLE001 - counting is the point
            exceptions += 1
    seconds = time.perf_counter() - start
    return {
        "cases": cases,
        "exceptions": exceptions,
        "verdicts": dict(verdicts),
        "per_s": cases / seconds,
        "status": "PASS" if exceptions == 0 else "FAIL",
    }


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
    ph, fz, dcc = result["photo"], result["fuzz"], result["dcc"]
    extra = [
        "",
        f"EU DCC suite ({dcc['cases']} cases with EXPECTEDVERIFY): ours "
        f"{dcc['ours_per_s']:,.0f}/s ({dcc['ours_as_expected']} as expected) vs "
        f"cbor2 + cryptography reference {dcc['reference_per_s']:,.0f}/s "
        f"({dcc['reference_as_expected']} as expected); ratio {dcc['ratio']:.2f}",
        f"photo → verdict (1000 px JPEG, QR version {ph['qr_version']}): median "
        f"{ph['ms']:.1f} ms vs bare Pillow + zxing-cpp {ph['peer_ms']:.1f} ms "
        f"(ratio {ph['ratio']:.2f}); target ≤ {ph['target_ms']:.0f} ms: {ph['status']}",
        f"fuzz: {fz['cases']:,} mutated QR texts, {fz['exceptions']} exceptions, "
        f"{fz['per_s']:,.0f}/s, verdicts {fz['verdicts']}: {fz['status']}",
    ]
    if "browser" in result:
        from .browser import render_lines

        extra += render_lines(result["browser"])
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
            *extra,
        ]
    )
