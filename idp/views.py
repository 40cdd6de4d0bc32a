"""OpenID Connect endpoints and pages of the national hub.

Discovery, JWKS, authorization (code + PKCE S256, PAR, prompt, max_age,
acr step-up, claims, login/id_token hints), login and second factor, consent,
token, userinfo, introspection, revocation, RP-initiated logout with
back-channel logout, and the account page.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WResponse

from govtrust.security import check_csrf, csrf_token
from keys import KeyPurpose

from .accounts import AccountView
from .server import GrantUser, machine_scope
from .tokens import TokenError

bp = Blueprint("idp", __name__, template_folder="templates")

PENDING_LIFETIME: Final = timedelta(minutes=15)
PAR_LIFETIME: Final = timedelta(seconds=90)
CONSENT_FREE: Final = frozenset({"openid"})
ACR_ORDER: Final = {"loa1": 1, "loa2": 2}


def _idp() -> Any:
    return current_app.extensions["govtrust"].idp


# ----------------------------------------------------------------------------- helpers


class _ParamsRequest(OAuth2Request):  # type: ignore[misc]
    """An authorization request rebuilt from stored parameters (PAR, resumed requests)."""

    def __init__(self, params: dict[str, str], uri: str) -> None:
        super().__init__("GET", uri, headers={})
        self.payload = BasicOAuth2Payload(params)
        self._args = MultiDict(params)

    @property
    def args(self) -> MultiDict[str, str]:
        return self._args

    @property
    def form(self) -> MultiDict[str, str]:
        return MultiDict()


def _with_params(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_redirect(
    redirect_uri: str, error: str, description: str, state: str | None
) -> WResponse:
    params = {"error": error, "error_description": description, "iss": _idp().issuer}
    if state:
        params["state"] = state
    return redirect(_with_params(redirect_uri, params), code=302)


def _error_page(description: str, status: int = 400) -> WResponse:
    return make_response(render_template("idp/error.html", description=description), status)


def _client_ip() -> str:
    return request.remote_addr or ""


def _pending_save(params: dict[str, str]) -> str:
    pending = session.get("authz", {})
    now = _idp().clock().timestamp()
    pending = {
        k: v for k, v in pending.items() if v.get("t", 0) > now - PENDING_LIFETIME.total_seconds()
    }
    while len(pending) >= 5:  # a bound on cookie size
        pending.pop(next(iter(pending)))
    req_id = secrets.token_urlsafe(12)
    pending[req_id] = {"p": params, "t": now}
    session["authz"] = pending
    return req_id


def _pending_get(req_id: str | None) -> dict[str, Any] | None:
    if not req_id:
        return None
    entry = session.get("authz", {}).get(req_id)
    if (
        not entry
        or entry.get("t", 0) < _idp().clock().timestamp() - PENDING_LIFETIME.total_seconds()
    ):
        return None
    return entry  # type: ignore[no-any-return]


def _pending_drop(req_id: str) -> None:
    pending = dict(session.get("authz", {}))
    pending.pop(req_id, None)
    session["authz"] = pending


def _current_session() -> Any:
    from .sessions import COOKIE_NAME

    return _idp().sessions.lookup(request.cookies.get(COOKIE_NAME))


def _set_session_cookie(response: WResponse, value: str) -> None:
    from .sessions import COOKIE_NAME, SESSION_LIFETIME

    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=_idp().issuer.startswith("https://"),
        path="/",
    )


# ----------------------------------------------------------------------------- discovery


@bp.get("/.well-known/openid-configuration")
def discovery() -> WResponse:
    idp = _idp()
    iss = idp.issuer
    body = {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/idp/authorize",
        "pushed_authorization_request_endpoint": f"{iss}/idp/par",
        "token_endpoint": f"{iss}/idp/token",
        "userinfo_endpoint": f"{iss}/idp/userinfo",
        "jwks_uri": f"{iss}/idp/jwks",
        "govtrust_sm2_jwks_uri": f"{iss}/idp/jwks/sm2",
        "end_session_endpoint": f"{iss}/idp/logout",
        "introspection_endpoint": f"{iss}/idp/introspect",
        "revocation_endpoint": f"{iss}/idp/revoke",
        "scopes_supported": [
            "openid",
            "profile",
            "phone",
            "identity",
            "enterprise",
            "offline_access",
            "seal:sign",
            "license:issue",
            "license:revoke",
        ],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "SM2"],
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": [
            "ES256",
            "RS256",
            "PS256",
            "SM2",
            "EdDSA",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
            "name",
            "phone_number",
            "cn_citizen_id",
            "enterprise_name",
            "cn_uscc",
        ],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_pushed_authorization_requests": False,
        "authorization_response_iss_parameter_supported": True,
        "acr_values_supported": ["loa1", "loa2"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["zh-CN", "en"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/idp/jwks")
def jwks() -> WResponse:
    """Public keys for standard clients: RS256/ES256 (and other registered JOSE
    curves). SM2 keys use a private ``crv`` that standard JOSE libraries refuse when
    they import a whole set, so they are published separately (:func:`jwks_sm2`)."""
    return _jwks_response(lambda k: k.get("crv") != "SM2")


@bp.get("/idp/jwks/sm2")
def jwks_sm2() -> WResponse:
    """SM2 keys (``kty: EC, crv: SM2``, GovTrust private use; docs/algorithms.md)."""
    return _jwks_response(lambda k: k.get("crv") == "SM2")


def _jwks_response(keep: Any) -> WResponse:
    keys = _idp().keystore
    published = keys.jwks(KeyPurpose.ID_TOKEN)["keys"] + keys.jwks(KeyPurpose.ACCESS_TOKEN)["keys"]
    response = jsonify({"keys": [k for k in published if keep(k)]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# ----------------------------------------------------------------------------- authorization


def _request_params() -> dict[str, str] | WResponse:
    source = request.form if request.method == "POST" else request.args
    params: dict[str, str] = {}
    for key in source:
        values = source.getlist(key)
        if len(values) != 1:
            return _error_page(f"duplicate parameter {key!r}")
        params[key] = values[0]
    return params


@bp.route("/idp/authorize", methods=["GET", "POST"])
def authorize() -> WResponse:
    return _authorize(request.args.get("resume"))


def _authorize(resume: str | None, signed_in: Any = None) -> WResponse:
    """The authorization endpoint's logic. ``resume`` names a pending request (kept
    in the Flask session) to continue; ``signed_in`` is the hub session when the
    caller has just created it (the sign-in POST continues the request in the same
    HTTP exchange, as if the browser had followed a redirect here), else the
    session cookie of this request decides."""
    idp = _idp()
    if resume:
        entry = _pending_get(resume)
        if entry is None:
            return _error_page(
                "登录请求已过期，请返回原网站重新登录 / The sign-in request has expired."
            )
        params = dict(entry["p"])
        started = entry["t"]
    else:
        got = _request_params()
        if isinstance(got, WResponse):
            return got
        params = got
        started = idp.clock().timestamp()
        if "request_uri" in params:
            loaded = idp.load_par(params.get("request_uri", ""), params.get("client_id", ""))
            if loaded is None:
                return _error_page("invalid or expired request_uri")
            params = loaded
        if "request" in params:
            return _error_page("request objects are not supported; use PAR")
    oreq = _ParamsRequest(params, request.url)
    try:
        grant = idp.authlib.get_consent_grant(oreq, end_user=None)
        redirect_uri = grant.validate_authorization_request()
    except OAuth2Error as err:
        if err.redirect_uri:
            return _error_redirect(
                err.redirect_uri, err.error, err.description or "", params.get("state")
            )
        return _error_page(f"{err.error}: {err.description}")
    state = params.get("state")
    client = grant.client

    prompt = set(params.get("prompt", "").split())
    if not prompt <= {"none", "login", "consent"} or ("none" in prompt and len(prompt) > 1):
        return _error_redirect(redirect_uri, "invalid_request", "invalid prompt", state)
    max_age: int | None = None
    if "max_age" in params:
        try:
            max_age = int(params["max_age"])
            if max_age < 0:
                raise ValueError
        except ValueError:
            return _error_redirect(redirect_uri, "invalid_request", "invalid max_age", state)
    nonce = params.get("nonce")
    if nonce is not None and (not nonce or len(nonce) > 255):
        return _error_redirect(redirect_uri, "invalid_request", "invalid nonce", state)
    claims_request = None
    if "claims" in params:
        try:
            claims_request = json.loads(params["claims"])
            if not isinstance(claims_request, dict):
                raise ValueError
        except ValueError:
            return _error_redirect(
                redirect_uri, "invalid_request", "claims must be a JSON object", state
            )
    wanted_acr = "loa1"
    for value in params.get("acr_values", "").split():
        if value in ACR_ORDER and ACR_ORDER[value] > ACR_ORDER[wanted_acr]:
            wanted_acr = value
    hint_sub = None
    if params.get("id_token_hint"):
        try:
            hint = idp.tokens.validate_id_token_hint(params["id_token_hint"])
            hint_sub = hint.get("sub")
        except TokenError:
            return _error_redirect(redirect_uri, "invalid_request", "invalid id_token_hint", state)

    hub = signed_in if signed_in is not None else _current_session()
    now = idp.clock()
    need_login = hub is None
    if hub is not None:
        # Fresh: the user signed in after this request arrived (while it waited).
        fresh = hub.auth_time.timestamp() >= started
        if "login" in prompt and not fresh:
            need_login = True
        if max_age is not None and not fresh and (now - hub.auth_time).total_seconds() > max_age:
            need_login = True  # a sign-in for this very request satisfies any max_age
        if ACR_ORDER.get(hub.acr, 0) < ACR_ORDER[wanted_acr] and not fresh:
            need_login = True  # step-up
        if hint_sub is not None and hint_sub != idp.subject_for(hub.account_id, client):
            if fresh:  # signed in again, still someone else: asking again would loop
                return _error_redirect(
                    redirect_uri, "login_required", "the user is not the id_token_hint's", state
                )
            need_login = True
    if need_login:
        if "none" in prompt:
            return _error_redirect(redirect_uri, "login_required", "login required", state)
        req_id = resume or _pending_save(params)
        if resume is None:
            entry = _pending_get(req_id)
            assert entry is not None
        return redirect(url_for("idp.login", req=req_id, lang=_ui_lang(params)), code=302)

    scopes = (grant.request.scope or "").split()
    if not client.first_party or "identity" in scopes or "consent" in prompt:
        if "consent" in prompt or not idp.has_consent(hub.account_id, client.client_id, scopes):
            if "none" in prompt:
                return _error_redirect(redirect_uri, "consent_required", "consent required", state)
            req_id = resume or _pending_save(params)
            if not session.get("consented", {}).get(req_id):
                return redirect(url_for("idp.consent", req=req_id, lang=_ui_lang(params)), code=302)

    user = GrantUser(hub.account_id, hub.sid, hub.auth_time, hub.acr, hub.amr, claims_request)
    # Nonce, code, session bookkeeping and event: one transaction, one commit.
    with idp.db.unit():
        if nonce and not idp.remember_nonce(client.client_id, nonce):
            return _error_redirect(redirect_uri, "invalid_request", "nonce already used", state)
        response = idp.authlib.create_authorization_response(oreq, grant_user=user, grant=grant)
        idp.sessions.record_client(hub.sid, client.client_id)
        idp.event(
            "authorized", account_id=hub.account_id, client_id=client.client_id, ip=_client_ip()
        )
    location = response.headers.get("Location")
    if location:
        response.headers["Location"] = _with_params(location, {"iss": idp.issuer})
    if resume:
        _pending_drop(resume)
        consented = dict(session.get("consented", {}))
        consented.pop(resume, None)
        session["consented"] = consented
    return response  # type: ignore[no-any-return]


def _ui_lang(params: dict[str, str]) -> str:
    locales = params.get("ui_locales", "").split()
    for loc in locales:
        if loc.lower().startswith("en"):
            return "en"
        if loc.lower().startswith("zh"):
            return "zh"
    return request.args.get("lang") or request.cookies.get("lang") or "zh"


def _authenticated_client(endpoint: str) -> Any:
    """The client authenticated by this request (client_secret_basic or
    private_key_jwt, exactly one method), or a 401 JSON error response."""
    idp = _idp()
    try:
        idp.server_check_client_auth(request)
        return idp.authlib.authenticate_client(
            idp.authlib.create_oauth2_request(request),
            ["client_secret_basic", "private_key_jwt"],
            endpoint=endpoint,
        )
    except OAuth2Error as err:
        return _json_error(err.error, err.description or "", 401)


@bp.post("/idp/par")
def par() -> WResponse:
    """RFC 9126: the client pushes its authorization request first."""
    idp = _idp()
    client = _authenticated_client("par")
    if isinstance(client, WResponse):
        return client
    params = {
        k: v
        for k, v in request.form.items()
        if k not in ("client_assertion", "client_assertion_type", "client_secret")
    }
    if "request_uri" in params or "request" in params:
        return _json_error("invalid_request", "request_uri and request are not allowed here", 400)
    if params.get("client_id", client.client_id) != client.client_id:
        return _json_error("invalid_request", "client_id mismatch", 400)
    params["client_id"] = client.client_id
    try:
        grant = idp.authlib.get_consent_grant(_ParamsRequest(params, request.url), end_user=None)
        grant.validate_authorization_request()
    except OAuth2Error as err:
        return _json_error(err.error, err.description or "", 400)
    request_uri = idp.save_par(client.client_id, params, PAR_LIFETIME)
    response = jsonify(
        {"request_uri": request_uri, "expires_in": int(PAR_LIFETIME.total_seconds())}
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------- login


@bp.route("/idp/login", methods=["GET", "POST"])
def login() -> Any:
    idp = _idp()
    req_id = request.args.get("req", "")
    entry = _pending_get(req_id)
    if entry is None:
        return _error_page(
            "登录请求已过期，请返回原网站重新登录 / The sign-in request has expired."
        )
    client = (
        idp.clients.get(entry["p"].get("client_id", "")) if entry["p"].get("client_id") else None
    )
    error = None
    if request.method == "POST":
        check_csrf()
        wanted = max(
            (ACR_ORDER.get(v, 0) for v in entry["p"].get("acr_values", "").split()), default=1
        )
        previous = _current_session()
        started: list[str] = []

        def start_session(account: AccountView) -> None:
            """Password alone is enough: the hub session and its event commit with
            the sign-in event, in one transaction."""
            if account.has_totp and wanted >= 2:
                return  # step-up: the second factor comes first
            if previous is not None and previous.account_id != account.id:
                return  # someone else's session is ended first, outside (_finish_login)
            replaces = previous.sid if previous is not None else None
            started.append(_start_session(account.id, "loa1", ["pwd"], replaces))

        result = idp.accounts.authenticate(
            request.form.get("username", ""),
            request.form.get("password", ""),
            ip=_client_ip(),
            on_success=start_session,
        )
        if started and result.ok:
            return _login_response(req_id, started[0])
        if result.ok and result.account is not None:
            if result.second_factor_required or (wanted >= 2 and result.account.has_totp):
                session["mfa"] = {
                    "account": result.account.id,
                    "req": req_id,
                    "t": idp.clock().timestamp(),
                }
                return redirect(url_for("idp.second_factor", req=req_id), code=303)
            return _finish_login(result.account.id, "loa1", ["pwd"], req_id)
        error = "login.failed"
    hint = entry["p"].get("login_hint", "")
    return render_template(
        "idp/login.html",
        client=client,
        req=req_id,
        error=error,
        login_hint=hint,
        csrf_token=csrf_token,
    )


def _finish_login(account_id: str, acr: str, amr: list[str], req_id: str) -> WResponse:
    idp = _idp()
    previous = _current_session()
    replaces = previous.sid if previous is not None and previous.account_id == account_id else None
    if previous is not None and replaces is None:
        idp.logout_session(previous.sid)  # someone else was signed in on this browser
    with idp.db.unit():  # the session and its event: one commit
        cookie = _start_session(account_id, acr, amr, replaces)
    return _login_response(req_id, cookie)


def _start_session(account_id: str, acr: str, amr: list[str], replaces: str | None) -> str:
    """Create (or, with ``replaces``, renew) the hub session and record the login;
    returns the cookie value. Joins the caller's unit of work."""
    idp = _idp()
    cookie: str
    _view, cookie = idp.sessions.create(
        account_id,
        acr=acr,
        amr=amr,
        user_agent=request.headers.get("User-Agent", ""),
        ip=_client_ip(),
        replaces=replaces,
    )
    idp.event("login", account_id=account_id, ip=_client_ip(), detail={"acr": acr, "amr": amr})
    return cookie


