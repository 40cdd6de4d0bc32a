"""EU DCC public test suite (tests/vectors/cose/dgc-testdata) verified per second:
GovTrust's transport stack beside a minimal reference verifier built only on
cbor2 and cryptography, same cases, same run.

Cases: every JSON case with a ``HC1:`` PREFIX, a TESTCTX.CERTIFICATE and
EXPECTEDVERIFY. One "verification" = prefix → Base45 → zlib → COSE_Sign1 →
signature with the case's certificate key → CWT claims decoded.

Both look the key up by kid (first 8 bytes of SHA-256 over the certificate, a
one-entry trust list) and take the public key from the certificate.

* ours: :func:`license_wallet.qr.decode_qr_text`-style bounded decoding
  (``strip_prefix``, ``b45decode``, bounded ``inflate``),
  :func:`trust.cose.decode_sign1` (profile ``DCC_INTEROP``, bounded CBOR),
  :func:`trust.cose.verify_sign1` (ES256/PS256 only), ``decode_cwt_claims``;
* reference: a textbook Base45 decoder, ``zlib.decompress``, ``cbor2.loads``,
  the Sig_structure by hand and ``cryptography``'s verify — no limits, no
  header rules, no claim typing.

Both must reach the same valid/invalid outcome on every case (the suite's
EXPECTEDVERIFY); the figure is cases per second per core (process CPU time).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

SUITE: Final = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "cose" / "dgc-testdata"
_B45: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUE: Final = {c: i for i, c in enumerate(_B45)}


def load_cases() -> list[tuple[str, bytes, bool]]:
    """(QR text, certificate DER, expected verify outcome) of the runnable cases."""
    out = []
    for path in sorted(SUITE.rglob("*.json")):
        try:
            case = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        expected = case.get("EXPECTEDRESULTS", {}).get("EXPECTEDVERIFY")
        prefix = case.get("PREFIX")
        cert = case.get("TESTCTX", {}).get("CERTIFICATE")
        if isinstance(expected, bool) and isinstance(prefix, str) and prefix.startswith("HC1:"):
            if isinstance(cert, str) and cert:
                out.append((prefix, base64.b64decode(cert), expected))
    return out


# ----------------------------------------------------------------------------- ours


def ours(text: str, cert_der: bytes) -> bool:
    import hashlib

    from license_wallet.qr import b45decode, inflate, strip_prefix
    from trust.cose import DCC_INTEROP, decode_cwt_claims, decode_sign1, verify_sign1
    from trust.crypto import load_public_key
    from trust.errors import TrustError

    try:
        msg = decode_sign1(inflate(b45decode(strip_prefix(text, ("HC1:",)))), profile=DCC_INTEROP)
        if msg.kid != hashlib.sha256(cert_der).digest()[:8]:
            return False  # a one-entry trust list: no key under this kid
        verify_sign1(msg, load_public_key(cert_der), allowed_algs=(-7, -37), profile=DCC_INTEROP)
        decode_cwt_claims(msg.payload, allowed_tags=frozenset({0, 1}))
        return True
    except TrustError:
        return False


# ----------------------------------------------------------------------------- reference


def _ref_b45(text: str) -> bytes:
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = [_B45_VALUE[c] for c in text[i : i + 3]]
        n = sum(v * 45**j for j, v in enumerate(chunk))
        out += n.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)


def reference(text: str, cert_der: bytes) -> bool:
    """What a minimal DCC verifier written on cbor2 + cryptography does."""
    import hashlib

    import cbor2
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        obj = cbor2.loads(zlib.decompress(_ref_b45(text[4:])))
        while isinstance(obj, cbor2.CBORTag):
            obj = obj.value
        protected, unprotected, payload, signature = obj
        header = cbor2.loads(protected) if protected else {}
        alg = header.get(1, unprotected.get(1))
        if header.get(4, unprotected.get(4)) != hashlib.sha256(cert_der).digest()[:8]:
            return False
        tbs = cbor2.dumps(["Signature1", protected, b"", payload])
        key = x509.load_der_x509_certificate(cert_der).public_key()
        if alg == -7 and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(signature) // 2
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            digest = hashes.SHA256() if half == 32 else hashes.SHA384()
            key.verify(der, tbs, ec.ECDSA(digest))
        elif alg == -37 and isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            key.verify(signature, tbs, pss, hashes.SHA256())
        else:
            return False
        cbor2.loads(payload)
        return True
    except (InvalidSignature, ValueError, TypeError, KeyError, IndexError, zlib.error) as _:
        return False
    except Exception:  # noqa: BLE001 - cbor2 raises its own decode errors
        return False


def suite_runner(
    verify: Callable[[str, bytes], bool], cases: list[tuple[str, bytes, bool]]
) -> Callable[[], None]:
    def run() -> None:
        for text, cert, _ in cases:
            verify(text, cert)

    return run


def agreement(cases: list[tuple[str, bytes, bool]]) -> dict[str, Any]:
    """How often each verifier reaches the suite's expected outcome."""
    ours_ok = sum(ours(t, c) == e for t, c, e in cases)
    ref_ok = sum(reference(t, c) == e for t, c, e in cases)
    return {"cases": len(cases), "ours_as_expected": ours_ok, "reference_as_expected": ref_ok}
