"""The seal console (``/seal/``): an agency operator seals a PDF or OFD in the browser.

The console is an OpenID Connect relying party of the hub, exactly like the demo
portals (:mod:`govtrust.portals`): Authlib's Flask client (``client_secret_basic``,
PKCE ``S256``, scope ``openid profile enterprise``), the ID token checked by the
portals' validator (signature with the hub's JWKS, ``iss``, ``aud``, ``nonce``,
``at_hash``), ``iss`` in the authorization response (RFC 9207), back-channel
logout, and its own signed cookie ``gt_seal`` scoped to ``/seal/``.

Who may seal: an *enterprise* account (a legal-person operator) whose unified
social credit code (``cn_uscc``, released with the ``enterprise`` scope) equals
the USCC of an active participant with the ``seal_holder`` role — that
participant is the operator's agency, resolved again at every request (a
suspended agency loses the console at once). The operator sees and uses only the
agency's seals; :class:`~seal_service.service.SealingService` enforces the same
rule (403 and an audit event) whatever this page sends.

The document is never stored by the console: the browser keeps the chosen file
and sends it with each request (preview, then seal); the sealed result is the
:class:`~seal_service.models.SealOperation` row the service records anyway,
downloaded by its id by the same agency. Previews: a PDF page is rendered to PNG
with PDFium (pypdfium2); an OFD page is drawn as an SVG of its physical box only —
rendering OFD page content is out of scope.

Positions: the operator clicks the centre of the seal; the browser sends that
point in millimetres from the page's top-left corner and this module converts it
to each format's convention (OFD: the seal's top-left corner from the page's
top-left; PDF: the seal's lower-left corner from the page's lower-left).
"""

from __future__ import annotations

import base64
import hmac
import io
import logging
import math
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from govtrust.hub_rp import HubRelyingParty
from govtrust.i18n import current_language, register, translate
from govtrust.portals import (
    PortalSpec,
)
from keys import MasterKey
from trust.errors import TrustError
from verifier.documents import verify_document

from .models import SealOperation
from .ofd import OfdError, OfdPackage, _child, _children, _dirname, _resolve, _text, parse_xml
from .registry import KIND_NAMES_ZH, SealError, SealStatus, SealView
from .service import DEFAULT_PADES_LEVEL, SealRequest

__all__ = [
    "CONSOLE",
    "MAX_UPLOAD",
    "PageBox",
    "bp",
    "console_secret",
    "console_uris",
    "ofd_page_boxes",
    "pdf_page_boxes",
]

log = logging.getLogger(__name__)

#: The console as an OIDC client of the hub (the portals' spec type, so the portals'
#: token validators apply unchanged). ``key`` names the Authlib client and the rows
#: of ``portal_logouts``.
CONSOLE: Final = PortalSpec(
    "seal", "seal-console", "hub", "电子印章控制台", "Seal console", "RS256"
)
SCOPE: Final = "openid profile enterprise"
COOKIE: Final = "gt_seal"
COOKIE_PATH: Final = "/seal/"
PENDING_LIFETIME: Final = 15 * 60  # seconds
HTTP_TIMEOUT: Final = 5
MAX_UPLOAD: Final = 10 * 1024 * 1024  # bytes of document; the form adds a little
MAX_BODY: Final = MAX_UPLOAD + 64 * 1024
MAX_PREVIEW_PX: Final = 1000  # the longer side of a rendered PDF page
PT_PER_MM: Final = 72 / 25.4
FORMAT_ALGORITHMS: Final = {"ofd": ("SM2",), "pdf": ("RS256", "ES256")}
DOWNLOAD_NAMES: Final = {"ofd": "sealed.ofd", "pdf": "sealed.pdf"}

#: PDFium is not thread-safe; the server may be.
_PDFIUM_LOCK: Final = threading.Lock()


def console_secret(master_key: MasterKey) -> str:
    """The console's client secret: derived from the master key, never stored."""
    return master_key.derive("demo-seal-console").hex()


def console_uris(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "redirect_uri": f"{base}/seal/callback",
        "post_logout_redirect_uri": f"{base}/seal/",
        "backchannel_logout_uri": f"{base}/seal/backchannel-logout",
    }