def _login_response(req_id: str, cookie: str) -> WResponse:
    """After a sign-in: a new Flask session (no fixation) keeping only the pending
    requests, the session cookie, and the authorization request continued at once
    (its redirect to the client, or to the consent page), or the account page.

    Continuing here rather than redirecting the browser to ``/idp/authorize?resume=``
    saves a round trip per sign-in (what Keycloak does too); the request runs the
    same checks (:func:`_authorize`) with the session just created."""
    pending = session.get("authz", {})
    session.clear()
    session["authz"] = pending
    entry = _pending_get(req_id)
    if entry is not None and entry["p"].get("_account"):
        _pending_drop(req_id)
        response = redirect(url_for("idp.account"), code=303)
    else:
        signed_in = _idp().sessions.lookup(cookie)
        if signed_in is None:  # pragma: no cover - created in this very request
            response = redirect(url_for("idp.authorize", resume=req_id), code=303)
        else:
            response = _authorize(req_id, signed_in)
            if response.status_code == 302:
                response.status_code = 303  # answering a POST: the browser follows with GET
    _set_session_cookie(response, cookie)
    return response


@bp.route("/idp/login/2fa", methods=["GET", "POST"])
def second_factor() -> Any:
    idp = _idp()
    req_id = request.args.get("req", "")
    mfa = session.get("mfa")
    if (
        _pending_get(req_id) is None
        or not mfa
        or mfa.get("req") != req_id
        or mfa.get("t", 0) < idp.clock().timestamp() - 300
    ):
        return _error_page("登录请求已过期，请重新登录 / The sign-in request has expired.")
    error = None
    if request.method == "POST":
        check_csrf()
        if idp.accounts.verify_second_factor(
            mfa["account"], request.form.get("code", "").strip(), ip=_client_ip()
        ):
            session.pop("mfa", None)
            return _finish_login(mfa["account"], "loa2", ["pwd", "otp"], req_id)
        error = "mfa.failed"
    return render_template("idp/second_factor.html", req=req_id, error=error, csrf_token=csrf_token)


