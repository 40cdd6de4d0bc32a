"""``govtrust keys list|generate|rotate|retire-due|jwks``."""

from __future__ import annotations

from datetime import timedelta

import click

from keys import KeyPurpose

from ._common import echo_json, get_hub, typed_errors

PURPOSES = [p.value for p in KeyPurpose]


@click.group("keys")
def keys_group() -> None:
    """Key custody: list, generate and rotate keys (private keys are never shown)."""


@keys_group.command("list")
@click.option("--purpose", type=click.Choice(PURPOSES))
@click.option("--owner")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@typed_errors
def list_keys(ctx: click.Context, purpose: str | None, owner: str | None, as_json: bool) -> None:
    """List keys with purpose, algorithm, owner, state and backend."""
    infos = get_hub(ctx).keys.list(purpose=purpose, owner=owner)
    rows = [
        {
            "kid": k.kid,
            "purpose": k.purpose.value,
            "algorithm": k.algorithm.name,
            "owner": k.owner,
            "state": k.state.value,
            "backend": k.backend,
            "created_at": k.created_at.isoformat(),
            "verify_until": k.verify_until.isoformat() if k.verify_until else None,
        }
        for k in infos
    ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['kid']}  {r['purpose']:<13} {r['algorithm']:<6} {r['owner']:<10} "
            f"{r['state']:<9} {r['backend']}"
        )


@keys_group.command("generate")
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--alg", required=True)
@click.option("--owner", default="hub", show_default=True)
@click.option(
    "--backend", default="software", show_default=True, type=click.Choice(["software", "pkcs11"])
)
@click.option("--pending", is_flag=True, help="Create without activating.")
@click.option("--label", default="")
@click.pass_context
@typed_errors
def generate(
    ctx: click.Context, purpose: str, alg: str, owner: str, backend: str, pending: bool, label: str
) -> None:
    """Generate a key for exactly one purpose."""
    info = get_hub(ctx).keys.generate(
        purpose, alg, owner=owner, backend=backend, activate=not pending, label=label
    )
    echo_json(
        {
            "kid": info.kid,
            "purpose": info.purpose.value,
            "algorithm": info.algorithm.name,
            "state": info.state.value,
            "jwk": info.jwk(),
        }
    )


@keys_group.command("rotate")
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--alg", required=True)
@click.option("--owner", default="hub", show_default=True)
@click.option(
    "--overlap-hours",
    default=24.0,
    show_default=True,
    help="How long the old key stays published for verification.",
)
@click.option(
    "--backend", default="software", show_default=True, type=click.Choice(["software", "pkcs11"])
)
@click.pass_context
@typed_errors
def rotate(
    ctx: click.Context, purpose: str, alg: str, owner: str, overlap_hours: float, backend: str
) -> None:
    """Replace the active key; the old one verifies until the overlap ends."""
    info = get_hub(ctx).keys.rotate(
        purpose, alg, owner=owner, backend=backend, overlap=timedelta(hours=overlap_hours)
    )
    echo_json(
        {
            "kid": info.kid,
            "purpose": info.purpose.value,
            "algorithm": info.algorithm.name,
            "state": info.state.value,
        }
    )


@keys_group.command("retire-due")
@click.pass_context
@typed_errors
def retire_due(ctx: click.Context) -> None:
    """Retire every key whose overlap has ended."""
    echo_json({"retired": get_hub(ctx).keys.retire_due()})


@keys_group.command("jwks")
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--owner", default="hub", show_default=True)
@click.pass_context
@typed_errors
def jwks(ctx: click.Context, purpose: str, owner: str) -> None:
    """Print the published JWKS (active and retiring keys) for a purpose."""
    echo_json(get_hub(ctx).keys.jwks(purpose, owner=owner))
