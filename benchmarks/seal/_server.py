"""The hub that benchmarks/seal measures, started and stopped by the benchmark.

``govtrust init --demo`` (the CLI) on a fresh data directory (SQLite, WAL,
``synchronous=FULL``) seeds the demo agency ``zj`` with an SM2 official seal, an
RSA contract seal and its machine client ``zj-agency``, whose secret the command
prints. The benchmark then adds one more machine client of ``zj`` per load
thread (same secret, scope ``seal:sign``) through the Hub API, reads the RSA
seal's image, size and certificate (for the in-process pyHanko peer), and starts
``govtrust serve --workers 2`` on a free loopback port (granian, as operators
run it). The server runs in its own session and is stopped by the pid the
benchmark got when it started it. Helpers come from :mod:`benchmarks.idp._servers`.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..idp import _servers

WORKERS: Final = 2


@dataclass
class SealHub:
    server: _servers.Server
    ses_seal: str  # the SM2 official seal
    pdf_seal: str  # the RSA contract seal
    secret: str  # of every bench machine client
    clients: tuple[str, ...]
    rsa_seal: dict[str, Any] = field(default_factory=dict)  # name, width_mm, image_png, key bits
    roots: tuple[Any, ...] = ()  # the hub's root certificates (trust anchors for the checks)
    cas: tuple[Any, ...] = ()  # its issuing CAs
    info: dict[str, Any] = field(default_factory=dict)


def _init_demo(env: dict[str, str]) -> dict[str, Any]:
    init = subprocess.run(
        [*_servers._govtrust_cli(), "init", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        raise RuntimeError(f"govtrust init --demo failed: {init.stderr[-2000:]}")
    seals = json.loads(init.stdout)["demo"]["seals"]
    if not seals:
        raise RuntimeError("govtrust init --demo seeded no seals")
    return dict(seals)


def _seed(env: dict[str, str], seals: dict[str, Any], clients: int) -> dict[str, Any]:
    """Extra machine clients of the agency; the RSA seal's image and key (Hub API)."""
    from govtrust.app import create_app
    from govtrust.config import Config
    from govtrust.hub import Hub

    holder = seals["holder"]
    secret = seals["machine_client"]["client_secret"]
    by_alg = {s["algorithm"]: s["id"] for s in seals["seals"]}
    hub = Hub(Config.from_env(env))
    try:
        names = tuple(f"bench-seal-{i:03d}" for i in range(clients))
        for name in names:
            hub.idp.clients.add(
                client_id=name,
                name=f"Bench agency system {name}",
                secret=secret,
                scopes=["seal:sign"],
                participant_id=holder,
                replace=True,
            )
        rsa = hub.seals.get(by_alg["RS256"])
        signer, cert, chain = hub.seals.signer(rsa)
        rsa_seal = {
            "name": rsa.name,
            "width_mm": rsa.width_mm,
            "image_png": rsa.image_png,
            "key_bits": cert.public_key.native.key_size,
            "chain_length": len(chain),
            # The peer signs with the very material the hub's worker uses: the seal's
            # key, certificate and chain, and the hub's ES256 time-stamping authority.
            "signer": signer,
            "certificate": cert,
            "chain": chain,
            "tsa": hub.tsa("ES256"),
        }
        roots, cas = tuple(hub.pki.roots()), tuple(hub.pki.cas())
        # The first create_app() writes <data dir>/flask-secret: once, before two workers boot.
        create_app(Config.from_env(env), hub=hub)
    finally:
        hub.close()
    return {
        "holder": holder,
        "secret": secret,
        "ses_seal": by_alg["SM2"],
        "pdf_seal": by_alg["RS256"],
        "clients": names,
        "rsa_seal": rsa_seal,
        "roots": roots,
        "cas": cas,
    }


@contextlib.contextmanager
def seal_hub(workdir: Path, clients: int) -> Iterator[SealHub]:
    """``govtrust init --demo`` + bench clients + ``govtrust serve --workers 2``."""
    port = _servers.free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = workdir / "hub"
    env = {
        **os.environ,
        "GOVTRUST_DATA_DIR": str(data_dir),
        "GOVTRUST_BASE_URL": base_url,
        "DATABASE_URL": "",
    }
    for var in ("GOVTRUST_MASTER_KEY", "GOVTRUST_MASTER_KEY_FILE", "REDIS_URL"):
        env.pop(var, None)
    seeded = _seed(env, _init_demo(env), clients)
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
        discovery = _servers._get_json(f"{base_url}/.well-known/openid-configuration")
        shape = _servers.gunicorn_shape(proc.pid)
        server = _servers.Server(
            side="ours",
            pid=proc.pid,
            base_url=base_url,
            issuer=discovery["issuer"],
            authorize_path="/idp/authorize",
            token_path="/idp/token",
            jwks=_servers._get_json(f"{base_url}/idp/jwks"),
            machine_audience=discovery["issuer"],
            log=log,
            description=f"GovTrust hub: govtrust serve ({shape['server']}, "
            f"{shape['workers']} {shape['worker_class']} workers"
            + (f" x {shape['threads']} threads" if shape["threads"] > 1 else "")
            + "), SQLite WAL synchronous=FULL",
            info={"database": "sqlite", "port": port, "server": shape},
        )
        yield SealHub(
            server=server,
            ses_seal=seeded["ses_seal"],
            pdf_seal=seeded["pdf_seal"],
            secret=seeded["secret"],
            clients=seeded["clients"],
            rsa_seal=seeded["rsa_seal"],
            roots=seeded["roots"],
            cas=seeded["cas"],
            info={"holder": seeded["holder"], "server": shape, "port": port},
        )
    finally:
        _servers._stop(proc)