_ERRORS: Final = {
    # the sealing service and the registry (SealError, SealForbidden …)
    "seal_unknown": ("找不到该印章。", "No such seal."),
    "invalid_level": ("不支持的签章级别。", "Unsupported signature level."),
    "seal_forbidden": (
        "该印章不属于您的单位，不能使用。",
        "This seal does not belong to your agency.",
    ),
    "seal_suspended": ("该印章已暂停使用。", "This seal is suspended."),
    "seal_revoked": ("该印章已注销。", "This seal has been revoked."),
    "seal_expired": ("该印章不在有效期内。", "This seal is not within its validity period."),
    "seal_applied": (
        "该印章尚在申请中，未启用。",
        "This seal has been applied for, not activated.",
    ),
    "seal_approved": ("该印章已审核但未启用。", "This seal is approved but not active yet."),
    "seal_not_approved": ("该印章尚未审核。", "This seal has not been approved."),
    "wrong_seal_algorithm": (
        "该印章不能用于此格式：OFD 须用 SM2 印章，PDF 须用 RSA/ECDSA 印章。",
        "This seal cannot seal this format: OFD needs an SM2 seal, PDF an RSA/ECDSA seal.",
    ),
    "invalid_format": ("不支持的格式。", "Unsupported format."),
    "document_required": ("请先选择文件。", "Choose a file first."),
    "idempotency_conflict": ("重复的请求。", "Duplicate request."),
    # the document
    "unsupported_format": (
        "仅支持 PDF 或 OFD 文件。",
        "Only PDF and OFD files are supported.",
    ),
    "too_large": ("文件过大（上限 10 MB）。", "The file is too large (at most 10 MB)."),
    "page_out_of_range": ("页码超出文档范围。", "The page is not in the document."),
    "bad_position": (
        "盖章位置无效，请在预览页面上点击。",
        "Invalid position; click on the preview.",
    ),
    "pdf_malformed": ("PDF 文件已损坏或无法读取。", "The PDF is damaged or unreadable."),
    "pdf_encrypted": ("PDF 文件已加密，无法盖章。", "The PDF is encrypted and cannot be sealed."),
    "pdf_too_large": ("PDF 文件过大。", "The PDF is too large."),
    "malformed": ("OFD 文件已损坏或无法读取。", "The OFD file is damaged or unreadable."),
    "too_many_signatures": ("该文件的签章数量已达上限。", "This document has too many seals."),
    # the console itself
    "login_required": ("请先登录。", "Please sign in."),
    "not_operator": (
        "您的账户不是已登记用章单位的法人账户，不能使用电子印章控制台。",
        "Your account is not the legal-person account of a registered seal-holding agency.",
    ),
    "csrf": ("表单已过期，请刷新页面后重试。", "The form has expired; reload the page and retry."),
}


def _error_text(code: str) -> str:
    texts = _ERRORS.get(code)
    if texts is None:
        if code.startswith("ofd_"):
            texts = _ERRORS["malformed"]
        else:
            return translate("seal.console.err.other", code=code)
    return texts[0] if current_language() == "zh" else texts[1]


