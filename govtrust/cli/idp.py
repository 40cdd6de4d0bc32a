"""``govtrust idp …`` — the identity provider's accounts and relying-party clients.

``govtrust idp user add`` registers a citizen (公民, GB 11643 identity number) or,
with ``--uscc``, an enterprise operator (法人经办人, GB 32100 credit code) and
prints ``{"id", "username", "kind"}``.

``govtrust idp client add`` registers an OIDC client (a regional platform or an
agency's machine client) and prints ``{"client_id"}`` — plus ``client_secret``,
shown this once, when the hub generated it. ``client list`` shows the clients,
``deliver-logouts`` retries pending back-channel logout deliveries, and
``sync-clients`` brings clients in line with the participant registry.

Invalid input exits with status 2 and one ``govtrust: <code>: <message>`` line
on stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from govtrust.registry import Role, Status
from idp.accounts import Accounts, AccountView
from idp.clients import ID_TOKEN_ALGS, ClientStore, ClientView
from idp.models import Client

from ._common import echo_json, fail, get_hub, typed_errors

__all__ = ["group"]

group = click.Group("idp", help="Identity provider: user accounts and relying-party clients.")


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


# ----------------------------------------------------------------------------- clients


@group.group("client")
def client() -> None:
    """OIDC clients: regional platforms (relying parties) and agency machine clients."""


def _client_json(c: ClientView) -> dict[str, Any]:
    return {
        "client_id": c.client_id,
        "name": c.name,
        "participant_id": c.participant_id,
        "redirect_uris": list(c.redirect_uris),
        "post_logout_redirect_uris": list(c.post_logout_redirect_uris),
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "grant_types": list(c.grant_types),
        "scopes": list(c.scopes),
        "id_token_signed_response_alg": c.id_token_signed_response_alg,
        "disabled": c.disabled,
        "subject_type": c.subject_type,
        "sector": c.sector,
        "first_party": c.first_party,
    }


def _split(values: tuple[str, ...]) -> list[str]:
    """Repeatable options that also accept space-separated lists (``--scope "openid profile"``)."""
    return [v for value in values for v in value.split()]


@client.command("add")
@click.option("--client-id", required=True, help="The client identifier (1-100 characters).")
@click.option("--name", help="Display name shown on the login and consent pages.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeat).")
@click.option(
    "--secret", help="Client secret (>= 32 characters); default: generated and shown once."
)
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JWK Set file: the client authenticates with private_key_jwt.",
)
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True, help="Repeatable.")
@click.option("--backchannel-logout-uri", help="Where the hub POSTs logout tokens.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Scopes the client may ask for (repeat or space-separate); default: openid profile.",
)
@click.option(
    "--id-token-alg", type=click.Choice(ID_TOKEN_ALGS), default="RS256", show_default=True
)
@click.option(
    "--subject-type",
    type=click.Choice(["pairwise", "public"]),
    default="pairwise",
    show_default=True,
)
@click.option("--sector", help="Pairwise sector (default: the redirect URI's host).")
@click.option("--participant-id", help="The registry participant this client belongs to.")
@click.pass_context
@typed_errors
def client_add(
    ctx: click.Context,
    client_id: str,
    name: str | None,
    redirect_uris: tuple[str, ...],
    secret: str | None,
    jwks_file: Path | None,
    post_logout: tuple[str, ...],
    backchannel_logout_uri: str | None,
    scopes: tuple[str, ...],
    id_token_alg: str,
    subject_type: str,
    sector: str | None,
    participant_id: str | None,
) -> None:
    """Register a client; prints its id (and a generated secret, once)."""
    if secret is not None and jwks_file is not None:
        fail("give --secret or --jwks, not both", "usage")
    jwks = None
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            fail(f"{jwks_file}: not JSON ({exc})", "invalid_client_metadata")
    generated = secret is None and jwks is None
    if generated:
        secret = ClientStore.new_secret()
    hub = get_hub(ctx)
    participant = hub.registry.find(participant_id) if participant_id is not None else None
    if participant_id is not None and participant is None:
        fail(f"no participant {participant_id!r} in the registry", "unknown_participant")
    view = hub.idp.clients.add(
        client_id=client_id,
        name=name or (participant.name_zh if participant is not None else client_id),
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        backchannel_logout_uri=backchannel_logout_uri,
        secret=secret,
        jwks=jwks,
        scopes=_split(scopes) or ("openid", "profile"),
        id_token_alg=id_token_alg,
        subject_type=subject_type,
        sector=sector,
        participant_id=participant_id,
    )
    out: dict[str, Any] = {"client_id": view.client_id}
    if generated:
        out["client_secret"] = secret
        click.echo("govtrust: the client secret is shown once; store it now.", err=True)
    echo_json(out)


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_context
@typed_errors
def client_list(ctx: click.Context, as_json: bool) -> None:
    """List the registered clients (never their secrets)."""
    clients = get_hub(ctx).idp.clients.list()
    if as_json:
        echo_json([_client_json(c) for c in clients])
        return
    for c in clients:
        click.echo(
            f"{c.client_id}\t{c.name}\t{c.participant_id or '-'}\t"
            f"{c.token_endpoint_auth_method}\t{c.id_token_signed_response_alg}\t"
            f"{' '.join(c.redirect_uris) or '-'}"
        )


@client.command("disable")
@click.argument("client_id")
@click.pass_context
@typed_errors
def client_disable(ctx: click.Context, client_id: str) -> None:
    """Refuse a client at every endpoint (takes effect in every worker within seconds)."""
    changed = get_hub(ctx).idp.clients.set_disabled(client_id, True)
    echo_json({"client_id": client_id, "disabled": True, "changed": changed})


@client.command("enable")
@click.argument("client_id")
@click.pass_context
@typed_errors
def client_enable(ctx: click.Context, client_id: str) -> None:
    """Accept a disabled client again."""
    changed = get_hub(ctx).idp.clients.set_disabled(client_id, False)
    echo_json({"client_id": client_id, "disabled": False, "changed": changed})


@client.command("rotate-secret")
@click.argument("client_id")
@click.pass_context
@typed_errors
def client_rotate_secret(ctx: click.Context, client_id: str) -> None:
    """Replace a client's secret with a new random one (shown once); the old one stops working."""
    secret = get_hub(ctx).idp.clients.rotate_secret(client_id)
    click.echo("govtrust: the client secret is shown once; store it now.", err=True)
    echo_json({"client_id": client_id, "client_secret": secret})


