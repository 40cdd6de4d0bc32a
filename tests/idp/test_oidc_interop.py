"""Standard OAuth/OIDC client libraries against the live hub — not our code on both ends.

* Authlib's ``OAuth2Session`` (PKCE S256, discovery over HTTP, token, refresh with
  rotation, RFC 7662 introspection, RFC 7009 revocation) with ID tokens checked by
  joserfc against the published JWKS (RS256 and ES256: signature, iss, aud, nonce,
  exp);
* pyoidc's ``oic.oic.Client`` (discovery with issuer check, key jar from
  ``jwks_uri``, PKCE, authorization response parsing, token request with its own
  ID token validation, UserInfo);
* SM2 ID tokens, which neither library knows, with ``trust.jws`` and a JWK from
  ``/idp/jwks`` (``crv: SM2``);
* RP-initiated logout (``id_token_hint``, ``post_logout_redirect_uri``, ``state``)
  and the back-channel logout tokens the relying parties receive, verified by joserfc.
"""

from __future__ import annotations

import json
import secrets
import time
import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from trust import b64url, public_key_from_jwk
from trust.jws import parse_compact

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # a third-party import must not fail collection
    from oic import rndstr
    from oic.oic import Client as OicClient
    from oic.oic.message import AccessTokenResponse, AuthorizationResponse, RegistrationResponse
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


# ----------------------------------------------------------------------------- helpers


def discovery(live: Any) -> dict[str, Any]:
    response = requests.get(live("/.well-known/openid-configuration"), timeout=10)
    assert response.status_code == 200
    meta: dict[str, Any] = response.json()
    assert meta["issuer"] == live.url
    return meta


def jwks(meta: dict[str, Any]) -> dict[str, Any]:
    response = requests.get(meta["jwks_uri"], timeout=10)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def keyset(meta: dict[str, Any]) -> KeySet:
    """The published keys joserfc understands (it has no SM2)."""
    keys = [k for k in jwks(meta)["keys"] if k.get("crv") != "SM2"]
    return KeySet.import_key_set({"keys": keys})


def validate_id_token(
    meta: dict[str, Any], id_token: str, *, alg: str, client_id: str, nonce: str | None
) -> dict[str, Any]:
    token = jwt.decode(id_token, keyset(meta), algorithms=[alg])
    assert token.header["alg"] == alg
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "sub": {"essential": True},
        "auth_time": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    jwt.JWTClaimsRegistry(leeway=5, **options).validate(token.claims)
    return dict(token.claims)


def authlib_session(live: Any, client_id: str, scope: str) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        live.basic(client_id)[1],
        scope=scope,
        redirect_uri=live.redirect_uri(client_id),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
    )


def authlib_login(
    h: Any, live: Any, client_id: str, scope: str = "openid profile offline_access"
) -> tuple[OAuth2Session, dict[str, Any], dict[str, Any], str, Any]:
    """Authorization code + PKCE through Authlib; returns (client, meta, token, nonce, flow)."""
    meta = discovery(live)
    client = authlib_session(live, client_id, scope)
    verifier = generate_token(48)
    nonce = generate_token(16)
    uri, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert "code_challenge_method=S256" in uri
    flow = h.drive(uri)
    assert flow.location is not None, flow.describe()
    params = flow.params
    assert params["iss"] == meta["issuer"]  # RFC 9207, checked by the client
    token = client.fetch_token(
        meta["token_endpoint"],
        authorization_response=flow.location,
        code_verifier=verifier,
        state=state,
    )
    return client, meta, dict(token), nonce, flow


# ----------------------------------------------------------------------------- discovery


def test_discovery_document_matches_the_served_endpoints(live: Any) -> None:
    meta = discovery(live)
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ):
        assert meta[name].startswith(live.url + "/idp/")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert "password" not in meta["grant_types_supported"]
    assert "implicit" not in meta["grant_types_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "private_key_jwt",
    }
    keys = jwks(meta)["keys"]
    sm2 = requests.get(meta["govtrust_sm2_jwks_uri"], timeout=10).json()["keys"]
    assert {k["alg"] for k in keys} >= {"RS256", "ES256"} and {k["alg"] for k in sm2} == {"SM2"}
    for key in keys + sm2:
        assert key["kid"] and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)  # public members only