@bp.route("/idp/consent", methods=["GET", "POST"])
def consent() -> Any:
    idp = _idp()
    req_id = request.args.get("req", "")
    entry = _pending_get(req_id)
    hub = _current_session()
    if entry is None or hub is None:
        return _error_page("授权请求已过期 / The request has expired.")
    params = entry["p"]
    client = idp.clients.get(params.get("client_id", ""))
    if client is None:
        return _error_page("unknown client")
    scopes = [s for s in client.get_allowed_scope(params.get("scope", "")).split()]
    if request.method == "POST":
        check_csrf()
        if request.form.get("decision") != "allow":
            _pending_drop(req_id)
            redirect_uri = params.get("redirect_uri", "")
            if not client.check_redirect_uri(redirect_uri):
                return _error_page("invalid redirect_uri")
            idp.event("consent_denied", account_id=hub.account_id, client_id=client.client_id)
            return _error_redirect(
                redirect_uri, "access_denied", "the user denied the request", params.get("state")
            )
        idp.save_consent(hub.account_id, client.client_id, scopes)
        consented = dict(session.get("consented", {}))
        consented[req_id] = True
        session["consented"] = consented
        return redirect(url_for("idp.authorize", resume=req_id), code=303)
    return render_template(
        "idp/consent.html", client=client, scopes=scopes, req=req_id, csrf_token=csrf_token
    )


