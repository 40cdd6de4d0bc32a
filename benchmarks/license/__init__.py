"""E-licenses (issue 6): credential signing beside raw signing, QR versions per
license type, and status-list sizes, same run.

1. Credential signing: :func:`license_wallet.credential.issue_credential` for a
   居民身份证 (salted disclosures, holder key, status reference, COSE_Sign1) with
   SM2 and ES256 issuer keys, interleaved with the raw signature it wraps
   (``Signer.sign`` of 32 bytes through the trust core). Process CPU time.
   Durable issuance (row, status index, event and transparency-log leaf
   committed, SQLite WAL ``synchronous=FULL``) three ways, each beside raw SM2
   signing in the same run: through :class:`~license_wallet.service.LicenseService`
   in process; through the HTTP API on Werkzeug in process (one keep-alive
   client); and through the HTTP API as operators run it, ``govtrust serve
   --workers 2`` (granian) loaded by 2 processes × 4 threads, each thread its
   own machine client of 公安部 with ``license:issue`` (``_http.py``), reported
   per worker and per server CPU-second.
2. QR versions: every catalogue type issued with SM2 and ES256, presented with
   full and minimal disclosure (with an 8-byte verifier nonce), rendered at
   error level M: the QR version of each. Target: the 居民身份证 minimal
   presentation (name, ID number, validity) fits version 20-M.
3. Status lists: ``bits=2``, 1 % of entries revoked at random indexes, at 10^6
   and 10^7 entries, compressed with zlib level 9 and with the Zopfli encoder
   (``StatusList.compress(small=True)``; the same ZLIB format). Target: 10^7
   entries ≤ 140 KB (140,000 bytes).
"""

from .bench import render, run

__all__ = ["render", "run"]
