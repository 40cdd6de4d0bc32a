"""``govtrust trust-list publish|show|verify|roots``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from trust.pki import load_certificates
from trust.trustlist import TrustListClient, TrustListError, verify_trust_list

from ._common import EXIT_INVALID, echo_json, fail, get_hub, typed_errors

group = click.Group("trust-list", help="The hub's signed trust list.")


@group.command("publish")
@click.option("--validity-hours", default=24.0, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the signed document here (offline distribution).",
)
@click.pass_context
@typed_errors
def publish(ctx: click.Context, validity_hours: float, out: Path | None) -> None:
    """Sign and publish the next trust list."""
    hub = get_hub(ctx)
    p = hub.trust_lists.publish(validity=timedelta(hours=validity_hours))
    if out:
        out.write_bytes(p.document)
    echo_json(
        {
            "sequence": p.sequence,
            "sha256": p.digest,
            "issued_at": p.issued_at,
            "next_update": p.next_update,
        }
    )


@group.command("show")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@typed_errors
def show(ctx: click.Context, out: Path | None) -> None:
    """Print (or save) the latest published trust list."""
    p = get_hub(ctx).trust_lists.latest()
    if p is None:
        fail("nothing published yet; run govtrust trust-list publish", "no_trust_list")
        return
    if out:
        out.write_bytes(p.document)
        click.echo(f"sequence {p.sequence} written to {out}")
    else:
        click.echo(p.document.decode())


@group.command("roots")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
@typed_errors
def roots(ctx: click.Context, out: Path) -> None:
    """Export the hub root certificates (PEM) for verifiers to pin."""
    certs = get_hub(ctx).pki.roots()
    out.write_bytes(b"".join(c.pem() for c in certs))
    click.echo(f"{len(certs)} root certificates written to {out}")


@group.command("verify")
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path, exists=True))
@click.option(
    "--roots",
    "roots_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path, exists=True),
    help="Pinned hub root certificates (PEM).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep rollback state here and accept the list if it passes.",
)
@click.option("--grace-hours", default=24.0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@typed_errors
def verify(
    document: Path, roots_path: Path, state_dir: Path | None, grace_hours: float, as_json: bool
) -> None:
    """Verify a trust list file offline against pinned roots (exit 0 valid, 1 invalid)."""
    data = document.read_bytes()
    pinned = [c.der for c in load_certificates(roots_path.read_bytes())]
    now = datetime.now(UTC)
    try:
        if state_dir is not None:
            client = TrustListClient(
                roots=pinned, state_dir=state_dir, grace=timedelta(hours=grace_hours)
            )
            tl = client.accept(data, now=now)
        else:
            tl = verify_trust_list(data, roots=pinned, at=now)
            if now > tl.next_update + timedelta(hours=grace_hours):
                raise TrustListError("stale trust list", code="stale")
    except TrustListError as exc:
        if as_json:
            click.echo(
                json.dumps({"verdict": "INVALID", "reasons": [exc.code], "message": exc.message})
            )
        else:
            click.echo(f"INVALID: {exc.code}: {exc.message}")
        raise SystemExit(EXIT_INVALID) from None
    result = {
        "verdict": "VALID",
        "reasons": [],
        "sequence": tl.sequence,
        "issued_at": tl.issued_at.isoformat(),
        "next_update": tl.next_update.isoformat(),
        "participants": len(tl.participants),
    }
    click.echo(
        json.dumps(result, ensure_ascii=False)
        if as_json
        else f"OK: sequence {tl.sequence}, {len(tl.participants)} participants, "
        f"next update {tl.next_update.isoformat()}"
    )
