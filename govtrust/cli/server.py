"""``govtrust init`` and ``govtrust serve``."""

from __future__ import annotations

import os
import sys

import click

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
def serve(host: str, port: int, workers: int) -> None:
    """Run the hub with gunicorn (every enabled component)."""
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "govtrust.wsgi:app",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    os.execv(sys.executable, args)
