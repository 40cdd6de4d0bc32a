"""Demo regional portals: 浙江政务服务网 (``/portal/zj/``) and 广东政务服务网 (``/portal/gd/``).

Each portal is a real OpenID Connect relying party of the hub, served by the same
process but behaving as if it were another web site:

* it talks to the hub only over HTTP — discovery, JWKS, token and userinfo — through
  Authlib's Flask client (``client_secret_basic``, PKCE ``S256``, scope ``openid profile``);
* it validates the ID token itself (signature with the hub's JWKS, ``iss``, ``aud``,
  ``azp``, ``nonce``, ``exp``/``iat``, ``at_hash``) and checks the ``iss`` authorization
  response parameter (RFC 9207);
* its session is its own signed cookie ``gt_portal_<p>`` scoped to ``/portal/<p>/``,
  not Flask's ``session`` cookie: that one belongs to the hub, which clears it at every
  sign-in and sign-out (as it must), and would take the portal's login state with it;
* it learns that a citizen signed out elsewhere only from the back-channel logout
  token the hub POSTs to ``/portal/<p>/backchannel-logout`` (OpenID Connect
  Back-Channel Logout 1.0 §2.6): the ended ``sid`` goes into ``portal_logouts``,
  which the portal checks at every page view.

The client secrets are derived from the master key (``demo-portal-<p>``), so
``govtrust init --demo`` registers them and the portal computes the same value
without storing it. Authlib's own ID-token check (joserfc) cannot be used here: it
imports the whole JWKS and fails on the hub's SM2 key (``crv: "SM2"``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.wrappers import Response

from keys import MasterKey
from trust import TrustError, public_key_from_jwk
from trust.jws import JWSError, parse_compact, strict_json_loads

from .db import Base, UTCDateTime
from .i18n import current_language, register

__all__ = [
    "PORTALS",
    "PortalSpec",
    "PortalLogout",
    "PortalTokenError",
    "bp",
    "init_portals",
    "portal_secret",
    "portal_uris",
    "BACKCHANNEL_EVENT",
]

log = logging.getLogger(__name__)

BACKCHANNEL_EVENT: Final = "http://schemas.openid.net/event/backchannel-logout"
SESSION_LIFETIME: Final = timedelta(hours=8)
PENDING_LIFETIME: Final = timedelta(minutes=15)
LEEWAY: Final = 15  # seconds (SECURITY.md: at most 15 s)
MAX_TOKEN_SIZE: Final = 8192
JWKS_REFRESH_INTERVAL: Final = 60.0  # at most one forced JWKS refetch a minute per portal
HTTP_TIMEOUT: Final = 5
SILENT_ERRORS: Final = frozenset(
    {"login_required", "consent_required", "interaction_required", "account_selection_required"}
)


@dataclass(frozen=True)
class PortalSpec:
    key: str  # URL segment and participant id
    client_id: str
    participant_id: str
    name_zh: str
    name_en: str
    id_token_alg: str  # what Authlib-style clients verify: RS256 or ES256 (not SM2)


PORTALS: Final[Mapping[str, PortalSpec]] = {
    "zj": PortalSpec(
        "zj", "zj-portal", "zj", "浙江政务服务网", "Zhejiang Government Service Network", "RS256"
    ),
    "gd": PortalSpec(
        "gd", "gd-portal", "gd", "广东政务服务网", "Guangdong Government Service Network", "ES256"
    ),
}


def portal_secret(master_key: MasterKey, key: str) -> str:
    """The portal's client secret: derived, never stored (64 hex characters)."""
    return master_key.derive(f"demo-portal-{key}").hex()


def portal_uris(base_url: str, key: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "redirect_uri": f"{base}/portal/{key}/callback",
        "post_logout_redirect_uri": f"{base}/portal/{key}/",
        "backchannel_logout_uri": f"{base}/portal/{key}/backchannel-logout",
    }


