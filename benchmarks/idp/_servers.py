"""The two servers of benchmarks/idp, started and stopped by the benchmark.

ours
    ``govtrust init`` (the CLI, on a fresh data directory: SQLite, or a scratch
    schema of a PostgreSQL database), then the bench clients and citizen accounts
    through the Hub API, then ``govtrust serve --workers 2`` on a free loopback
    port — the HTTP server as operators run it (granian by default; workers and
    threads are the CLI's choice; :func:`gunicorn_shape` reads them back for the report).
node
    ``node node/server.js CONFIG`` — node-oidc-provider in 2 cluster workers, the
    same accounts and client secret (see ``node/server.js``).

Both are started in their own session (process group) and stopped by the pid the
benchmark got when it started them. :func:`tree_cpu` reads the CPU time (user +
system) of a server's whole process tree from ``/proc``, plus, for PostgreSQL,
the backends serving it (found by ``application_name``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

NODE_DIR: Final = Path(__file__).resolve().parent / "node"
REDIRECT_URI: Final = "http://127.0.0.1:9/cb"  # never contacted: the code is read from Location
MACHINE_AUDIENCE_NODE: Final = "urn:govtrust:bench:api"
PASSWORD: Final = "Bench-Password-{i:04d}"
STARTUP_TIMEOUT: Final = 60.0
_CLK_TCK: Final = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    side: str
    pid: int
    base_url: str
    issuer: str
    authorize_path: str
    token_path: str
    jwks: dict[str, Any]
    machine_audience: str
    log: Path
    description: str
    pg_application_name: str | None = None
    pg_url: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Seed:
    """What both servers are given: one client secret, N citizen accounts."""

    secret: str
    accounts: tuple[tuple[str, str, str], ...]  # (username, password, name)

    @classmethod
    def make(cls, n: int) -> Seed:
        return cls(
            secret=secrets.token_urlsafe(32),
            accounts=tuple(
                (f"bench{i:04d}", PASSWORD.format(i=i), f"测试用户{i:04d}") for i in range(n)
            ),
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


def _wait_until(probe: Any, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start in {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server we started, then SIGKILL to its own process group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its session: started with start_new_session
            proc.wait(timeout=5)


# --------------------------------------------------------------------------- CPU accounting


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, user + system CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                children.setdefault(st[0], []).append(int(entry))
    out, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _pg_backends(server: Server) -> set[int]:
    if not server.pg_url or not server.pg_application_name:
        return set()
    import sqlalchemy as sa

    engine = sa.create_engine(server.pg_url.split("?")[0])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                {"n": server.pg_application_name},
            ).all()
    finally:
        engine.dispose()
    return {int(r[0]) for r in rows}


def tree_cpu(server: Server) -> dict[int, float]:
    """CPU seconds so far of every process serving ``server``, by pid."""
    out = {}
    for pid in _descendants(server.pid) | _pg_backends(server):
        st = _stat(pid)
        if st is not None:
            out[pid] = st[1]
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`tree_cpu` readings (a process that
    appeared in between counts in full; one that ended is lost — none should)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


# --------------------------------------------------------------------------- ours


def _govtrust_cli() -> list[str]:
    script = Path(sys.executable).with_name("govtrust")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from govtrust.cli import main; main()"]


@contextlib.contextmanager
def scratch_schema(base: str) -> Iterator[tuple[str, str]]:
    """A fresh schema in the PostgreSQL database ``base``; dropped afterwards.
    Yields (URL with search_path and application_name, application_name)."""
    import sqlalchemy as sa

    schema = f"gt_bench_{secrets.token_hex(5)}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}&application_name={schema}", schema
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def _seed_hub(env: dict[str, str], seed: Seed) -> None:
    """Bench clients and citizens through the Hub API (what ``govtrust idp`` does)."""
    from govtrust.app import create_app
    from govtrust.config import Config
    from govtrust.hub import Hub
    from trust.identifiers import make_citizen_id

    config = Config.from_env(env)
    hub = Hub(config)
    try:
        idp = hub.idp
        web: dict[str, Any] = {
            "redirect_uris": [REDIRECT_URI],
            "secret": seed.secret,
            "scopes": ["openid", "profile"],
            "id_token_alg": "RS256",
        }
        idp.clients.add(
            client_id="bench-web", name="Bench web (first party)", first_party=True, **web
        )
        idp.clients.add(client_id="bench-3p", name="Bench web (third party)", **web)
        idp.clients.add(
            client_id="bench-machine",
            name="Bench agency machine",
            secret=seed.secret,
            scopes=["seal:sign", "license:issue"],
        )
        for i, (username, password, name) in enumerate(seed.accounts):
            idp.accounts.create_citizen(
                username=username,
                password=password,
                name=name,
                id_number=make_citizen_id(
                    "110105", dt.date(1970, 1, 1) + dt.timedelta(days=i), i % 1000
                ),
            )
        # The first create_app() writes <data dir>/flask-secret. Done here, once: two
        # gunicorn workers booting on a data dir without it would each write their own.
        create_app(config, hub=hub)
    finally:
        hub.close()


def gunicorn_shape(pid: int) -> dict[str, Any]:
    """Workers, worker class and threads of the gunicorn that ``govtrust serve`` started
    (read from its command line: the CLI decides, the benchmark reports)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        argv = []

    def option(name: str, default: str) -> str:
        for i, arg in enumerate(argv):
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
        return default

    if "granian" in argv:
        return {
            "server": "granian",
            "workers": int(option("--workers", "1")),
            "worker_class": "wsgi thread pool",
            "threads": int(option("--blocking-threads", "1")),
            "argv": [a for a in argv if a][1:],
        }
    return {
        "server": "gunicorn",
        "workers": int(option("--workers", "1")),
        "worker_class": option("--worker-class", "sync"),
        "threads": int(option("--threads", "1")),
        "argv": [a for a in argv if a][1:],
    }


