"""Negative tests for every "OAuth / OIDC" line of SECURITY.md, over HTTP against
the live hub (RFC 9700, RFC 9207, RFC 7636, RFC 7523, OIDC Core).

The concurrency tests (one code redeemed 20 times at once, one refresh token
used 10 times at once) run on SQLite and on PostgreSQL (``live_db``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from idp import totp
from trust import b64url, generate_private_key
from trust.identifiers import make_citizen_id

TIMEOUT = 15
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# ----------------------------------------------------------------------------- helpers


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token_request(live: Any, data: dict[str, str], **kwargs: Any) -> requests.Response:
    return requests.post(live("/idp/token"), data=data, timeout=TIMEOUT, **kwargs)


def refresh(live: Any, client_id: str, token: str, **extra: str) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return token_request(live, data, auth=live.basic(client_id))


def introspect(live: Any, token: str, client_id: str = "rp-rs256") -> dict[str, Any]:
    response = requests.post(
        live("/idp/introspect"), data={"token": token}, auth=live.basic(client_id), timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def userinfo(live: Any, access_token: str) -> requests.Response:
    return requests.get(
        live("/idp/userinfo"), headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
    )


def assert_dead(live: Any, body: dict[str, Any], client_id: str) -> None:
    """Every token of a token response is unusable."""
    assert userinfo(live, body["access_token"]).status_code == 401
    assert introspect(live, body["access_token"]) == {"active": False}
    if "refresh_token" in body:
        assert introspect(live, body["refresh_token"], client_id) == {"active": False}
        response = refresh(live, client_id, body["refresh_token"])
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def assert_error_page(response: requests.Response) -> None:
    """An error shown to the user, never a redirect to an unverified address."""
    assert response.status_code == 400, (response.status_code, response.headers)
    assert "Location" not in response.headers
    assert "text/html" in response.headers["Content-Type"]


def run_parallel(n: int, fn: Callable[[], requests.Response]) -> list[requests.Response]:
    barrier = threading.Barrier(n)
    results: list[requests.Response | BaseException] = [None] * n  # type: ignore[list-item]

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    errors = [r for r in results if not isinstance(r, requests.Response)]
    assert not errors, errors
    return results  # type: ignore[return-value]


def pkjwt_assertion(
    live: Any,
    *,
    key: Any = None,
    alg: str = "ES256",
    kid: str | None = None,
    omit: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """A client assertion (RFC 7523) made with joserfc, not with our code."""
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": "rp-pkjwt",
        "sub": "rp-pkjwt",
        "aud": live("/idp/token"),
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + 60,
    }
    body.update(claims)
    for name in omit:
        body.pop(name, None)
    if key is None:
        key = ECKey.import_key(live.pkjwt_key.pem())
    header = {"alg": alg, "kid": kid if kid is not None else live.pkjwt_kid}
    return jwt.encode(header, body, key, algorithms=[alg])


def with_assertion(assertion: str, **form: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **form}


def _new_citizen_id(year: int) -> str:
    return make_citizen_id("110105", date(year, 1, 1), secrets.randbelow(1000))


@pytest.fixture
def pk(live: Any) -> Any:
    """The live hub, for the private_key_jwt client ``rp-pkjwt``."""
    return live


# ----------------------------------------------------------------------------- redirect_uri


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda u: u + "/", id="extra-slash"),
        pytest.param(lambda u: u + "?x=1", id="extra-query"),
        pytest.param(lambda u: u + "#frag", id="fragment"),
        pytest.param(lambda u: u.replace("/cb/", "/CB/"), id="case"),
        pytest.param(
            lambda u: u.replace(f":{urlsplit(u).port}", f":{urlsplit(u).port + 1}"),
            id="other-port",
        ),
        pytest.param(lambda u: u.replace("127.0.0.1", "localhost"), id="other-host"),
        pytest.param(lambda u: u.replace("rp-rs256", "rp-es256"), id="other-clients-uri"),
    ],
)
def test_redirect_uri_must_match_exactly(h: Any, live: Any, mangle: Callable[[str], str]) -> None:
    url = h.authorize_url(
        live, "rp-rs256", challenge=h.pkce()[1], redirect_uri=mangle(live.redirect_uri("rp-rs256"))
    )
    assert_error_page(requests.get(url, allow_redirects=False, timeout=TIMEOUT))


def test_missing_redirect_uri_and_unknown_client_show_an_error(h: Any, live: Any) -> None:
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1])
    parts = urlsplit(url)
    params = {k: v for k, v in query(url).items() if k != "redirect_uri"}
    assert_error_page(
        requests.get(
            f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}",
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    )
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1]).replace(
        "client_id=rp-rs256", "client_id=nobody"
    )
    assert_error_page(requests.get(url, allow_redirects=False, timeout=TIMEOUT))


def test_code_is_bound_to_the_redirect_uri(h: Any, live: Any) -> None:
    auth = h.authorize(live, "rp-rs256")
    response = h.redeem(live, auth, redirect_uri=auth.redirect_uri + "/")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    auth = h.authorize(live, "rp-rs256", session=auth.flow.session)
    response = h.redeem(live, auth, redirect_uri=None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_par_request_uri_is_single_use_and_bound_to_the_client(h: Any, live: Any) -> None:
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1], scope="openid")
    pushed = requests.post(
        live("/idp/par"), data=query(url), auth=live.basic("rp-rs256"), timeout=TIMEOUT
    )
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    # Another client cannot use it (and trying does not spend it).
    other = requests.get(
        live("/idp/authorize?" + urlencode({"client_id": "rp-es256", "request_uri": request_uri})),
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert_error_page(other)
    by_reference = live(
        "/idp/authorize?" + urlencode({"client_id": "rp-rs256", "request_uri": request_uri})
    )
    flow = h.drive(by_reference)
    assert flow.params["iss"] == live.url and "code" in flow.params
    assert_error_page(requests.get(by_reference, allow_redirects=False, timeout=TIMEOUT))
    # PAR applies the same rules: exact redirect_uri, S256 only.
    for change in ({"redirect_uri": "https://evil.example/cb"}, {"code_challenge_method": "plain"}):
        refused = requests.post(
            live("/idp/par"),
            data={**query(url), **change},
            auth=live.basic("rp-rs256"),
            timeout=TIMEOUT,
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


# ----------------------------------------------------------------------------- PKCE


def _authorize_error(h: Any, live: Any, **params: Any) -> dict[str, str]:
    state = secrets.token_urlsafe(8)
    url = h.authorize_url(live, "rp-rs256", state=state, **params)
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code in (302, 303), (response.status_code, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(live.redirect_uri("rp-rs256") + "?")
    result = query(location)
    assert result["state"] == state
    assert result["iss"] == live.url  # RFC 9207, on error responses too
    assert "code" not in result
    return result


def test_pkce_is_required_for_confidential_clients_too(h: Any, live: Any) -> None:
    assert _authorize_error(h, live, challenge=None)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"code_challenge_method": "plain"}, id="plain"),
        pytest.param({"code_challenge_method": "S512"}, id="unknown-method"),
        pytest.param({"code_challenge": "too-short"}, id="short-challenge"),
    ],
)
def test_pkce_only_s256(h: Any, live: Any, params: dict[str, str]) -> None:
    verifier, challenge = h.pkce()
    if params.get("code_challenge_method") == "plain":
        challenge = verifier
    result = _authorize_error(h, live, challenge=challenge, **params)
    assert result["error"] == "invalid_request"


def test_pkce_method_must_be_named(h: Any, live: Any) -> None:
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1])
    params = {k: v for k, v in query(url).items() if k != "code_challenge_method"}
    response = requests.get(
        live("/idp/authorize?" + urlencode(params)), allow_redirects=False, timeout=TIMEOUT
    )
    assert query(response.headers["Location"])["error"] == "invalid_request"


def test_code_verifier_is_required_and_checked(h: Any, live: Any) -> None:
    auth = h.authorize(live, "rp-rs256")
    response = h.redeem(live, auth, code_verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")

    auth = h.authorize(live, "rp-rs256", session=auth.flow.session)
    response = h.redeem(live, auth, code_verifier=h.pkce()[0])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    response = h.redeem(live, auth)  # the code was spent on the wrong guess
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


# ----------------------------------------------------------------------------- code


@pytest.mark.slow
def test_code_single_use_under_concurrency_and_reuse_revokes(h: Any, live_db: Any) -> None:
    live = live_db
    auth = h.authorize(live, "rp-rs256")
    responses = run_parallel(20, lambda: h.redeem(live, auth))
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 1, [r.status_code for r in responses]
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code != 200)
    body = ok[0].json()
    # The code was used more than once: everything issued from it is revoked.
    assert_dead(live, body, "rp-rs256")


def test_code_reuse_after_success_revokes_the_tokens(h: Any, live: Any) -> None:
    auth = h.authorize(live, "rp-es256")
    first = h.redeem(live, auth)
    assert first.status_code == 200
    body = first.json()
    assert userinfo(live, body["access_token"]).status_code == 200
    second = h.redeem(live, auth)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert_dead(live, body, "rp-es256")


def test_code_is_bound_to_the_client(h: Any, live: Any) -> None:
    auth = h.authorize(live, "rp-rs256")
    stolen = h.redeem(live, auth, client_auth=live.basic("rp-es256"))
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # Another client cannot even spend it: the rightful client still can.
    assert h.redeem(live, auth).status_code == 200


# ----------------------------------------------------------------------------- refresh


def test_refresh_rotation_and_reuse_revokes_the_grant(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256")
    first = body["refresh_token"]
    r1 = refresh(live, "rp-rs256", first)
    assert r1.status_code == 200, r1.text
    second = r1.json()
    assert second["refresh_token"] != first
    r2 = refresh(live, "rp-rs256", second["refresh_token"])
    assert r2.status_code == 200
    newest = r2.json()
    assert userinfo(live, newest["access_token"]).status_code == 200

    reuse = refresh(live, "rp-rs256", first)  # a spent token comes back: theft
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    for issued in (body, second, newest):
        assert_dead(live, issued, "rp-rs256")


def test_refresh_token_is_bound_to_the_client(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256")
    stolen = refresh(live, "rp-es256", body["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert refresh(live, "rp-rs256", body["refresh_token"]).status_code == 200


@pytest.mark.slow
def test_concurrent_refresh_only_one_wins(h: Any, live_db: Any) -> None:
    live = live_db
    body = h.tokens(live, "rp-es256")
    responses = run_parallel(10, lambda: refresh(live, "rp-es256", body["refresh_token"]))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [400] * 9, codes
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code != 200)


@pytest.mark.parametrize(
    "scope", ["openid profile offline_access identity", "openid phone", "openid seal:sign"]
)
def test_refresh_scope_never_grows(h: Any, live: Any, scope: str) -> None:
    body = h.tokens(live, "rp-rs256")
    grown = refresh(live, "rp-rs256", body["refresh_token"], scope=scope)
    assert grown.status_code == 400 and grown.json()["error"] == "invalid_scope"
    # A refused request does not burn the token (nor count as reuse).
    same = refresh(live, "rp-rs256", body["refresh_token"])
    assert same.status_code == 200, same.text
    assert set(same.json()["scope"].split()) == {"openid", "profile", "offline_access"}


def test_refresh_may_narrow_the_scope(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256")
    narrow = refresh(live, "rp-rs256", body["refresh_token"], scope="openid offline_access")
    assert narrow.status_code == 200
    assert set(narrow.json()["scope"].split()) == {"openid", "offline_access"}
    wider = refresh(live, "rp-rs256", narrow.json()["refresh_token"], scope="openid profile")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


# ----------------------------------------------------------------------------- iss, state, nonce


def test_state_and_nonce_are_echoed_and_iss_is_present(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256", scope="openid")
    auth = body["_auth"]
    assert auth.flow.params["state"] == auth.state
    assert auth.flow.params["iss"] == live.url
    claims = jwt.decode(body["id_token"], _keyset(live), algorithms=["RS256"]).claims
    assert claims["nonce"] == auth.nonce


def _keyset(live: Any) -> Any:
    from joserfc.jwk import KeySet

    keys = requests.get(live("/idp/jwks"), timeout=TIMEOUT).json()["keys"]
    return KeySet.import_key_set({"keys": [k for k in keys if k.get("crv") != "SM2"]})


def test_nonce_is_single_use(h: Any, live: Any) -> None:
    first = h.authorize(live, "rp-rs256", scope="openid")
    url = h.authorize_url(
        live, "rp-rs256", challenge=h.pkce()[1], scope="openid", nonce=first.nonce
    )
    flow = h.drive(url, session=first.flow.session)
    assert flow.params["error"] == "invalid_request"
    assert flow.params["iss"] == live.url and "code" not in flow.params


def test_consent_denied_redirects_with_error_state_and_iss(h: Any, live: Any) -> None:
    state = secrets.token_urlsafe(8)
    url = h.authorize_url(live, "rp-es256", challenge=h.pkce()[1], state=state, prompt="consent")
    flow = h.drive(url, consent=False)
    page = flow.final
    assert page is not None and urlsplit(page.url).path == "/idp/consent"
    action, csrf = h.form_of(page)
    response = flow.session.post(
        action, data={"csrf_token": csrf, "decision": "deny"}, allow_redirects=False
    )
    assert response.status_code in (302, 303)
    result = query(response.headers["Location"])
    assert result == {
        "error": "access_denied",
        "error_description": result["error_description"],
        "iss": live.url,
        "state": state,
    }


# ----------------------------------------------------------------------------- grants refused


def test_no_resource_owner_password_grant(h: Any, live: Any) -> None:
    response = token_request(
        live,
        {"grant_type": "password", "username": h.USERNAME, "password": h.PASSWORD},
        auth=live.basic("rp-rs256"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in response.text


@pytest.mark.parametrize("response_type", ["token", "id_token", "code token", "code id_token"])
def test_no_implicit_or_hybrid(h: Any, live: Any, response_type: str) -> None:
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1], response_type=response_type)
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    location = response.headers["Location"]
    assert "#" not in location and "access_token" not in location
    result = query(location)
    assert result["error"] == "unsupported_response_type"
    assert result["iss"] == live.url


# ----------------------------------------------------------------------------- client auth


def _client_auth_status(live: Any, data: dict[str, str], **kwargs: Any) -> requests.Response:
    """Client authentication at the token endpoint, with a code that does not
    exist: 401 if the client was refused, 400 invalid_grant if it was accepted."""
    form = {
        "grant_type": "authorization_code",
        "code": "no-such-code",
        "redirect_uri": live.redirect_uri("rp-pkjwt"),
        "code_verifier": "v" * 43,
        **data,
    }
    return token_request(live, form, **kwargs)


def assert_refused(response: requests.Response) -> None:
    assert response.status_code == 401, (response.status_code, response.text)
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


def assert_accepted(response: requests.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.json()["error"] == "invalid_grant"


def test_private_key_jwt_full_flow(h: Any, pk: Any) -> None:
    auth = h.authorize(pk, "rp-pkjwt")
    data = with_assertion(
        pkjwt_assertion(pk),
        grant_type="authorization_code",
        code=auth.code,
        redirect_uri=auth.redirect_uri,
        code_verifier=auth.verifier,
    )
    response = token_request(pk, data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "id_token" in body and "refresh_token" in body
    again = token_request(
        pk,
        with_assertion(
            pkjwt_assertion(pk), grant_type="refresh_token", refresh_token=body["refresh_token"]
        ),
    )
    assert again.status_code == 200, again.text


def test_private_key_jwt_audience_may_be_the_issuer(pk: Any) -> None:
    assert_accepted(_client_auth_status(pk, with_assertion(pkjwt_assertion(pk, aud=pk.url))))


def test_double_client_authentication_is_refused(pk: Any) -> None:
    assert_refused(
        _client_auth_status(pk, with_assertion(pkjwt_assertion(pk)), auth=pk.basic("rp-rs256"))
    )


def test_client_secret_post_is_refused(live: Any) -> None:
    assert_refused(
        _client_auth_status(
            live, {"client_id": "rp-rs256", "client_secret": live.basic("rp-rs256")[1]}
        )
    )


def test_wrong_secret_and_unknown_client_are_refused(live: Any) -> None:
    assert_refused(_client_auth_status(live, {}, auth=("rp-rs256", "x" * 40)))
    assert_refused(_client_auth_status(live, {}, auth=("nobody", "x" * 40)))
    assert_refused(_client_auth_status(live, {}))  # no authentication at all


def test_mismatched_client_id_is_refused(pk: Any) -> None:
    assert_accepted(
        _client_auth_status(pk, with_assertion(pkjwt_assertion(pk), client_id="rp-pkjwt"))
    )
    assert_refused(
        _client_auth_status(pk, with_assertion(pkjwt_assertion(pk), client_id="rp-rs256"))
    )
    # iss and sub must both name the client.
    assert_refused(_client_auth_status(pk, with_assertion(pkjwt_assertion(pk, sub="rp-rs256"))))


def test_reused_assertion_jti_is_refused(pk: Any) -> None:
    assertion = pkjwt_assertion(pk)
    assert_accepted(_client_auth_status(pk, with_assertion(assertion)))
    assert_refused(_client_auth_status(pk, with_assertion(assertion)))
    # Same jti, new assertion: still a replay.
    jti = secrets.token_urlsafe(8)
    assert_accepted(_client_auth_status(pk, with_assertion(pkjwt_assertion(pk, jti=jti))))
    assert_refused(_client_auth_status(pk, with_assertion(pkjwt_assertion(pk, jti=jti))))


@pytest.mark.slow
def test_one_assertion_used_concurrently_authenticates_once(live_db: Any) -> None:
    assertion = pkjwt_assertion(live_db)
    responses = run_parallel(10, lambda: _client_auth_status(live_db, with_assertion(assertion)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [400] + [401] * 9, codes  # one accepted (then no such code), nine replays


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "https://other.example/token"}, id="wrong-aud"),
        pytest.param({"aud": ["https://other.example/token"]}, id="wrong-aud-list"),
        pytest.param({"omit": ("exp",)}, id="missing-exp"),
        pytest.param({"omit": ("jti",)}, id="missing-jti"),
        pytest.param({"omit": ("aud",)}, id="missing-aud"),
        pytest.param(
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3660}, id="expired"
        ),
        pytest.param({"exp": int(time.time()) + 86400}, id="exp-too-far"),
        pytest.param({"exp": str(int(time.time()) + 60)}, id="exp-not-number"),
        pytest.param({"iat": int(time.time()) + 3600}, id="iat-future"),
        pytest.param({"iss": "rp-rs256", "sub": "rp-rs256"}, id="other-client"),
    ],
)
def test_bad_client_assertions_are_refused(pk: Any, claims: dict[str, Any]) -> None:
    assert_refused(_client_auth_status(pk, with_assertion(pkjwt_assertion(pk, **claims))))


def test_expired_assertion_is_refused(pk: Any) -> None:
    now = int(time.time())
    late = pkjwt_assertion(pk, iat=now - 120, exp=now - 20)  # beyond the 15 s leeway
    assert_refused(_client_auth_status(pk, with_assertion(late)))
    fresh = pkjwt_assertion(pk, iat=now - 60, exp=now - 5)  # within the leeway
    assert_accepted(_client_auth_status(pk, with_assertion(fresh)))


def test_assertion_alg_other_than_registered_is_refused(pk: Any) -> None:
    rsa = generate_private_key("rsa", rsa_bits=2048)
    # An RSA key under the registered kid: not the registered algorithm (nor key).
    forged = pkjwt_assertion(pk, key=RSAKey.import_key(rsa.pem()), alg="RS256")
    assert_refused(_client_auth_status(pk, with_assertion(forged)))
    # Another P-256 key under the registered kid: bad signature.
    other = generate_private_key("p256")
    forged = pkjwt_assertion(pk, key=ECKey.import_key(other.pem()))
    assert_refused(_client_auth_status(pk, with_assertion(forged)))
    # HMAC with the public key as the secret (key confusion), and alg none.
    head, payload, _sig = pkjwt_assertion(pk).split(".")
    for public in (
        pk.pkjwt_key.public_key().pem(),
        json.dumps(pk.pkjwt_key.public_key().jwk()).encode(),
    ):
        hs_head = b64url(json.dumps({"alg": "HS256", "kid": pk.pkjwt_kid}).encode())
        mac = hmac.new(public, f"{hs_head}.{payload}".encode(), hashlib.sha256).digest()
        assert_refused(
            _client_auth_status(pk, with_assertion(f"{hs_head}.{payload}.{b64url(mac)}"))
        )
    none_head = b64url(json.dumps({"alg": "none", "kid": pk.pkjwt_kid}).encode())
    assert_refused(_client_auth_status(pk, with_assertion(f"{none_head}.{payload}.")))
    # A registered key can still sign with its one algorithm.
    assert_accepted(_client_auth_status(pk, with_assertion(pkjwt_assertion(pk))))


def test_keys_sharing_a_kid_are_tried_each_with_its_own_algorithm(live: Any) -> None:
    client_id = f"rp-twokeys-{secrets.token_hex(3)}"
    ec_key = generate_private_key("p256")
    rsa_key = generate_private_key("rsa", rsa_bits=2048)
    live.idp.clients.add(
        client_id=client_id,
        name="two keys, one kid (rotation)",
        redirect_uris=[live.redirect_uri(client_id)],
        jwks={
            "keys": [
                ec_key.public_key().jwk(kid="shared", alg="ES256"),
                rsa_key.public_key().jwk(kid="shared", alg="RS256"),
            ]
        },
        scopes=["openid"],
    )
    signers = {
        "ES256": ECKey.import_key(ec_key.pem()),
        "RS256": RSAKey.import_key(rsa_key.pem()),
    }
    for alg, key in signers.items():
        assertion = pkjwt_assertion(
            live, key=key, alg=alg, kid="shared", iss=client_id, sub=client_id
        )
        assert_accepted(_client_auth_status(live, with_assertion(assertion)))
    # PS256 with the RSA key: a fitting family, but not the key's registered algorithm.
    assertion = pkjwt_assertion(
        live, key=signers["RS256"], alg="PS256", kid="shared", iss=client_id, sub=client_id
    )
    assert_refused(_client_auth_status(live, with_assertion(assertion)))


def test_assertion_with_embedded_jwk_is_not_trusted(pk: Any) -> None:
    attacker = generate_private_key("p256")
    now = int(time.time())
    body = {
        "iss": "rp-pkjwt",
        "sub": "rp-pkjwt",
        "aud": pk("/idp/token"),
        "jti": secrets.token_urlsafe(8),
        "iat": now,
        "exp": now + 60,
    }
    header = {"alg": "ES256", "jwk": attacker.public_key().jwk()}
    forged = jwt.encode(header, body, ECKey.import_key(attacker.pem()), algorithms=["ES256"])
    assert_refused(_client_auth_status(pk, with_assertion(forged)))


# ----------------------------------------------------------------------------- login


def _login_page(h: Any, live: Any, session: requests.Session | None = None) -> requests.Response:
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1])
    sess = session or requests.Session()
    response = sess.get(url, allow_redirects=True, timeout=TIMEOUT)
    assert urlsplit(response.url).path == "/idp/login", response.url
    response.session = sess  # type: ignore[attr-defined]
    return response


def _post_login(h: Any, page: requests.Response, username: str, password: str) -> Any:
    action, csrf = h.form_of(page)
    return page.session.post(  # type: ignore[attr-defined]
        action,
        data={"csrf_token": csrf, "username": username, "password": password},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def _alert(response: requests.Response) -> str:
    import re

    found = re.search(r'role="alert"[^>]*>([^<]*)<', response.text)
    assert found, response.text[:500]
    return found.group(1).strip()


def test_login_failures_look_the_same(h: Any, live: Any) -> None:
    name = f"lisi{secrets.randbelow(10**6)}"
    live.idp.accounts.create_citizen(
        username=name, password="Lisi-Password-9", name="李四", id_number=_new_citizen_id(1980)
    )
    wrong = _post_login(h, _login_page(h, live), name, "Wrong-Password-1")
    unknown = _post_login(h, _login_page(h, live), "nobody-" + name, "Wrong-Password-1")
    assert wrong.status_code == unknown.status_code == 200
    assert _alert(wrong) == _alert(unknown)
    assert "Location" not in wrong.headers and "Location" not in unknown.headers

    # Throttled: after 5 failures from this address, even the right password gets
    # the same answer (and the block is short: 2^0 s).
    for _ in range(4):
        _post_login(h, _login_page(h, live), name, "Wrong-Password-1")
    throttled = _post_login(h, _login_page(h, live), name, "Lisi-Password-9")
    assert throttled.status_code == 200 and _alert(throttled) == _alert(wrong)
    time.sleep(1.1)
    ok = _post_login(h, _login_page(h, live), name, "Lisi-Password-9")
    assert ok.status_code == 303


def test_login_posts_answer_303(h: Any, live: Any) -> None:
    """The sign-in POST continues the authorization request in the same exchange:
    a 303 to the consent page (rp-rs256 is not first-party), or, once the user has
    consented (earlier tests of this module may have), straight to the client;
    with the new session cookie; no detour through /idp/authorize?resume=."""
    page = _login_page(h, live)
    response = _post_login(h, page, h.USERNAME, h.PASSWORD)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert urlsplit(location).path == "/idp/consent" or location.startswith(
        live.redirect_uri("rp-rs256") + "?"
    ), location
    assert "gt_sso" in response.cookies


def test_login_post_returns_the_code_when_nothing_else_is_asked(h: Any, live: Any) -> None:
    """With consent already given, the sign-in POST itself answers with the redirect
    to the client: code, state and iss (RFC 9207), as /idp/authorize would."""
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1])
    h.drive(url)  # signs in and consents once
    sess = requests.Session()
    state = "after-login-state"
    page = sess.get(
        h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1], state=state),
        allow_redirects=True,
        timeout=TIMEOUT,
    )
    assert urlsplit(page.url).path == "/idp/login", page.url
    page.session = sess  # type: ignore[attr-defined]
    response = _post_login(h, page, h.USERNAME, h.PASSWORD)
    assert response.status_code == 303
    location = response.headers["Location"]
    params = dict(parse_qsl(urlsplit(location).query))
    assert location.startswith(live.redirect_uri("rp-rs256") + "?"), location
    assert params["state"] == state and params["iss"] == live.idp.issuer and params["code"]


def test_security_headers_on_login_page(h: Any, live: Any) -> None:
    page = _login_page(h, live)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_csrf_token_required_on_login(h: Any, live: Any) -> None:
    page = _login_page(h, live)
    action, _csrf = h.form_of(page)
    for token in (None, "forged-token"):
        data = {"username": h.USERNAME, "password": h.PASSWORD}
        if token:
            data["csrf_token"] = token
        response = page.session.post(action, data=data, allow_redirects=False)  # type: ignore[attr-defined]
        assert response.status_code == 400
        assert "gt_sso" not in response.cookies


def test_csrf_token_required_on_consent(h: Any, live: Any) -> None:
    url = h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1], prompt="consent")
    flow = h.drive(url, consent=False)
    page = flow.final
    assert page is not None and urlsplit(page.url).path == "/idp/consent"
    assert page.headers["X-Frame-Options"] == "DENY"
    action, csrf = h.form_of(page)
    response = flow.session.post(action, data={"decision": "allow"}, allow_redirects=False)
    assert response.status_code == 400
    response = flow.session.post(
        action, data={"decision": "allow", "csrf_token": csrf}, allow_redirects=False
    )
    assert response.status_code == 303


def test_csrf_token_required_on_logout(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256", scope="openid")
    session = body["_auth"].flow.session
    page = session.get(live("/idp/logout"), timeout=TIMEOUT)
    assert page.status_code == 200
    action, csrf = h.form_of(page)
    response = session.post(action, data={"confirm": "yes"}, allow_redirects=False)
    assert response.status_code == 400
    assert userinfo(live, body["access_token"]).status_code == 200  # still signed in
    response = session.post(
        action, data={"confirm": "yes", "csrf_token": csrf}, allow_redirects=False
    )
    assert response.status_code == 200  # no post_logout_redirect_uri: a page
    assert userinfo(live, body["access_token"]).status_code == 401


def test_logout_with_redirect_answers_303(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256", scope="openid")
    session = body["_auth"].flow.session
    params = {
        "id_token_hint": body["id_token"],
        "post_logout_redirect_uri": live.post_logout_uri("rp-rs256"),
    }
    page = session.get(live("/idp/logout"), params=params, timeout=TIMEOUT)
    action, csrf = h.form_of(page)
    response = session.post(
        action, data={**params, "confirm": "yes", "csrf_token": csrf}, allow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["Location"] == live.post_logout_uri("rp-rs256")


# ----------------------------------------------------------------------------- sessions


def _sso_cookie(session: requests.Session) -> str | None:
    return session.cookies.get("gt_sso")


def test_new_session_id_at_login(h: Any, live: Any) -> None:
    session = requests.Session()
    # A cookie planted before sign-in (fixation) is not adopted.
    session.cookies.set("gt_sso", "planted.value", domain="127.0.0.1", path="/")
    h.authorize(live, "rp-rs256", scope="openid", session=session)
    cookie1 = _sso_cookie(session)
    assert cookie1 and cookie1 != "planted.value"
    assert live.idp.sessions.lookup(cookie1) is not None

    again = h.authorize(live, "rp-rs256", scope="openid", session=session, prompt="login")
    assert again.flow.visited("/idp/login")  # prompt=login forces the form
    cookie2 = _sso_cookie(session)
    assert cookie2 and cookie2 != cookie1  # a new session cookie ...
    # ... for the same OIDC session: relying parties keep naming it in logout.
    assert cookie2.split(".")[0] == cookie1.split(".")[0]
    assert live.idp.sessions.lookup(cookie1) is None  # the captured old cookie is useless


def test_new_session_id_at_step_up(h: Any, live: Any) -> None:
    name = f"wangwu{secrets.randbelow(10**6)}"
    accounts = live.idp.accounts
    account = accounts.create_citizen(
        username=name, password="Wangwu-Password-7", name="王五", id_number=_new_citizen_id(1981)
    )
    session = requests.Session()
    h.authorize(
        live,
        "rp-rs256",
        scope="openid",
        session=session,
        username=name,
        password="Wangwu-Password-7",
    )
    cookie1 = _sso_cookie(session)
    assert live.idp.sessions.lookup(cookie1).acr == "loa1"

    secret_b32, _uri = accounts.begin_totp_enrolment(account.id)
    seed = totp.b32decode(secret_b32)
    now = live.idp.clock()
    accounts.confirm_totp(account.id, totp.totp(seed, now))

    def next_code() -> str:
        step = totp.time_step(live.idp.clock()) + 1  # after the step used to confirm
        return totp.hotp(seed, step)

    body_auth = h.authorize(
        live,
        "rp-rs256",
        scope="openid",
        session=session,
        username=name,
        password="Wangwu-Password-7",
        totp_code=next_code,
        acr_values="loa2",
    )
    assert body_auth.flow.visited("/idp/login") and body_auth.flow.visited("/idp/login/2fa")
    cookie2 = _sso_cookie(session)
    assert cookie2 and cookie2 != cookie1 and cookie2.split(".")[0] == cookie1.split(".")[0]
    assert live.idp.sessions.lookup(cookie1) is None  # no fixation across the step-up
    assert live.idp.sessions.lookup(cookie2).acr == "loa2"
    response = h.redeem(live, body_auth)
    assert response.status_code == 200
    claims = jwt.decode(response.json()["id_token"], _keyset(live), algorithms=["RS256"]).claims
    assert claims["acr"] == "loa2" and claims["amr"] == ["pwd", "otp"]


def test_logout_after_step_up_ends_the_grants_of_the_replaced_session(h: Any, live: Any) -> None:
    name = f"zhaoliu{secrets.randbelow(10**6)}"
    password = "Zhaoliu-Password-3"
    accounts = live.idp.accounts
    account = accounts.create_citizen(
        username=name, password=password, name="赵六", id_number=_new_citizen_id(1982)
    )
    session = requests.Session()
    before = h.tokens(
        live,
        "rp-es256",
        scope="openid profile",
        session=session,
        username=name,
        password=password,
    )
    assert userinfo(live, before["access_token"]).status_code == 200
    secret_b32, _uri = accounts.begin_totp_enrolment(account.id)
    seed = totp.b32decode(secret_b32)
    accounts.confirm_totp(account.id, totp.totp(seed, live.idp.clock()))
    after = h.tokens(
        live,
        "rp-rs256",
        scope="openid",
        session=session,
        username=name,
        password=password,
        totp_code=lambda: totp.hotp(seed, totp.time_step(live.idp.clock()) + 1),
        acr_values="loa2",
    )
    page = session.get(live("/idp/logout"), timeout=TIMEOUT)
    action, csrf = h.form_of(page)
    response = session.post(
        action, data={"confirm": "yes", "csrf_token": csrf}, allow_redirects=False
    )
    assert response.status_code == 200
    # Single logout reaches what the session did before the step-up as well ...
    assert userinfo(live, after["access_token"]).status_code == 401
    # ... and the logout token names the sid the relying party got before the step-up.
    assert live.idp.logout_sender.drain(10)  # delivered off the user's request
    sid_before = json.loads(base64.urlsafe_b64decode(before["id_token"].split(".")[1] + "=="))[
        "sid"
    ]
    logout_sids = [
        json.loads(base64.urlsafe_b64decode(t.split(".")[1] + "=="))["sid"]
        for t in live.receiver.tokens_for("rp-es256")
    ]
    assert sid_before in logout_sids
    assert userinfo(live, before["access_token"]).status_code == 401
    assert introspect(live, before["access_token"]) == {"active": False}


def test_prompt_none_without_session(h: Any, live: Any) -> None:
    result = _authorize_error(h, live, challenge=h.pkce()[1], prompt="none")
    assert result["error"] == "login_required"


def test_prompt_none_with_session_needs_no_page(h: Any, live: Any) -> None:
    first = h.authorize(live, "rp-rs256", scope="openid")
    again = h.authorize(live, "rp-rs256", scope="openid", session=first.flow.session, prompt="none")
    assert not again.flow.visited("/idp/login")
    assert h.redeem(live, again).status_code == 200


def test_max_age_zero_forces_login(h: Any, live: Any) -> None:
    first = h.authorize(live, "rp-rs256", scope="openid")
    session = first.flow.session
    cookie1 = _sso_cookie(session)
    time.sleep(1.1)  # auth_time has whole seconds
    again = h.authorize(live, "rp-rs256", scope="openid", session=session, max_age="0")
    assert again.flow.visited("/idp/login")
    assert _sso_cookie(session) != cookie1
    response = h.redeem(live, again)
    assert response.status_code == 200
    claims = jwt.decode(response.json()["id_token"], _keyset(live), algorithms=["RS256"]).claims
    assert claims["auth_time"] >= int(time.time()) - 5
