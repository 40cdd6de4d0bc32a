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

from license_wallet.qr import PREFIX
from trust.errors import TrustError
from trust.pki import Certificate, load_certificates
from verifier.documents import (
    INDETERMINATE,
    INVALID,
    MAX_INPUT_SIZE,
    VALID,
    DocumentVerdict,
    verify_document,
)
from verifier.licenses import (
    MAX_QR_TEXT,
    IssuerInfo,
    LicenseTrust,
    LicenseVerdict,
    verify_license_qr,
)

from ._common import EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, echo_json, get_hub, typed_errors

__all__ = ["group", "REASON_TEXT", "HubLicenseTrust"]

log = logging.getLogger(__name__)

_EXIT: Final = {VALID: EXIT_OK, INVALID: EXIT_INVALID, INDETERMINATE: EXIT_UNUSABLE}
_HEADLINE: Final = {
    VALID: "有效 VALID",
    INVALID: "无效 INVALID",
    INDETERMINATE: "无法确定 INDETERMINATE",
}
_COLOUR: Final = {VALID: "green", INVALID: "red", INDETERMINATE: "yellow"}
_IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".webp")

#: Reason code → (Chinese, English), for the human-readable output.
REASON_TEXT: Final[dict[str, tuple[str, str]]] = {
    "format_failure": ("格式错误", "structure cannot be decoded"),
    "hash_failure": ("文件内容与签名不符（摘要不一致）", "document digest does not match"),
    "sig_crypto_failure": ("签名值验证失败", "signature does not verify"),
    "sig_constraints_failure": ("签名者证书不属于该印章", "signer certificate is not the seal's"),
    "expired": ("印章或证书已过期", "seal or certificate expired"),
    "not_yet_valid": ("印章或证书尚未生效", "seal or certificate not yet valid"),
    "no_certificate_chain_found": (
        "无法连接到可信根证书",
        "no certificate chain to a trust anchor",
    ),
    "chain_constraints_failure": ("证书链不满足约束", "certificate path fails a CA constraint"),
    "certificate_chain_general_failure": (
        "证书链验证失败",
        "certificate chain cannot be validated",
    ),
    "crypto_constraints_failure": ("不支持的算法", "algorithm not supported"),
    "no_signing_certificate_found": ("缺少签名者证书", "no signer certificate available"),
    "signed_data_not_found": ("缺少被签署的数据", "the signed data is not available"),
    "no_poe": ("缺少签名时间", "no signing time to judge validity at"),
    "no_signature_found": ("未发现签名或签章", "no signature found"),
    "malformed": ("输入无法解析", "input cannot be parsed"),
    "unsupported_input": ("不支持的输入类型", "unsupported input"),
    "ofd_too_large": ("OFD 文件过大", "OFD package too large"),
    "ofd_path_traversal": ("OFD 包含不安全的路径", "OFD has unsafe entry names"),
    "ofd_duplicate_entry": ("OFD 包含重复条目", "OFD has duplicate entries"),
    "ofd_xml_forbidden": ("OFD 包含被禁止的 XML 结构", "OFD has forbidden XML constructs"),
    "pdf_too_large": ("PDF 文件过大", "PDF too large"),
    "pdf_malformed": ("PDF 文件无法解析", "PDF cannot be parsed"),
    "pdf_encrypted": ("PDF 已加密，无法验证", "PDF is encrypted"),
    "io_error": ("无法读取输入", "input cannot be read"),
    # e-license QR presentations (verifier.licenses)
    "unsupported_version": ("不支持的二维码版本", "unsupported QR format version"),
    "bad_signature": ("发证机关签名无效", "the issuer's signature does not verify"),
    "untrusted_issuer": ("发证机关不受信任", "the issuer is not trusted"),
    "issuer_inactive": ("发证机关已停用", "the issuer is not active"),
    "issuer_not_authorized_for_type": (
        "发证机关无权颁发此类证照",
        "the issuer may not issue this license type",
    ),
    "revoked": ("证照已吊销", "the license is revoked"),
    "suspended": ("证照已暂停", "the license is suspended"),
    "status_unknown": ("无法确认证照状态", "the license status is unknown"),
    "holder_binding_missing": ("缺少持证人设备签名", "no holder device signature"),
    "holder_binding_invalid": ("持证人设备签名无效", "the holder device signature is invalid"),
    "disclosure_not_signed": ("出示的信息未经发证机关签名", "a shown field is not signed"),
    "presentation_expired": (
        "二维码已过期，请持证人刷新",
        "the QR has expired; ask for a fresh one",
    ),
    "nonce_mismatch": ("二维码不是为本窗口生成的", "the QR was not made for this counter"),
    "audience_mismatch": ("二维码不是为本窗口生成的", "the QR was not made for this verifier"),
    "replayed": ("二维码已被使用过", "this QR was already shown"),
    "stale_trust_data": ("信任数据过旧", "the trust data is too old"),
    "unreadable_image": ("图片中无法识别二维码", "no readable QR code in the image"),
    "invalid": ("证照无效", "the license is not valid"),
}


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