class PortalLogout(Base):
    """A hub session (``sid``) that ended, as told to one portal by a logout token."""

    __tablename__ = "portal_logouts"

    portal: Mapped[str] = mapped_column(String(16), primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PortalTokenError(Exception):
    """An ID token or logout token the portal refuses; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


register(
    {
        "portal.zj.name": {"zh": "浙江政务服务网", "en": "Zhejiang Government Service Network"},
        "portal.gd.name": {"zh": "广东政务服务网", "en": "Guangdong Government Service Network"},
        "portal.demo": {
            "zh": "演示：地区政务服务平台，国家政务服务平台统一身份认证的依赖方（OpenID Connect）。",
            "en": "Demo: a regional government-service platform, a relying party of the national single sign-on (OpenID Connect).",
        },
        "portal.hello": {"zh": "您好，{name}", "en": "Hello, {name}"},
        "portal.signed_in.how": {
            "zh": "您已通过国家政务服务平台统一身份认证登录本平台。",
            "en": "You are signed in here through the national hub's single sign-on.",
        },
        "portal.signed_out": {"zh": "您尚未登录本平台。", "en": "You are not signed in here."},
        "portal.login": {"zh": "登录", "en": "Sign in"},
        "portal.logout": {"zh": "退出", "en": "Sign out"},
        "portal.silent": {
            "zh": "检查是否已在统一身份认证平台登录（不输入密码）",
            "en": "Check whether you are signed in at the hub (no password)",
        },
        "portal.other": {"zh": "前往{name}", "en": "Go to {name}"},
        "portal.account": {"zh": "我的统一身份认证账户", "en": "My national sign-on account"},
        "portal.notice.logged_out": {"zh": "您已退出。", "en": "You have signed out."},
        "portal.notice.ended": {
            "zh": "您已在其他平台退出，本平台的登录已同时结束。",
            "en": "You signed out elsewhere; your session here has ended too.",
        },
        "portal.notice.silent_none": {
            "zh": "统一身份认证平台上没有您的登录会话，请点击“登录”。",
            "en": "You have no session at the hub; please sign in.",
        },
        "portal.notice.expired": {
            "zh": "登录请求已过期，请重新登录。",
            "en": "The sign-in request has expired; please try again.",
        },
        "portal.notice.failed": {
            "zh": "登录未完成（{reason}），请重试。",
            "en": "Sign-in did not complete ({reason}); please try again.",
        },
        "portal.details": {"zh": "本平台收到的身份信息", "en": "What this platform received"},
        "portal.sub": {
            "zh": "用户标识（本平台专属，pairwise）",
            "en": "Subject (pairwise: specific to this platform)",
        },
        "portal.sid": {"zh": "统一身份认证会话（sid）", "en": "Hub session (sid)"},
        "portal.acr": {"zh": "认证等级", "en": "Level of assurance"},
        "portal.alg": {"zh": "ID 令牌签名算法", "en": "ID token signature algorithm"},
        "portal.services": {
            "zh": "热门服务（演示，未开通）",
            "en": "Popular services (demo, not available)",
        },
        "portal.service.social": {"zh": "社保查询", "en": "Social insurance records"},
        "portal.service.fund": {"zh": "公积金提取", "en": "Housing fund withdrawal"},
        "portal.service.estate": {"zh": "不动产登记", "en": "Real-estate registration"},
        "portal.landing": {
            "zh": "演示：在一个地区平台登录，另一个地区平台直接识别；在任一平台退出，全部退出。",
            "en": "Demo: sign in at one regional platform and the other recognises you; sign out once, everywhere.",
        },
    }
)

bp = Blueprint("portal", __name__, url_prefix="/portal")


# ----------------------------------------------------------------------------- wiring


def init_portals(app: Flask, *, base_url: str, master_key: MasterKey) -> None:
    """Register the two portals' OAuth clients (Authlib) and the blueprint."""
    oauth = OAuth(app)
    base = base_url.rstrip("/")
    for spec in PORTALS.values():
        oauth.register(
            spec.key,
            client_id=spec.client_id,
            client_secret=portal_secret(master_key, spec.key),
            server_metadata_url=f"{base}/.well-known/openid-configuration",
            client_kwargs={
                "scope": "openid profile",
                "token_endpoint_auth_method": "client_secret_basic",
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT,
            },
        )
    app.extensions["govtrust.portals"] = {"oauth": oauth, "base_url": base, "jwks_at": {}}
    app.register_blueprint(bp)


def _ext() -> dict[str, Any]:
    return current_app.extensions["govtrust.portals"]  # type: ignore[no-any-return]


def _spec(p: str) -> PortalSpec:
    spec = PORTALS.get(p)
    if spec is None:
        abort(404)
    return spec


def _client(spec: PortalSpec) -> Any:
    return _ext()["oauth"].create_client(spec.key)


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _now() -> datetime:
    return _hub().clock()  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- portal cookie


def _cookie_name(spec: PortalSpec) -> str:
    return f"gt_portal_{spec.key}"


def _serializer(spec: PortalSpec) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"govtrust-portal-{spec.key}")  # type: ignore[arg-type]