register(
    {
        "seal.console.title": {"zh": "电子印章控制台", "en": "Seal console"},
        "seal.console.demo": {
            "zh": "用章单位经办人通过国家政务服务平台统一身份认证登录，在 PDF 或 OFD 文件上加盖本单位电子印章。",
            "en": "An agency operator signs in through the national hub and applies the agency's e-seals to PDF or OFD files.",
        },
        "seal.console.signed_out": {"zh": "您尚未登录。", "en": "You are not signed in."},
        "seal.console.login": {"zh": "登录", "en": "Sign in"},
        "seal.console.logout": {"zh": "退出", "en": "Sign out"},
        "seal.console.login.who": {
            "zh": "请使用法人（企业）账户登录，账户的统一社会信用代码须与用章单位一致。",
            "en": "Sign in with a legal-person (enterprise) account whose unified social credit code is the agency's.",
        },
        "seal.console.hello": {"zh": "您好，{name}", "en": "Hello, {name}"},
        "seal.console.agency": {"zh": "用章单位", "en": "Agency"},
        "seal.console.uscc": {"zh": "统一社会信用代码", "en": "Unified social credit code"},
        "seal.console.seals": {"zh": "本单位印章", "en": "The agency's seals"},
        "seal.console.no_seals": {"zh": "本单位暂无印章。", "en": "The agency has no seals."},
        "seal.console.col.image": {"zh": "印模", "en": "Image"},
        "seal.console.col.name": {"zh": "名称", "en": "Name"},
        "seal.console.col.kind": {"zh": "类型", "en": "Kind"},
        "seal.console.col.alg": {"zh": "算法", "en": "Algorithm"},
        "seal.console.col.status": {"zh": "状态", "en": "Status"},
        "seal.console.col.validity": {"zh": "有效期", "en": "Validity"},
        "seal.console.image_alt": {"zh": "{name}的印模", "en": "Image of {name}"},
        "seal.console.kind.official": {"zh": "公章", "en": "Official seal"},
        "seal.console.kind.contract": {"zh": "合同专用章", "en": "Contract seal"},
        "seal.console.kind.finance": {"zh": "财务专用章", "en": "Finance seal"},
        "seal.console.kind.legal_rep": {
            "zh": "法定代表人名章",
            "en": "Legal representative's seal",
        },
        "seal.console.status.applied": {"zh": "申请中", "en": "applied"},
        "seal.console.status.approved": {"zh": "已审核", "en": "approved"},
        "seal.console.status.active": {"zh": "启用", "en": "active"},
        "seal.console.status.suspended": {"zh": "暂停", "en": "suspended"},
        "seal.console.status.revoked": {"zh": "已注销", "en": "revoked"},
        "seal.console.status.expired": {"zh": "已过期", "en": "expired"},
        "seal.console.step.upload": {"zh": "1. 选择文件", "en": "1. Choose a document"},
        "seal.console.file": {
            "zh": "文件（PDF 或 OFD，不超过 10 MB）",
            "en": "Document (PDF or OFD, at most 10 MB)",
        },
        "seal.console.page": {"zh": "页码", "en": "Page"},
        "seal.console.preview": {"zh": "预览", "en": "Preview"},
        "seal.console.step.place": {
            "zh": "2. 在页面上点击盖章位置",
            "en": "2. Click where the seal goes",
        },
        "seal.console.preview_alt": {
            "zh": "第 {page} 页预览，点击选择盖章位置",
            "en": "Preview of page {page}; click to place the seal",
        },
        "seal.console.ofd_note": {
            "zh": "此 OFD 页面的内容无法绘制，预览仅显示页面边框。",
            "en": "This OFD page's content cannot be drawn; the preview shows the page box only.",
        },
        "seal.console.pages": {"zh": "共 {pages} 页", "en": "{pages} page(s)"},
        "seal.console.position": {
            "zh": "盖章位置（毫米，自左上角）",
            "en": "Position (mm from top-left)",
        },
        "seal.console.position.none": {"zh": "尚未选择", "en": "not chosen yet"},
        "seal.console.step.seal": {"zh": "3. 选择印章并盖章", "en": "3. Pick a seal and apply it"},
        "seal.console.picker": {"zh": "印章", "en": "Seal"},
        "seal.console.picker.hint": {
            "zh": "OFD 文件使用 SM2 印章，PDF 文件使用 RSA/ECDSA 印章。",
            "en": "OFD documents take SM2 seals; PDF documents RSA/ECDSA seals.",
        },
        "seal.console.level": {"zh": "PDF 签章级别", "en": "PDF signature level"},
        "seal.console.level.B-T": {
            "zh": "PAdES B-T（含可信时间戳）",
            "en": "PAdES B-T (with a trusted time-stamp)",
        },
        "seal.console.level.B-LT": {
            "zh": "PAdES B-LT（另含证书链与吊销信息，便于长期验证）",
            "en": "PAdES B-LT (also the chain and revocation data, for long-term validation)",
        },
        "seal.console.cross_page": {
            "zh": "骑缝章（OFD，每页右边缘）",
            "en": "Cross-page seal (OFD, right edge of every page)",
        },
        "seal.console.apply": {"zh": "盖章", "en": "Apply seal"},
        "seal.console.working": {"zh": "处理中……", "en": "Working…"},
        "seal.console.step.result": {"zh": "4. 结果", "en": "4. Result"},
        "seal.console.download": {"zh": "下载已盖章文件", "en": "Download the sealed document"},
        "seal.console.report": {"zh": "验证报告", "en": "Verification report"},
        "seal.console.verdict": {"zh": "结论", "en": "Verdict"},
        "seal.console.verdict.VALID": {"zh": "有效", "en": "valid"},
        "seal.console.verdict.INVALID": {"zh": "无效", "en": "invalid"},
        "seal.console.verdict.INDETERMINATE": {"zh": "无法确定", "en": "indeterminate"},
        "seal.console.sig.seal": {"zh": "印章", "en": "Seal"},
        "seal.console.sig.signer": {"zh": "签章人", "en": "Signer"},
        "seal.console.sig.time": {"zh": "签章时间", "en": "Signing time"},
        "seal.console.sig.indication": {"zh": "指示", "en": "Indication"},
        "seal.console.sig.checks": {"zh": "检查项", "en": "Checks"},
        "seal.console.operation": {"zh": "用印记录编号", "en": "Operation id"},
        "seal.console.sealed_alt": {"zh": "盖章后的页面", "en": "The page after sealing"},
        "seal.console.sealed_caption": {
            "zh": "盖章后的页面（由已盖章文件渲染）",
            "en": "The page after sealing (rendered from the sealed file)",
        },
        "seal.console.notice.logged_out": {"zh": "您已退出。", "en": "You have signed out."},
        "seal.console.notice.ended": {
            "zh": "您已在其他平台退出，本控制台的登录已同时结束。",
            "en": "You signed out elsewhere; your session here has ended too.",
        },
        "seal.console.notice.expired": {
            "zh": "登录请求已过期，请重新登录。",
            "en": "The sign-in request has expired; please try again.",
        },
        "seal.console.notice.failed": {
            "zh": "登录未完成（{reason}），请重试。",
            "en": "Sign-in did not complete ({reason}); please try again.",
        },
        "seal.console.notice.not_operator": {
            "zh": "您的账户不是已登记用章单位的法人账户，不能使用电子印章控制台。",
            "en": "Your account is not the legal-person account of a registered seal-holding agency.",
        },
        "seal.console.err.other": {
            "zh": "操作未完成（{code}）。",
            "en": "The operation did not complete ({code}).",
        },
        "seal.console.noscript": {
            "zh": "盖章需要启用浏览器脚本。",
            "en": "Sealing needs JavaScript enabled.",
        },
    }
)

