"""The load generator of benchmarks/idp: an OAuth client and a browserless user.

Standard library HTTP/1.1 (:mod:`http.client`) with keep-alive where the server
offers it (node and gunicorn's gthread workers do; sync workers close every
connection, and :class:`http.client.HTTPConnection` then reconnects by itself),
a minimal cookie jar, and :mod:`joserfc` — an implementation independent of both
servers — to verify ID and access tokens against the server's JWKS.

What one call does:

:func:`client_credentials`
    ``POST <token>`` with ``grant_type=client_credentials&scope=seal:sign`` and
    HTTP Basic client authentication (RFC 6749 §4.4).
:func:`login`
    authorization request (code, PKCE S256, state, nonce) → every redirect and
    form the server answers with, as a browser would: the login form gets the
    username and password, a consent form is accepted → the redirect to the
    client with ``code``, ``state`` and ``iss`` (RFC 9207) → token request with
    the code verifier → ID token verified (signature with the JWKS, ``iss``,
    ``aud``, ``nonce``, ``exp``). Cookies stay in a jar of that login only.

:func:`run_load` runs one of them in T threads for S seconds and returns the
counts and latencies; the benchmark runs it in P processes, so that the
client is not one GIL.

Only loopback addresses are ever contacted (:func:`_loopback_only`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.client
import ipaddress
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

__all__ = ["FlowError", "Target", "client_credentials", "login", "run_load", "verify_jwt"]

TIMEOUT: Final = 30.0
MAX_STEPS: Final = 12
_FORM_RE: Final = re.compile(r'<form[^>]*\smethod="post"[^>]*\saction="([^"]+)"', re.I)
_HIDDEN_RE: Final = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', re.I)
_JOSE_KEYS: Final = {("RSA", None), ("EC", "P-256")}


class FlowError(Exception):
    """A response that a conforming server would not give."""


@dataclass(frozen=True, slots=True)
class Target:
    """One server as the load generator sees it (picklable: sent to the workers)."""

    side: str
    base_url: str  # http://127.0.0.1:PORT
    issuer: str
    authorize_path: str
    token_path: str
    redirect_uri: str
    web_client: str
    machine_client: str
    secret: str
    jwks: dict[str, Any]
    accounts: tuple[tuple[str, str], ...]  # (username, password)
    machine_audience: str


def _loopback_only(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ValueError(f"not an http URL with a port: {base_url!r}")
    if not ipaddress.ip_address(parts.hostname).is_loopback:
        raise ValueError(f"the benchmark only talks to loopback addresses, not {parts.hostname}")
    return parts.hostname, parts.port


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def keyset(jwks: dict[str, Any]) -> KeySet:
    """The RS256/ES256 keys of a JWK Set (the hub also publishes SM2 keys, which JOSE
    libraries do not know)."""
    usable = [k for k in jwks.get("keys", []) if (k.get("kty"), k.get("crv")) in _JOSE_KEYS]
    return KeySet.import_key_set({"keys": usable})


class Http:
    """One HTTP/1.1 connection; reconnects when the server closed it."""

    def __init__(self, base_url: str) -> None:
        self.host, self.port = _loopback_only(base_url)
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        jar: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPResponse, bytes]:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if jar:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        reused = self.conn.sock is not None
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            self.conn.close()  # an idle keep-alive connection the server had closed
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        data = resp.read()
        if jar is not None:
            _store_cookies(jar, resp)
        return resp.status, resp, data

    def close(self) -> None:
        self.conn.close()


def _store_cookies(jar: dict[str, str], resp: http.client.HTTPResponse) -> None:
    """Name=value per cookie; a cookie set empty, expired or with Max-Age=0 is dropped.
    Paths are ignored: one jar serves one login on one host."""
    for name, value in resp.getheaders():
        if name.lower() != "set-cookie":
            continue
        first, _, attrs = value.partition(";")
        key, _, val = first.strip().partition("=")
        a = attrs.lower()
        if not val or "max-age=0" in a or "expires=thu, 01 jan 1970" in a:
            jar.pop(key, None)
        else:
            jar[key] = val


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _json(status: int, data: bytes, what: str) -> dict[str, Any]:
    if status != 200:
        raise FlowError(f"{what}: HTTP {status}: {data[:200]!r}")
    try:
        body = json.loads(data)
    except ValueError:
        raise FlowError(f"{what}: not JSON: {data[:200]!r}") from None
    if not isinstance(body, dict):
        raise FlowError(f"{what}: not a JSON object")
    return body


def verify_jwt(
    token: str, keys: KeySet, *, issuer: str, audience: str, nonce: str | None = None
) -> dict[str, Any]:
    """Signature (RS256 or ES256, key chosen by ``kid``), ``iss``, ``aud``, ``exp``,
    ``iat`` and, when given, ``nonce``. Raises :class:`FlowError`."""
    try:
        tok = jwt.decode(token, keys, algorithms=["RS256", "ES256"])
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        jwt.JWTClaimsRegistry(leeway=15, **options).validate(tok.claims)
    except (JoseError, ValueError) as exc:
        raise FlowError(f"token rejected: {type(exc).__name__}: {exc}") from None
    return dict(tok.claims)


# --------------------------------------------------------------------------- the two operations


def client_credentials(conn: Http, t: Target, keys: KeySet | None = None) -> str:
    """One token request; returns the access token (verified when ``keys`` is given)."""
    status, _, data = conn.request(
        "POST",
        t.token_path,
        body="grant_type=client_credentials&scope=seal%3Asign",
        headers={"Authorization": _basic(t.machine_client, t.secret)},
    )
    body = _json(status, data, "client_credentials")
    token = body.get("access_token")
    if not isinstance(token, str) or token.count(".") != 2:
        raise FlowError(f"client_credentials: no JWT access token in {sorted(body)}")
    if keys is not None:
        claims = verify_jwt(token, keys, issuer=t.issuer, audience=t.machine_audience)
        if claims.get("client_id") != t.machine_client or "seal:sign" not in str(
            claims.get("scope")
        ):
            raise FlowError(f"client_credentials: unexpected claims {claims}")
    return token


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    requests: int  # HTTP requests the login took, token request included
    claims: dict[str, Any]
    consent: bool  # a consent form was answered


def login(
    conn: Http,
    t: Target,
    username: str,
    password: str,
    keys: KeySet,
    *,
    client_id: str | None = None,
) -> LoginOutcome:
    """A whole browserless login, ending with a verified ID token."""
    client_id = client_id or t.web_client
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": t.redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    jar: dict[str, str] = {}
    url = f"{t.base_url}{t.authorize_path}?{query}"
    method, body = "GET", None
    requests = 0
    consent = False
    location = ""
    for _ in range(MAX_STEPS):
        status, resp, data = conn.request(method, _path(url), body=body, jar=jar)
        requests += 1
        if status in (301, 302, 303, 307):
            location = urljoin(url, resp.getheader("Location", ""))
            if location.startswith(t.redirect_uri):
                break
            url, method, body = location, "GET", None
            continue
        page = data.decode("utf-8", "replace")
        form = _FORM_RE.search(page) if status == 200 else None
        if form is None:
            raise FlowError(f"login: HTTP {status} at {_path(url)[:80]}: {page[:200]!r}")
        fields = {k: html.unescape(v) for k, v in _HIDDEN_RE.findall(page)}
        if 'name="password"' in page:
            if 'role="alert"' in page:
                raise FlowError(f"login: the server refused the password of {username}")
            fields.update(username=username, password=password)
        elif 'name="decision"' in page:
            fields["decision"] = "allow"
            consent = True
        else:
            raise FlowError(f"login: unknown form at {_path(url)[:80]}")
        url = urljoin(url, html.unescape(form.group(1)))
        method, body = "POST", urlencode(fields)
    else:
        raise FlowError("login: too many steps")

    params = parse_qs(urlsplit(location).query)
    if params.get("state") != [state]:
        raise FlowError(f"login: state mismatch in {location[:120]}")
    if params.get("iss") != [t.issuer]:
        raise FlowError(f"login: iss mismatch in {location[:120]}")
    if "code" not in params:
        raise FlowError(f"login: no code in {location[:120]}")
    status, _, data = conn.request(
        "POST",
        t.token_path,
        body=urlencode(
            {
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": t.redirect_uri,
                "code_verifier": verifier,
            }
        ),
        headers={"Authorization": _basic(client_id, t.secret)},
    )
    requests += 1
    tokens = _json(status, data, "token")
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise FlowError(f"token: no id_token in {sorted(tokens)}")
    claims = verify_jwt(id_token, keys, issuer=t.issuer, audience=client_id, nonce=nonce)
    return LoginOutcome(requests, claims, consent)


# --------------------------------------------------------------------------- load


@dataclass(frozen=True, slots=True)
class LoadSpec:
    kind: str  # "cc" or "login"
    target: Target
    threads: int
    seconds: float
    worker: int  # index of this process among the load processes
    workers: int


def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Run ``spec.kind`` in ``spec.threads`` threads until ``spec.seconds`` have passed.

    Returns ok and error counts, the latencies in ms of the successful calls, a few
    error messages, HTTP requests per operation, and the CPU time of this process.
    The first access token of every thread is verified against the JWKS; every
    ID token is.
    """
    t = spec.target
    keys = keyset(t.jwks)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    counts = {"ok": 0, "errors": 0, "requests": 0}
    start = threading.Barrier(spec.threads + 1)
    deadline = [0.0]

    def worker(slot: int) -> None:
        mine: list[float] = []
        ok = bad = requests = 0
        my_errors: list[str] = []
        # Accounts are dealt out so that no two threads share one.
        stride = spec.workers * spec.threads
        index = spec.worker * spec.threads + slot
        conn = Http(t.base_url)
        verify_next = True
        start.wait()
        try:
            while time.perf_counter() < deadline[0]:
                t0 = time.perf_counter()
                try:
                    if spec.kind == "cc":
                        client_credentials(conn, t, keys if verify_next else None)
                        verify_next = False
                        requests += 1
                    else:
                        username, password = t.accounts[index % len(t.accounts)]
                        index += stride
                        # One connection per login: all its requests reach the same
                        # node worker, whose memory holds the interaction (gunicorn
                        # closes every connection anyway).
                        conn.close()
                        out = login(conn, t, username, password, keys)
                        requests += out.requests
                except (FlowError, OSError, http.client.HTTPException) as exc:
                    bad += 1
                    conn.close()
                    if len(my_errors) < 3:
                        my_errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                mine.append((time.perf_counter() - t0) * 1000.0)
                ok += 1
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += bad
            counts["requests"] += requests
            errors.extend(my_errors)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(spec.threads)]
    for th in threads:
        th.start()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    deadline[0] = wall0 + spec.seconds
    start.wait()
    for th in threads:
        th.join(spec.seconds + 4 * TIMEOUT)
    return {
        **counts,
        "latencies_ms": latencies,
        "error_samples": errors[:5],
        "wall": time.perf_counter() - wall0,
        "cpu": time.process_time() - cpu0,
    }