def _load(spec: PortalSpec) -> dict[str, Any]:
    raw = request.cookies.get(_cookie_name(spec))
    if not raw:
        return {}
    try:
        state = _serializer(spec).loads(raw, max_age=int(SESSION_LIFETIME.total_seconds()))
    except BadSignature:
        return {}
    return state if isinstance(state, dict) else {}


def _save(response: Response, spec: PortalSpec, state: Mapping[str, Any]) -> Response:
    path = f"/portal/{spec.key}/"
    secure = _ext()["base_url"].startswith("https://")
    if not state:
        response.delete_cookie(_cookie_name(spec), path=path, secure=secure, httponly=True)
        return response
    response.set_cookie(
        _cookie_name(spec),
        _serializer(spec).dumps(dict(state)),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=path,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    return response


def _csrf(state: dict[str, Any]) -> str:
    token = state.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        state["csrf"] = token
    return token


def _ended(spec: PortalSpec, sid: str) -> bool:
    with _hub().db.session() as s:
        return s.get(PortalLogout, (spec.key, sid)) is not None


def _current_user(spec: PortalSpec, state: dict[str, Any]) -> dict[str, Any] | None:
    """The signed-in user, unless the hub told us (back-channel) that the session ended."""
    user = state.get("u")
    if not isinstance(user, dict):
        return None
    if _ended(spec, str(user.get("sid", ""))):
        state.pop("u", None)
        state.pop("csrf", None)
        state["notice"] = ["ended"]
        return None
    return user


# ----------------------------------------------------------------------------- token checks


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwks_keys(spec: PortalSpec, kid: Any) -> list[Any]:
    """Public keys for ``kid`` from the hub's JWKS (Authlib caches it; an unknown kid
    triggers one refetch, at most once a minute so that junk tokens cannot hammer the hub)."""
    client = _client(spec)

    def pick(jwks: Mapping[str, Any]) -> list[Any]:
        found = []
        for jwk in jwks.get("keys", []) if isinstance(jwks, Mapping) else []:
            if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
                continue
            if jwk.get("alg", spec.id_token_alg) != spec.id_token_alg:
                continue
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                found.append(public_key_from_jwk(jwk))
            except TrustError:
                continue
        return found

    try:
        keys = pick(client.fetch_jwk_set())
        stamps = _ext()["jwks_at"]
        now = _now().timestamp()
        if not keys and now - stamps.get(spec.key, 0.0) > JWKS_REFRESH_INTERVAL:
            stamps[spec.key] = now
            keys = pick(client.fetch_jwk_set(force=True))
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        raise PortalTokenError(f"cannot fetch the hub's JWKS: {exc}") from None
    return keys


def _verified_claims(spec: PortalSpec, token: Any, *, typ: str | None) -> dict[str, Any]:
    """Signature (registered algorithm only, key from the hub's JWKS) and JSON payload."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_SIZE:
        raise PortalTokenError("token missing or too large")
    try:
        payload, payload_b64, sig = parse_compact(token, allowed={spec.id_token_alg})
    except JWSError as exc:
        raise PortalTokenError(exc.message) from None
    header_typ = sig.header.get("typ")
    if typ is None:
        if header_typ not in (None, "JWT"):
            raise PortalTokenError(f"unexpected token type {header_typ!r}")
    elif header_typ != typ:
        raise PortalTokenError(f"token type must be {typ}")
    kid = sig.header.get("kid")
    if not isinstance(kid, str):
        raise PortalTokenError("token without kid")
    if not any(sig.verify(payload_b64, key) for key in _jwks_keys(spec, kid)):
        raise PortalTokenError("bad signature or unknown key")
    try:
        claims = strict_json_loads(payload)
    except (TrustError, ValueError):
        raise PortalTokenError("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise PortalTokenError("payload is not a JSON object")
    return claims


def _check_common(spec: PortalSpec, claims: Mapping[str, Any]) -> None:
    issuer = _client(spec).load_server_metadata().get("issuer")
    if not issuer or claims.get("iss") != issuer:
        raise PortalTokenError("wrong issuer")
    aud = claims.get("aud")
    if isinstance(aud, list):
        if spec.client_id not in aud:
            raise PortalTokenError("wrong audience")
        if len(aud) > 1 and claims.get("azp") != spec.client_id:
            raise PortalTokenError("wrong authorized party")
    elif aud != spec.client_id:
        raise PortalTokenError("wrong audience")
    now = _now().timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    for name, value in (("exp", exp), ("iat", iat)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise PortalTokenError(f"{name} is required")
    assert isinstance(exp, int) and isinstance(iat, int)
    if now > exp + LEEWAY:
        raise PortalTokenError("token expired")
    if iat > now + LEEWAY:
        raise PortalTokenError("token issued in the future")


def validate_id_token(spec: PortalSpec, token: Mapping[str, Any], *, nonce: str) -> dict[str, Any]:
    """OpenID Connect Core §3.1.3.7 for the token response ``token``."""
    claims = _verified_claims(spec, token.get("id_token"), typ=None)
    _check_common(spec, claims)
    if "azp" in claims and claims["azp"] != spec.client_id:
        raise PortalTokenError("wrong authorized party")
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got, nonce):
        raise PortalTokenError("nonce mismatch")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise PortalTokenError("sub is required")
    if not isinstance(claims.get("sid"), str) or not claims["sid"]:
        raise PortalTokenError("sid is required (back-channel logout)")
    at_hash = claims.get("at_hash")
    if at_hash is not None:
        digest = hashlib.sha256(str(token.get("access_token", "")).encode()).digest()
        if not hmac.compare_digest(str(at_hash), _b64url(digest[:16])):
            raise PortalTokenError("at_hash mismatch")
    return claims


def validate_logout_token(spec: PortalSpec, token: Any) -> dict[str, Any]:
    """OpenID Connect Back-Channel Logout 1.0 §2.6."""
    claims = _verified_claims(spec, token, typ="logout+jwt")
    _check_common(spec, claims)
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise PortalTokenError("events must contain the back-channel logout event")
    if "nonce" in claims:
        raise PortalTokenError("a logout token must not contain a nonce")
    sid = claims.get("sid")
    if not isinstance(sid, str) or not sid or len(sid) > 64:
        raise PortalTokenError("sid is required")
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise PortalTokenError("sub must be a string")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise PortalTokenError("jti is required")
    return claims


def record_logout(spec: PortalSpec, sid: str) -> None:
    """Remember that ``sid`` ended (idempotent); forget entries older than any session."""
    hub = _hub()
    now = _now()
    try:
        with hub.db.write() as s:
            if s.get(PortalLogout, (spec.key, sid)) is None:
                s.add(PortalLogout(portal=spec.key, sid=sid, ended_at=now))
            s.execute(
                delete(PortalLogout).where(
                    PortalLogout.ended_at < now - SESSION_LIFETIME - timedelta(days=1)
                )
            )
    except IntegrityError:  # the same token delivered twice at once
        pass


# ----------------------------------------------------------------------------- pages


def _page(spec: PortalSpec, state: dict[str, Any], user: dict[str, Any] | None) -> Response:
    notice = state.pop("notice", None)
    other = next(s for s in PORTALS.values() if s.key != spec.key)
    body = render_template(
        "portal/home.html",
        spec=spec,
        other=other,
        user=user,
        notice=notice,
        csrf=_csrf(state) if user else None,
    )
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return _save(response, spec, state)


@bp.get("/<p>/")
def home(p: str) -> Response:
    spec = _spec(p)
    state = _load(spec)
    logout_state = request.args.get("state")
    if logout_state and state.get("logout_state"):
        if hmac.compare_digest(str(state.pop("logout_state")), logout_state):
            state["notice"] = ["logged_out"]
    return _page(spec, state, _current_user(spec, state))


@bp.get("/<p>/login")
def login(p: str) -> Response:
    """Start the authorization code flow (PKCE S256, nonce); ``?silent=1`` uses prompt=none."""
    spec = _spec(p)
    state = _load(spec)
    silent = request.args.get("silent") == "1"
    extra = {"prompt": "none"} if silent else {}
    try:
        rv = _client(spec).create_authorization_url(
            portal_uris(_ext()["base_url"], spec.key)["redirect_uri"],
            ui_locales="en" if current_language() == "en" else "zh-CN",
            **extra,
        )
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        log.warning("portal %s: cannot reach the hub: %s", spec.key, exc)
        state["notice"] = ["failed", "hub unreachable"]
        return _save(redirect(url_for("portal.home", p=spec.key), code=303), spec, state)
    now = _now().timestamp()
    pending = {
        k: v
        for k, v in (state.get("pending") or {}).items()
        if isinstance(v, dict) and v.get("t", 0) > now - PENDING_LIFETIME.total_seconds()
    }
    while len(pending) >= 3:  # bound the cookie size
        pending.pop(next(iter(pending)))
    pending[rv["state"]] = {"v": rv["code_verifier"], "n": rv["nonce"], "t": now, "s": silent}
    state["pending"] = pending
    return _save(redirect(rv["url"], code=302), spec, state)


@bp.get("/<p>/callback")
def callback(p: str) -> Response:
    spec = _spec(p)
    state = _load(spec)
    home_url = url_for("portal.home", p=spec.key)
    pending_all = dict(state.get("pending") or {})
    entry = pending_all.pop(request.args.get("state", ""), None)
    state["pending"] = pending_all
    if not pending_all:
        state.pop("pending", None)
    now = _now().timestamp()
    if not isinstance(entry, dict) or entry.get("t", 0) < now - PENDING_LIFETIME.total_seconds():
        state["notice"] = ["expired"]
        return _save(redirect(home_url, code=303), spec, state)
    error = request.args.get("error")
    if error:
        if entry.get("s") and error in SILENT_ERRORS:
            state["notice"] = ["silent_none"]
        else:
            state["notice"] = ["failed", error[:40]]
        return _save(redirect(home_url, code=303), spec, state)
    client = _client(spec)
    try:
        issuer = client.load_server_metadata().get("issuer")
        if request.args.get("iss") != issuer:  # RFC 9207 mix-up defence
            raise PortalTokenError("iss in the authorization response does not match")
        token = client.fetch_access_token(
            redirect_uri=portal_uris(_ext()["base_url"], spec.key)["redirect_uri"],
            code=request.args.get("code", ""),
            code_verifier=entry["v"],
        )
        claims = validate_id_token(spec, token, nonce=entry["n"])
        info = client.userinfo(token=token)
        if info.get("sub") != claims["sub"]:  # OIDC Core §5.3.2
            raise PortalTokenError("userinfo sub differs from the ID token")
    except PortalTokenError as exc:
        log.warning("portal %s: refused the sign-in: %s", spec.key, exc.reason)
        state["notice"] = ["failed", exc.reason[:60]]
        return _save(redirect(home_url, code=303), spec, state)
    except (OAuthError, requests.RequestException, ValueError, KeyError, RuntimeError) as exc:
        log.warning("portal %s: token exchange failed: %s", spec.key, exc)
        reason = getattr(exc, "error", None) or type(exc).__name__
        state["notice"] = ["failed", str(reason)[:60]]
        return _save(redirect(home_url, code=303), spec, state)
    state["u"] = {
        "sub": claims["sub"],
        "sid": claims["sid"],
        "name": info.get("name") or claims.get("name") or "",
        "acr": claims.get("acr", ""),
        "auth_time": claims.get("auth_time"),
        "id_token": token["id_token"],
    }
    state["csrf"] = secrets.token_urlsafe(24)  # a new session, a new token
    state.pop("notice", None)
    return _save(redirect(home_url, code=303), spec, state)


@bp.post("/<p>/logout")
def logout(p: str) -> Response:
    """RP-initiated logout: end the local session, then ask the hub to end its own
    (which tells every other portal through back-channel logout)."""
    spec = _spec(p)
    state = _load(spec)
    sent = request.form.get("csrf_token", "")
    expected = state.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(400, description="CSRF token missing or wrong / 表单已过期，请刷新后重试")
    user = _current_user(spec, state)
    state.pop("u", None)
    state.pop("csrf", None)
    home_url = url_for("portal.home", p=spec.key)
    if user is None:
        return _save(redirect(home_url, code=303), spec, state)
    try:
        rv = _client(spec).create_logout_url(
            post_logout_redirect_uri=portal_uris(_ext()["base_url"], spec.key)[
                "post_logout_redirect_uri"
            ],
            id_token_hint=user["id_token"],
        )
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        log.warning("portal %s: cannot reach the hub for logout: %s", spec.key, exc)
        state["notice"] = ["logged_out"]
        return _save(redirect(home_url, code=303), spec, state)
    state["logout_state"] = rv["state"]
    return _save(redirect(rv["url"], code=303), spec, state)


@bp.post("/<p>/backchannel-logout")
def backchannel_logout(p: str) -> Response:
    """The hub says a session ended: verify the logout token and remember its ``sid``."""
    spec = _spec(p)
    tokens = request.form.getlist("logout_token")
    try:
        if len(tokens) != 1:
            raise PortalTokenError("exactly one logout_token is required")
        claims = validate_logout_token(spec, tokens[0])
    except PortalTokenError as exc:
        log.warning("portal %s: refused a logout token: %s", spec.key, exc.reason)
        response = jsonify({"error": "invalid_request", "error_description": exc.reason})
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response
    record_logout(spec, claims["sid"])
    response = make_response("", 200)
    response.headers["Cache-Control"] = "no-store"
    return response
