"""The demo regional portals as OpenID Connect relying parties of the hub.

The hub and both portals run in one app served on a free port (the portals reach
the hub's discovery, JWKS, token and userinfo endpoints over real HTTP, and the hub
POSTs back-channel logout tokens to the portals the same way). The browser side is
Flask's test client: sign-in, single sign-on at the second portal, RP-initiated
logout, and the back-channel logout endpoint with valid and bad logout tokens.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from govtrust.app import create_app
from govtrust.config import Config
from govtrust.demo import DEMO_CITIZEN, DEMO_CITIZEN_NAME, DEMO_CITIZEN_PASSWORD, seed_demo
from govtrust.hub import Hub
from govtrust.portals import (
    BACKCHANNEL_EVENT,
    PORTALS,
    PortalLogout,
    PortalTokenError,
    portal_secret,
    portal_uris,
    validate_id_token,
)
from keys import KeyPurpose
from trust import b64url, b64url_decode, generate_private_key
from trust.identifiers import seed_participants
from trust.jws import sign_compact


@dataclass
class World:
    url: str
    app: Flask
    hub: Hub

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    holder: dict[str, Callable[..., Any]] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    data_dir = tmp_path_factory.mktemp("portals") / "instance"
    config = Config(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'govtrust.db'}",
        master_key=secrets.token_hex(32),
        base_url=url,
        testing=True,
    )
    hub = Hub(config)
    hub.migrate()
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    app = create_app(config, hub=hub)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield World(url=url, app=app, hub=hub)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        hub.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.app.test_client()


# ----------------------------------------------------------------------------- helpers


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def follow(c: FlaskClient, url: str, *, hops: int = 10) -> tuple[Any, str]:
    """GET ``url`` and follow redirects; returns (final response, its URL)."""
    response = c.get(url)
    for _ in range(hops):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response, url
        url = urljoin(url, response.headers["Location"])
        response = c.get(url)
    raise AssertionError("too many redirects")


def sign_in(world: World, c: FlaskClient, portal: str = "zj") -> Any:
    """The whole first sign-in: portal → hub login page → password → back at the portal."""
    page, at = follow(c, world(f"/portal/{portal}/login"))
    assert urlsplit(at).path == "/idp/login", at
    html = page.get_data(as_text=True)
    assert "统一身份认证登录" in html
    answer = c.post(
        at,
        data={
            "csrf_token": csrf_of(html),
            "username": DEMO_CITIZEN,
            "password": DEMO_CITIZEN_PASSWORD,
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    page, at = follow(c, urljoin(at, answer.headers["Location"]))
    assert at == world(f"/portal/{portal}/"), at
    return page


def portal_page(world: World, c: FlaskClient, portal: str) -> str:
    response = c.get(world(f"/portal/{portal}/"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def signed_in(html: str) -> bool:
    return 'data-signed-in="yes"' in html


def shown(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, element_id
    return match.group(1)


def sid_on(html: str) -> str:
    match = re.search(r"<th>统一身份认证会话（sid）</th><td><code>([^<]+)</code>", html)
    assert match
    return match.group(1)


def logout_token(
    world: World,
    *,
    portal: str = "zj",
    alg: str | None = None,
    typ: str = "logout+jwt",
    drop: tuple[str, ...] = (),
    **changes: Any,
) -> tuple[str, str]:
    """A logout token signed with the hub's ID-token key; returns (token, sid)."""
    spec = PORTALS[portal]
    now = int(time.time())
    sid = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": world.url,
        "aud": spec.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(12),
        "sid": sid,
        "sub": "some-pairwise-subject",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update(changes)
    for name in drop:
        claims.pop(name, None)
    signer = world.hub.keys.signer(KeyPurpose.ID_TOKEN, algorithm=alg or spec.id_token_alg)
    token = sign_compact(json.dumps(claims).encode(), signer, {"typ": typ})
    return token, sid


def ended(world: World, portal: str, sid: str) -> bool:
    with world.hub.db.session() as s:
        return s.get(PortalLogout, (portal, sid)) is not None


# ----------------------------------------------------------------------------- demo clients


