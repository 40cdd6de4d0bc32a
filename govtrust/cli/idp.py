"""``govtrust idp …`` — the identity provider's accounts (and, later, its clients).

``govtrust idp user add`` registers a citizen (公民, GB 11643 identity number) or,
with ``--uscc``, an enterprise operator (法人经办人, GB 32100 credit code) and
prints ``{"id", "username", "kind"}``. Invalid input exits with status 2 and
one ``govtrust: <code>: <message>`` line on stderr.
"""

from __future__ import annotations

import os

import click

from idp.accounts import Accounts, AccountView

from ._common import echo_json, fail, get_hub, typed_errors

__all__ = ["group"]

group = click.Group("idp", help="Identity provider: user accounts (and relying-party clients).")


@group.group("user")
def user() -> None:
    """Citizen and enterprise accounts."""


@user.command("add")
@click.option("--username", required=True, help="3-64 characters: letters, digits, _ . @ -")
@click.option("--password", help="The password (prefer --password-env: argv is visible).")
@click.option("--password-env", metavar="VAR", help="Read the password from this variable.")
@click.option("--name", help="姓名: the citizen's or the operator's name (default: the username).")
@click.option("--id-number", help="公民身份号码 (GB 11643); required for citizens.")
@click.option("--phone", help="Mainland mobile number.")
@click.option("--enterprise-name", help="企业名称 (with --uscc).")
@click.option("--uscc", help="统一社会信用代码 (GB 32100): makes an enterprise account.")
@click.pass_context
@typed_errors
def add(
    ctx: click.Context,
    username: str,
    password: str | None,
    password_env: str | None,
    name: str | None,
    id_number: str | None,
    phone: str | None,
    enterprise_name: str | None,
    uscc: str | None,
) -> None:
    """Create an account; prompts for the password when neither option gives one."""
    if password is not None and password_env:
        fail("give --password or --password-env, not both", "usage")
    if password_env:
        if password_env not in os.environ:
            fail(f"environment variable {password_env} is not set", "usage")
        password = os.environ[password_env]
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if enterprise_name is not None and uscc is None:
        fail("--enterprise-name needs --uscc", "usage")
    if uscc is not None and not enterprise_name:
        fail("--uscc needs --enterprise-name", "usage")
    assert password is not None

    hub = get_hub(ctx)
    accounts = Accounts(hub.db, master_key=hub.master_key, clock=hub.clock)
    view: AccountView
    if uscc is not None:
        assert enterprise_name is not None
        view = accounts.create_enterprise(
            username=username,
            password=password,
            name=name or username,
            enterprise_name=enterprise_name,
            uscc=uscc,
            phone=phone,
            id_number=id_number,
        )
    else:
        if id_number is None:
            fail(
                "citizens need --id-number (or give --uscc for an enterprise)", "invalid_id_number"
            )
        assert id_number is not None
        view = accounts.create_citizen(
            username=username,
            password=password,
            name=name or username,
            id_number=id_number,
            phone=phone,
        )
    echo_json({"id": view.id, "username": view.username, "kind": view.kind})