bp = Blueprint(
    "seal_console",
    __name__,
    url_prefix="/seal",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


RP: Final = HubRelyingParty(
    spec=CONSOLE,
    name="seal console",
    home_endpoint="seal_console.home",
    cookie=COOKIE,
    cookie_path=COOKIE_PATH,
    salt="govtrust-seal-console",
    scope=SCOPE,
    secret=console_secret,
    uris=console_uris,
    pending_lifetime=PENDING_LIFETIME,
    http_timeout=HTTP_TIMEOUT,
)
bp.record_once(RP.register)
_load, _save, _current_user, _base_url = RP.load, RP.save, RP.current_user, RP.base_url


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _now() -> float:
    return RP.now()


@dataclass(frozen=True)
class Agency:
    id: str
    name_zh: str
    name_en: str
    uscc: str


def agency_for(uscc: Any) -> Agency | None:
    """The active ``seal_holder`` participant whose USCC is ``uscc``, if any."""
    if not isinstance(uscc, str) or not uscc:
        return None
    for p in _hub().registry.list(status="active", role="seal_holder"):
        if p.uscc and hmac.compare_digest(p.uscc, uscc):
            return Agency(p.id, p.name_zh, p.name_en, p.uscc)
    return None


def _operator() -> tuple[dict[str, Any], dict[str, Any], Agency]:
    """(state, user, agency) of a signed-in operator of a seal-holding agency, or a JSON error."""
    state = _load()
    user = _current_user(state)
    if user is None:
        abort(_json_error("login_required", 401))
    agency = agency_for(user.get("uscc"))
    if agency is None:
        abort(_json_error("not_operator", 403))
    if not RP.csrf_ok(state):
        abort(_json_error("csrf", 400))
    return state, user, agency


def _json_error(code: str, status: int) -> Response:
    response = jsonify({"error": code, "message": _error_text(code)})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _seals_of(agency: Agency) -> list[SealView]:
    return list(_hub().seals.list(holder_id=agency.id))


# ----------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class PageBox:
    """A page's size in millimetres."""

    width_mm: float
    height_mm: float


class DocumentError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _box(text: str | None) -> PageBox | None:
    parts = (text or "").split()
    if len(parts) != 4:
        return None
    try:
        w, h = float(parts[2]), float(parts[3])
    except ValueError:
        return None
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0 or w > 5000 or h > 5000:
        return None
    return PageBox(w, h)


def ofd_page_boxes(data: bytes) -> list[PageBox]:
    """Page sizes of an OFD package's first document (GB/T 33190 §7.5: a page's own
    ``Area/PhysicalBox``, else the document's ``CommonData/PageArea``, else A4).
    Raises :class:`~seal_service.ofd.OfdError` for an unusable package."""
    pkg = OfdPackage(data)
    root = parse_xml(pkg.read("OFD.xml"), "OFD.xml") if pkg.exists("OFD.xml") else None
    body = _child(root, "DocBody")
    doc_loc = _text(_child(body, "DocRoot"))
    if doc_loc is None:
        raise OfdError("OFD.xml has no DocBody with a DocRoot", code="malformed")
    doc_path = _resolve("", doc_loc)
    doc = pkg.xml(doc_path)
    default = _box(_text(_child(_child(_child(doc, "CommonData"), "PageArea"), "PhysicalBox")))
    default = default or PageBox(210.0, 297.0)
    boxes = []
    for page in _children(_child(doc, "Pages"), "Page"):
        box = default
        loc = page.get("BaseLoc")
        if loc:
            path = _resolve(_dirname(doc_path), loc)
            if pkg.exists(path):
                area = _child(_child(pkg.xml(path), "Area"), "PhysicalBox")
                box = _box(_text(area)) or default
        boxes.append(box)
    if not boxes:
        raise OfdError("the document has no pages", code="malformed")
    return boxes


def _open_pdf(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = "pdf_encrypted" if "password" in str(exc).lower() else "pdf_malformed"
        raise DocumentError(code) from None
    doc.init_forms()  # draw form fields: a PAdES seal's appearance is a signature widget
    return doc


def pdf_page_boxes(data: bytes) -> list[PageBox]:
    """Page sizes (MediaBox, in millimetres) of a PDF, read with PDFium."""
    with _PDFIUM_LOCK:
        doc = _open_pdf(data)
        try:
            boxes = []
            for i in range(len(doc)):
                page = doc[i]
                try:
                    w, h = page.get_size()
                finally:
                    page.close()
                boxes.append(PageBox(w / PT_PER_MM, h / PT_PER_MM))
        finally:
            doc.close()
    if not boxes:
        raise DocumentError("pdf_malformed")
    return boxes


def render_pdf_page(data: bytes, page_no: int) -> bytes:
    """The 1-based page ``page_no`` as a PNG, its longer side at most MAX_PREVIEW_PX."""
    with _PDFIUM_LOCK:
        doc = _open_pdf(data)
        try:
            if not 1 <= page_no <= len(doc):
                raise DocumentError("page_out_of_range")
            page = doc[page_no - 1]
            try:
                w, h = page.get_size()
                if w <= 0 or h <= 0:
                    raise DocumentError("pdf_malformed")
                bitmap = page.render(scale=MAX_PREVIEW_PX / max(w, h))
                try:
                    image = bitmap.to_pil()
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            doc.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _ofd_preview(data: bytes, box: PageBox, page_no: int) -> tuple[bytes, bool]:
    """(SVG, drawn?): the page drawn by :mod:`seal_service.ofd_render`, else — for
    content it cannot read — the page box alone (:func:`ofd_page_svg`)."""
    from .ofd_render import render_ofd_page

    try:
        return render_ofd_page(data, page_no).svg, True
    except OfdError as exc:
        log.info("seal console: OFD page %d not drawn (%s)", page_no, exc.code)
        return ofd_page_svg(box, page_no), False


def ofd_page_svg(box: PageBox, page_no: int) -> bytes:
    """An SVG of the page box (with a millimetre grid); OFD content is not rendered."""
    w, h = box.width_mm, box.height_mm
    lines = []
    for x in range(10, int(w), 10):
        lines.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{h:.3f}"/>')
    for y in range(10, int(h), 10):
        lines.append(f'<line x1="0" y1="{y}" x2="{w:.3f}" y2="{y}"/>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.3f} {h:.3f}" '
        f'width="{w:.3f}mm" height="{h:.3f}mm">'
        f'<rect x="0" y="0" width="{w:.3f}" height="{h:.3f}" fill="#fff" stroke="#888" '
        'stroke-width="0.6"/>'
        f'<g stroke="#e4e4e4" stroke-width="0.2">{"".join(lines)}</g>'
        f'<text x="{w / 2:.3f}" y="{h / 2:.3f}" font-size="8" fill="#bbb" '
        f'text-anchor="middle">OFD · {page_no}</text></svg>'
    )
    return svg.encode()


def _document() -> tuple[bytes, str]:
    """The uploaded document (bounded) and its format, from its first bytes."""
    upload = request.files.get("document")
    if upload is None:
        raise DocumentError("document_required")
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise DocumentError("too_large")
    if not data:
        raise DocumentError("document_required")
    if data.startswith(b"%PDF-"):
        return data, "pdf"
    if data[:4] == b"PK\x03\x04":
        return data, "ofd"
    raise DocumentError("unsupported_format")


def _page_boxes(data: bytes, fmt: str) -> list[PageBox]:
    return ofd_page_boxes(data) if fmt == "ofd" else pdf_page_boxes(data)


def _int_field(name: str, default: int) -> int:
    raw = request.form.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise DocumentError("page_out_of_range") from None


def _mm_field(name: str) -> float:
    try:
        value = float(request.form.get(name, ""))
    except ValueError:
        raise DocumentError("bad_position") from None
    if not math.isfinite(value):
        raise DocumentError("bad_position")
    return value


def _typed_error(exc: TrustError | DocumentError) -> Response:
    code = exc.code
    status = 400
    if code == "seal_forbidden":
        status = 403
    elif code == "seal_unknown":
        status = 404
    elif code == "too_large":
        status = 413
    elif code.startswith("seal_") or code == "wrong_seal_algorithm":
        status = 409
    return _json_error(code, status)


# ----------------------------------------------------------------------------- pages


def _kind_label(seal: SealView) -> str:
    if current_language() == "zh":
        return KIND_NAMES_ZH[seal.kind]
    return translate(f"seal.console.kind.{seal.kind.value}")


@bp.before_request
def _bounded_body() -> None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        abort(_json_error("too_large", 413))


@bp.get("/")
def home() -> Response:
    state = _load()
    if request.args.get("state") and state.get("logout_state"):
        if hmac.compare_digest(str(state.pop("logout_state")), request.args["state"]):
            state["notice"] = ["logged_out"]
    user = _current_user(state)
    agency = agency_for(user.get("uscc")) if user else None
    if user is not None and agency is not None and not state.get("csrf"):
        state["csrf"] = secrets.token_urlsafe(24)
    seals = _seals_of(agency) if agency else []
    notice = state.pop("notice", None)
    body = render_template(
        "seal/console.html",
        user=user,
        agency=agency,
        seals=seals,
        active=[s for s in seals if s.status is SealStatus.ACTIVE],
        kind_label=_kind_label,
        notice=notice,
        csrf=state.get("csrf") if user else None,
        max_upload=MAX_UPLOAD,
        format_algorithms=FORMAT_ALGORITHMS,
    )
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return _save(response, state)


@bp.get("/login")
def login() -> Response:
    """The authorization code flow (PKCE S256, nonce), like the portals'."""
    return RP.login()


def _accept_operator(claims: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any] | str:
    """Only the legal-person account of a registered seal-holding agency may operate."""
    uscc = info.get("cn_uscc")
    if not isinstance(uscc, str) or agency_for(uscc) is None:
        return "not_operator"  # a citizen, or an enterprise that holds no seals here
    return {"enterprise_name": str(info.get("enterprise_name") or ""), "uscc": uscc}


@bp.get("/callback")
def callback() -> Response:
    return RP.callback(_accept_operator)


@bp.post("/logout")
def logout() -> Response:
    """End the console's session, then ask the hub to end its own (RP-initiated logout)."""
    return RP.logout(lambda: _error_text("csrf"))


@bp.post("/backchannel-logout")
def backchannel_logout() -> Response:
    """OpenID Connect Back-Channel Logout 1.0 §2.6: remember the ended ``sid``."""
    return RP.backchannel_logout()


@bp.get("/seals/<seal_id>.png")
def seal_image(seal_id: str) -> Response:
    """A seal's image, to operators of its own agency only."""
    state = _load()
    user = _current_user(state)
    agency = agency_for(user.get("uscc")) if user else None
    if agency is None:
        abort(404)
    seal = next((s for s in _seals_of(agency) if s.id == seal_id), None)
    if seal is None:
        abort(404)
    return _private_image(seal.image_png, "image/png")


@bp.post("/preview")
def preview() -> Response:
    """The chosen page as an image (PDF: PNG rendered by PDFium; OFD: the page box as SVG)."""
    _operator()
    rendered = False
    try:
        data, fmt = _document()
        boxes = _page_boxes(data, fmt)
        page_no = _int_field("page", 1)
        if not 1 <= page_no <= len(boxes):
            raise DocumentError("page_out_of_range")
        box = boxes[page_no - 1]
        if fmt == "pdf":
            image = "data:image/png;base64," + base64.b64encode(
                render_pdf_page(data, page_no)
            ).decode("ascii")
        else:
            svg, rendered = _ofd_preview(data, box, page_no)
            image = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    except (TrustError, DocumentError) as exc:
        return _typed_error(exc)
    response = jsonify(
        {
            "format": fmt,
            "page": page_no,
            "pages": len(boxes),
            "width_mm": round(box.width_mm, 3),
            "height_mm": round(box.height_mm, 3),
            "image": image,
            "algorithms": list(FORMAT_ALGORITHMS[fmt]),
            "content_rendered": fmt == "pdf" or rendered,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sign")
def sign() -> Response:
    """Seal the uploaded document with one of the agency's seals at the clicked point,
    verify the result, and answer with the report and where to download it."""
    _state, user, agency = _operator()
    try:
        data, fmt = _document()
        boxes = _page_boxes(data, fmt)  # an unreadable document is refused first
        seal_id = request.form.get("seal_id", "")
        seal = next((s for s in _seals_of(agency) if s.id == seal_id), None)
        if seal is None:
            # not ours (or unknown): the service records the refusal as an audit event
            seal_req = SealRequest(seal_id=seal_id, format=fmt, document=data)
            _hub().sealing.seal(seal_req, holder_id=agency.id, client_id=_client_id(user))
            raise SealError(f"no seal {seal_id!r}", code="seal_unknown")
        if seal.algorithm not in FORMAT_ALGORITHMS[fmt]:
            raise SealError("wrong algorithm for the format", code="wrong_seal_algorithm")
        cross_page = fmt == "ofd" and request.form.get("cross_page") == "1"
        page_no = _int_field("page", 1)
        if not 1 <= page_no <= len(boxes):
            raise DocumentError("page_out_of_range")
        box = boxes[page_no - 1]
        cx, cy = _mm_field("x_mm"), _mm_field("y_mm")
        if not (0 <= cx <= box.width_mm and 0 <= cy <= box.height_mm):
            raise DocumentError("bad_position")
        w, h = float(seal.width_mm), float(seal.height_mm)
        if fmt == "ofd":
            x, y = cx - w / 2, cy - h / 2  # top-left corner, from the top-left
        else:
            x, y = cx - w / 2, box.height_mm - cy - w / 2  # lower-left, from the lower-left
        x = round(min(max(x, 0.0), max(box.width_mm - w, 0.0)), 2)
        y = round(min(max(y, 0.0), max(box.height_mm - (h if fmt == "ofd" else w), 0.0)), 2)
        result = _hub().sealing.seal(
            SealRequest(
                seal_id=seal.id,
                format=fmt,
                document=data,
                page=page_no,
                x_mm=x,
                y_mm=y,
                cross_page=cross_page,
                level=(request.form.get("level") or DEFAULT_PADES_LEVEL)
                if fmt == "pdf"
                else DEFAULT_PADES_LEVEL,
            ),
            holder_id=agency.id,
            client_id=_client_id(user),
        )
    except (TrustError, DocumentError) as exc:
        log.info("seal console: refused for %s: %s", agency.id, exc)
        return _typed_error(exc)
    pki = _hub().pki
    verdict = verify_document(result.data, roots=pki.roots(), intermediates=pki.cas())
    response = jsonify(
        {
            "operation_id": result.operation_id,
            "format": fmt,
            "download_url": url_for("seal_console.download", op_id=result.operation_id),
            "sealed_preview_url": url_for(
                "seal_console.sealed_preview"
                if fmt == "pdf"
                else "seal_console.sealed_preview_ofd",
                op_id=result.operation_id,
                page=page_no,
            ),
            "filename": DOWNLOAD_NAMES[fmt],
            "seal": {"id": seal.id, "name": seal.name, "algorithm": seal.algorithm},
            "position_mm": {"x": x, "y": y, "page": page_no},
            "verdict": verdict.verdict,
            "verdict_text": translate(f"seal.console.verdict.{verdict.verdict}"),
            "report": verdict.to_dict(),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _client_id(user: Mapping[str, Any]) -> str:
    """Who sealed, as recorded with the operation: the console and the operator's subject."""
    return f"{CONSOLE.client_id}:{user.get('sub', '')}"[:100]


def _own_operation(op_id: str) -> tuple[bytes, str, str]:
    """(result, media type, format) of one of the signed-in agency's operations, else 404."""
    state = _load()
    user = _current_user(state)
    agency = agency_for(user.get("uscc")) if user else None
    if user is None or agency is None:
        abort(404)
    ours = {s.id for s in _seals_of(agency)}
    with _hub().db.session() as s:
        op = s.get(SealOperation, op_id)
        if op is None or op.seal_id not in ours or op.format not in DOWNLOAD_NAMES:
            abort(404)
        return bytes(op.result), op.media_type, op.format


def _sealed_page(op_id: str, fmt: str) -> tuple[bytes, int]:
    """(sealed document, page number) of one of the agency's ``fmt`` operations, else 404."""
    data, _media_type, op_format = _own_operation(op_id)
    try:
        page_no = int(request.args.get("page", "1"))
    except ValueError:
        abort(404)
    if op_format != fmt:
        abort(404)
    return data, page_no


def _private_image(body: bytes, media_type: str) -> Response:
    response = make_response(body)
    response.headers["Content-Type"] = media_type
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/operations/<op_id>/preview.png")
def sealed_preview(op_id: str) -> Response:
    """A page of a sealed PDF as PDFium renders it: the seal where the operator put it."""
    data, page_no = _sealed_page(op_id, "pdf")
    try:
        return _private_image(render_pdf_page(data, page_no), "image/png")
    except DocumentError:
        abort(404)


@bp.get("/operations/<op_id>/preview.svg")
def sealed_preview_ofd(op_id: str) -> Response:
    """A page of a sealed OFD as :mod:`seal_service.ofd_render` draws it, the seals on it."""
    from .ofd_render import render_ofd_page

    data, page_no = _sealed_page(op_id, "ofd")
    try:
        return _private_image(render_ofd_page(data, page_no).svg, "image/svg+xml")
    except OfdError:
        abort(404)


@bp.get("/operations/<op_id>/download")
def download(op_id: str) -> Response:
    """The sealed file of one of the agency's operations (as the service stored it)."""
    data, media_type, fmt = _own_operation(op_id)
    response = make_response(data)
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{DOWNLOAD_NAMES[fmt]}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
