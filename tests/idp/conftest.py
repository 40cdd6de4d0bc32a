"""A live identity provider for end-to-end OIDC tests (no Flask test client).

* ``live`` (module): the hub served by Werkzeug (threaded) on a free port of
  127.0.0.1, on SQLite, with the hub keys, one citizen and five clients:

  ==============  ======================  =====================================
  client          authenticates with      ID token / purpose
  ==============  ======================  =====================================
  ``rp-rs256``    client_secret_basic     RS256
  ``rp-es256``    client_secret_basic     ES256
  ``rp-sm2``      client_secret_basic     SM2
  ``rp-pkjwt``    private_key_jwt (ES256) RS256
  ``machine``     client_secret_basic     client_credentials (seal:sign, license:issue)
  ==============  ======================  =====================================

  Every client's ``backchannel_logout_uri`` points at a second Werkzeug server
  (the *relying-party side*) that records every POSTed logout token; it also
  answers the redirect and post-logout URIs, though tests stop at the redirect.
* ``live_db`` (module): the same on SQLite and, with ``TEST_DATABASE_URL``, on
  PostgreSQL — for the tests whose point is concurrency.
* :func:`authorize` drives the sign-in like a browser would (``requests``):
  GET /idp/authorize → login form (CSRF token) → second factor → consent →
  the redirect back to the client, which it does not follow.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
import sqlalchemy as sa
from argon2 import PasswordHasher
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from govtrust.app import create_app
from govtrust.config import Config
from govtrust.hub import Hub
from trust import PrivateKey, generate_private_key

USERNAME = "zhangsan"
PASSWORD = "Demo-Password-1"
CITIZEN_ID = "11010519491231002X"
SECRETS = {
    "rp-rs256": "rs256-" + "s" * 40,
    "rp-es256": "es256-" + "e" * 40,
    "rp-sm2": "sm2-" + "m" * 40,
    "machine": "machine-" + "k" * 40,
}
USER_SCOPES = ["openid", "profile", "phone", "identity", "offline_access"]
PKJWT_KID = "rp-pkjwt-key-1"
TIMEOUT = 15


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false; in CI (CI=true) fail instead."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def _postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema on TEST_DATABASE_URL, dropped afterwards."""
    schema = f"gt_{secrets.token_hex(6)}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """The helpers below (``h.authorize(live, ...)``) for the test modules. Test files
    cannot import a conftest by name, and ``sys.modules["conftest"]`` may be another
    directory's conftest when the whole suite runs, so hand over this file's globals."""
    return SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("__")})


# ----------------------------------------------------------------------------- servers


@dataclass
class Receiver:
    """The relying parties' side: records back-channel logout POSTs."""

    url: str
    logouts: list[tuple[str, str]] = field(default_factory=list)  # (client_id, logout_token)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = Request(environ)
        if req.method == "POST" and req.path.startswith("/bcl/"):
            with self.lock:
                self.logouts.append((req.path[5:], req.form.get("logout_token", "")))
            return Response("", status=200)(environ, start_response)
        return Response("relying party", status=200)(environ, start_response)

    def tokens_for(self, client_id: str) -> list[str]:
        with self.lock:
            return [t for c, t in self.logouts if c == client_id]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # errors are still logged
        pass


@contextmanager
def _serve(app: Callable[..., Any]) -> Iterator[tuple[str, Callable[[Any], None]]]:
    """Serve ``app`` (or whatever is set later through the setter) on a free port."""
    holder: dict[str, Any] = {"app": app}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="idp-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", lambda a: holder.__setitem__("app", a)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass
class Live:
    url: str
    hub: Hub
    receiver: Receiver
    kind: str  # sqlite | postgres
    pkjwt_key: PrivateKey
    account_id: str
    pkjwt_kid: str = PKJWT_KID

    @property
    def idp(self) -> Any:
        return self.hub.idp

    def __call__(self, path: str) -> str:
        return self.url + path

    def redirect_uri(self, client_id: str) -> str:
        return f"{self.receiver.url}/cb/{client_id}"

    def post_logout_uri(self, client_id: str) -> str:
        return f"{self.receiver.url}/bye/{client_id}"

    def basic(self, client_id: str) -> tuple[str, str]:
        return (client_id, SECRETS[client_id])


