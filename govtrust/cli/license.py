"""``govtrust license``: e-license types, issuance, lifecycle, presentation, verification.

The same code path as the HTTP API (:class:`license_wallet.service.LicenseService`):
the license row, its event and its transparency-log leaf are committed before
anything is printed. ``present`` builds the presentation the wallet shows
(:func:`license_wallet.credential.present_qr_text`) with the holder's private
key from a PEM file; ``verify`` checks one against this hub's issuer keys and
status lists.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from license_wallet.credential import present_qr_text, verify_presentation
from license_wallet.qr import render_qr
from license_wallet.types import license_types
from trust.crypto import load_private_key, load_public_key
from trust.errors import TrustError

from ._common import EXIT_INVALID, echo_json, fail, get_hub, typed_errors

ACTOR_ENV = "GOVTRUST_OPERATOR"
BEIJING = timezone(timedelta(hours=8))


def _actor() -> str:
    return os.environ.get(ACTOR_ENV) or f"cli:{getpass.getuser()}"


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=BEIJING)
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("an ISO 8601 date or time", param_hint=name) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=BEIJING)


@click.group("license")
def group() -> None:
    """E-licenses (电子证照): types, issue, revoke/suspend/reinstate, present, verify."""


@group.command("types")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_context
@typed_errors
def license_types_cmd(ctx: click.Context, as_json: bool) -> None:
    """License types: code, name, fields and the issuers authorised for each."""
    hub = get_hub(ctx)
    issuers: dict[str, list[str]] = {}
    for p in hub.registry.list():
        if p.status.value == "active" and p.has_role("license_issuer"):
            for code in p.license_types:
                issuers.setdefault(code, []).append(p.id)
    rows = [
        {
            "code": t.code,
            "slug": t.slug,
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "fields": [
                {
                    "key": f.key,
                    "label": f.label,
                    "name_zh": f.name_zh,
                    "name_en": f.name_en,
                    "kind": f.kind.value,
                    "required": f.required,
                    "minimal": f.minimal,
                }
                for f in t.fields
            ],
            "issuers": sorted(issuers.get(t.code, [])),
        }
        for t in license_types()
    ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        keys = ",".join(f["key"] for f in r["fields"])
        click.echo(f"{r['code']}\t{r['name_zh']}\t{r['slug']}\t{','.join(r['issuers'])}\t{keys}")


def _fields(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--field")
        out[key] = value
    return out


def _print_license(view: Any, as_json: bool) -> None:
    if as_json:
        echo_json(view.as_json())
    else:
        click.echo(
            f"{view.id}\t{view.issuer_id}\t{view.type_code}\t{view.status.value}\t{view.identifier}"
        )


@group.command("issue")
@click.option("--issuer", required=True, help="The license_issuer participant.")
@click.option("--type", "type_code", required=True, help="Type code or slug (license types).")
@click.option(
    "--holder-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The holder's P-256 public key (PEM; a private key PEM is read for its public half).",
)
@click.option("--holder", "subject", help="The holder's account (default: key:<thumbprint>).")
@click.option("--field", "fields", multiple=True, help="key=value (repeat).")
@click.option("--valid-from", help="ISO 8601 (default now); a date alone is Beijing midnight.")
@click.option("--valid-until", help="ISO 8601; absent: no end date (长期).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@typed_errors
def license_issue(
    ctx: click.Context,
    issuer: str,
    type_code: str,
    holder_key: Path,
    subject: str | None,
    fields: tuple[str, ...],
    valid_from: str | None,
    valid_until: str | None,
    as_json: bool,
) -> None:
    """Issue one license (stored and logged before it is printed)."""
    data = holder_key.read_bytes()
    pub = load_private_key(data).public_key() if b"PRIVATE KEY" in data else load_public_key(data)
    view = get_hub(ctx).licenses.issue(
        issuer,
        type_code,
        subject or f"key:{pub.thumbprint()}",
        pub.jwk(),
        _fields(fields),
        _when(valid_from, "--valid-from"),
        _when(valid_until, "--valid-until"),
        actor=_actor(),
    )
    _print_license(view, as_json)


def _lifecycle(action: str) -> Any:
    @click.argument("license_id")
    @click.option("--reason", default="", help="Why (recorded in the log).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    @typed_errors
    def command(ctx: click.Context, license_id: str, reason: str, as_json: bool) -> None:
        method = getattr(get_hub(ctx).licenses, action)
        _print_license(method(license_id, actor=_actor(), reason=reason), as_json)

    command.__doc__ = {
        "revoke": "Revoke a license (final).",
        "suspend": "Suspend a valid license.",
        "reinstate": "Reinstate a suspended license.",
    }[action]
    return group.command(action)(command)


for _action in ("revoke", "suspend", "reinstate"):
    _lifecycle(_action)


@group.command("show")
@click.argument("license_id")
@click.pass_context
@typed_errors
def license_show(ctx: click.Context, license_id: str) -> None:
    """One license and its history."""
    hub = get_hub(ctx)
    out = hub.licenses.get(license_id).as_json()
    out["events"] = [
        {"at": e.at.isoformat(), "action": e.action, "actor": e.actor, "log_index": e.log_index}
        for e in hub.licenses.events(license_id)
    ]
    echo_json(out)


@group.command("present")
@click.argument("license_id")
@click.option(
    "--holder-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The holder's P-256 private key (PEM).",
)
@click.option("--disclose", default="minimal", help='"full", "minimal" or f1,f2,… field keys.')
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@typed_errors
def license_present(
    ctx: click.Context, license_id: str, holder_key: Path, disclose: str, png_path: Path | None
) -> None:
    """Print the QR text of a fresh presentation (what the wallet shows)."""
    hub = get_hub(ctx)
    view = hub.licenses.get(license_id)
    signer = load_private_key(holder_key.read_bytes()).signer("ES256")
    chosen: str | list[str] = (
        disclose if disclose in ("full", "minimal") else [k for k in disclose.split(",") if k]
    )
    text = present_qr_text(view.credential, chosen, signer, now=datetime.now(UTC))
    if png_path is not None:
        image = render_qr(text)
        png_path.write_bytes(image.png)
        click.echo(f"QR version {image.version}-{image.error}", err=True)
    click.echo(text)


@group.command("verify")
@click.argument("qr_text")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@typed_errors
def license_verify(ctx: click.Context, qr_text: str, as_json: bool) -> None:
    """Verify a presentation's QR text against this hub's issuers and status lists.

    Exit status 0 when valid, 1 when refused (with the reason code)."""
    hub = get_hub(ctx)
    if qr_text == "-":
        qr_text = sys.stdin.read().strip()
    try:
        result = verify_presentation(
            qr_text,
            issuer_keys=hub.licenses.issuer_keys(),
            now=datetime.now(UTC),
            status_lookup=hub.licenses.status_of,
        )
    except Exception as exc:  # every refusal is a typed CredentialError
        code = getattr(exc, "code", "presentation_rejected")
        if as_json:
            echo_json({"verdict": "INVALID", "reason": code, "message": str(exc)})
            sys.exit(EXIT_INVALID)
        fail(str(exc), code, EXIT_INVALID)
        return
    # As the counter verifier: the issuer must (still) be authorised for the type.
    issuer = hub.registry.find(result.issuer, keys=False)
    if issuer is None or result.type_code not in issuer.license_types:
        code = "issuer_not_authorized_for_type"
        message = f"{result.issuer} may not issue license type {result.type_code}"
        if as_json:
            echo_json({"verdict": "INVALID", "reason": code, "message": message})
            sys.exit(EXIT_INVALID)
        fail(message, code, EXIT_INVALID)
        return
    out = {
        "verdict": "VALID",
        "issuer": result.issuer,
        "type_code": result.type_code,
        "type_name": result.type_name_zh,
        "identifier": result.identifier,
        "fields": dict(result.fields),
        "valid_from": result.valid_from.isoformat(),
        "valid_until": result.valid_until.isoformat() if result.valid_until else None,
        "status": result.status.name if result.status is not None else None,
    }
    if as_json:
        echo_json(out)
    else:
        click.echo(f"VALID {result.type_name_zh} {result.identifier} ({result.issuer})")
        for key, value in result.fields.items():
            click.echo(f"  {key}: {value}")


#: CSV columns that are not license fields.
IMPORT_COLUMNS = ("holder", "holder_key", "valid_from", "valid_until")


@group.command("import")
@click.option("--issuer", required=True, help="The license_issuer participant.")
@click.option("--type", "type_code", required=True, help="Type code or slug.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print every result as JSON.")
@click.pass_context
@typed_errors
def license_import(
    ctx: click.Context, issuer: str, type_code: str, csv_file: Path, as_json: bool
) -> None:
    """Bulk issuance from a UTF-8 CSV file with a header row.

    Columns: ``holder`` (account), ``holder_key`` (the P-256 public JWK as JSON),
    optional ``valid_from``/``valid_until`` (ISO 8601), and one column per license
    field (empty cells are left out). Each row is issued whole or not at all
    (stored and logged like any issuance); failures are reported by line. Exit 0
    when every row was issued, 1 otherwise."""
    import csv
    import json

    hub = get_hub(ctx)
    with csv_file.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    results: list[dict[str, Any]] = []
    actor = _actor()
    with click.progressbar(
        rows, label="issuing", file=sys.stderr, show_pos=True, hidden=as_json
    ) as bar:
        for line, row in enumerate(bar, start=2):
            try:
                key_text = row.get("holder_key") or ""
                jwk = json.loads(key_text) if key_text else None
                if not isinstance(jwk, dict):
                    raise click.BadParameter("holder_key must be a JWK object")
                fields = {
                    k: v
                    for k, v in row.items()
                    if k is not None and k not in IMPORT_COLUMNS and isinstance(v, str) and v
                }
                view = hub.licenses.issue(
                    issuer,
                    type_code,
                    row.get("holder") or "",
                    jwk,
                    fields,
                    _when(row.get("valid_from") or None, "valid_from"),
                    _when(row.get("valid_until") or None, "valid_until"),
                    actor=actor,
                )
            except (ValueError, click.BadParameter) as exc:
                results.append({"line": line, "error": "invalid_row", "message": str(exc)})
            except TrustError as exc:
                failure = {"line": line, "error": exc.code, "message": exc.message}
                if isinstance(getattr(exc, "field", None), str):
                    failure["field"] = exc.field  # type: ignore[attr-defined]
                results.append(failure)
            else:
                results.append({"line": line, "id": view.id, "identifier": view.identifier})
    failed = [r for r in results if "error" in r]
    summary = {"issued": len(results) - len(failed), "failed": len(failed)}
    if as_json:
        echo_json(summary | {"results": results})
    else:
        click.echo(f"issued {summary['issued']}, failed {summary['failed']}")
        for r in failed:
            click.echo(f"line {r['line']}: {r['error']} {r.get('field', '')}".rstrip(), err=True)
    if failed:
        sys.exit(EXIT_INVALID)