def test_seed_demo_registers_both_portals_idempotently(world: World) -> None:
    again = seed_demo(world.hub)
    assert again["portal_clients"] == {"zj-portal": "unchanged", "gd-portal": "unchanged"}
    for key, alg in (("zj", "RS256"), ("gd", "ES256")):
        spec = PORTALS[key]
        c = world.hub.idp.clients.get(spec.client_id)
        assert c is not None
        uris = portal_uris(world.url, key)
        assert c.redirect_uris == (uris["redirect_uri"],)
        assert c.post_logout_redirect_uris == (uris["post_logout_redirect_uri"],)
        assert c.backchannel_logout_uri == uris["backchannel_logout_uri"]
        assert (c.id_token_signed_response_alg, c.subject_type, c.sector) == (alg, "pairwise", key)
        assert c.participant_id == key and c.token_endpoint_auth_method == "client_secret_basic"
        # The portal computes the secret from the master key; the hub stores only a digest.
        assert c.check_client_secret(portal_secret(world.hub.master_key, key))
    assert world.hub.idp.accounts.by_username(DEMO_CITIZEN) is not None


# ----------------------------------------------------------------------------- pages and SSO


def test_signed_out_portal_page_in_chinese_and_english(world: World, client: FlaskClient) -> None:
    html = portal_page(world, client, "zj")
    assert "<h1>浙江政务服务网</h1>" in html
    assert not signed_in(html)
    assert shown(html, "portal-login") == "登录"
    assert 'href="/portal/gd/"' in html and "前往广东政务服务网" in html
    assert 'href="/idp/account"' in html
    english = client.get(world("/portal/gd/?lang=en")).get_data(as_text=True)
    assert "<h1>Guangdong Government Service Network</h1>" in english
    assert shown(english, "portal-login") == "Sign in"


def test_unknown_portal_is_404(world: World, client: FlaskClient) -> None:
    assert client.get(world("/portal/xx/")).status_code == 404
    assert client.post(world("/portal/xx/backchannel-logout")).status_code == 404


def test_login_redirect_is_a_pkce_s256_oidc_request(world: World, client: FlaskClient) -> None:
    response = client.get(world("/portal/gd/login"))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(world("/idp/authorize?"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["client_id"] == "gd-portal"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == world("/portal/gd/callback")
    assert set(query["scope"].split()) == {"openid", "profile"}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]
    # The state lives in the portal's own cookie, scoped to the portal's path.
    cookie = client.get_cookie("gt_portal_gd", domain="127.0.0.1", path="/portal/gd/")
    assert cookie is not None and cookie.http_only


def test_sign_in_then_single_sign_on_then_single_logout(world: World, client: FlaskClient) -> None:
    page = sign_in(world, client, "zj")
    zj = page.get_data(as_text=True)
    assert signed_in(zj)
    assert shown(zj, "portal-user") == f"您好，{DEMO_CITIZEN_NAME}"
    sid = sid_on(zj)

    # 广东: no password prompt — the hub session signs the citizen in straight away.
    response = client.get(world("/portal/gd/login"))
    authorize = response.headers["Location"]
    response = client.get(authorize)
    assert response.status_code == 302
    callback = response.headers["Location"]
    assert callback.startswith(world("/portal/gd/callback?")), callback
    assert parse_qs(urlsplit(callback).query)["iss"] == [world.url]  # RFC 9207
    page, at = follow(client, callback)
    gd = page.get_data(as_text=True)
    assert at == world("/portal/gd/") and signed_in(gd)
    assert shown(gd, "portal-user") == f"您好，{DEMO_CITIZEN_NAME}"
    assert sid_on(gd) == sid  # the same hub session …
    assert shown(gd, "portal-sub") != shown(zj, "portal-sub")  # … pairwise subjects differ

    # 退出 at 广东: RP-initiated logout at the hub, with id_token_hint.
    response = client.post(world("/portal/gd/logout"), data={"csrf_token": csrf_of(gd)})
    assert response.status_code == 303
    hub_logout = response.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(hub_logout).query).items()}
    assert hub_logout.startswith(world("/idp/logout?"))
    assert query["post_logout_redirect_uri"] == world("/portal/gd/")
    assert query["id_token_hint"].count(".") == 2 and query["state"]
    confirm = client.get(hub_logout).get_data(as_text=True)
    assert "确认退出" in confirm
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm))
    response = client.post(world("/idp/logout"), data={**form, "confirm": "yes"})
    assert response.status_code == 303
    back = response.headers["Location"]
    assert back.startswith(world("/portal/gd/?state="))
    gd = client.get(back).get_data(as_text=True)
    assert not signed_in(gd)
    assert shown(gd, "portal-notice") == "您已退出。"

    # The hub told both portals (back-channel, off the request); 浙江 ends its session
    # at the next view.
    assert world.hub.idp.logout_sender.drain(10)
    deliveries = {d.client_id: d.status for d in world.hub.idp.deliveries(sid)}
    assert deliveries == {"zj-portal": "delivered", "gd-portal": "delivered"}
    assert ended(world, "zj", sid) and ended(world, "gd", sid)
    zj = portal_page(world, client, "zj")
    assert not signed_in(zj)
    assert shown(zj, "portal-notice") == "您已在其他平台退出，本平台的登录已同时结束。"
    assert not signed_in(portal_page(world, client, "zj"))  # and it stays that way