def _emit(verdict: DocumentVerdict, *, as_json: bool, source: str, roots_from: str) -> None:
    if as_json:
        echo_json({**verdict.to_dict(), "input": source, "roots": roots_from})
        return
    click.echo(click.style(_HEADLINE[verdict.verdict], fg=_COLOUR[verdict.verdict], bold=True))
    for code in verdict.reasons:
        click.echo(f"  {_reason_line(code)}")
    if verdict.detail:
        click.echo(f"  {verdict.detail}")
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


class HubLicenseTrust:
    """The hub database as a :class:`verifier.licenses.LicenseTrust`: registry
    entries, published license keys and the hub's own status lists (always fresh)."""

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._keys = hub.licenses.issuer_keys()

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        p = self._hub.registry.find(participant_id)
        if p is None or not p.has_role("license_issuer"):
            return None
        return IssuerInfo(
            p.id, p.name_zh, p.name_en, p.status.value == "active", frozenset(p.license_types)
        )

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> list[Any]:
        return list(self._keys(participant_id, kid))

    def status(self, uri: str, index: int) -> int | None:
        try:
            return int(self._hub.licenses.status_of(uri, index))
        except TrustError:
            return None

    def stale(self, now: datetime) -> str | None:
        return None


class _NoTrustData:
    """No usable trust data: every readable presentation is INDETERMINATE / stale_trust_data."""

    def __init__(self, why: str = "no trust data: run govtrust verifier sync") -> None:
        self._why = why

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        return None

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> list[Any]:
        return []

    def status(self, uri: str, index: int) -> int | None:
        return None

    def stale(self, now: datetime) -> str | None:
        return self._why


def _license_trust(ctx: click.Context, now: datetime | None) -> LicenseTrust:
    """The synced offline bundle when the cache folder holds one (``govtrust
    verifier sync``), else the hub's own data when a hub database is configured
    (never creates one), else no trust data."""
    from verifier.bundle import BUNDLE_FILE, BundleError, load_cache

    from .verifier import cache_dir

    cache = cache_dir(ctx)
    if (cache / BUNDLE_FILE).exists():
        try:
            return load_cache(cache, now=now or datetime.now(UTC))
        except BundleError as exc:
            return _NoTrustData(f"the synced trust bundle in {cache} is unusable: {exc.message}")
    hub = _existing_hub(ctx)
    try:
        return HubLicenseTrust(hub) if hub is not None else _NoTrustData()
    except Exception as exc:  # an uninitialised hub only means "no trust data"
        log.info("no hub trust data (%s: %s)", type(exc).__name__, exc)
        return _NoTrustData()


def _emit_license(verdict: LicenseVerdict, *, as_json: bool, source: str = "qr-text") -> None:
    if as_json:
        echo_json({**verdict.as_dict(), "input": source})
        return
    click.echo(click.style(_HEADLINE[verdict.verdict], fg=_COLOUR[verdict.verdict], bold=True))
    for code in verdict.reasons:
        click.echo(f"  {_reason_line(code)}")
    if verdict.detail:
        click.echo(f"  {verdict.detail}")
    body = verdict.as_dict()
    if "issuer" in body:
        click.echo(f"  发证机关 issuer: {body['issuer']['name_zh']} ({body['issuer']['id']})")
    lic = body.get("license")
    if lic:
        click.echo(f"  证照 license: {lic['type_name_zh']} {lic['identifier']}")
        click.echo(f"  有效期 valid: {lic['valid_from']} – {lic['valid_until'] or '长期'}")
        for key, value in lic["fields"].items():
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
@click.option("--text", "is_text", is_flag=True, help="INPUT is the QR text itself (GT1:…).")
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
