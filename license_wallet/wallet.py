"""The citizen's e-license wallet (``/wallet/``): licenses, details and the dynamic QR.

The wallet is an OpenID Connect relying party of the hub like the seal console
(:mod:`seal_service.console`) and the demo portals: Authlib's Flask client
(``client_secret_basic``, PKCE ``S256``, scope ``openid profile``), the ID token
checked by the portals' validator, ``iss`` in the authorization response
(RFC 9207), back-channel logout, and its own signed cookie ``gt_wallet`` scoped
to ``/wallet/``.

Who holds what: licenses are issued to an **account** (``holder_subject`` of
:class:`~license_wallet.service.LicenseService` is the hub account id), so the
wallet's client is registered with ``subject_type`` ``public`` (its ``sub`` *is*
the account id). The wallet is the hub's own component, not a regional platform:
pairwise subjects protect a citizen from correlation *between* platforms, and the
license rows already carry the account id.

The holder key is the browser's non-extractable WebCrypto P-256 key
(``static/holder.js``); the server never sees its private half. A license is
bound to one key (``cnf``) at issuance, so a device whose key is not the one the
licenses are bound to cannot present them. The demo seeds 张三's licenses bound
to a key derived from the master key (:func:`govtrust.demo.demo_holder_key`);
``POST /wallet/holder-key`` ("bind this device") re-issues such licenses to the
browser's key through the service's public methods (:meth:`LicenseService.issue`
with the same issuer, type, fields and validity, then :meth:`LicenseService.revoke`
of the old one). Only licenses bound to the demo key or issued by an earlier
rebinding are re-issued this way — a real issuer's license bound to a real
device is never moved by the wallet.

Presentations are built in the browser (holder.js ``startRefreshing``, every
25 s at most, with a visible countdown). The page has no QR library, so it posts
the QR text to ``POST /wallet/qr.svg`` (signed-in, CSRF token, ``GT1:`` + Base45
only, at most 4,296 characters, and it must present one of the citizen's own
licenses; the text is never logged) and shows the SVG. ``?period=N`` (2–25 s)
shortens the refresh period (tests).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
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
from trust.algorithms import KeyFamily
from trust.crypto import b64url, public_key_from_jwk
from trust.errors import TrustError

from .credential import (
    presented_identifier,
)
from .qr import BASE45_ALPHABET, MAX_QR_TEXT, PREFIX, QrError, render_qr
from .service import LicenseServiceError, LicenseStatus, LicenseView
from .types import license_type

__all__ = [
    "COOKIE",
    "SCOPE",
    "WALLET",
    "bp",
    "seed_wallet_client",
    "wallet_secret",
    "wallet_uris",
]

log = logging.getLogger(__name__)

#: The wallet as an OIDC client of the hub (the portals' spec type, so the portals'
#: token validators apply unchanged).
WALLET: Final = PortalSpec(
    "wallet", "license-wallet", "hub", "电子证照夹", "E-license wallet", "RS256"
)
SCOPE: Final = "openid profile"
COOKIE: Final = "gt_wallet"
COOKIE_PATH: Final = "/wallet/"
PENDING_LIFETIME: Final = 15 * 60  # seconds
HTTP_TIMEOUT: Final = 5
MAX_BODY: Final = 16 * 1024  # every wallet request is small
MAX_JWK: Final = 1024
REFRESH_SECONDS: Final = 25
REBIND_ACTOR_PREFIX: Final = "wallet:"
QR_SCALE: Final = 8
_B45: Final = frozenset(BASE45_ALPHABET)

#: The wallet's own CSP: scripts and styles from this origin only (no inline
#: script, no eval); the QR is a blob: image made from the SVG this origin serves.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def wallet_secret(master_key: MasterKey) -> str:
    """The wallet's client secret: derived from the master key, never stored."""
    return master_key.derive("demo-license-wallet").hex()


def wallet_uris(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "redirect_uri": f"{base}/wallet/callback",
        "post_logout_redirect_uri": f"{base}/wallet/",
        "backchannel_logout_uri": f"{base}/wallet/backchannel-logout",
    }


