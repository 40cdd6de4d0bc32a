"""``python -m benchmarks.idp.profile [cc|login] [--n N] [--top K] [--pg URL]``: where our time goes.

Profiles our side in-process with :mod:`cProfile`: the same ``govtrust init`` and
seed as the benchmark, then ``create_app`` and N requests through Flask's test
client — the WSGI application without gunicorn and without HTTP. ``cc`` is the
client_credentials token request; ``login`` the whole login of the benchmark
(authorize → login form → POST → authorize → token).

Prints the functions by own time and by cumulative time, and a breakdown by
layer (argon2, SQL execution, SQLAlchemy ORM, signing, Jinja, Flask/Werkzeug,
Authlib), plus the number of SQL statements and transactions per operation.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import hashlib
import io
import pstats
import re
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import _servers

ROOT = Path(__file__).resolve().parents[2]

# (label, substring of "file:function") — first match wins, in this order.
LAYERS = (
    ("argon2id", "argon2"),
    ("SQL driver (sqlite3/psycopg)", "sqlite3"),
    ("SQL driver (sqlite3/psycopg)", "psycopg"),
    ("crypto sign (cryptography)", "cryptography"),
    ("crypto sign (tongsuopy)", "tongsuopy"),
    ("templates (jinja2)", "jinja2"),
    ("SQLAlchemy", "sqlalchemy"),
    ("Authlib", "authlib"),
    ("Flask/Werkzeug", "werkzeug"),
    ("Flask/Werkzeug", "flask"),
    ("JSON", "json"),
)


def _layer_times(stats: pstats.Stats) -> dict[str, float]:
    """Own time (tottime) of every function, added up per layer."""
    out: dict[str, float] = defaultdict(float)
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{func}"
        label = next((lab for lab, key in LAYERS if key in where), None)
        if label is None:
            ours = filename.startswith(str(ROOT)) and "site-packages" not in filename
            label = "govtrust code" if ours else "other (stdlib, builtins)"
        out[label] += tottime
    return dict(out)


def _setup(workdir: Path, database_url: str = "") -> tuple[Any, Any, _servers.Seed]:
    from govtrust.app import create_app
    from govtrust.config import Config
    from govtrust.hub import Hub

    seed = _servers.Seed.make(4)
    base_url = "http://127.0.0.1:8000"
    env = _servers.prepare_hub(workdir / "hub", base_url, seed, database_url)
    config = Config.from_env(env)
    hub = Hub(config)
    app = create_app(config, hub=hub)
    return app, hub, seed


def _basic(client: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()


def _cc(client: Any, seed: _servers.Seed) -> None:
    r = client.post(
        "/idp/token",
        data={"grant_type": "client_credentials", "scope": "seal:sign"},
        headers={"Authorization": _basic("bench-machine", seed.secret)},
    )
    assert r.status_code == 200, r.data


def _login(app: Any, seed: _servers.Seed, i: int) -> None:
    c = app.test_client()
    user, password, _ = seed.accounts[i % len(seed.accounts)]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    q = {
        "response_type": "code",
        "client_id": "bench-web",
        "redirect_uri": _servers.REDIRECT_URI,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    r = c.get("/idp/authorize?" + urlencode(q))
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    r = c.post(action, data={"csrf_token": tok, "username": user, "password": password})
    while not r.headers["Location"].startswith(_servers.REDIRECT_URI):  # on the hub: follow
        r = c.get(r.headers["Location"])
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    r = c.post(
        "/idp/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": _servers.REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers={"Authorization": _basic("bench-web", seed.secret)},
    )
    assert r.status_code == 200 and "id_token" in r.get_json(), r.data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idp.profile", description=__doc__)
    parser.add_argument("what", choices=["cc", "login"], nargs="?", default="cc")
    parser.add_argument("--n", type=int, default=None, help="operations (cc 2000, login 100)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--pg", help="PostgreSQL URL instead of SQLite (scratch schema)")
    parser.add_argument(
        "--plain", action="store_true", help="no profiler: CPU and wall time per operation only"
    )
    args = parser.parse_args(argv)
    n = args.n or (2000 if args.what == "cc" else 100)

    import sqlalchemy as sa

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="govtrust-profile-idp-"))
        url = stack.enter_context(_servers.scratch_schema(args.pg))[0] if args.pg else ""
        app, hub, seed = _setup(Path(tmp), url)
        counts = {"statements": 0, "commits": 0}

        def counter(key: str) -> Any:
            def count(*_: Any) -> None:
                counts[key] += 1

            return count

        sa.event.listen(hub.db.engine, "before_cursor_execute", counter("statements"))
        sa.event.listen(hub.db.engine, "commit", counter("commits"))
        client = app.test_client()

        def op(i: int) -> None:
            if args.what == "cc":
                _cc(client, seed)
            else:
                _login(app, seed, i)

        for i in range(min(20, n)):  # warm-up: caches, first connections
            op(i)
        counts.update(statements=0, commits=0)
        if args.plain:
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(n):
                op(i)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            hub.close()
            print(
                f"{args.what}: {n} operations in-process, {1000 * cpu / n:.2f} ms CPU and "
                f"{1000 * wall / n:.2f} ms wall per operation, "
                f"{counts['statements'] / n:.1f} SQL statements and "
                f"{counts['commits'] / n:.1f} commits per operation"
            )
            return 0
        prof = cProfile.Profile()
        prof.enable()
        for i in range(n):
            op(i)
        prof.disable()
        hub.close()

    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"{args.what}: {n} operations in-process, {1000 * total / n:.2f} ms per operation "
        f"(profiled; cProfile adds overhead), {counts['statements'] / n:.1f} SQL statements "
        f"and {counts['commits'] / n:.1f} commits per operation"
    )
    print("\nown time by layer (ms per operation):")
    for label, t in sorted(_layer_times(stats).items(), key=lambda kv: -kv[1]):
        print(f"  {label:32} {1000 * t / n:8.3f}  {100 * t / total:5.1f} %")
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(args.top)
        print(f"\n--- top {args.top} by {key} ---")
        print("\n".join(buf.getvalue().splitlines()[6:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