@group.command("deliver-logouts")
@click.pass_context
@typed_errors
def deliver_logouts(ctx: click.Context) -> None:
    """Retry pending back-channel logout deliveries that are due (run from cron/systemd)."""
    echo_json(get_hub(ctx).idp.deliver_logouts())


@group.command("sync-clients")
@click.pass_context
@typed_errors
def sync_clients(ctx: click.Context) -> None:
    """Bring clients that belong to a registry participant in line with the registry.

    The registry holds no redirect URIs, so clients are not created here (use
    ``client add --participant-id``). For every relying-party client (authorization
    code) with a participant id the display name follows the participant's; those
    whose participant is not an active relying party are listed under
    ``not_active`` (reported, not switched off: ``idp client disable`` does that).
    Active relying parties without any client are listed under ``without_client``.
    Agencies' machine clients keep their own names.
    """
    hub = get_hub(ctx)
    result: dict[str, list[Any]] = {
        "renamed": [],
        "unchanged": [],
        "not_active": [],
        "unknown_participant": [],
        "without_client": [],
    }
    with hub.db.session() as s:
        linked = {
            client_id: str(participant_id)
            for client_id, participant_id, grant_types in s.execute(
                select(Client.client_id, Client.participant_id, Client.grant_types).where(
                    Client.participant_id.is_not(None)
                )
            ).all()
            if "authorization_code" in (grant_types or ())
        }
    participants = {pid: hub.registry.find(pid) for pid in set(linked.values())}
    with hub.db.write() as s:
        for client_id, participant_id in sorted(linked.items()):
            p = participants[participant_id]
            row = s.get(Client, client_id)
            if p is None or row is None:
                result["unknown_participant"].append(client_id)
                continue
            if p.status is not Status.ACTIVE or not p.has_role(Role.RELYING_PARTY):
                result["not_active"].append(
                    {
                        "client_id": client_id,
                        "participant_id": p.id,
                        "status": p.status.value,
                        "relying_party": p.has_role(Role.RELYING_PARTY),
                    }
                )
            if row.name != p.name_zh:
                row.name = p.name_zh
                result["renamed"].append(client_id)
            else:
                result["unchanged"].append(client_id)
    for p in hub.registry.list(status=Status.ACTIVE, role=Role.RELYING_PARTY):
        if p.id not in participants:
            result["without_client"].append(p.id)
    echo_json(result)