def seed_wallet_client(hub: Any) -> dict[str, Any]:
    """Register (or bring up to date) the wallet as an OIDC client of the hub; called
    by ``govtrust init --demo`` (:func:`govtrust.demo.seed_demo`). ``sub`` is public
    (the account id), the holder of the account's licenses (see the module docstring)."""
    store = hub.idp.clients
    uris = wallet_uris(hub.config.base_url)
    secret = wallet_secret(hub.master_key)
    wanted: dict[str, Any] = {
        "client_id": WALLET.client_id,
        "name": WALLET.name_zh,
        "redirect_uris": (uris["redirect_uri"],),
        "post_logout_redirect_uris": (uris["post_logout_redirect_uri"],),
        "backchannel_logout_uri": uris["backchannel_logout_uri"],
        "scopes": tuple(SCOPE.split()),
        "id_token_alg": WALLET.id_token_alg,
        "subject_type": "public",
        "sector": WALLET.client_id,
        # a component of the hub, not a regional platform: no registry participant
        "participant_id": None,
        # the hub's own wallet: consent to share the name is implied
        "first_party": True,
    }
    existing = store.get(WALLET.client_id)
    if existing is not None and (
        existing.redirect_uris == wanted["redirect_uris"]
        and existing.post_logout_redirect_uris == wanted["post_logout_redirect_uris"]
        and existing.backchannel_logout_uri == wanted["backchannel_logout_uri"]
        and existing.scopes == wanted["scopes"]
        and existing.subject_type == "public"
        and existing.first_party
        and existing.check_client_secret(secret)
    ):
        status = "unchanged"
    else:
        store.add(secret=secret, replace=existing is not None, **wanted)
        status = "updated" if existing is not None else "created"
    return {
        "url": f"{hub.config.base_url.rstrip('/')}/wallet/",
        "client": {WALLET.client_id: status},
    }


_ERRORS: Final = {
    "login_required": ("请先登录。", "Please sign in."),
    "csrf": ("页面已过期，请刷新页面后重试。", "The page has expired; reload it and retry."),
    "not_found": ("找不到该证照。", "No such license."),
    "qr_text_invalid": (
        "二维码内容无效（须为 GT1: 开头的 Base45 文本）。",
        "Invalid QR text (GT1: followed by Base45).",
    ),
    "qr_too_long": ("二维码内容过长。", "The QR text is too long."),
    "holder_key_invalid": ("持有者公钥无效。", "Invalid holder key."),
    "too_large": ("请求过大。", "The request is too large."),
}


def _error_text(code: str) -> str:
    texts = _ERRORS.get(code)
    if texts is None:
        return translate("wallet.err.other", code=code)
    return texts[0] if current_language() == "zh" else texts[1]


