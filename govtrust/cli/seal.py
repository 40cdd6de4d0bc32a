"""``govtrust seal``: the seal registry and sealing, for operators.

The same code path as the HTTP API (:class:`seal_service.service.SealingService`):
an operator acts for the seal's holder, and every use is recorded (database row
and transparency-log leaf) before the output file is written.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import click

from seal_service.registry import ALGORITHMS, SealKind, SealView
from seal_service.service import DEFAULT_PADES_LEVEL, PADES_LEVELS

from ._common import echo_json, fail, get_hub, typed_errors

ACTOR_ENV = "GOVTRUST_OPERATOR"


def _actor() -> str:
    return os.environ.get(ACTOR_ENV) or f"cli:{getpass.getuser()}"


@click.group("seal")
def group() -> None:
    """Electronic seals: registry, lifecycle, sealing (OFD, PDF, SES, CMS)."""


def _row(s: SealView) -> str:
    return "\t".join(
        (
            s.id,
            s.holder_id,
            s.kind.value,
            s.algorithm,
            s.status.value,
            f"{s.valid_to:%Y-%m-%d}",
            s.name,
        )
    )


@group.command("list")
@click.option("--holder", help="Only this holder's seals.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_context
@typed_errors
def seal_list(ctx: click.Context, holder: str | None, as_json: bool) -> None:
    """List seals: id, holder, kind, algorithm, status, valid until, name."""
    seals = get_hub(ctx).seals.list(holder_id=holder)
    if as_json:
        echo_json([s.as_json() for s in seals])
        return
    for s in seals:
        click.echo(_row(s))


@group.command("show")
@click.argument("seal_id")
@click.pass_context
@typed_errors
def seal_show(ctx: click.Context, seal_id: str) -> None:
    """One seal and its history."""
    hub = get_hub(ctx)
    seal = hub.seals.get(seal_id)
    out: dict[str, Any] = seal.as_json()
    out["events"] = [
        {"at": e.at.isoformat(), "action": e.action, "actor": e.actor, "log_index": e.log_index}
        for e in hub.seals.events(seal_id)
    ]
    echo_json(out)


@group.command("image")
@click.argument("seal_id")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@typed_errors
def seal_image(ctx: click.Context, seal_id: str, out_path: Path) -> None:
    """Write the seal image (transparent PNG)."""
    out_path.write_bytes(get_hub(ctx).seals.get(seal_id).image_png)


@group.command("apply")
@click.option("--holder", required=True, help="The seal_holder participant.")
@click.option("--kind", required=True, type=click.Choice([k.value for k in SealKind]))
@click.option("--name", required=True, help="印章名称, e.g. 浙江省人民政府公章.")
@click.option("--algorithm", required=True, type=click.Choice(ALGORITHMS))
@click.option("--maker", help="The seal_maker participant (required for SM2).")
@click.option(
    "--image",
    "image_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Uploaded seal image (PNG); generated otherwise.",
)
@click.pass_context
@typed_errors
def seal_apply(
    ctx: click.Context,
    holder: str,
    kind: str,
    name: str,
    algorithm: str,
    maker: str | None,
    image_path: Path | None,
) -> None:
    """Apply for a seal (status ``applied``)."""
    hub = get_hub(ctx)
    image = width = None
    if image_path is not None:
        from seal_service.image import load_uploaded_image

        uploaded = load_uploaded_image(image_path.read_bytes())
        image = uploaded.png
        width = round(uploaded.width_mm) if uploaded.width_mm else 42
    seal = hub.seals.apply(
        holder_id=holder,
        kind=kind,
        name=name,
        algorithm=algorithm,
        maker_id=maker,
        image_png=image,
        width_mm=width,
        actor=_actor(),
    )
    echo_json(seal.as_json())


def _lifecycle(action: str, help_text: str) -> None:
    @group.command(action, help=help_text)
    @click.argument("seal_id")
    @click.option("--reason", default="", help="Recorded with the event.")
    @click.pass_context
    @typed_errors
    def command(ctx: click.Context, seal_id: str, reason: str) -> None:
        seals = get_hub(ctx).seals
        if action == "approve":
            seal = seals.approve(seal_id, actor=_actor())
        else:
            seal = getattr(seals, action)(seal_id, actor=_actor(), reason=reason)
        echo_json(seal.as_json())


_lifecycle("approve", "The maker's approval: key, certificate and (SM2) SESeal are made.")
_lifecycle("activate", "Put an approved seal into use.")
_lifecycle("suspend", "Stop a seal for now (reinstate later).")
_lifecycle("reinstate", "Put a suspended seal back into use.")
_lifecycle("revoke", "End a seal for good (published to verifiers through the log).")


@group.command("sign")
@click.option("--seal", "seal_id", required=True)
@click.option(
    "--in", "in_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--x", "x_mm", default=20.0, show_default=True, type=click.FloatRange(min=0), help="mm"
)
@click.option(
    "--y", "y_mm", default=20.0, show_default=True, type=click.FloatRange(min=0), help="mm"
)
@click.option("--cross-page", is_flag=True, help="A cross-page seal (骑缝章) on an OFD.")
@click.option(
    "--detached",
    is_flag=True,
    help="A detached signature of any file: SES_Signature (SM2 seals) or CMS.",
)
@click.option("--cms", "as_cms", is_flag=True, help="With --detached: CMS even for an SM2 seal.")
@click.option("--property-info", default="", help="SES propertyInfo (e.g. the document's name).")
@click.option(
    "--level",
    type=click.Choice(PADES_LEVELS),
    default=DEFAULT_PADES_LEVEL,
    show_default=True,
    help="PAdES level of a PDF seal: B-T (time-stamp) or B-LT (plus the hub's CRLs in a /DSS).",
)
@click.pass_context
@typed_errors
def seal_sign(
    ctx: click.Context,
    seal_id: str,
    in_path: Path,
    out_path: Path,
    page: int,
    x_mm: float,
    y_mm: float,
    cross_page: bool,
    detached: bool,
    as_cms: bool,
    property_info: str,
    level: str,
) -> None:
    """Seal a file: OFD in → sealed OFD, PDF in → PAdES PDF, --detached → SES_Signature DER
    (or CMS). Prints the operation record as JSON."""
    from seal_service.service import SealRequest

    hub = get_hub(ctx)
    seal = hub.seals.get(seal_id)
    document = in_path.read_bytes()
    if detached:
        fmt = "cms" if as_cms or seal.algorithm != "SM2" else "ses"
    elif document.startswith(b"%PDF-"):
        fmt = "pdf"
    elif document.startswith(b"PK\x03\x04"):
        fmt = "ofd"
    else:
        fail("not a PDF or OFD file; use --detached for other files", "unsupported_input")
    result = hub.sealing.seal(
        SealRequest(
            seal_id=seal_id,
            format=fmt,
            document=document,
            page=page,
            x_mm=x_mm,
            y_mm=y_mm,
            cross_page=cross_page,
            property_info=property_info,
            level=level,
        ),
        holder_id=seal.holder_id,
        client_id=_actor(),
    )
    tmp = out_path.with_name(out_path.name + ".part")
    tmp.write_bytes(result.data)
    tmp.replace(out_path)
    echo_json(
        {
            "operation": result.operation_id,
            "seal": result.seal_id,
            "format": result.format,
            "digest": f"{result.digest_alg}:{result.digest_hex}",
            "log_index": result.log_index,
            "out": str(out_path),
            "bytes": len(result.data),
        }
    )
