"""Issuance through the license API as operators run it: ``govtrust serve --workers 2``.

``govtrust init --demo`` (the CLI) on a fresh data directory (SQLite, WAL,
``synchronous=FULL``) seeds 公安部 (``mps``) as an issuer authorised for
居民身份证, with its SM2 license key. The benchmark adds one machine client of
``mps`` per load thread (scope ``license:issue``, so that the API's per-client
token bucket is not what is measured) through the Hub API, then starts
``govtrust serve --workers 2`` (granian) on a free loopback port.

Load: P processes × T threads; each thread fetches one ``client_credentials``
token before the clock starts and then, on its own keep-alive HTTP/1.1
connection, ``POST /api/license/v1/licenses`` one 居民身份证 at a time (201 with
the credential; each one durable with its status index, transparency-log leaf
and event before the answer). Server CPU is read from ``/proc`` for the granian
master and workers. The peer is raw SM2 signing through the trust core in this
process, per core, measured between the slices.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import multiprocessing
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, Final

from ..idp import _servers
from ..idp._client import Http

WORKERS: Final = 2
ISSUER: Final = "mps"
TYPE: Final = "resident_id_card"


@dataclass(frozen=True, slots=True)
class _Spec:
    base_url: str
    clients: tuple[str, ...]
    secret: str
    body: bytes
    seconds: float


@contextlib.contextmanager
def _license_hub(
    workdir: Path, clients: int
) -> Iterator[tuple[_servers.Server, tuple[str, ...], str]]:
    from govtrust.app import create_app
    from govtrust.config import Config
    from govtrust.hub import Hub

    port = _servers.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GOVTRUST_DATA_DIR": str(workdir / "hub"),
        "GOVTRUST_BASE_URL": base_url,
        "DATABASE_URL": "",
    }
    for var in ("GOVTRUST_MASTER_KEY", "GOVTRUST_MASTER_KEY_FILE", "REDIS_URL"):
        env.pop(var, None)
    init = subprocess.run(
        [*_servers._govtrust_cli(), "init", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        raise RuntimeError(f"govtrust init --demo failed: {init.stderr[-2000:]}")
    secret = secrets.token_urlsafe(30)
    names = tuple(f"bench-license-{i:03d}" for i in range(clients))
    hub = Hub(Config.from_env(env))
    try:
        for name in names:
            hub.idp.clients.add(
                client_id=name,
                name=f"Bench issuing system {name}",
                secret=secret,
                scopes=["license:issue"],
                participant_id=ISSUER,
                replace=True,
            )
        create_app(Config.from_env(env), hub=hub)  # writes the flask secret once
    finally:
        hub.close()
    log = workdir / "hub.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *_servers._govtrust_cli(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _servers._wait_until(
            lambda: (
                _servers._get_json(f"{base_url}/.well-known/openid-configuration")
                and len(_servers._descendants(proc.pid)) >= 1 + WORKERS
            ),
            "govtrust serve",
            proc,
            log,
        )
        shape = _servers.gunicorn_shape(proc.pid)
        server = _servers.Server(
            side="ours",
            pid=proc.pid,
            base_url=base_url,
            issuer=base_url,
            authorize_path="/idp/authorize",
            token_path="/idp/token",
            jwks={},
            machine_audience=base_url,
            log=log,
            description=f"govtrust serve ({shape['server']}, {shape['workers']} "
            f"{shape['worker_class']} workers"
            + (f" x {shape['threads']} threads" if shape["threads"] > 1 else "")
            + "), SQLite WAL synchronous=FULL",
        )
        yield server, names, secret
    finally:
        _servers._stop(proc)


def _token(conn: Http, client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    status, _, data = conn.request(
        "POST",
        "/idp/token",
        body="grant_type=client_credentials&scope=license%3Aissue",
        headers={"Authorization": f"Basic {basic}"},
    )
    if status != 200:
        raise RuntimeError(f"token for {client_id}: HTTP {status} {data[:200]!r}")
    return str(json.loads(data)["access_token"])


def _issue(conn: Http, token: str, body: bytes) -> None:
    c = conn.conn
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    reused = c.sock is not None
    try:
        c.request("POST", "/api/license/v1/licenses", body=body, headers=headers)
        resp = c.getresponse()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        if not reused:
            raise
        c.close()
        c.request("POST", "/api/license/v1/licenses", body=body, headers=headers)
        resp = c.getresponse()
    data = resp.read()
    if resp.status != 201:
        raise RuntimeError(f"issuance: HTTP {resp.status} {data[:200]!r}")
    if b'"credential"' not in data and b'"qr"' not in data:
        raise RuntimeError(f"issuance: no credential in {data[:200]!r}")


def _load(spec: _Spec) -> dict[str, Any]:
    """One process of the load: a thread per client until ``spec.seconds`` have passed."""
    lock = threading.Lock()
    counts = {"ok": 0, "errors": 0}
    samples: list[str] = []
    ready = threading.Barrier(len(spec.clients) + 1)
    go = threading.Barrier(len(spec.clients) + 1)
    deadline = [0.0]

    def worker(client_id: str) -> None:
        conn = Http(spec.base_url)
        ok = bad = 0
        mine: list[str] = []
        token: str | None = None
        try:
            token = _token(conn, client_id, spec.secret)
        except (RuntimeError, OSError, http.client.HTTPException) as exc:
            mine.append(f"{type(exc).__name__}: {exc}"[:300])
        ready.wait()
        go.wait()
        try:
            while token is not None and time.perf_counter() < deadline[0]:
                try:
                    _issue(conn, token, spec.body)
                    ok += 1
                except (RuntimeError, OSError, http.client.HTTPException) as exc:
                    bad += 1
                    conn.close()
                    if len(mine) < 3:
                        mine.append(f"{type(exc).__name__}: {exc}"[:300])
        finally:
            conn.close()
        with lock:
            counts["ok"] += ok
            counts["errors"] += bad + (token is None)
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in spec.clients]
    for th in threads:
        th.start()
    ready.wait()
    wall0 = time.perf_counter()
    deadline[0] = wall0 + spec.seconds
    go.wait()
    for th in threads:
        th.join(spec.seconds + 120.0)
    return {**counts, "wall": time.perf_counter() - wall0, "error_samples": samples[:3]}


def http_issuance(
    raw: Callable[[], object],
    *,
    seconds: float,
    repetitions: int,
    processes: int = 2,
    threads: int = 4,
) -> dict[str, Any]:
    """Credentials issued per second through the API under granian with two workers,
    beside ``raw`` (one SM2 signature through the trust core) per core, same run."""
    import tempfile

    from license_wallet.types import example_fields, license_type
    from trust.crypto import generate_private_key

    from .._harness import time_loop

    code = license_type(TYPE).code
    holder = generate_private_key("p256").public_key().jwk()
    body = json.dumps(
        {
            "type": TYPE,
            "holder": {"subject": "bench-holder", "key": holder},
            "fields": example_fields(code),
            "valid_from": "2026-01-01",
            "valid_until": "2046-01-01",
        }
    ).encode()
    with tempfile.TemporaryDirectory(prefix="govtrust-bench-license-http-") as tmp:
        with _license_hub(Path(tmp), processes * threads) as (server, names, secret):
            warm = Http(server.base_url)
            try:
                _issue(warm, _token(warm, names[0], secret), body)
            finally:
                warm.close()
            ctx = multiprocessing.get_context("spawn")
            rates, per_cpu, raw_rates, ratios = [], [], [], []
            errors = 0
            samples: list[str] = []
            with ctx.Pool(processes) as pool:
                for _ in range(repetitions):
                    specs = [
                        _Spec(
                            server.base_url,
                            names[i * threads : (i + 1) * threads],
                            secret,
                            body,
                            seconds,
                        )
                        for i in range(processes)
                    ]
                    before = _servers.tree_cpu(server)
                    parts = pool.map(_load, specs)
                    after = _servers.tree_cpu(server)
                    ok = sum(p["ok"] for p in parts)
                    errors += sum(p["errors"] for p in parts)
                    samples += [e for p in parts for e in p["error_samples"]]
                    rate = ok / max(p["wall"] for p in parts)
                    cpu = _servers.cpu_delta(before, after)
                    raw_rate = time_loop(raw, min(seconds, 2.0), clock="cpu").rate
                    rates.append(rate)
                    per_cpu.append(ok / cpu if cpu > 0 else 0.0)
                    raw_rates.append(raw_rate)
                    ratios.append(rate / WORKERS / raw_rate)
    return {
        "issued_per_s": median(rates),
        "issued_per_worker_s": median(rates) / WORKERS,
        "issued_per_server_cpu_s": median(per_cpu),
        "raw_sm2_per_s": median(raw_rates),
        "ratio": median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "errors": errors,
        "error_samples": samples[:5],
        "server": server.description,
        "load": f"{processes} processes x {threads} threads, one client and keep-alive "
        "connection per thread",
    }