register(
    {
        "wallet.title": {"zh": "电子证照夹", "en": "E-license wallet"},
        "wallet.intro": {
            "zh": "通过国家政务服务平台统一身份认证登录，查看本人电子证照，出示动态二维码。",
            "en": "Sign in through the national hub to see your e-licenses and show them as a dynamic QR code.",
        },
        "wallet.signed_out": {"zh": "您尚未登录。", "en": "You are not signed in."},
        "wallet.login": {"zh": "登录", "en": "Sign in"},
        "wallet.logout": {"zh": "退出", "en": "Sign out"},
        "wallet.hello": {"zh": "您好，{name}", "en": "Hello, {name}"},
        "wallet.licenses": {"zh": "我的证照", "en": "My licenses"},
        "wallet.none": {"zh": "您暂无电子证照。", "en": "You have no e-licenses."},
        "wallet.col.type": {"zh": "证照类型", "en": "Type"},
        "wallet.col.identifier": {"zh": "电子证照标识", "en": "Identifier"},
        "wallet.col.issuer": {"zh": "颁发机构", "en": "Issuer"},
        "wallet.col.validity": {"zh": "有效期", "en": "Validity"},
        "wallet.col.status": {"zh": "状态", "en": "Status"},
        "wallet.col.device": {"zh": "绑定设备", "en": "Device"},
        "wallet.open": {"zh": "查看", "en": "Open"},
        "wallet.long_term": {"zh": "长期", "en": "no end date"},
        "wallet.status.valid": {"zh": "有效", "en": "valid"},
        "wallet.status.revoked": {"zh": "已吊销", "en": "revoked"},
        "wallet.status.suspended": {"zh": "已暂停", "en": "suspended"},
        "wallet.status.expired": {"zh": "已过期", "en": "expired"},
        "wallet.device.this": {"zh": "本设备", "en": "this device"},
        "wallet.device.other": {"zh": "其他设备", "en": "another device"},
        "wallet.device.checking": {"zh": "检查中……", "en": "checking…"},
        "wallet.key.heading": {"zh": "持有者密钥", "en": "Holder key"},
        "wallet.key.checking": {
            "zh": "正在检查本设备的持有者密钥……",
            "en": "Checking this device's holder key…",
        },
        "wallet.key.bound": {
            "zh": "本设备的持有者密钥已绑定，可以出示二维码。",
            "en": "This device's holder key is bound; you can show QR codes.",
        },
        "wallet.key.unbound": {
            "zh": "您的证照绑定在其他设备的密钥上。在本设备绑定后，将重新签发演示证照并吊销旧证照。",
            "en": "Your licenses are bound to another device's key. Binding this device re-issues the demo licenses to it and revokes the old ones.",
        },
        "wallet.key.not_rebindable": {
            "zh": "您的证照绑定在其他设备上，请在该设备上出示，或请发证机关重新签发。",
            "en": "Your licenses are bound to another device; show them there or ask the issuer to re-issue them.",
        },
        "wallet.key.bind": {"zh": "绑定本设备", "en": "Bind this device"},
        "wallet.key.done": {
            "zh": "已绑定本设备，重新签发 {count} 本证照。",
            "en": "This device is bound; {count} license(s) re-issued.",
        },
        "wallet.key.unsupported": {
            "zh": "本设备不支持安全密钥存储（WebCrypto / IndexedDB），无法出示二维码；请使用其他设备，或在窗口通过统一身份认证在线查验。",
            "en": "This device cannot keep a secure key (WebCrypto / IndexedDB), so it cannot show QR codes; use another device or the counter's online lookup.",
        },
        "wallet.back": {"zh": "返回证照列表", "en": "Back to my licenses"},
        "wallet.detail.fields": {"zh": "证照信息", "en": "License details"},
        "wallet.detail.type_code": {"zh": "证照类型代码", "en": "License type code"},
        "wallet.detail.issued_at": {"zh": "签发时间", "en": "Signed at"},
        "wallet.show": {"zh": "出示二维码", "en": "Show QR"},
        "wallet.disclose": {"zh": "披露内容", "en": "What to disclose"},
        "wallet.disclose.full": {"zh": "完整", "en": "Full"},
        "wallet.disclose.minimal": {"zh": "最少", "en": "Minimal"},
        "wallet.disclose.custom": {"zh": "自定义", "en": "Custom"},
        "wallet.disclose.always": {
            "zh": "证照类型、电子证照标识、颁发机构代码与有效期始终可见。",
            "en": "The type, identifier, issuer code and validity are always visible.",
        },
        "wallet.qr.start": {"zh": "生成二维码", "en": "Show QR code"},
        "wallet.qr.stop": {"zh": "停止出示", "en": "Stop"},
        "wallet.qr.alt": {"zh": "电子证照二维码", "en": "E-license QR code"},
        "wallet.qr.countdown": {
            "zh": "{seconds} 秒后刷新",
            "en": "Refreshes in {seconds} s",
        },
        "wallet.qr.note": {
            "zh": "二维码由本设备的持有者密钥签名，每 {period} 秒刷新，截图很快失效。",
            "en": "Signed by this device's holder key and refreshed every {period} s; a screenshot soon goes stale.",
        },
        "wallet.qr.download_png": {"zh": "下载 PNG", "en": "Download PNG"},
        "wallet.qr.download_svg": {"zh": "下载 SVG", "en": "Download SVG"},
        "wallet.qr.print": {"zh": "打印", "en": "Print"},
        "wallet.qr.working": {"zh": "生成中……", "en": "Working…"},
        "wallet.qr.not_valid": {
            "zh": "该证照不是有效状态，不能出示。",
            "en": "This license is not valid and cannot be shown.",
        },
        "wallet.qr.other_device": {
            "zh": "该证照绑定在其他设备上，本设备不能出示。",
            "en": "This license is bound to another device.",
        },
        "wallet.qr.none_chosen": {
            "zh": "请至少选择一项。",
            "en": "Choose at least one field.",
        },
        "wallet.noscript": {
            "zh": "出示二维码需要启用浏览器脚本。",
            "en": "Showing a QR code needs JavaScript enabled.",
        },
        "wallet.notice.logged_out": {"zh": "您已退出。", "en": "You have signed out."},
        "wallet.notice.ended": {
            "zh": "您已在其他平台退出，证照夹的登录已同时结束。",
            "en": "You signed out elsewhere; your wallet session has ended too.",
        },
        "wallet.notice.expired": {
            "zh": "登录请求已过期，请重新登录。",
            "en": "The sign-in request has expired; please try again.",
        },
        "wallet.notice.failed": {
            "zh": "登录未完成（{reason}），请重试。",
            "en": "Sign-in did not complete ({reason}); please try again.",
        },
        "wallet.err.other": {
            "zh": "操作未完成（{code}）。",
            "en": "The operation did not complete ({code}).",
        },
    }
)

