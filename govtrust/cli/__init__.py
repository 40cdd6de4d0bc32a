"""The ``govtrust`` command line (names are stable: README, tests and operators rely on them)."""

from __future__ import annotations

import logging
import os
import sys

import click

from govtrust.config import Config

from .crypto import crypto
from .keys import keys_group
from .server import init, serve

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """GovTrust: national SSO, e-seals, e-licenses and offline verification."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.ensure_object(dict)
    ctx.obj.setdefault("config", Config.from_env())


cli.add_command(init)
cli.add_command(serve)
cli.add_command(crypto)
cli.add_command(keys_group)

for _name in ("pki", "admin", "trustlist", "log", "idp", "seal", "license", "verify", "verifier"):
    try:  # command groups contributed by other modules as they arrive
        _mod = __import__(f"govtrust.cli.{_name}", fromlist=["group"])
        cli.add_command(_mod.group)
    except ModuleNotFoundError as exc:
        if exc.name != f"govtrust.cli.{_name}":
            raise


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli(prog_name="govtrust")
    sys.exit(0)
