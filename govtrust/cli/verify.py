"""``govtrust verify INPUT``: the verdict on a sealed document, for a counter clerk or a script.

INPUT is an OFD package, a PDF (PAdES; every embedded signature), a
detached SES_Signature (``SignedValue.dat``) or a detached CMS SignedData
(RFC 5652, DER) — give the document a detached signature covers with
``--data`` — all through :func:`verifier.documents.verify_document`; or an
e-license QR presentation: ``--text GT1:…`` (or a file holding that text),
through :func:`verifier.licenses.verify_license_qr` with the hub's license
issuers, keys and status lists as the trust data. QR *images* are not read yet
(INDETERMINATE / ``unsupported_input``).

Trust anchors: ``--roots ROOTS.pem``; otherwise the hub's root certificates
when a hub database is configured and holds some; otherwise none, and chains
are INDETERMINATE / ``no_certificate_chain_found``.

Exit status (DESIGN.md "Command line"): 0 VALID, 1 INVALID, 2 INDETERMINATE or
unusable input (a missing file, an unreadable ``--roots`` …).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click

from govtrust.verifier_trust import license_trust
from license_wallet.qr import PREFIX
from trust.pki import Certificate, load_certificates
from verifier.documents import (
    INDETERMINATE,
    INVALID,
    MAX_INPUT_SIZE,
    VALID,
    DocumentVerdict,
    verify_document,
)
from verifier.id_tokens import IdTokenVerdict, looks_like_jwt, verify_id_token
from verifier.licenses import (
    MAX_QR_TEXT,
    LicenseVerdict,
    verify_license_qr,
)
from verifier.reasons import REASON_TEXT

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, echo_json, get_hub, typed_errors

__all__ = ["group", "REASON_TEXT"]

log = logging.getLogger(__name__)

_EXIT: Final = {VALID: EXIT_OK, INVALID: EXIT_INVALID, INDETERMINATE: EXIT_UNUSABLE}
_HEADLINE: Final = {
    VALID: "有效 VALID",
    INVALID: "无效 INVALID",
    INDETERMINATE: "无法确定 INDETERMINATE",
}
_COLOUR: Final = {VALID: "green", INVALID: "red", INDETERMINATE: "yellow"}
_IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".webp")


def _reason_line(code: str) -> str:
    zh, en = REASON_TEXT.get(code, (code, code))
    return f"{zh} / {en} ({code})"


def _parse_at(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date-time: {value!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


#: Libraries that log expected verification outcomes (an untrusted PAdES chain)
#: as WARNING with a traceback; their verdict is in the output already.
_NOISY_LOGGERS: Final = ("pyhanko", "pyhanko_certvalidator")


@contextlib.contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Raise the noisy libraries' log level to ERROR (unless -v asked for INFO)."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    if logging.getLogger().isEnabledFor(logging.INFO):
        yield
        return
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)


def _read_certs(paths: tuple[str, ...]) -> list[Certificate]:
    certs: list[Certificate] = []
    for path in paths:
        certs += load_certificates(Path(path).read_bytes())
    return certs


def _existing_hub(ctx: click.Context) -> Any | None:
    """The configured hub if its database exists and opens; never creates one."""
    config = (ctx.find_object(dict) or {}).get("config")
    if config is None:
        return None
    url: str = config.database_url
    if url.startswith("sqlite"):
        _, _, db_path = url.partition(":///")
        if not db_path or not Path(db_path).is_file():
            return None  # no hub here: do not create one as a side effect
    try:
        return get_hub(ctx)
    except Exception as exc:  # an unusable or uninitialised hub only means "no hub data"
        log.info("no hub (%s: %s)", type(exc).__name__, exc)
        return None


def _hub_roots(ctx: click.Context) -> tuple[list[Certificate], list[Certificate]]:
    """The hub's roots and issuing CAs when a hub database is configured and holds
    some; else none."""
    hub = _existing_hub(ctx)
    if hub is None:
        return [], []
    try:
        return list(hub.pki.roots()), list(hub.pki.cas())
    except Exception as exc:  # an uninitialised hub only means "no default roots"
        log.info("no hub roots (%s: %s)", type(exc).__name__, exc)
        return [], []


def _split_bundle(certs: list[Certificate]) -> tuple[list[Certificate], list[Certificate]]:
    """Self-issued certificates of a bundle are anchors; the others intermediates
    (OFD and SES signatures carry the signer's certificate only)."""
    roots = [c for c in certs if c.subject == c.issuer]
    return roots, [c for c in certs if c.subject != c.issuer]


def _headline(verdict: str, reasons: tuple[str, ...], detail: str) -> None:
    """The coloured verdict, one line per reason (Chinese / English), the detail."""
    click.echo(click.style(_HEADLINE[verdict], fg=_COLOUR[verdict], bold=True))
    for code in reasons:
        click.echo(f"  {_reason_line(code)}")
    if detail:
        click.echo(f"  {detail}")


def _emit(verdict: DocumentVerdict, *, as_json: bool, source: str, roots_from: str) -> None:
    if as_json:
        echo_json({**verdict.to_dict(), "input": source, "roots": roots_from})
        return
    _headline(verdict.verdict, verdict.reasons, verdict.detail)
    for i, sig in enumerate(verdict.signatures, 1):
        parts: list[str] = []
        if sig.get("type"):
            parts.append(str(sig["type"]))
        if sig.get("field_name"):
            parts.append(f"域 field {sig['field_name']}")
        if sig.get("seal_name"):
            parts.append(f"印章 seal {sig['seal_name']}")
        if sig.get("es_id"):
            parts.append(f"esID {sig['es_id']}")
        parts.append(f"签署者 signer {sig.get('signer_subject') or '?'}")
        parts.append(f"时间 signed {sig.get('signing_time') or '?'}")
        status = str(sig.get("indication"))
        if sig.get("sub_indication"):
            status += f" / {sig['sub_indication']}"
        click.echo(f"  [{i}] {' · '.join(parts)}: {status}")
    if verdict.kind is not None:
        click.echo(f"  (trust anchors: {roots_from})")


def _license_trust(ctx: click.Context, now: datetime | None) -> Any:
    """The synced offline bundle when the cache folder holds one (``govtrust
    verifier sync``), else the hub's own data when a hub database is configured
    (never creates one), else no trust data."""
    from .verifier import cache_dir

    return license_trust(cache_dir(ctx), lambda: _existing_hub(ctx), now or datetime.now(UTC)).trust


def _emit_license(verdict: LicenseVerdict, *, as_json: bool, source: str = "qr-text") -> None:
    if as_json:
        echo_json({**verdict.as_dict(), "input": source})
        return
    _headline(verdict.verdict, verdict.reasons, verdict.detail)
    body = verdict.as_dict()
    if "issuer" in body:
        click.echo(f"  发证机关 issuer: {body['issuer']['name_zh']} ({body['issuer']['id']})")
    lic = body.get("license")
    if lic:
        click.echo(f"  证照 license: {lic['type_name_zh']} {lic['identifier']}")
        click.echo(f"  有效期 valid: {lic['valid_from']} – {lic['valid_until'] or '长期'}")
        for key, value in lic["fields"].items():
            click.echo(f"    {key}: {value}")


def _emit_id_token(verdict: IdTokenVerdict, *, as_json: bool) -> None:
    if as_json:
        echo_json({**verdict.as_dict(), "input": "id-token"})
        return
    _headline(verdict.verdict, verdict.reasons, verdict.detail)
    for key, value in verdict.claims.items():
        click.echo(f"    {key}: {value}")


def _unusable(message: str, code: str, *, as_json: bool, source: str) -> None:
    click.echo(f"govtrust: {code}: {message}", err=True)
    if as_json:
        echo_json({"verdict": INDETERMINATE, "reasons": [code], "detail": message, "input": source})


_IMAGE_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def _is_image(name: str) -> bool:
    """A PNG, JPEG or WebP file (a camera photo or a screenshot of a QR), by its
    first bytes; by its name when it names an image (so a broken photo is
    reported as an unreadable image, not as an unknown document)."""
    path = Path(name)
    if not path.is_file():
        return False
    with path.open("rb") as f:
        head = f.read(12)
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return True
    return name.lower().endswith(_IMAGE_SUFFIXES)


def _qr_text_file(name: str) -> str | None:
    """The text of a small file that holds a QR presentation (``GT1:…``), else None."""
    path = Path(name)
    if not path.is_file() or path.stat().st_size > MAX_QR_TEXT + 2:
        return None
    text = path.read_bytes()
    if not text.startswith(PREFIX.encode()):
        return None
    return text.decode("ascii", errors="replace").strip()


@click.command("verify")
@click.argument("input_", metavar="INPUT")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (verdict, reasons, …).")
@click.option(
    "--text", "is_text", is_flag=True, help="INPUT is the QR text (GT1:…) or an ID token itself."
)
@click.option(
    "--audience", help="With an ID token: the client id it must be issued to (checked if given)."
)
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False),
    help="The document a detached SES_Signature or CMS SignedData covers.",
)
@click.option(
    "--roots",
    "roots_file",
    type=click.Path(dir_okay=False),
    help="Trust anchors (PEM bundle); default: the hub's roots, if any.",
)
@click.option(
    "--signer-cert",
    "signer_cert_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help='Candidate signer certificate for OFD Type="Sign" signatures (repeatable).',
)
@click.option(
    "--at",
    callback=_parse_at,
    metavar="ISO8601",
    help="Judge validity at this instant (no offset = UTC); default: each signing time.",
)
@click.pass_context
@typed_errors
def group(
    ctx: click.Context,
    input_: str,
    as_json: bool,
    is_text: bool,
    audience: str | None,
    data_file: str | None,
    roots_file: str | None,
    signer_cert_files: tuple[str, ...],
    at: datetime | None,
) -> None:
    """Verify INPUT (a sealed OFD or PDF document, or a detached SES_Signature or CMS).

    Exit 0 VALID, 1 INVALID, 2 INDETERMINATE or unusable input.
    """
    if not is_text and _is_image(input_):
        from verifier.images import MAX_IMAGE_BYTES, verify_license_image

        with Path(input_).open("rb") as f:
            image = f.read(MAX_IMAGE_BYTES + 1)
        license_verdict, _ = verify_license_image(image, _license_trust(ctx, at), now=at)
        _emit_license(license_verdict, as_json=as_json, source="qr-image")
        ctx.exit(_EXIT[license_verdict.verdict])
    if is_text and looks_like_jwt(input_):
        id_verdict = verify_id_token(input_, _license_trust(ctx, at), now=at, audience=audience)
        _emit_id_token(id_verdict, as_json=as_json)
        ctx.exit(_EXIT[id_verdict.verdict])
    qr_text = input_ if is_text else _qr_text_file(input_)
    if qr_text is not None:
        license_verdict = verify_license_qr(qr_text, _license_trust(ctx, at), now=at)
        _emit_license(license_verdict, as_json=as_json)
        ctx.exit(_EXIT[license_verdict.verdict])
    path = Path(input_)
    if not path.is_file():
        _unusable(f"{input_}: no such file", "io_error", as_json=as_json, source=input_)
        ctx.exit(EXIT_UNUSABLE)
    with path.open("rb") as f:
        data = f.read(MAX_INPUT_SIZE + 1)  # an oversized input is judged, not read whole
    signed_data = None
    if data_file is not None:
        if not Path(data_file).is_file():
            _unusable(f"{data_file}: no such file", "io_error", as_json=as_json, source=input_)
            ctx.exit(EXIT_UNUSABLE)
        signed_data = Path(data_file).read_bytes()
    if roots_file is not None:
        roots, intermediates = _split_bundle(_read_certs((roots_file,)))
        roots_from = roots_file
    else:
        roots, intermediates = _hub_roots(ctx)
        roots_from = f"hub ({len(roots)} roots)" if roots else "none"
    signer_certs = _read_certs(signer_cert_files)
    with _quiet_libraries():
        verdict = verify_document(
            data,
            roots=roots,
            intermediates=intermediates,
            signer_certs=signer_certs,
            signed_data=signed_data,
            at=at,
        )
    _emit(verdict, as_json=as_json, source=input_, roots_from=roots_from)
    ctx.exit(_EXIT[verdict.verdict])