# ----------------------------------------------------------------------------- Authlib


@pytest.mark.parametrize(("client_id", "alg"), [("rp-rs256", "RS256"), ("rp-es256", "ES256")])
def test_authlib_code_flow_with_pkce_and_id_token_validation(
    h: Any, live: Any, client_id: str, alg: str
) -> None:
    client, meta, token, nonce, _flow = authlib_login(h, live, client_id)
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"openid", "profile", "offline_access"}
    claims = validate_id_token(meta, token["id_token"], alg=alg, client_id=client_id, nonce=nonce)
    assert claims["azp"] == client_id and claims["sid"] and claims["acr"] == "loa1"
    assert claims["amr"] == ["pwd"]
    # The access token is a JWT for resource servers (RFC 9068), verifiable the same way.
    at = jwt.decode(token["access_token"], keyset(meta), algorithms=["ES256"])
    assert at.header["typ"] == "at+jwt"
    assert at.claims["client_id"] == client_id and at.claims["iss"] == meta["issuer"]

    client.token = token
    info = client.get(meta["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["name"] == "张三"


def test_joserfc_refuses_a_tampered_id_token(h: Any, live: Any) -> None:
    _client, meta, token, _nonce, _flow = authlib_login(h, live, "rp-rs256", "openid")
    head, _payload, sig = token["id_token"].split(".")
    claims = jwt.decode(token["id_token"], keyset(meta), algorithms=["RS256"]).claims
    forged_payload = b64url(json.dumps(dict(claims, sub="someone-else")).encode())
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{head}.{forged_payload}.{sig}", keyset(meta), algorithms=["RS256"])


def test_authlib_refresh_rotates_and_the_old_token_fails(h: Any, live: Any) -> None:
    client, meta, token, _nonce, _flow = authlib_login(h, live, "rp-es256")
    first = token["refresh_token"]
    rotated = client.refresh_token(meta["token_endpoint"], refresh_token=first)
    assert rotated["refresh_token"] != first
    assert rotated["access_token"] != token["access_token"]

    again = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first},
        auth=live.basic("rp-es256"),
        timeout=10,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_authlib_introspection_and_revocation(h: Any, live: Any) -> None:
    client, meta, token, _nonce, _flow = authlib_login(h, live, "rp-rs256")
    endpoint = meta["introspection_endpoint"]

    active = client.introspect_token(endpoint, token=token["access_token"]).json()
    assert active["active"] is True
    assert active["client_id"] == "rp-rs256" and active["iss"] == meta["issuer"]
    assert set(active["scope"].split()) == {"openid", "profile", "offline_access"}
    refresh = client.introspect_token(
        endpoint, token=token["refresh_token"], token_type_hint="refresh_token"
    ).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert client.introspect_token(endpoint, token="garbage").json() == {"active": False}

    # RFC 7009: revoking the access token ends that token only.
    response = client.revoke_token(meta["revocation_endpoint"], token=token["access_token"])
    assert response.status_code == 200
    assert client.introspect_token(endpoint, token=token["access_token"]).json() == {
        "active": False
    }
    assert client.introspect_token(endpoint, token=token["refresh_token"]).json()["active"]

    # Revoking the refresh token ends the grant: every token issued under it.
    rotated = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    response = client.revoke_token(
        meta["revocation_endpoint"], token=rotated["refresh_token"], token_type_hint="refresh_token"
    )
    assert response.status_code == 200
    for value in (rotated["refresh_token"], rotated["access_token"]):
        assert client.introspect_token(endpoint, token=value).json() == {"active": False}
    # Unknown tokens are "revoked" too (200, RFC 7009 §2.2).
    assert client.revoke_token(meta["revocation_endpoint"], token="nonsense").status_code == 200


def test_revocation_by_another_client_has_no_effect(h: Any, live: Any) -> None:
    _client, meta, token, _nonce, _flow = authlib_login(h, live, "rp-rs256")
    other = authlib_session(live, "rp-es256", "openid")
    for value in (token["access_token"], token["refresh_token"]):
        assert other.revoke_token(meta["revocation_endpoint"], token=value).status_code == 200
    owner = authlib_session(live, "rp-rs256", "openid")
    assert owner.introspect_token(
        meta["introspection_endpoint"], token=token["access_token"]
    ).json()["active"]
    assert owner.introspect_token(
        meta["introspection_endpoint"], token=token["refresh_token"]
    ).json()["active"]


# ----------------------------------------------------------------------------- pyoidc


def pyoidc_client(live: Any, client_id: str, alg: str) -> OicClient:
    client = OicClient(client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(live.url)  # discovery; refuses an issuer mismatch
    client.store_registration_info(
        RegistrationResponse(
            client_id=client_id,
            client_secret=live.basic(client_id)[1],
            redirect_uris=[live.redirect_uri(client_id)],
            id_token_signed_response_alg=alg,
        )
    )
    client.redirect_uris = [live.redirect_uri(client_id)]
    return client


@pytest.mark.parametrize(("client_id", "alg"), [("rp-rs256", "RS256"), ("rp-es256", "ES256")])
def test_pyoidc_code_flow(h: Any, live: Any, client_id: str, alg: str) -> None:
    client = pyoidc_client(live, client_id, alg)
    assert client.provider_info["issuer"] == live.url
    pkce_args, verifier = client.add_code_challenge()
    assert pkce_args["code_challenge_method"] == "S256"
    state, nonce = rndstr(16), rndstr(16)
    request_args = {
        "client_id": client_id,
        "response_type": "code",
        "scope": ["openid", "profile", "phone"],
        "redirect_uri": live.redirect_uri(client_id),
        "state": state,
        "nonce": nonce,
        **pkce_args,
    }
    auth_req = client.construct_AuthorizationRequest(request_args=request_args)
    flow = h.drive(auth_req.request(client.authorization_endpoint))
    assert flow.location is not None, flow.describe()

    aresp = client.parse_response(
        AuthorizationResponse, info=urlsplit(flow.location).query, sformat="urlencoded"
    )
    assert isinstance(aresp, AuthorizationResponse)
    assert aresp["state"] == state and aresp["iss"] == live.url

    client.state2nonce[state] = nonce  # pyoidc compares the ID token's nonce with this
    resp = client.do_access_token_request(
        state=state,
        request_args={
            "code": aresp["code"],
            "redirect_uri": live.redirect_uri(client_id),
            "code_verifier": verifier,
        },
        authn_method="client_secret_basic",
    )
    assert isinstance(resp, AccessTokenResponse), resp
    id_token = resp["id_token"]  # already verified by pyoidc with keys from jwks_uri
    assert id_token.jws_header["alg"] == alg
    client.verify_id_token(id_token, auth_req)  # iss, aud, exp, nonce
    assert id_token["nonce"] == nonce and id_token["iss"] == live.url
    assert id_token["aud"] == [client_id]

    info = client.do_user_info_request(state=state)
    assert info["sub"] == id_token["sub"]
    assert info["name"] == "张三"


def test_pyoidc_refuses_a_forged_id_token(h: Any, live: Any) -> None:
    client = pyoidc_client(live, "rp-rs256", "RS256")
    body = h.tokens(live, "rp-rs256", scope="openid")
    head, payload, sig = body["id_token"].split(".")
    forged = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    message = json.dumps(
        {
            "access_token": body["access_token"],
            "token_type": "Bearer",
            "id_token": ".".join((head, payload, forged)),
        }
    )
    with pytest.raises(Exception) as excinfo:
        client.parse_response(AccessTokenResponse, info=message, sformat="json")
    assert "signature" in str(excinfo.value).lower() or excinfo.type.__name__ in {
        "BadSignature",
        "NoSuitableSigningKeys",
        "VerificationError",
    }


# ----------------------------------------------------------------------------- SM2


def test_sm2_id_token_verifies_with_the_published_sm2_key(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-sm2", scope="openid profile")
    meta = discovery(live)
    payload, payload_b64, sig = parse_compact(body["id_token"], allowed={"SM2"})
    assert sig.header["alg"] == "SM2" and sig.header["typ"] == "JWT"
    sm2_keys = requests.get(meta["govtrust_sm2_jwks_uri"], timeout=10).json()["keys"]
    published = [k for k in sm2_keys if k["kid"] == sig.header["kid"]]
    assert len(published) == 1 and published[0]["crv"] == "SM2"
    # The standard JWKS carries no SM2 key, so standard JOSE libraries can import it whole.
    assert all(k.get("crv") != "SM2" for k in jwks(meta)["keys"])
    from joserfc.jwk import KeySet

    assert len(KeySet.import_key_set(jwks(meta)).keys) >= 2
    key = public_key_from_jwk(published[0])
    assert sig.verify(payload_b64, key)
    claims = json.loads(payload)
    auth = body["_auth"]
    assert claims["iss"] == live.url and claims["aud"] == "rp-sm2"
    assert claims["nonce"] == auth.nonce
    assert claims["exp"] > time.time() > claims["iat"] - 5
    # Tampering is noticed.
    assert not sig.verify(payload_b64[:-2] + ("AA" if payload_b64[-2:] != "AA" else "BB"), key)


# ----------------------------------------------------------------------------- logout


def test_rp_initiated_logout_and_back_channel_logout_tokens(h: Any, live: Any) -> None:
    meta = discovery(live)
    session = requests.Session()
    first = h.tokens(live, "rp-rs256", scope="openid profile", session=session)
    second = h.tokens(live, "rp-es256", scope="openid profile", session=session)
    # The second sign-in was single sign-on: no login form the second time.
    assert not second["_auth"].flow.visited("/idp/login")
    id1 = validate_id_token(
        meta, first["id_token"], alg="RS256", client_id="rp-rs256", nonce=first["_auth"].nonce
    )
    id2 = validate_id_token(
        meta, second["id_token"], alg="ES256", client_id="rp-es256", nonce=second["_auth"].nonce
    )
    assert id1["sid"] == id2["sid"]
    before = {c: len(live.receiver.tokens_for(c)) for c in ("rp-rs256", "rp-es256")}

    state = secrets.token_urlsafe(8)
    page = session.get(
        meta["end_session_endpoint"],
        params={
            "id_token_hint": first["id_token"],
            "post_logout_redirect_uri": live.post_logout_uri("rp-rs256"),
            "state": state,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 200  # a confirmation page, not an immediate logout
    action, csrf = h.form_of(page)
    fields = {
        "id_token_hint": first["id_token"],
        "post_logout_redirect_uri": live.post_logout_uri("rp-rs256"),
        "state": state,
    }
    done = session.post(
        action,
        data={**fields, "csrf_token": csrf, "confirm": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 303
    target = urlsplit(done.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == live.post_logout_uri("rp-rs256")
    assert parse_qs(target.query) == {"state": [state]}

    # Both relying parties of the session got a logout token at their back channel
    # (sent by the background sender, not inside the user's request).
    assert live.idp.logout_sender.drain(10)
    ks = keyset(meta)
    for client_id, alg, id_claims in (("rp-rs256", "RS256", id1), ("rp-es256", "ES256", id2)):
        received = live.receiver.tokens_for(client_id)[before[client_id] :]
        assert len(received) == 1, f"{client_id}: {received}"
        token = jwt.decode(received[0], ks, algorithms=[alg])
        assert token.header["typ"] == "logout+jwt"
        jwt.JWTClaimsRegistry(
            leeway=5,
            iss={"essential": True, "value": meta["issuer"]},
            aud={"essential": True, "value": client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
            sid={"essential": True, "value": id_claims["sid"]},
        ).validate(token.claims)
        assert token.claims["events"] == {BACKCHANNEL_EVENT: {}}
        assert "nonce" not in token.claims
        assert token.claims["sub"] == id_claims["sub"]

    # The session's grants (no offline access asked for) are gone, and so is the session.
    client = authlib_session(live, "rp-rs256", "openid")
    assert client.introspect_token(
        meta["introspection_endpoint"], token=first["access_token"]
    ).json() == {"active": False}
    again = h.drive(
        h.authorize_url(live, "rp-rs256", challenge=h.pkce()[1], prompt="none"), session=session
    )
    assert again.params["error"] == "login_required"


def test_logout_refuses_an_unregistered_post_logout_redirect_uri(h: Any, live: Any) -> None:
    body = h.tokens(live, "rp-rs256", scope="openid")
    response = requests.get(
        live("/idp/logout"),
        params={
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": "https://evil.example/bye",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "Location" not in response.headers
    # Another client's registered URI is not this client's either.
    response = requests.get(
        live("/idp/logout"),
        params={
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": live.post_logout_uri("rp-es256"),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "Location" not in response.headers