bp = Blueprint(
    "wallet",
    __name__,
    url_prefix="/wallet",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


RP: Final = HubRelyingParty(
    spec=WALLET,
    name="wallet",
    home_endpoint="wallet.home",
    cookie=COOKIE,
    cookie_path=COOKIE_PATH,
    salt="govtrust-license-wallet",
    scope=SCOPE,
    secret=wallet_secret,
    uris=wallet_uris,
    pending_lifetime=PENDING_LIFETIME,
    http_timeout=HTTP_TIMEOUT,
)
bp.record_once(RP.register)
_load, _save, _current_user, _base_url = RP.load, RP.save, RP.current_user, RP.base_url


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _now() -> float:
    return RP.now()


def _json_error(code: str, status: int) -> Response:
    response = jsonify({"error": code, "message": _error_text(code)})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_ok(state: Mapping[str, Any]) -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = state.get("csrf")
    return isinstance(expected, str) and hmac.compare_digest(
        str(sent).encode("utf-8"), expected.encode("utf-8")
    )


def _citizen(*, csrf: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state, user) of the signed-in citizen (and a valid CSRF token), or a JSON error."""
    state = _load()
    user = _current_user(state)
    if user is None:
        abort(_json_error("login_required", 401))
    if csrf and not _csrf_ok(state):
        abort(_json_error("csrf", 400))
    return state, user


def _own_license(user: Mapping[str, Any], license_id: str) -> LicenseView:
    """One of the signed-in citizen's licenses; 404 for anyone else's (no oracle)."""
    try:
        view: LicenseView = _hub().licenses.get(license_id)
    except LicenseServiceError:
        abort(404)
    if view.holder_subject != user.get("sub"):  # not a secret: plain comparison
        abort(404)
    return view


# ----------------------------------------------------------------------------- views of licenses


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else translate("wallet.long_term")


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    try:
        return public_key_from_jwk(jwk).thumbprint()
    except (TrustError, TypeError, ValueError):
        return ""


def _issuer_name(issuer_id: str) -> str:
    p = _hub().registry.find(issuer_id)
    if p is None:
        return issuer_id
    return str(p.name_zh if current_language() == "zh" else p.name_en)


def _row(view: LicenseView) -> dict[str, Any]:
    lt = license_type(view.type_code)
    status = view.status.value
    expired = (
        view.status is LicenseStatus.VALID
        and view.valid_until is not None
        and view.valid_until.timestamp() <= _now()
    )
    return {
        "id": view.id,
        "type_name": lt.name_zh if current_language() == "zh" else lt.name_en,
        "type_code": lt.code,
        "identifier": view.identifier,
        "issuer_id": view.issuer_id,
        "issuer": _issuer_name(view.issuer_id),
        "valid_from": _date(view.valid_from),
        "valid_until": _date(view.valid_until),
        "status": "expired" if expired else status,
        "status_text": translate(f"wallet.status.{'expired' if expired else status}"),
        "presentable": view.status is LicenseStatus.VALID and not expired,
        "holder_thumbprint": _thumbprint(view.holder_key_jwk),
    }


def _fields(view: LicenseView) -> list[dict[str, Any]]:
    lt = license_type(view.type_code)
    minimal = set(lt.minimal_keys)
    out = []
    for spec in lt.fields:
        if spec.key in view.fields:
            out.append(
                {
                    "key": spec.key,
                    "label": spec.label,
                    "name": spec.name_zh if current_language() == "zh" else spec.name_en,
                    "value": view.fields[spec.key],
                    "minimal": spec.key in minimal,
                }
            )
    return out


def _rebindable(view: LicenseView, demo_thumbprint: str) -> bool:
    """May the wallet move this license to another holder key? Only a valid license
    bound to the demo holder key, or one an earlier rebinding issued."""
    if view.status is not LicenseStatus.VALID:
        return False
    if _thumbprint(view.holder_key_jwk) == demo_thumbprint:
        return True
    return any(
        e.action == "license.issued" and e.actor.startswith(REBIND_ACTOR_PREFIX)
        for e in _hub().licenses.events(view.id)
    )


def _demo_thumbprint() -> str:
    from govtrust.demo import demo_holder_key

    return str(demo_holder_key(_hub()).public_key().thumbprint())


def _page(template: str, state: dict[str, Any], **context: Any) -> Response:
    body = render_template(template, **context)
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    return _save(response, state)


# ----------------------------------------------------------------------------- pages


@bp.before_request
def _bounded_body() -> None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        abort(_json_error("too_large", 413))


@bp.get("/")
def home() -> Response:
    state = _load()
    if request.args.get("state") and state.get("logout_state"):
        sent = request.args["state"].encode("utf-8")
        if hmac.compare_digest(str(state.pop("logout_state")).encode("utf-8"), sent):
            state["notice"] = ["logged_out"]
    user = _current_user(state)
    views: list[LicenseView] = []
    if user is not None:
        if not state.get("csrf"):
            state["csrf"] = secrets.token_urlsafe(24)
        views = _hub().licenses.list_for_holder(user["sub"])
    order = {"valid": 0, "suspended": 1, "expired": 2, "revoked": 3}
    rows = sorted((_row(v) for v in views), key=lambda r: order.get(r["status"], 9))
    valid_keys = sorted({r["holder_thumbprint"] for r in rows if r["presentable"]})
    demo = _demo_thumbprint() if views else ""
    rebindable = any(_rebindable(v, demo) for v in views)
    notice = state.pop("notice", None)
    return _page(
        "wallet/home.html",
        state,
        user=user,
        licenses=rows,
        valid_keys=valid_keys,
        rebindable=rebindable,
        notice=notice,
        csrf=state.get("csrf") if user else None,
    )


@bp.get("/licenses/<license_id>")
def detail(license_id: str) -> Response:
    state = _load()
    user = _current_user(state)
    if user is None:
        return _save(redirect(url_for("wallet.login"), code=303), state)
    view = _own_license(user, license_id)
    lt = license_type(view.type_code)
    try:
        period = int(request.args.get("period", REFRESH_SECONDS))
    except ValueError:
        period = REFRESH_SECONDS
    period = min(max(period, 2), REFRESH_SECONDS)
    return _page(
        "wallet/detail.html",
        state,
        user=user,
        lic=_row(view),
        fields=_fields(view),
        minimal_labels=[lt.field(k).label for k in lt.minimal_keys if k in view.fields],  # type: ignore[union-attr]
        issued_at=view.issued_at.isoformat(timespec="seconds"),
        period=period,
        csrf=state.get("csrf"),
    )


@bp.get("/licenses/<license_id>/credential")
def credential(license_id: str) -> Response:
    """The issued credential (with every disclosure) of one of the citizen's own
    licenses, base64url in JSON; the CSRF token in ``X-CSRF-Token`` keeps it to
    the wallet's own pages."""
    _state, user = _citizen(csrf=True)
    view = _own_license(user, license_id)
    response = jsonify(
        {
            "id": view.id,
            "status": view.status.value,
            "credential": b64url(view.credential),
            "holder_thumbprint": _thumbprint(view.holder_key_jwk),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _qr_text() -> str:
    text = request.form.get("text", "")
    if len(text) > MAX_QR_TEXT:
        abort(_json_error("qr_too_long", 413))
    body = text[len(PREFIX) :]
    if not text.startswith(PREFIX) or not body or len(body) % 3 == 1 or not set(body) <= _B45:
        abort(_json_error("qr_text_invalid", 400))
    return text


def _presented_identifier(text: str) -> str | None:
    """The 电子证照标识 of the credential inside a presentation's QR text (decoded
    with the verifier's bounded decoders, signatures not checked), or None."""
    try:
        return str(presented_identifier(text))
    except TrustError:
        return None


@bp.post("/qr.svg")
def qr_svg() -> Response:
    """The QR symbol of a presentation the page built (SVG, or PNG with
    ``format=png``). Signed-in, CSRF-protected, and only for a presentation of
    one of the citizen's own licenses; the text is not logged."""
    _state, user = _citizen(csrf=True)
    text = _qr_text()
    identifier = _presented_identifier(text)
    if identifier is None:
        return _json_error("qr_text_invalid", 400)
    if identifier not in {v.identifier for v in _hub().licenses.list_for_holder(user["sub"])}:
        return _json_error("not_found", 404)
    fmt = request.form.get("format", "svg")
    if fmt not in ("svg", "png"):
        abort(_json_error("qr_text_invalid", 400))
    try:
        image = render_qr(text, error="M", scale=QR_SCALE)
    except QrError as exc:
        return _json_error("qr_too_long" if exc.code == "qr_too_long" else "qr_text_invalid", 400)
    if fmt == "png":
        response = make_response(image.png)
        response.headers["Content-Type"] = "image/png"
    else:
        response = make_response(image.svg)
        response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    response.headers["X-QR-Version"] = str(image.version)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.post("/holder-key")
def holder_key() -> Response:
    """Bind this device: re-issue the citizen's rebindable licenses (see the module
    docstring) to the browser's public key ``jwk`` (a P-256 JWK, JSON text)."""
    _state, user = _citizen(csrf=True)
    raw = request.form.get("jwk", "")
    if len(raw) > MAX_JWK:
        return _json_error("holder_key_invalid", 400)
    try:
        jwk = json.loads(raw)
        if not isinstance(jwk, dict) or set(jwk) - {"kty", "crv", "x", "y"}:
            raise ValueError("not a public JWK")
        new_key = public_key_from_jwk(jwk)
        if new_key.family is not KeyFamily.P256:
            raise ValueError("the holder key is EC P-256 (WebCrypto ECDSA)")
        new_jwk = new_key.jwk()
    except (TrustError, TypeError, ValueError):
        return _json_error("holder_key_invalid", 400)
    new_thumb = new_key.thumbprint()
    service = _hub().licenses
    demo = _demo_thumbprint()
    actor = f"{REBIND_ACTOR_PREFIX}{user['sub']}"[:100]
    moved = []
    for view in service.list_for_holder(user["sub"]):
        if _thumbprint(view.holder_key_jwk) == new_thumb or not _rebindable(view, demo):
            continue
        # The suspension is the lock: of two tabs binding at once, one wins the
        # valid → suspended transition, the other skips the license (no duplicate).
        try:
            service.suspend(view.id, actor=actor, reason="holder key being replaced")
        except TrustError:
            continue
        try:
            fresh = service.issue(
                view.issuer_id,
                view.type_code,
                view.holder_subject,
                new_jwk,
                dict(view.fields),
                view.valid_from,
                view.valid_until,
                actor=actor,
            )
        except TrustError as exc:
            service.reinstate(view.id, actor=actor, reason="holder key not replaced")
            log.warning("wallet: could not re-issue %s: %s", view.id, exc.code)
            return _json_error(exc.code, 409)
        service.revoke(view.id, actor=actor, reason="holder key replaced in the wallet")
        moved.append({"old": view.id, "new": fresh.id})
    log.info("wallet: bound a holder key for %s (%d re-issued)", user["sub"], len(moved))
    response = jsonify(
        {
            "thumbprint": new_thumb,
            "reissued": moved,
            "message": translate("wallet.key.done", count=len(moved)),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------- sign-in


@bp.get("/login")
def login() -> Response:
    """The authorization code flow (PKCE S256, nonce), like the portals'."""
    return RP.login()


@bp.get("/callback")
def callback() -> Response:
    return RP.callback(lambda claims, info: {})


@bp.post("/logout")
def logout() -> Response:
    """End the wallet's session, then ask the hub to end its own (RP-initiated logout)."""
    return RP.logout(lambda: _error_text("csrf"))


@bp.post("/backchannel-logout")
def backchannel_logout() -> Response:
    """OpenID Connect Back-Channel Logout 1.0 §2.6: remember the ended ``sid``."""
    return RP.backchannel_logout()