def prepare_hub(
    data_dir: Path, base_url: str, seed: Seed, database_url: str = ""
) -> dict[str, str]:
    """``govtrust init`` (the CLI) on ``data_dir`` and the seed through the Hub API;
    returns the environment that ``govtrust serve`` (or ``Config.from_env``) needs."""
    env = {
        **os.environ,
        "GOVTRUST_DATA_DIR": str(data_dir),
        "GOVTRUST_BASE_URL": base_url,
        "DATABASE_URL": database_url,
    }
    for var in ("GOVTRUST_MASTER_KEY", "GOVTRUST_MASTER_KEY_FILE", "REDIS_URL"):
        env.pop(var, None)
    init = subprocess.run(
        [*_govtrust_cli(), "init"], env=env, capture_output=True, text=True, check=False
    )
    if init.returncode != 0:
        raise RuntimeError(f"govtrust init failed: {init.stderr[-2000:]}")
    _seed_hub(env, seed)
    return env


@contextlib.contextmanager
def hub_server(workdir: Path, seed: Seed, *, pg_base: str | None = None) -> Iterator[Server]:
    """``govtrust init`` + seed + ``govtrust serve --workers 2`` on a free port."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = workdir / ("hub-pg" if pg_base else "hub-sqlite")
    with contextlib.ExitStack() as stack:
        database_url, app_name = "", None
        if pg_base:
            database_url, app_name = stack.enter_context(scratch_schema(pg_base))
        env = prepare_hub(data_dir, base_url, seed, database_url)
        database = "postgresql" if pg_base else "sqlite"
        log = workdir / f"{data_dir.name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    *_govtrust_cli(),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _wait_until(
                lambda: (
                    _get_json(f"{base_url}/.well-known/openid-configuration")
                    and len(_descendants(proc.pid)) >= 3
                ),  # master + 2 workers
                "govtrust serve",
                proc,
                log,
            )
            discovery = _get_json(f"{base_url}/.well-known/openid-configuration")
            shape = gunicorn_shape(proc.pid)
            yield Server(
                side="ours-pg" if pg_base else "ours",
                pid=proc.pid,
                base_url=base_url,
                issuer=discovery["issuer"],
                authorize_path="/idp/authorize",
                token_path="/idp/token",
                jwks=_get_json(f"{base_url}/idp/jwks"),
                machine_audience=discovery["issuer"],
                log=log,
                description=f"GovTrust hub: govtrust serve ({shape['server']}, "
                f"{shape['workers']} {shape['worker_class']} workers"
                + (f" x {shape['threads']} threads" if shape["threads"] > 1 else "")
                + f"), {database}",
                pg_application_name=app_name,
                pg_url=pg_base,
                info={"database": database, "port": port, "server": shape},
            )
        finally:
            _stop(proc)


# --------------------------------------------------------------------------- node


def node_problem() -> str | None:
    """Why the node peer cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return "benchmarks/idp/node/node_modules is missing (npm ci --prefix benchmarks/idp/node)"
    return None


def node_versions() -> dict[str, str | None]:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    try:
        pkg = json.loads((NODE_DIR / "node_modules" / "oidc-provider" / "package.json").read_text())
        provider = pkg.get("version")
    except (OSError, ValueError):
        provider = None
    return {"node": node.stdout.strip() or None, "oidc_provider": provider}


@contextlib.contextmanager
def node_server(workdir: Path, seed: Seed) -> Iterator[Server]:
    """node-oidc-provider, 2 cluster workers, the same accounts and secret."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "issuer": base_url,
        "workers": 2,
        "redirect_uri": REDIRECT_URI,
        "secret": seed.secret,
        "accounts": [
            {"id": f"acct-{i:04d}", "username": u, "password": p, "name": n}
            for i, (u, p, n) in enumerate(seed.accounts)
        ],
    }
    cfg = workdir / "node-config.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    cfg.chmod(0o600)
    log = workdir / "node.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["node", "server.js", str(cfg)],
            cwd=NODE_DIR,
            env={**os.environ, "NODE_ENV": "production"},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_until(lambda: f"READY {port}" in log.read_text(), "node server.js", proc, log)
        discovery = _get_json(f"{base_url}/.well-known/openid-configuration")
        versions = node_versions()
        yield Server(
            side="node",
            pid=proc.pid,
            base_url=base_url,
            issuer=discovery["issuer"],
            authorize_path=discovery["authorization_endpoint"].removeprefix(base_url),
            token_path=discovery["token_endpoint"].removeprefix(base_url),
            jwks=_get_json(discovery["jwks_uri"]),
            machine_audience=MACHINE_AUDIENCE_NODE,
            log=log,
            description=f"node-oidc-provider {versions['oidc_provider']} on node "
            f"{versions['node']}, cluster of 2 workers, in-memory adapter",
            info=versions,
        )
    finally:
        _stop(proc)