def _register_clients(hub: Hub, receiver: Receiver, pkjwt_key: PrivateKey) -> None:
    clients = hub.idp.clients
    for cid, alg in (("rp-rs256", "RS256"), ("rp-es256", "ES256"), ("rp-sm2", "SM2")):
        clients.add(
            client_id=cid,
            name=f"Platform {cid}",
            redirect_uris=[f"{receiver.url}/cb/{cid}"],
            post_logout_redirect_uris=[f"{receiver.url}/bye/{cid}"],
            backchannel_logout_uri=f"{receiver.url}/bcl/{cid}",
            secret=SECRETS[cid],
            scopes=USER_SCOPES,
            id_token_alg=alg,
        )
    jwk = pkjwt_key.public_key().jwk(kid=PKJWT_KID, alg="ES256", use="sig")
    clients.add(
        client_id="rp-pkjwt",
        name="Platform with private_key_jwt",
        redirect_uris=[f"{receiver.url}/cb/rp-pkjwt"],
        post_logout_redirect_uris=[f"{receiver.url}/bye/rp-pkjwt"],
        backchannel_logout_uri=f"{receiver.url}/bcl/rp-pkjwt",
        jwks={"keys": [jwk]},
        scopes=USER_SCOPES,
        id_token_alg="RS256",
    )
    clients.add(
        client_id="machine",
        name="Agency machine client",
        backchannel_logout_uri=f"{receiver.url}/bcl/machine",
        secret=SECRETS["machine"],
        scopes=["seal:sign", "license:issue"],
    )


@contextmanager
def _database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'govtrust.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    require(bool(base), "TEST_DATABASE_URL is not set (PostgreSQL tests)")
    assert base is not None
    with _postgres_schema(base) as url:
        yield url


