"""Counter verifier (issue 7): QR text → verdict per second per core, beside the raw
verification of the two signatures a verdict needs, same run.

For SM2 and ES256 issuers: a 居民身份证 credential presented with minimal
disclosure and a nonce (``license_wallet.credential.present_qr_text``), then
``verifier.licenses.verify_license_qr`` against an in-memory trust view (one
issuer, its key, a status list held) — envelope, Base45, bounded zlib and CBOR,
the issuer's signature, the holder's ES256 key-binding signature, status, issuer
authorisation; no replay cache (it would refuse the second call). Peer: the two
raw signature verifications through the trust core (issuer + holder key),
interleaved, process CPU time. Targets (issue 7): ≥ 3,000 verdicts/s per core
for ES256, ≥ 1,500/s for SM2.
"""

from .bench import render, run

__all__ = ["render", "run"]