# ----------------------------------------------------------------------------- token endpoints


def _json_error(error: str, description: str, status: int) -> WResponse:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="govtrust"'
    return response


@bp.post("/idp/token")
def token() -> WResponse:
    idp = _idp()
    try:
        idp.server_check_client_auth(request)
    except OAuth2Error as err:
        return _json_error(err.error, err.description or "", 401)
    if any(len(values) > 1 for values in request.form.listvalues()):
        return _json_error("invalid_request", "a parameter is repeated (RFC 6749 §3.2)", 400)
    if request.form.get("grant_type") == "client_credentials":
        return _client_credentials()
    if request.form.get("grant_type") == "authorization_code":
        # Code consumption and the grant it becomes: one transaction. A concurrent
        # second redemption waits for it, then finds the code spent and linked, and
        # revokes the grant (RFC 6749 §4.1.2). (Refresh keeps short transactions:
        # its reuse detection revokes across rows that concurrent losers also lock.)
        with idp.db.unit():
            response = idp.authlib.create_token_response()
    else:
        response = idp.authlib.create_token_response()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response  # type: ignore[no-any-return]


def _client_credentials() -> WResponse:
    """The agencies' machine-token request, the hottest path of the hub: the same
    client authentication as every endpoint (Authlib's, exactly one method), the
    grant-type and scope checks of Authlib's ClientCredentialsGrant, and the same
    token — without building Authlib's grant objects for each request."""
    client = _authenticated_client("token")
    if isinstance(client, WResponse):
        return client
    if not client.check_grant_type("client_credentials"):
        return _json_error("unauthorized_client", "the client may not use client_credentials", 400)
    try:
        body = _idp().server.issue_machine(client, machine_scope(client, request.form.get("scope")))
    except OAuth2Error as err:
        return _json_error(err.error, err.description or "", 400)
    response = WResponse(json.dumps(body), status=200, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _bearer() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    if request.method == "POST" and request.form.get("access_token"):
        return request.form["access_token"]
    return None


@bp.route("/idp/userinfo", methods=["GET", "POST"])
def userinfo() -> WResponse:
    idp = _idp()
    token = _bearer()
    if not token:
        return _bearer_error("invalid_request", "bearer token required", 401)
    try:
        claims = idp.tokens.validate_access_token(token, required_scopes=("openid",))
    except TokenError as exc:
        code = "insufficient_scope" if exc.code == "insufficient_scope" else "invalid_token"
        return _bearer_error(code, exc.message, 403 if code == "insufficient_scope" else 401)
    if not idp.access_token_active(claims.jti):
        return _bearer_error("invalid_token", "token revoked", 401)
    body = idp.userinfo(claims)
    if body is None:
        return _bearer_error("invalid_token", "no such user", 401)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bearer_error(error: str, description: str, status: int) -> WResponse:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


@bp.post("/idp/introspect")
def introspect() -> WResponse:
    """RFC 7662 for resource servers (any authenticated client)."""
    idp = _idp()
    client = _authenticated_client("introspection")
    if isinstance(client, WResponse):
        return client
    response = jsonify(idp.introspect(request.form.get("token", ""), client))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/idp/revoke")
def revoke() -> WResponse:
    """RFC 7009: revoking a refresh token ends its grant; an access token, itself."""
    idp = _idp()
    client = _authenticated_client("revocation")
    if isinstance(client, WResponse):
        return client
    idp.revoke_token(request.form.get("token", ""), client)
    return Response(status=200)


# ----------------------------------------------------------------------------- logout


@bp.route("/idp/logout", methods=["GET", "POST"])
def logout() -> Any:
    """OpenID Connect RP-Initiated Logout 1.0 with a confirmation page."""
    idp = _idp()
    source = request.form if request.method == "POST" else request.args
    hint = source.get("id_token_hint")
    client_id = source.get("client_id")
    if hint:
        try:
            claims = idp.tokens.validate_id_token_hint(hint)
        except TokenError:
            return _error_page("invalid id_token_hint")
        aud = claims.get("aud")
        if client_id and client_id != aud:
            return _error_page("client_id does not match id_token_hint")
        client_id = aud if isinstance(aud, str) else client_id
    post_logout = source.get("post_logout_redirect_uri")
    client = idp.clients.get(client_id) if client_id else None
    if post_logout and (client is None or post_logout not in client.post_logout_redirect_uris):
        return _error_page("post_logout_redirect_uri is not registered for this client")
    hub = _current_session()
    if request.method == "POST" and request.form.get("confirm") == "yes":
        check_csrf()
        if hub is not None:
            idp.logout_session(hub.sid)
            idp.event("logout", account_id=hub.account_id, client_id=client_id, ip=_client_ip())
        session.clear()
        if post_logout:
            target = post_logout
            if source.get("state"):
                target = _with_params(post_logout, {"state": source["state"]})
            response = redirect(target, code=303)
        else:
            response = make_response(render_template("idp/logged_out.html"))
        from .sessions import COOKIE_NAME

        response.delete_cookie(COOKIE_NAME, path="/")
        return response
    return render_template(
        "idp/logout.html",
        client=client,
        signed_in=hub is not None,
        params={
            k: v
            for k, v in source.items()
            if k in ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")
        },
        csrf_token=csrf_token,
    )


# ----------------------------------------------------------------------------- account page


@bp.get("/idp/account")
def account() -> Any:
    idp = _idp()
    hub = _current_session()
    if hub is None:
        return redirect(url_for("idp.account_login"), code=302)
    acct = idp.accounts.get(hub.account_id)
    return render_template(
        "idp/account.html",
        account=acct,
        current=hub,
        sessions=idp.sessions.for_account(hub.account_id),
        consents=idp.consents(hub.account_id),
        events=idp.accounts.events(hub.account_id, limit=20),
        clients={c.client_id: c for c in idp.clients.list()},
        csrf_token=csrf_token,
    )


@bp.get("/idp/account/login")
def account_login() -> WResponse:
    """Sign in at the hub itself to manage the account (no relying party involved)."""
    req_id = _pending_save({"_account": "1"})
    return redirect(url_for("idp.login", req=req_id), code=302)


@bp.post("/idp/account/consents/<int:consent_id>/revoke")
def revoke_consent(consent_id: int) -> WResponse:
    check_csrf()
    idp = _idp()
    hub = _current_session()
    if hub is None:
        abort(401)
    idp.revoke_consent(hub.account_id, consent_id)
    return redirect(url_for("idp.account"), code=303)


@bp.post("/idp/account/sessions/<sid>/end")
def end_session(sid: str) -> WResponse:
    check_csrf()
    idp = _idp()
    hub = _current_session()
    if hub is None:
        abort(401)
    if any(s.sid == sid for s in idp.sessions.for_account(hub.account_id)):
        idp.logout_session(sid)
    return redirect(url_for("idp.account"), code=303)
