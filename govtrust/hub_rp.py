"""The hub's own web applications as OpenID Connect relying parties of the hub.

The seal console (``/seal/``) and the license wallet (``/wallet/``) sign their
users in exactly like the demo portals: Authlib's Flask client registered on the
portals' OAuth registry (``client_secret_basic``, PKCE ``S256``, nonce), ``iss``
in the authorization response checked (RFC 9207), the ID token validated by the
portals' validator, userinfo's ``sub`` compared with the ID token's, RP-initiated
logout, and back-channel logout recorded as ended ``sid`` values. Each keeps its
state in its own signed cookie scoped to its path.

:class:`HubRelyingParty` is that shared machinery; a blueprint declares one and
routes its ``/login``, ``/callback``, ``/logout`` and ``/backchannel-logout``
to it. What differs between applications — who may use it and what it keeps of
the user — is the ``accept`` callback of :meth:`HubRelyingParty.callback`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, jsonify, make_response, redirect, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from keys import MasterKey

from .i18n import current_language
from .portals import (
    SESSION_LIFETIME,
    PortalLogout,
    PortalSpec,
    PortalTokenError,
    record_logout,
    validate_id_token,
    validate_logout_token,
)

__all__ = ["HubRelyingParty"]

log = logging.getLogger(__name__)

#: What ``accept`` returns: the user's extra session fields, or a notice code that
#: refuses the sign-in (e.g. ``"not_operator"``).
Acceptance = dict[str, Any] | str


@dataclass(frozen=True, slots=True)
class HubRelyingParty:
    """One hub application signed in through the hub (see the module docstring)."""

    spec: PortalSpec  #: client id and key (the portals' validators take it)
    name: str  #: for log lines, e.g. ``"wallet"``
    home_endpoint: str  #: where every sign-in step ends, e.g. ``"wallet.home"``
    cookie: str
    cookie_path: str
    salt: str  #: of the cookie's signature
    scope: str
    secret: Callable[[MasterKey], str]  #: the client secret, derived from the master key
    uris: Callable[[str], Mapping[str, str]]  #: redirect/post-logout URIs from the base URL
    lifetime: timedelta = SESSION_LIFETIME
    pending_lifetime: int = 15 * 60  #: seconds an authorization request stays valid
    http_timeout: int = 5

    # -- wiring -------------------------------------------------------------------

    def register(self, state: BlueprintSetupState) -> None:
        """Register the Authlib client next to the portals' (after ``init_portals``)."""
        app = state.app
        ext = app.extensions.get("govtrust.portals")
        if ext is None:
            raise RuntimeError(f"register the {self.name} after init_portals (shared OAuth)")
        ext["oauth"].register(
            self.spec.key,
            client_id=self.spec.client_id,
            client_secret=self.secret(app.extensions["govtrust"].master_key),
            server_metadata_url=f"{ext['base_url']}/.well-known/openid-configuration",
            client_kwargs={
                "scope": self.scope,
                "token_endpoint_auth_method": "client_secret_basic",
                "code_challenge_method": "S256",
                "default_timeout": self.http_timeout,
            },
        )

    def base_url(self) -> str:
        return str(current_app.extensions["govtrust.portals"]["base_url"])

    def client(self) -> Any:
        return current_app.extensions["govtrust.portals"]["oauth"].create_client(self.spec.key)

    def now(self) -> float:
        return float(current_app.extensions["govtrust"].clock().timestamp())

    # -- the cookie ---------------------------------------------------------------

    def serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.secret_key, salt=self.salt)  # type: ignore[arg-type]

    def load(self) -> dict[str, Any]:
        """The application's state from its cookie ({} if absent, expired or forged)."""
        raw = request.cookies.get(self.cookie)
        if not raw:
            return {}
        try:
            state = self.serializer().loads(raw, max_age=int(self.lifetime.total_seconds()))
        except BadSignature:
            return {}
        return state if isinstance(state, dict) else {}

    def save(self, response: Response, state: Mapping[str, Any]) -> Response:
        """Write ``state`` to the cookie (delete it when empty); returns ``response``."""
        secure = self.base_url().startswith("https://")
        if not state:
            response.delete_cookie(self.cookie, path=self.cookie_path, secure=secure, httponly=True)
            return response
        response.set_cookie(
            self.cookie,
            self.serializer().dumps(dict(state)),
            max_age=int(self.lifetime.total_seconds()),
            path=self.cookie_path,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
        return response

    def current_user(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """The signed-in user, unless the hub told us (back-channel) the session ended."""
        user = state.get("u")
        if not isinstance(user, dict) or not isinstance(user.get("sub"), str):
            return None
        with current_app.extensions["govtrust"].db.session() as s:
            ended = s.get(PortalLogout, (self.spec.key, str(user.get("sid", "")))) is not None
        if ended:
            state.pop("u", None)
            state.pop("csrf", None)
            state["notice"] = ["ended"]
            return None
        return user

    @staticmethod
    def csrf_ok(state: Mapping[str, Any], sent: str | None = None) -> bool:
        """The form's (or ``sent``) CSRF token equals the session's."""
        given = request.form.get("csrf_token", "") if sent is None else sent
        expected = state.get("csrf")
        return (
            isinstance(expected, str)
            and given.isascii()
            and hmac.compare_digest(given.encode(), expected.encode())
        )

    def _home(self, state: Mapping[str, Any]) -> Response:
        return self.save(redirect(url_for(self.home_endpoint), code=303), state)

    # -- the views ----------------------------------------------------------------

    def login(self) -> Response:
        """Start the authorization code flow (PKCE S256, nonce)."""
        state = self.load()
        try:
            rv = self.client().create_authorization_url(
                self.uris(self.base_url())["redirect_uri"],
                ui_locales="en" if current_language() == "en" else "zh-CN",
            )
        except (requests.RequestException, ValueError, RuntimeError) as exc:
            log.warning("%s: cannot reach the hub: %s", self.name, exc)
            state["notice"] = ["failed", "hub unreachable"]
            return self._home(state)
        now = self.now()
        pending = {
            k: v
            for k, v in (state.get("pending") or {}).items()
            if isinstance(v, dict) and v.get("t", 0) > now - self.pending_lifetime
        }
        while len(pending) >= 3:  # bound the cookie size
            pending.pop(next(iter(pending)))
        pending[rv["state"]] = {"v": rv["code_verifier"], "n": rv["nonce"], "t": now}
        state["pending"] = pending
        return self.save(redirect(rv["url"], code=302), state)

    def callback(
        self, accept: Callable[[Mapping[str, Any], Mapping[str, Any]], Acceptance]
    ) -> Response:
        """Finish the flow. ``accept(id_token_claims, userinfo)`` returns the extra
        fields to keep for the user, or a notice code that refuses the sign-in."""
        state = self.load()
        pending_all = dict(state.get("pending") or {})
        entry = pending_all.pop(request.args.get("state", ""), None)
        state["pending"] = pending_all
        if not pending_all:
            state.pop("pending", None)
        if not isinstance(entry, dict) or entry.get("t", 0) < self.now() - self.pending_lifetime:
            state["notice"] = ["expired"]
            return self._home(state)
        error = request.args.get("error")
        if error:
            state["notice"] = ["failed", error[:40]]
            return self._home(state)
        client = self.client()
        try:
            issuer = client.load_server_metadata().get("issuer")
            if request.args.get("iss") != issuer:  # RFC 9207 mix-up defence
                raise PortalTokenError("iss in the authorization response does not match")
            token = client.fetch_access_token(
                redirect_uri=self.uris(self.base_url())["redirect_uri"],
                code=request.args.get("code", ""),
                code_verifier=entry["v"],
            )
            claims = validate_id_token(self.spec, token, nonce=entry["n"])
            info = client.userinfo(token=token)
            if info.get("sub") != claims["sub"]:  # OIDC Core §5.3.2
                raise PortalTokenError("userinfo sub differs from the ID token")
        except PortalTokenError as exc:
            log.warning("%s: refused the sign-in: %s", self.name, exc.reason)
            state["notice"] = ["failed", exc.reason[:60]]
            return self._home(state)
        except (OAuthError, requests.RequestException, ValueError, KeyError, RuntimeError) as exc:
            log.warning("%s: token exchange failed: %s", self.name, exc)
            reason = getattr(exc, "error", None) or type(exc).__name__
            state["notice"] = ["failed", str(reason)[:60]]
            return self._home(state)
        accepted = accept(claims, info)
        if isinstance(accepted, str):
            state["notice"] = [accepted]
            return self._home(state)
        state["u"] = {
            "sub": claims["sub"],
            "sid": claims["sid"],
            "name": str(info.get("name") or ""),
            **accepted,
            "id_token": token["id_token"],
        }
        state["csrf"] = secrets.token_urlsafe(24)  # a new session, a new token
        state.pop("notice", None)
        return self._home(state)

    def logout(self, csrf_refused: Callable[[], str]) -> Response:
        """End this application's session, then ask the hub to end its own
        (RP-initiated logout). ``csrf_refused()`` is the 400 page's text."""
        state = self.load()
        if not self.csrf_ok(state):
            abort(400, description=csrf_refused())
        user = self.current_user(state)
        state.pop("u", None)
        state.pop("csrf", None)
        if user is None:
            return self._home(state)
        try:
            rv = self.client().create_logout_url(
                post_logout_redirect_uri=self.uris(self.base_url())["post_logout_redirect_uri"],
                id_token_hint=user["id_token"],
            )
        except (requests.RequestException, ValueError, RuntimeError) as exc:
            log.warning("%s: cannot reach the hub for logout: %s", self.name, exc)
            state["notice"] = ["logged_out"]
            return self._home(state)
        state["logout_state"] = rv["state"]
        return self.save(redirect(rv["url"], code=303), state)

    def backchannel_logout(self) -> Response:
        """OpenID Connect Back-Channel Logout 1.0 §2.6: remember the ended ``sid``."""
        tokens = request.form.getlist("logout_token")
        try:
            if len(tokens) != 1:
                raise PortalTokenError("exactly one logout_token is required")
            claims = validate_logout_token(self.spec, tokens[0])
        except PortalTokenError as exc:
            log.warning("%s: refused a logout token: %s", self.name, exc.reason)
            response = jsonify({"error": "invalid_request", "error_description": exc.reason})
            response.status_code = 400
            response.headers["Cache-Control"] = "no-store"
            return response
        record_logout(self.spec, claims["sid"])  # idempotent; tolerates the same token twice
        response = make_response("", 200)
        response.headers["Cache-Control"] = "no-store"
        return response