@contextmanager
def live_hub(kind: str, tmp: Path) -> Iterator[Live]:
    receiver_holder: dict[str, Receiver] = {}
    with (
        _database(kind, tmp) as database_url,
        _serve(lambda e, s: receiver_holder["r"](e, s)) as (rp_url, _),
        _serve(lambda e, s: Response("starting", 503)(e, s)) as (url, set_app),
    ):
        receiver = Receiver(rp_url)
        receiver_holder["r"] = receiver
        config = Config(
            data_dir=tmp / "instance",
            database_url=database_url,
            master_key=secrets.token_hex(32),
            base_url=url,  # the issuer is the address clients really use
            testing=True,
        )
        hub = Hub(config)
        try:
            hub.migrate()
            hub.ensure_hub_keys()
            # Cheap argon2 parameters: the tests sign in often. The dummy hash for
            # unknown users is made with the same parameters (same work either way).
            accounts = hub.idp.accounts
            accounts.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            accounts._dummy_hash = accounts.hasher.hash(secrets.token_hex(16))
            account = accounts.create_citizen(
                username=USERNAME, password=PASSWORD, name="张三", id_number=CITIZEN_ID
            )
            pkjwt_key = generate_private_key("p256")
            _register_clients(hub, receiver, pkjwt_key)
            set_app(create_app(config, hub=hub))
            yield Live(url, hub, receiver, kind, pkjwt_key, account.id)
        finally:
            hub.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_hub("sqlite", tmp_path_factory.mktemp("idp-live")) as server:
        yield server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """The live hub on each database (SQLite reuses ``live``)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("live")
        return
    with live_hub("postgres", tmp_path_factory.mktemp("idp-live-pg")) as server:
        yield server


# ----------------------------------------------------------------------------- browser


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def form_of(response: requests.Response) -> tuple[str, str]:
    """(absolute form action, CSRF token) of an IdP page."""
    text = response.text
    action = _ACTION.search(text)
    token = _CSRF.search(text)
    assert action and token, f"no form on {response.url}: {text[:500]}"
    return urljoin(response.url, html.unescape(action.group(1))), token.group(1)


@dataclass
class Flow:
    """What one trip through the authorization endpoint did."""

    session: requests.Session
    steps: list[requests.Response] = field(default_factory=list)
    location: str | None = None  # the redirect back to the client
    final: requests.Response | None = None  # the last response (redirect or page)

    @property
    def params(self) -> dict[str, str]:
        assert self.location is not None, self.describe()
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}

    @property
    def code(self) -> str:
        params = self.params
        assert "code" in params, f"no code: {params}"
        return params["code"]

    def visited(self, path: str) -> bool:
        return any(urlsplit(r.url).path == path for r in self.steps)

    def describe(self) -> str:
        return " → ".join(f"{r.request.method} {r.url} {r.status_code}" for r in self.steps)


def drive(
    url: str,
    *,
    session: requests.Session | None = None,
    username: str = USERNAME,
    password: str = PASSWORD,
    totp_code: Callable[[], str] | None = None,
    consent: bool = True,
    max_steps: int = 12,
) -> Flow:
    """Follow ``url`` through login, second factor and consent like a browser,
    stopping at the first redirect that leaves the IdP (or at an error page)."""
    sess = session or requests.Session()
    flow = Flow(sess)
    idp_origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    response = sess.get(url, allow_redirects=False, timeout=TIMEOUT)
    for _ in range(max_steps):
        flow.steps.append(response)
        flow.final = response
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(idp_origin + "/"):
                flow.location = target
                return flow
            response = sess.get(target, allow_redirects=False, timeout=TIMEOUT)
            continue
        path = urlsplit(response.url).path
        if response.status_code != 200:
            return flow
        if path == "/idp/login":
            action, token = form_of(response)
            data = {"csrf_token": token, "username": username, "password": password}
            response = sess.post(action, data=data, allow_redirects=False, timeout=TIMEOUT)
        elif path == "/idp/login/2fa":
            assert totp_code is not None, "a second factor was asked for"
            action, token = form_of(response)
            data = {"csrf_token": token, "code": totp_code()}
            response = sess.post(action, data=data, allow_redirects=False, timeout=TIMEOUT)
        elif path == "/idp/consent" and consent:
            action, token = form_of(response)
            data = {"csrf_token": token, "decision": "allow"}
            response = sess.post(action, data=data, allow_redirects=False, timeout=TIMEOUT)
        else:
            return flow
    raise AssertionError(f"too many steps: {flow.describe()}")


def authorize_url(
    live: Live,
    client_id: str,
    *,
    challenge: str | None,
    scope: str = "openid profile offline_access",
    state: str | None = None,
    nonce: str | None = None,
    **extra: str,
) -> str:
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": live.redirect_uri(client_id),
        "scope": scope,
        "state": state or secrets.token_urlsafe(12),
        "nonce": nonce or secrets.token_urlsafe(12),
    }
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    params.update(extra)
    return live("/idp/authorize?" + urlencode(params))


@dataclass
class Authorized:
    flow: Flow
    code: str
    verifier: str
    state: str
    nonce: str
    client_id: str
    redirect_uri: str


def authorize(
    live: Live,
    client_id: str = "rp-rs256",
    *,
    scope: str = "openid profile offline_access",
    session: requests.Session | None = None,
    **extra: Any,
) -> Authorized:
    """A fresh PKCE S256 authorization; returns the code and what it was bound to."""
    verifier, challenge = pkce()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    drive_args = {k: extra.pop(k) for k in ("username", "password", "totp_code") if k in extra}
    url = authorize_url(
        live, client_id, challenge=challenge, scope=scope, state=state, nonce=nonce, **extra
    )
    flow = drive(url, session=session, **drive_args)
    params = flow.params
    assert params.get("state") == state and params.get("iss") == live.url, params
    return Authorized(
        flow, flow.code, verifier, state, nonce, client_id, live.redirect_uri(client_id)
    )


def redeem(live: Live, auth: Authorized, **overrides: Any) -> requests.Response:
    """Exchange the code at the token endpoint (client_secret_basic unless told)."""
    data = {
        "grant_type": "authorization_code",
        "code": auth.code,
        "redirect_uri": auth.redirect_uri,
        "code_verifier": auth.verifier,
    }
    auth_header = overrides.pop("client_auth", live.basic(auth.client_id))
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return requests.post(live("/idp/token"), data=data, auth=auth_header, timeout=TIMEOUT)


def tokens(live: Live, client_id: str = "rp-rs256", **kwargs: Any) -> dict[str, Any]:
    """Sign in and redeem: the token response body."""
    auth = authorize(live, client_id, **kwargs)
    response = redeem(live, auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["_auth"] = auth
    return body
