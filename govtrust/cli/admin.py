"""``govtrust admin add`` — hub administrator accounts for the registry console."""

from __future__ import annotations

import os

import click

from govtrust.admin.auth import add_admin

from ._common import fail, get_hub, typed_errors

group = click.Group("admin", help="Hub administrator accounts.")


@group.command("add")
@click.option("--username", required=True)
@click.option("--password-env", metavar="VAR", help="Read the password from this variable.")
@click.option("--name", "display_name")
@click.pass_context
@typed_errors
def add(
    ctx: click.Context, username: str, password_env: str | None, display_name: str | None
) -> None:
    """Create an administrator (or reset their password); prompts when no --password-env."""
    if password_env:
        password = os.environ.get(password_env, "")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        add_admin(get_hub(ctx).db, username, password, display_name)
    except ValueError as exc:
        fail(str(exc), "weak_password")
    click.echo(f"administrator {username} saved")
