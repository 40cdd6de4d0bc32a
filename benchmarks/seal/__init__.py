"""Seal service throughput (issue 5): sealing through the HTTP API of a real
``govtrust serve`` beside the signing it wraps, called in-process, same run.

Server: ``govtrust init --demo`` on a fresh data directory — SQLite in WAL mode
with ``synchronous=FULL`` — which seeds the demo agency ``zj`` with an SM2
official seal and an RSA contract seal; one machine client of ``zj`` per load
thread (scope ``seal:sign``; the API's token bucket of 50 calls/s is per client
and per worker, so that it is not what is measured — 429 answers are counted
and printed); then ``govtrust serve --workers 2`` (granian) on a free loopback
port. See ``_server.py``.

Load (``_load.py``): P processes × T threads of stdlib HTTP/1.1 keep-alive
(``benchmarks.idp._client.Http``); each thread fetches one ``client_credentials``
access token (``/idp/token``, ``scope=seal:sign``, verified against the JWKS)
before the clock starts and reuses it for every call, one call at a time.

1. detached SES seals/s: ``POST /api/seal/v1/seals/{SM2 seal}/sign`` with
   ``{"format": "ses", "digest": <random 32 bytes>}``. Each 200 is an SM2
   signature, a durable ``seal_operations`` row and a transparency-log leaf,
   committed (fsync) before the answer. Peer: raw SM2 signing through the
   trust core — ``generate_private_key("sm2").signer("SM2").sign(32 bytes)``.
   Target: API ops/s ÷ 2 workers ≥ 0.5 × the peer's signs per CPU-second.
2. PDF seals/s: multipart upload of a 1-page PDF (~400 bytes) with
   ``format=pdf`` on the RSA seal (PAdES B-T: visible seal image and a
   time-stamp from the hub's TSA). Peer (the target's): pyHanko's
   ``PdfSigner`` called directly, with pyHanko's defaults (it sizes the
   signature by building a throw-away CMS first), on the same PDF with what
   the hub's worker uses for that request: the seal's own key, certificate and
   chain (read from the hub's key store and PKI), the hub's ES256
   time-stamping authority, and the seal's image, size and name. The image is
   decoded once, not per call. Target: API ops/s ÷ 2 workers ≥ 0.8 × the
   peer's seals per CPU-second. A second peer, without a target, is
   ``seal_service.pades.seal_pdf`` itself — the API's own sealing call, which
   reserves a computed bound instead of the dry run — so that the cost of the
   service around its library stays visible. (Until stop 14 the only peer was
   ``seal_pdf``; before that, a peer with its own smaller certificates and
   TSA.)

Both targets are also given per server CPU-second: the server's CPU time (user
+ system of the granian master and workers, from ``/proc``) per seal, which
does not depend on the load generator sharing the machine's cores; on a 2-core
host the client takes CPU from the workers, so "per worker" is the harsher
figure. Every result is checked before timing: the SES is parsed, binds the
digest sent and its signature checks; the sealed PDF is verified with
``verify_pdf``.

Method: a warm-up of every side, then R repetitions; in each, per kind, the API
slice (S wall seconds of load) and the peer (``time_loop``, process CPU time,
i.e. per core) run one after the other, order swapped on odd repetitions.
API rates are successful calls per wall second; ratios are medians of
per-repetition ratios, printed with their min–max. ``--clock`` does not apply.
A MISS is a finding, not an error.
"""

from .bench import render, run

__all__ = ["render", "run"]
