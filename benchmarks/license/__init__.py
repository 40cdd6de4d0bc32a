"""E-licenses (issue 6): credential signing beside raw signing, QR versions per
license type, and status-list sizes, same run.

1. Credential signing: :func:`license_wallet.credential.issue_credential` for a
   居民身份证 (salted disclosures, holder key, status reference, COSE_Sign1) with
   SM2 and ES256 issuer keys, interleaved with the raw signature it wraps
   (``Signer.sign`` of 32 bytes through the trust core). Process CPU time.
   (Issuance through the HTTP API, durable with a status index and a log leaf,
   is measured by ``api`` when the license API is present; see the table.)
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