def test_portal_session_ends_after_back_channel_logout(world: World, client: FlaskClient) -> None:
    html = sign_in(world, client, "zj").get_data(as_text=True)
    sid = sid_on(html)
    assert signed_in(portal_page(world, client, "zj"))
    token, _ = logout_token(world, sid=sid)
    response = world.app.test_client().post(
        world("/portal/zj/backchannel-logout"), data={"logout_token": token}
    )
    assert response.status_code == 200
    assert not signed_in(portal_page(world, client, "zj"))


def test_silent_check_with_prompt_none(world: World, client: FlaskClient) -> None:
    page, at = follow(client, world("/portal/gd/login?silent=1"))
    html = page.get_data(as_text=True)
    assert at == world("/portal/gd/") and not signed_in(html)
    assert "统一身份认证平台上没有您的登录会话" in shown(html, "portal-notice")
    sign_in(world, client, "zj")
    page, at = follow(client, world("/portal/gd/login?silent=1"))
    assert signed_in(page.get_data(as_text=True))


def test_callback_refuses_unknown_state_and_wrong_iss(world: World, client: FlaskClient) -> None:
    page, _ = follow(client, world("/portal/zj/callback?code=x&state=forged"))
    assert "登录请求已过期" in shown(page.get_data(as_text=True), "portal-notice")
    # A response that claims to come from another issuer (mix-up) is refused.
    authorize = client.get(world("/portal/zj/login")).headers["Location"]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    page, _ = follow(
        client, world(f"/portal/zj/callback?code=x&state={state}&iss=https%3A%2F%2Fevil.example")
    )
    html = page.get_data(as_text=True)
    assert not signed_in(html)
    assert "iss in the authorization response does not match" in shown(html, "portal-notice")


def test_logout_needs_the_portal_csrf_token(world: World, client: FlaskClient) -> None:
    sign_in(world, client, "zj")
    assert client.post(world("/portal/zj/logout"), data={}).status_code == 400
    assert client.post(world("/portal/zj/logout"), data={"csrf_token": "x"}).status_code == 400
    assert signed_in(portal_page(world, client, "zj"))


# ----------------------------------------------------------------------------- back-channel endpoint


def post_logout(world: World, portal: str, data: dict[str, Any]) -> Any:
    return world.app.test_client().post(world(f"/portal/{portal}/backchannel-logout"), data=data)


@pytest.mark.parametrize(("portal", "alg"), [("zj", "RS256"), ("gd", "ES256")])
def test_back_channel_accepts_the_hubs_logout_token(world: World, portal: str, alg: str) -> None:
    sid = secrets.token_urlsafe(16)
    token = world.hub.idp.tokens.logout_token(
        alg=alg, sub="s", sid=sid, client_id=PORTALS[portal].client_id
    )
    response = post_logout(world, portal, {"logout_token": token})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert ended(world, portal, sid)
    # Delivered twice (a retry after a lost answer): still fine.
    assert post_logout(world, portal, {"logout_token": token}).status_code == 200


def _tampered(world: World) -> tuple[str, str]:
    token, sid = logout_token(world)
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["sid"] = sid = secrets.token_urlsafe(16)
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}", sid


