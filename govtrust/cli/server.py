"""``govtrust init`` and ``govtrust serve``."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import click

from govtrust.config import Config
from trust.identifiers import seed_participants

from ._common import echo_json, get_hub, typed_errors


@click.command()
@click.option("--demo", is_flag=True, help="Also seed the demo world (idempotent).")
@click.pass_context
@typed_errors
def init(ctx: click.Context, demo: bool) -> None:
    """Create or upgrade the database and the hub's keys."""
    hub = get_hub(ctx, create_master_key=True)
    hub.migrate()
    created = hub.ensure_hub_keys()
    participants = hub.registry.seed(seed_participants())
    certificates = hub.pki.ensure()
    summary: dict[str, object] = {
        "database": hub.db.engine.url.render_as_string(hide_password=True),
        "hub_keys_created": created,
        "participants_created": len(participants),
        "certificates_created": certificates,
    }
    if demo:
        from govtrust.demo import seed_demo

        summary["demo"] = seed_demo(hub)
    if created or participants or certificates or demo or hub.trust_lists.latest() is None:
        summary["trust_list_sequence"] = hub.trust_lists.publish().sequence
    echo_json(summary)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(min=2),
    help="Threads per worker: the demo portals call the hub's token endpoint over HTTP "
    "on this same server, and the hub posts back-channel logout tokens to them.",
)
@click.option(
    "--server",
    "server_name",
    type=click.Choice(["granian", "gunicorn"]),
    default="granian",
    show_default=True,
    help="HTTP server: granian (Rust HTTP/1.1, WSGI in a thread pool; about half the "
    "per-request CPU of gunicorn here, see benchmarks/idp) or gunicorn (gthread workers).",
)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, workers: int, threads: int, server_name: str
) -> None:
    """Run the hub (every enabled component) with a production HTTP server."""
    config: Config = ctx.ensure_object(dict).get("config") or Config.from_env()
    base = urlsplit(config.base_url)
    if base.hostname in ("127.0.0.1", "localhost", "::1") and base.port not in (None, port):
        click.echo(
            f"govtrust: warning: GOVTRUST_BASE_URL is {config.base_url} but the server listens "
            f"on port {port}; sign-in redirects and the demo portals use the base URL "
            f"(set GOVTRUST_BASE_URL=http://{host}:{port} for init and serve)",
            err=True,
        )
    args = server_argv(server_name, host=host, port=port, workers=workers, threads=threads)
    os.execv(sys.executable, args)


GUNICORN_ACCESS_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
GRANIAN_ACCESS_FORMAT = (
    '[%(time)s] %(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f'
)


def server_argv(server: str, *, host: str, port: int, workers: int, threads: int) -> list[str]:
    """The command line that runs ``govtrust.wsgi:app`` under ``server``."""
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--http",
            "1",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--respawn-failed-workers",
            "--access-log",  # granian logs the path without the query string
            "--access-log-fmt",
            GRANIAN_ACCESS_FORMAT,
            "--workers-kill-timeout",
            "5",
            "govtrust.wsgi:app",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "govtrust.wsgi:app",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        # Path without the query string, no Referer: query strings carry authorization
        # codes, id_token_hint and state, which do not belong in logs (SECURITY.md).
        "--access-logformat",
        GUNICORN_ACCESS_FORMAT,
        "--graceful-timeout",
        "5",
    ]
