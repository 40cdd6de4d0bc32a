"""JWT access tokens (RFC 9068) and the "Tokens (JOSE/COSE)" lines of SECURITY.md:
every forged, confused, stale or malformed token is refused by
``TokenService.validate_access_token`` *and* by ``/idp/userinfo`` over HTTP.

Each variant starts from a real access token (so its ``jti`` is on record and
the unmodified re-signed token is accepted) and changes one thing; the hub's
own keys sign where a variant needs a valid signature. The client-credentials
grant for machine clients closes the module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import pytest
import requests

from idp.tokens import MAX_TOKEN_SIZE, TokenError
from keys import KeyPurpose
from trust import KeyFamily, b64url, b64url_decode, generate_private_key
from trust.jws import sign_compact
from trust.sigenc import CURVE_ORDERS, encode_der_rs

TIMEOUT = 15
P256_N = CURVE_ORDERS[KeyFamily.P256]


@pytest.fixture(scope="module")
def base(live: Any, h: Any) -> dict[str, Any]:
    """A real access token: its header and claims, and the hub's signers."""
    body = h.tokens(live, "rp-rs256", scope="openid profile")
    head, payload, _sig = body["access_token"].split(".")
    keys = live.hub.keys
    return {
        "token": body["access_token"],
        "id_token": body["id_token"],
        "header": json.loads(_unb64(head)),
        "claims": json.loads(_unb64(payload)),
        "at": keys.signer(KeyPurpose.ACCESS_TOKEN, algorithm="ES256"),
        "id_es256": keys.signer(KeyPurpose.ID_TOKEN, algorithm="ES256"),
        "id_rs256": keys.signer(KeyPurpose.ID_TOKEN, algorithm="RS256"),
    }


def _unb64(part: str) -> bytes:
    return b64url_decode(part)