def _foreign_key(world: World) -> tuple[str, str]:
    """Same kid as the hub's key, signed by someone else's key."""
    real, _ = logout_token(world)
    kid = json.loads(b64url_decode(real.split(".")[0]))["kid"]
    key = generate_private_key("rsa", rsa_bits=2048)
    signer = key.signer("RS256", key_id=kid)
    now = int(time.time())
    sid = secrets.token_urlsafe(16)
    claims = {
        "iss": world.url,
        "aud": "zj-portal",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    return sign_compact(json.dumps(claims).encode(), signer, {"typ": "logout+jwt"}), sid


BAD_TOKENS: dict[str, tuple[Callable[[World], tuple[str, str]], str]] = {
    "tampered": (_tampered, "bad signature or unknown key"),
    "signed by another key": (_foreign_key, "bad signature or unknown key"),
    "wrong aud": (lambda w: logout_token(w, aud="gd-portal"), "wrong audience"),
    "aud list without the portal": (
        lambda w: logout_token(w, aud=["gd-portal", "other"]),
        "wrong audience",
    ),
    "wrong iss": (lambda w: logout_token(w, iss="https://evil.example"), "wrong issuer"),
    "with nonce": (
        lambda w: logout_token(w, nonce="n-123"),
        "a logout token must not contain a nonce",
    ),
    "missing events": (
        lambda w: logout_token(w, drop=("events",)),
        "events must contain the back-channel logout event",
    ),
    "events without the logout event": (
        lambda w: logout_token(w, events={"http://schemas.openid.net/event/other": {}}),
        "events must contain the back-channel logout event",
    ),
    "event member not an object": (
        lambda w: logout_token(w, events={BACKCHANNEL_EVENT: "yes"}),
        "events must contain the back-channel logout event",
    ),
    "expired": (
        lambda w: logout_token(w, iat=int(time.time()) - 600, exp=int(time.time()) - 300),
        "token expired",
    ),
    "issued in the future": (
        lambda w: logout_token(w, iat=int(time.time()) + 600, exp=int(time.time()) + 900),
        "token issued in the future",
    ),
    "missing exp": (lambda w: logout_token(w, drop=("exp",)), "exp is required"),
    "missing sid": (lambda w: logout_token(w, drop=("sid",)), "sid is required"),
    "missing jti": (lambda w: logout_token(w, drop=("jti",)), "jti is required"),
    "an ID token (typ JWT)": (
        lambda w: logout_token(w, typ="JWT"),
        "token type must be logout+jwt",
    ),
    "algorithm the portal did not register": (
        lambda w: logout_token(w, alg="ES256"),
        "algorithm 'ES256' not allowed",
    ),
    "SM2 (not registered)": (
        lambda w: logout_token(w, alg="SM2"),
        "algorithm 'SM2' not allowed",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_back_channel_refuses_bad_logout_tokens(world: World, case: str) -> None:
    make, reason = BAD_TOKENS[case]
    token, sid = make(world)
    response = post_logout(world, "zj", {"logout_token": token})
    assert response.status_code == 400, case
    assert response.json == {"error": "invalid_request", "error_description": reason}
    assert response.headers["Cache-Control"] == "no-store"
    assert not ended(world, "zj", sid)


def test_back_channel_refuses_missing_or_repeated_tokens(world: World) -> None:
    assert post_logout(world, "zj", {}).status_code == 400
    token, sid = logout_token(world)
    response = world.app.test_client().post(
        world("/portal/zj/backchannel-logout"),
        data={"logout_token": [token, token]},
    )
    assert response.status_code == 400
    assert not ended(world, "zj", sid)
    assert post_logout(world, "zj", {"logout_token": "not-a-jwt"}).status_code == 400
    # A GET is not the protocol.
    assert world.app.test_client().get(world("/portal/zj/backchannel-logout")).status_code == 405


# ----------------------------------------------------------------------------- ID token checks


def id_token(world: World, *, portal: str = "zj", alg: str | None = None, **changes: Any) -> str:
    spec = PORTALS[portal]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": world.url,
        "sub": "pairwise-sub",
        "aud": spec.client_id,
        "azp": spec.client_id,
        "iat": now,
        "exp": now + 600,
        "nonce": "the-nonce",
        "sid": "the-sid",
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    signer = world.hub.keys.signer(KeyPurpose.ID_TOKEN, algorithm=alg or spec.id_token_alg)
    return sign_compact(json.dumps(claims).encode(), signer, {"typ": "JWT"})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nonce": "another"}, "nonce mismatch"),
        ({"nonce": None}, "nonce mismatch"),
        ({"aud": "gd-portal", "azp": "gd-portal"}, "wrong audience"),
        ({"aud": ["zj-portal", "gd-portal"], "azp": "gd-portal"}, "wrong authorized party"),
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"exp": int(time.time()) - 120}, "token expired"),
        ({"sid": None}, "sid is required (back-channel logout)"),
        ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, "at_hash mismatch"),
        ({"alg": "ES256"}, "algorithm 'ES256' not allowed"),
    ],
)
def test_portal_validates_the_id_token(world: World, changes: dict[str, Any], reason: str) -> None:
    alg = changes.pop("alg", None)
    token = id_token(world, alg=alg, **changes)
    with world.app.test_request_context(world("/portal/zj/callback")):
        with pytest.raises(PortalTokenError) as err:
            validate_id_token(
                PORTALS["zj"], {"id_token": token, "access_token": "at"}, nonce="the-nonce"
            )
    assert err.value.reason == reason


def test_portal_accepts_a_good_id_token(world: World) -> None:
    with world.app.test_request_context(world("/portal/zj/callback")):
        claims = validate_id_token(
            PORTALS["zj"], {"id_token": id_token(world), "access_token": "at"}, nonce="the-nonce"
        )
    assert claims["sub"] == "pairwise-sub"
