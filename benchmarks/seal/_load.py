"""The load generator of benchmarks/seal: agency machine clients calling the sealing API.

Each thread stands for several agency systems: :data:`CLIENTS_PER_THREAD`
machine clients of the demo agency ``zj``, taken in turn, so that the API's
per-client token bucket (50/s per worker) is not what is measured — a detached
SES takes a few ms, so one client per thread would reach it. Each client's
``client_credentials`` access token is fetched when the thread starts (verified
against the hub's JWKS) and reused for every call; one keep-alive HTTP/1.1
connection per thread (:class:`benchmarks.idp._client.Http`).

What one call is:

``ses``
    ``POST /api/seal/v1/seals/{SM2 seal}/sign`` with JSON
    ``{"format": "ses", "digest": <fresh random 32 bytes, hex>}`` → 200, a
    detached SES_Signature and a ``Seal-Log-Index`` header;
``pdf``
    the same URL on the RSA seal, ``multipart/form-data`` with ``file`` (the
    small PDF) and ``format=pdf`` → 200, the sealed PDF (larger than the input)
    and a ``Seal-Log-Index`` header.

:func:`run_load` runs one kind in T threads for S seconds; the benchmark runs it
in P processes so that the client is not one GIL. Only loopback is contacted
(:class:`Http` refuses anything else).
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Final

from ..idp._client import FlowError, Http, Target, client_credentials, keyset

__all__ = ["SealLoadSpec", "run_load", "sign_once"]

_BOUNDARY: Final = "govtrust-bench-" + uuid.uuid4().hex
CLIENTS_PER_THREAD: Final = 4


@dataclass(frozen=True, slots=True)
class SealLoadSpec:
    kind: str  # "ses" or "pdf"
    target: Target  # machine_client is replaced per thread
    clients: tuple[str, ...]  # CLIENTS_PER_THREAD machine clients per thread, in order
    seal_id: str
    pdf: bytes
    seconds: float


def multipart(pdf: bytes) -> bytes:
    """``file`` (application/pdf) and ``format=pdf`` as multipart/form-data."""
    b = _BOUNDARY.encode()
    return b"".join(
        [
            b"--" + b + b"\r\n",
            b'Content-Disposition: form-data; name="format"\r\n\r\npdf\r\n',
            b"--" + b + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="bench.pdf"\r\n',
            b"Content-Type: application/pdf\r\n\r\n",
            pdf,
            b"\r\n--" + b + b"--\r\n",
        ]
    )


def _post(conn: Http, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    """POST with our own content type (:meth:`Http.request` only sends forms); reconnects
    once when the server had closed an idle keep-alive connection."""
    c = conn.conn
    reused = c.sock is not None
    try:
        c.request("POST", path, body=body, headers=headers)
        resp = c.getresponse()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        if not reused:
            raise
        c.close()
        c.request("POST", path, body=body, headers=headers)
        resp = c.getresponse()
    return resp.status, resp, resp.read()


def sign_once(
    conn: Http, token: str, kind: str, seal_id: str, pdf: bytes, pdf_body: bytes | None = None
) -> tuple[bytes, bytes, int]:
    """One sealing call; returns (what was signed: digest or PDF, response body, log index).
    Raises :class:`FlowError` for anything but a 200 with a log index."""
    path = f"/api/seal/v1/seals/{seal_id}/sign"
    auth = {"Authorization": f"Bearer {token}"}
    if kind == "ses":
        signed = os.urandom(32)
        body = json.dumps({"format": "ses", "digest": signed.hex()}).encode()
        headers = {**auth, "Content-Type": "application/json"}
    else:
        signed = pdf
        body = pdf_body if pdf_body is not None else multipart(pdf)
        headers = {**auth, "Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"}
    status, resp, data = _post(conn, path, body, headers)
    if status != 200:
        raise FlowError(f"{kind} sign: HTTP {status}: {data[:200]!r}")
    index = resp.getheader("Seal-Log-Index")
    if index is None or not index.isdigit():
        raise FlowError(f"{kind} sign: no Seal-Log-Index header")
    if kind == "pdf" and (not data.startswith(b"%PDF") or len(data) <= len(pdf)):
        raise FlowError("pdf sign: the response is not a sealed PDF")
    if kind == "ses" and not data.startswith(b"\x30"):
        raise FlowError("ses sign: the response is not DER")
    return signed, data, int(index)


def run_load(spec: SealLoadSpec) -> dict[str, Any]:
    """Run ``spec.kind`` in one thread per :data:`CLIENTS_PER_THREAD` clients until
    ``spec.seconds`` have passed.

    Returns ok and error counts (429 rate-limit answers counted apart), the
    latencies in ms of the successful calls, a few error messages, the wall time
    and the CPU time of this process. Token fetches happen before the clock starts.
    """
    keys = keyset(spec.target.jwks)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    counts = {"ok": 0, "errors": 0, "rate_limited": 0}
    groups = [
        spec.clients[i : i + CLIENTS_PER_THREAD]
        for i in range(0, len(spec.clients), CLIENTS_PER_THREAD)
    ]
    ready = threading.Barrier(len(groups) + 1)  # every token fetched
    go = threading.Barrier(len(groups) + 1)  # the deadline is set
    deadline = [0.0]
    pdf_body = multipart(spec.pdf) if spec.kind == "pdf" else None

    def worker(client_ids: tuple[str, ...]) -> None:
        mine: list[float] = []
        ok = bad = limited = 0
        my_errors: list[str] = []
        conn = Http(spec.target.base_url)
        tokens: list[str] = []
        try:
            for client_id in client_ids:
                target = replace(spec.target, machine_client=client_id)
                tokens.append(client_credentials(conn, target, keys))
        except (FlowError, OSError, http.client.HTTPException) as exc:
            my_errors.append(f"token: {type(exc).__name__}: {exc}"[:300])
            tokens = []
        ready.wait()
        go.wait()
        turn = 0
        try:
            while tokens and time.perf_counter() < deadline[0]:
                token = tokens[turn % len(tokens)]
                turn += 1
                t0 = time.perf_counter()
                try:
                    sign_once(conn, token, spec.kind, spec.seal_id, spec.pdf, pdf_body)
                except (FlowError, OSError, http.client.HTTPException) as exc:
                    if "HTTP 429" in str(exc):
                        limited += 1
                    else:
                        bad += 1
                        conn.close()
                    if len(my_errors) < 3:
                        my_errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                mine.append((time.perf_counter() - t0) * 1000.0)
                ok += 1
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += bad + (0 if tokens else 1)
            counts["rate_limited"] += limited
            errors.extend(my_errors)

    threads = [threading.Thread(target=worker, args=(g,), daemon=True) for g in groups]
    for th in threads:
        th.start()
    ready.wait()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    deadline[0] = wall0 + spec.seconds
    go.wait()
    for th in threads:
        th.join(spec.seconds + 120.0)
    return {
        **counts,
        "latencies_ms": latencies,
        "error_samples": errors[:5],
        "wall": time.perf_counter() - wall0,
        "cpu": time.process_time() - cpu0,
    }