def _json(obj: Mapping[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def resign(
    base: dict[str, Any], signer: str = "at", header: dict[str, Any] | None = None, **claims: Any
) -> str:
    """The base claims with changes (``None`` deletes), signed by one of the hub's keys."""
    body = {**base["claims"], **claims}
    body = {k: v for k, v in body.items() if v is not None}
    extra = {"typ": "at+jwt"}
    extra.update(header or {})
    extra = {k: v for k, v in extra.items() if v is not None}
    return sign_compact(json.dumps(body).encode(), base[signer], extra)


def raw(header: Mapping[str, Any], claims: Mapping[str, Any], signature: bytes) -> str:
    return f"{_json(header)}.{_json(claims)}.{b64url(signature)}"


def check_refused(live: Any, token: str) -> TokenError:
    with pytest.raises(TokenError) as excinfo:
        live.idp.tokens.validate_access_token(token)
    response = requests.get(
        live("/idp/userinfo"), headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    assert response.status_code == 401, (response.status_code, response.text)
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    return excinfo.value


def check_accepted(live: Any, token: str) -> None:
    claims = live.idp.tokens.validate_access_token(token)
    assert claims.client_id == "rp-rs256"
    response = requests.get(
        live("/idp/userinfo"), headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text


# ----------------------------------------------------------------------------- baseline


def test_issued_and_resigned_tokens_are_accepted(live: Any, base: dict[str, Any]) -> None:
    assert base["header"]["typ"] == "at+jwt" and base["header"]["alg"] == "ES256"
    claims = base["claims"]
    assert claims["iss"] == live.url and claims["aud"] == live.url
    assert claims["client_id"] == "rp-rs256" and claims["scope"] == "openid profile"
    assert claims["exp"] - claims["iat"] <= 600 and claims["jti"]
    check_accepted(live, base["token"])
    check_accepted(live, resign(base))  # the variants below differ in one thing only


# ----------------------------------------------------------------------------- algorithms


def test_alg_none_is_refused(live: Any, base: dict[str, Any]) -> None:
    for alg in ("none", "None", "NONE", ""):
        header = {"alg": alg, "kid": base["header"]["kid"], "typ": "at+jwt"}
        check_refused(live, raw(header, base["claims"], b""))
    # ... also with the real signature left in place.
    head, payload, sig = base["token"].split(".")
    none_head = _json({"alg": "none", "kid": base["header"]["kid"], "typ": "at+jwt"})
    check_refused(live, f"{none_head}.{payload}.{sig}")


def test_hmac_with_the_public_key_is_refused(live: Any, base: dict[str, Any]) -> None:
    """RS/ES ↔ HS key confusion: the public key (PEM, DER, JWK) used as an HMAC secret."""
    public = base["at"].public_key
    for secret in (public.pem(), public.spki_der(), json.dumps(public.jwk()).encode()):
        for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            header = {"alg": alg, "kid": base["header"]["kid"], "typ": "at+jwt"}
            signing_input = f"{_json(header)}.{_json(base['claims'])}".encode()
            mac = hmac.new(secret, signing_input, digest).digest()
            check_refused(live, raw(header, base["claims"], mac))


def test_key_confusion_between_token_kinds_is_refused(live: Any, base: dict[str, Any]) -> None:
    # The ID-token RS256 key: the wrong algorithm for access tokens and the wrong key.
    check_refused(live, resign(base, "id_rs256"))
    # The ID-token ES256 key: the right algorithm, but a key made for another purpose.
    check_refused(live, resign(base, "id_es256"))
    # An RS256 signature by the ID-token key under the access-token key's kid.
    check_refused(live, resign(base, "id_rs256", header={"kid": base["header"]["kid"]}))
    # PS256/ES384/SM2 names on an access token.
    for alg in ("RS256", "PS256", "ES384", "SM2", "EdDSA"):
        head = _json({**base["header"], "alg": alg})
        _h, payload, sig = base["token"].split(".")
        check_refused(live, f"{head}.{payload}.{sig}")


# ----------------------------------------------------------------------------- kid and headers


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "/dev/null",
        "' OR 1=1 --",
        '"; DROP TABLE keys; --',
        "%00",
        "k" * 5000,
        "",
    ],
)
def test_kid_is_an_opaque_lookup_key(live: Any, base: dict[str, Any], kid: str) -> None:
    error = check_refused(live, resign(base, header={"kid": kid}))
    assert "unknown" in error.message, error.message


def test_non_string_kid_is_refused(live: Any, base: dict[str, Any]) -> None:
    for kid in (1, None, ["a"], {"$ne": ""}):
        head = _json({"alg": "ES256", "typ": "at+jwt", "kid": kid})
        _h, payload, sig = base["token"].split(".")
        check_refused(live, f"{head}.{payload}.{sig}")


def test_embedded_keys_and_key_urls_are_not_followed(live: Any, base: dict[str, Any]) -> None:
    attacker = generate_private_key("p256")
    signer = attacker.signer("ES256", key_id=base["header"]["kid"])
    for extra in (
        {"jwk": attacker.public_key().jwk()},
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"x5c": ["MIIB"]},
    ):
        token = sign_compact(
            json.dumps(base["claims"]).encode(), signer, {"typ": "at+jwt", **extra}
        )
        check_refused(live, token)


def test_unknown_crit_is_refused(live: Any, base: dict[str, Any]) -> None:
    check_refused(live, resign(base, header={"crit": ["exp-ext"], "exp-ext": True}))
    check_refused(live, resign(base, header={"crit": []}))
    check_refused(live, resign(base, header={"crit": "b64"}))


def test_duplicate_header_members_are_refused(live: Any, base: dict[str, Any]) -> None:
    kid = base["header"]["kid"]
    head_json = f'{{"alg":"ES256","alg":"none","kid":"{kid}","typ":"at+jwt"}}'
    _h, payload, sig = base["token"].split(".")
    check_refused(live, f"{b64url(head_json.encode())}.{payload}.{sig}")


# ----------------------------------------------------------------------------- signatures


def test_tampered_and_malformed_signatures_are_refused(live: Any, base: dict[str, Any]) -> None:
    head, payload, sig = base["token"].split(".")
    tampered = _json({**base["claims"], "scope": "openid profile identity"})
    check_refused(live, f"{head}.{tampered}.{sig}")  # payload changed
    check_refused(live, f"{head}.{payload}.")  # stripped
    check_refused(live, f"{head}.{payload}")  # two parts
    check_refused(live, f"{head}.{payload}.{sig}.{sig}")  # four parts
    raw_sig = _unb64(sig)
    flipped = bytes([raw_sig[0] ^ 1]) + raw_sig[1:]
    check_refused(live, f"{head}.{payload}.{b64url(flipped)}")
    zeros = bytes(64)  # r = s = 0
    check_refused(live, f"{head}.{payload}.{b64url(zeros)}")
    n = P256_N.to_bytes(32, "big")
    r = raw_sig[:32]
    s = raw_sig[32:]
    check_refused(live, f"{head}.{payload}.{b64url(n + s)}")  # r = n
    check_refused(live, f"{head}.{payload}.{b64url(r + n)}")  # s = n
    s_plus_n = (int.from_bytes(s, "big") + P256_N).to_bytes(33, "big")
    check_refused(live, f"{head}.{payload}.{b64url(r + s_plus_n)}")  # s + n, wider
    for wrong in (raw_sig[:63], raw_sig + b"\x00", b"\x00" + raw_sig):  # wrong lengths
        check_refused(live, f"{head}.{payload}.{b64url(wrong)}")
    # A DER signature instead of the fixed-width JOSE form.
    der = encode_der_rs(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    check_refused(live, f"{head}.{payload}.{b64url(der)}")
    check_refused(live, f"{head}.{payload}.!!notbase64!!")


# ----------------------------------------------------------------------------- claims


def test_expiry_has_at_most_15_seconds_leeway(live: Any, base: dict[str, Any]) -> None:
    now = int(time.time())
    check_refused(live, resign(base, exp=now - 20, iat=now - 620))
    check_refused(live, resign(base, exp=now - 3600, iat=now - 4200))
    now = int(time.time())
    check_accepted(live, resign(base, exp=now - 5, iat=now - 605))  # within the leeway
    check_refused(live, resign(base, exp=None))
    check_refused(live, resign(base, exp=str(now + 60)))


def test_not_before_and_issued_at_in_the_future(live: Any, base: dict[str, Any]) -> None:
    # The leeway is 60 s; each token is dated from the clock at the moment it is
    # made, with margins that survive a slow, loaded CI machine.
    check_refused(live, resign(base, nbf=int(time.time()) + 90))
    check_refused(live, resign(base, nbf=int(time.time()) + 3600))
    check_accepted(live, resign(base, nbf=int(time.time()) + 5))
    check_refused(live, resign(base, iat=int(time.time()) + 90))
    check_refused(live, resign(base, iat=None))
    check_refused(live, resign(base, nbf="soon"))


def test_wrong_type_issuer_and_audience(live: Any, base: dict[str, Any]) -> None:
    check_refused(live, resign(base, header={"typ": "JWT"}))
    check_refused(live, resign(base, header={"typ": None}))
    check_refused(live, resign(base, header={"typ": "logout+jwt"}))
    check_refused(live, resign(base, iss="https://evil.example"))
    check_refused(live, resign(base, iss=live.url + "/"))
    check_refused(live, resign(base, iss=None))
    check_refused(live, resign(base, aud="rp-rs256"))
    check_refused(live, resign(base, aud=["https://other.example"]))
    check_refused(live, resign(base, aud=None))
    check_accepted(live, resign(base, aud=["https://other.example", live.url]))


def test_an_id_token_is_not_an_access_token(live: Any, base: dict[str, Any]) -> None:
    error = check_refused(live, base["id_token"])
    assert "type" in error.message or "algorithm" in error.message or "key" in error.message


def test_required_claims(live: Any, base: dict[str, Any]) -> None:
    for name in ("sub", "client_id", "jti"):
        check_refused(live, resign(base, **{name: None}))
    check_refused(live, resign(base, scope=["openid"]))
    # A payload that is not a JSON object.
    head = _json(base["header"])
    signing_input = f"{head}.{b64url(b'[1,2]')}".encode()
    sig = base["at"].sign_raw(signing_input)
    check_refused(live, f"{head}.{b64url(b'[1,2]')}.{b64url(sig)}")


def test_oversized_tokens_are_refused_fast(live: Any, base: dict[str, Any]) -> None:
    big = resign(base, padding="x" * MAX_TOKEN_SIZE)  # validly signed, just too large
    assert len(big) > MAX_TOKEN_SIZE
    started = time.perf_counter()
    error = check_refused(live, big)
    assert time.perf_counter() - started < 1.0
    assert "large" in error.message
    junk = "a." * 60_000 + "b"  # far larger, not even a JWS
    started = time.perf_counter()
    with pytest.raises(TokenError):
        live.idp.tokens.validate_access_token(junk)
    assert time.perf_counter() - started < 0.1


def test_revoked_token_is_refused_at_userinfo(live: Any, h: Any) -> None:
    body = h.tokens(live, "rp-rs256", scope="openid")
    response = requests.post(
        live("/idp/revoke"),
        data={"token": body["access_token"]},
        auth=live.basic("rp-rs256"),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    # Still a well-formed token (resource servers that do not ask see it as valid) ...
    live.idp.tokens.validate_access_token(body["access_token"])
    # ... but the hub's own endpoints check revocation.
    response = requests.get(
        live("/idp/userinfo"),
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401


# ----------------------------------------------------------------------------- client credentials


def client_credentials(live: Any, client_id: str = "machine", **form: str) -> requests.Response:
    return requests.post(
        live("/idp/token"),
        data={"grant_type": "client_credentials", **form},
        auth=live.basic(client_id),
        timeout=TIMEOUT,
    )


def test_machine_client_gets_an_rfc9068_access_token(live: Any) -> None:
    response = client_credentials(live)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body
    assert set(body["scope"].split()) == {"seal:sign", "license:issue"}
    head = json.loads(_unb64(body["access_token"].split(".")[0]))
    assert head["typ"] == "at+jwt" and head["alg"] == "ES256"
    claims = live.idp.tokens.validate_access_token(
        body["access_token"], required_scopes=("seal:sign",)
    )
    assert claims.sub == "machine" and claims.client_id == "machine"
    assert claims.scope == {"seal:sign", "license:issue"}
    with pytest.raises(TokenError) as excinfo:
        live.idp.tokens.validate_access_token(
            body["access_token"], required_scopes=("license:revoke",)
        )
    assert excinfo.value.code == "insufficient_scope"
    # No user behind it: UserInfo says the scope is insufficient.
    response = requests.get(
        live("/idp/userinfo"),
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_machine_client_may_narrow_its_scope(live: Any) -> None:
    response = client_credentials(live, scope="seal:sign")
    assert response.status_code == 200
    assert response.json()["scope"] == "seal:sign"


@pytest.mark.parametrize(
    "scope", ["license:revoke", "seal:sign license:revoke", "openid", "profile", "seal:sign2"]
)
def test_machine_client_cannot_ask_for_more(live: Any, scope: str) -> None:
    response = client_credentials(live, scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_client_credentials_only_for_machine_clients(live: Any) -> None:
    response = client_credentials(live, "rp-rs256", scope="openid")
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    response = requests.post(
        live("/idp/token"),
        data={"grant_type": "client_credentials"},
        auth=("machine", "wrong-secret-" + "x" * 30),
        timeout=TIMEOUT,
    )
    assert response.status_code == 401


def test_token_issue_and_refresh_are_recorded_as_events(hub):
    from sqlalchemy import select

    from idp.models import AuthEvent

    hub.ensure_hub_keys()
    idp = hub.idp
    client = idp.clients.add(
        client_id="ev",
        name="ev",
        redirect_uris=["https://ev.example/cb"],
        secret="e" * 40,
        scopes=["openid", "offline_access"],
    )
    body = idp.server.issue_for_user(
        client=client,
        account_id="acct-1",
        scope="openid offline_access",
        sid="sid-1",
        auth_time=hub.clock(),
        acr="loa1",
        amr=["pwd"],
        nonce=None,
        claims=None,
    )
    record = idp.server.consume_refresh_token(body["refresh_token"], client)
    assert record is not None
    idp.server.issue_for_user(
        client=client,
        account_id="acct-1",
        scope="openid offline_access",
        sid="sid-1",
        auth_time=hub.clock(),
        acr="loa1",
        amr=["pwd"],
        nonce=None,
        claims=None,
        grant_id=record.grant.id,
    )
    with hub.db.session() as s:
        kinds = [e.kind for e in s.scalars(select(AuthEvent).order_by(AuthEvent.id)).all()]
    assert kinds == ["token_issued", "token_refreshed"]


def test_client_of_a_suspended_participant_is_refused(hub):
    from trust.identifiers import seed_participants

    hub.registry.seed([p for p in seed_participants() if p.id in ("hub", "zj")])
    idp = hub.idp
    idp.clients.add(
        client_id="zj-x",
        name="浙江",
        redirect_uris=["https://zj.example/cb"],
        secret="z" * 40,
        participant_id="zj",
    )
    assert idp.clients.get("zj-x") is not None
    hub.registry.suspend("zj", actor="admin:test")
    idp.clients._cache.clear()  # another worker would see it within CLIENT_CACHE_SECONDS
    assert idp.clients.get("zj-x") is None
