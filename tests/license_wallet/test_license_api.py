"""The license API through the WSGI application (SQLite and PostgreSQL): machine
tokens with scopes, object-level authorisation with an audit event, typed JSON
errors, size limits, batches, public status lists with caching headers, issuer
keys that verify presentations."""

from __future__ import annotations

import base64
from typing import Any

import cbor2
import pytest

from govtrust.app import create_app
from govtrust.demo import seed_demo
from license_wallet.credential import present_qr_text, verify_presentation
from license_wallet.errors import LicenseRevoked
from license_wallet.status_list import StatusList, StatusType
from license_wallet.types import example_fields, license_type
from trust.cose import decode_sign1, verify_sign1
from trust.crypto import b64url_decode, generate_private_key, public_key_from_jwk
from trust.identifiers import seed_participants

ID_CARD = license_type("resident_id_card").code
API = "/api/license/v1"


@pytest.fixture
def api(hub: Any) -> Any:
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    for cid, pid in (("mps-test", "mps"), ("samr-test", "samr")):
        hub.idp.clients.add(
            client_id=cid,
            name=cid,
            secret=cid[0] * 40,
            scopes=["license:issue", "license:revoke"],
            participant_id=pid,
            replace=True,
        )
    hub.idp.clients.add(
        client_id="lonely", name="x", secret="l" * 40, scopes=["license:issue"], replace=True
    )
    client = create_app(hub.config, hub=hub).test_client()

    def token(client_id: str = "mps-test", scope: str = "license:issue license:revoke") -> str:
        secret = client_id[0] * 40
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        r = client.post(
            "/idp/token",
            data={"grant_type": "client_credentials", "scope": scope},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert r.status_code == 200, r.data
        return str(r.get_json()["access_token"])

    return hub, client, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def body(key: Any, **over: Any) -> dict[str, Any]:
    return {
        "type": "resident_id_card",
        "holder": {"subject": "acct-9", "key": key.public_key().jwk()},
        "fields": example_fields(ID_CARD),
        "valid_from": "2026-01-01",
        "valid_until": "2046-01-01",
    } | over


def test_issue_read_revoke_and_verify(api: Any) -> None:
    hub, client, token = api
    t = token()
    key = generate_private_key("p256")
    r = client.post(f"{API}/licenses", json=body(key), headers=bearer(t))
    assert r.status_code == 201, r.data
    lic = r.get_json()
    assert lic["issuer"] == "mps" and lic["status"] == "valid" and lic["type_code"] == ID_CARD
    assert r.headers["Location"].endswith(lic["id"])
    assert lic["valid_from"].startswith("2025-12-31T16:00:00")  # Beijing midnight
    credential = b64url_decode(lic["credential"])

    got = client.get(f"{API}/licenses/{lic['id']}", headers=bearer(t))
    assert got.status_code == 200 and got.get_json()["identifier"] == lic["identifier"]

    # verifiers: public issuer keys and status list
    issuers = client.get(f"{API}/issuers").get_json()["issuers"]
    mps = next(i for i in issuers if i["id"] == "mps")
    assert ID_CARD in mps["license_types"]
    lic_keys = [k for k in mps["keys"] if k["purpose"] == "license"]
    assert lic_keys and lic_keys[0]["alg"] == "SM2"

    def lookup(iss: str, kid: bytes | None) -> list[Any]:
        found = next((i for i in issuers if i["id"] == iss), None)
        return [
            public_key_from_jwk({k: v for k, v in key["jwk"].items() if k != "kid"})
            for key in (found or {"keys": []})["keys"]
            if key["purpose"] == "license" and b64url_decode(key["cose_kid"]) == kid
        ]

    qr = present_qr_text(credential, "minimal", key.signer("ES256"), now=hub.clock())
    assert verify_presentation(qr, issuer_keys=lookup, now=hub.clock()).issuer == "mps"

    r = client.post(
        f"{API}/licenses/{lic['id']}/revoke", json={"reason": "注销"}, headers=bearer(t)
    )
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"
    assert "credential" not in r.get_json()
    again = client.post(f"{API}/licenses/{lic['id']}/reinstate", headers=bearer(t))
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_transition"

    status = client.get(f"{API}/status/mps.cwt")
    assert status.status_code == 200
    assert status.mimetype == "application/statuslist+cwt"
    assert "max-age=300" in status.headers["Cache-Control"] and status.headers["ETag"]
    same = client.get(f"{API}/status/mps.1.cwt", headers={"If-None-Match": status.headers["ETag"]})
    assert same.status_code == 304
    sl_key = next(k for k in mps["keys"] if k["purpose"] == "status_list")
    pub = public_key_from_jwk({k: v for k, v in sl_key["jwk"].items() if k != "kid"})
    verify_sign1(status.data, pub, allowed_algs=(-65601,))
    claims = cbor2.loads(decode_sign1(status.data).payload)
    lst = StatusList.decompress(claims[65533]["lst"], 2)
    assert claims[2] == lic["status_list"]["uri"]
    assert lst.get(lic["status_list"]["idx"]) == StatusType.INVALID
    with pytest.raises(LicenseRevoked):
        verify_presentation(
            qr,
            issuer_keys=lookup,
            now=hub.clock(),
            status_lookup=lambda uri, idx: lst.get(idx),
        )


def test_suspend_and_reinstate_through_the_api(api: Any) -> None:
    """license:revoke suspends and reinstates; the published list follows each step
    (at the short URI the credential names); an issuing-only token may not."""
    hub, client, token = api
    t = token()
    r = client.post(f"{API}/licenses", json=body(generate_private_key("p256")), headers=bearer(t))
    assert r.status_code == 201, r.data
    lic = r.get_json()
    uri, idx = lic["status_list"]["uri"], lic["status_list"]["idx"]
    path = uri[uri.index("/sl/") :]

    def published() -> int:
        got = client.get(path)
        assert got.status_code == 200
        claims = cbor2.loads(decode_sign1(got.data).payload)
        assert claims[2] == uri
        return StatusList.decompress(claims[65533]["lst"], 2).get(idx)

    assert published() == StatusType.VALID
    issuing_only = token(scope="license:issue")
    denied = client.post(f"{API}/licenses/{lic['id']}/suspend", headers=bearer(issuing_only))
    assert denied.status_code == 403
    r = client.post(
        f"{API}/licenses/{lic['id']}/suspend", json={"reason": "暂扣"}, headers=bearer(t)
    )
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"
    assert published() == StatusType.SUSPENDED
    r = client.post(f"{API}/licenses/{lic['id']}/reinstate", headers=bearer(t))
    assert r.status_code == 200 and r.get_json()["status"] == "valid"
    assert published() == StatusType.VALID
    again = client.post(f"{API}/licenses/{lic['id']}/reinstate", headers=bearer(t))
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_transition"
    actions = [e.action for e in hub.licenses.events(lic["id"])]
    assert actions == ["license.issued", "license.suspended", "license.reinstated"]


def test_object_level_authorisation(api: Any) -> None:
    hub, client, token = api
    key = generate_private_key("p256")
    lic = client.post(f"{API}/licenses", json=body(key), headers=bearer(token())).get_json()
    other = token("samr-test")
    for path in (f"/licenses/{lic['id']}/revoke", f"/licenses/{lic['id']}/suspend"):
        r = client.post(API + path, headers=bearer(other))
        assert r.status_code == 403 and r.get_json()["error"] == "license_forbidden"
    r = client.get(f"{API}/licenses/{lic['id']}", headers=bearer(other))
    assert r.status_code == 403
    assert hub.licenses.get(lic["id"]).status.value == "valid"
    denied = [e for e in hub.licenses.events(lic["id"]) if e.action == "license.access_denied"]
    assert len(denied) == 3 and denied[0].detail["caller"] == "samr"
    # samr may not issue identity cards
    r = client.post(f"{API}/licenses", json=body(key), headers=bearer(other))
    assert r.status_code == 400 and r.get_json()["error"] == "license_type_not_granted"


def test_scopes_and_tokens(api: Any) -> None:
    hub, client, token = api
    key = generate_private_key("p256")
    assert client.post(f"{API}/licenses", json=body(key)).status_code == 401
    bad = client.post(f"{API}/licenses", json=body(key), headers=bearer("x.y.z"))
    assert bad.status_code == 401 and bad.get_json()["error"]
    issue_only = token(scope="license:issue")
    lic = client.post(f"{API}/licenses", json=body(key), headers=bearer(issue_only)).get_json()
    r = client.post(f"{API}/licenses/{lic['id']}/revoke", headers=bearer(issue_only))
    assert r.status_code == 403 and r.get_json()["error"] == "insufficient_scope"
    lonely = token("lonely", scope="license:issue")
    r = client.post(f"{API}/licenses", json=body(key), headers=bearer(lonely))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"fields": {"holder_name": "张三"}}, 400, "field_missing", "holder_code"),
        ({"fields": example_fields(ID_CARD) | {"sex": "X"}}, 400, "field_bad_enum", "sex"),
        ({"type": "nope"}, 400, "license_type_unknown", None),
        ({"holder": {"subject": "a", "key": {"kty": "EC"}}}, 400, "holder_key_invalid", None),
        ({"valid_from": "yesterday"}, 400, "invalid_request", "valid_from"),
        ({"valid_until": "2020-01-01"}, 400, "invalid_validity", None),
        ({"extra": 1}, 400, "invalid_request", None),
    ],
)
def test_bad_input_is_a_typed_400(
    api: Any, payload: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    hub, client, token = api
    key = generate_private_key("p256")
    r = client.post(f"{API}/licenses", json=body(key, **payload), headers=bearer(token()))
    assert r.status_code == status, r.data
    assert r.get_json()["error"] == code
    assert r.get_json().get("field") == field
    assert hub.licenses.list_for_holder("acct-9") == []


def test_malformed_and_oversized_bodies(api: Any) -> None:
    hub, client, token = api
    t = token()
    r = client.post(
        f"{API}/licenses", data=b"{not json", headers=bearer(t), content_type="application/json"
    )
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_request"
    r = client.post(f"{API}/licenses", data=b"x", headers=bearer(t), content_type="text/plain")
    assert r.status_code == 400
    big = b'{"fields": "' + b"a" * 70_000 + b'"}'
    r = client.post(f"{API}/licenses", data=big, headers=bearer(t), content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"] == "request_too_large"
    nested = b"[" * 50_000 + b"]" * 50_000
    r = client.post(
        f"{API}/batches", data=nested, headers=bearer(t), content_type="application/json"
    )
    assert r.status_code == 400
    r = client.post(f"{API}/licenses/nope/revoke", headers=bearer(t))
    assert r.status_code == 404 and r.get_json()["error"] == "license_unknown"
    assert client.get(f"{API}/status/nobody.cwt").status_code == 404


def test_batch(api: Any) -> None:
    hub, client, token = api
    key = generate_private_key("p256")
    items = [
        body(key),
        body(key, fields={"holder_name": "李四"}),
        body(key, type="nope"),
        body(key),
    ]
    r = client.post(f"{API}/batches", json={"items": items}, headers=bearer(token()))
    assert r.status_code == 200
    out = r.get_json()
    assert out["issued"] == 2 and out["failed"] == 2
    assert [("license" in x) for x in out["results"]] == [True, False, False, True]
    assert out["results"][1]["error"] == "field_missing"
    assert len(hub.licenses.list_for_holder("acct-9")) == 2
    too_many = client.post(f"{API}/batches", json={"items": [{}] * 1001}, headers=bearer(token()))
    assert too_many.status_code == 413


def test_a_retried_batch_issues_nothing_twice(api: Any) -> None:
    hub, client, token = api
    t = token()
    key = generate_private_key("p256")
    items = [body(key), body(key, type="nope"), body(key, fields={"holder_name": "王五"})]
    headers = {**bearer(t), "Idempotency-Key": "batch-2026-11-27-001"}
    first = client.post(f"{API}/batches", json={"items": items}, headers=headers).get_json()
    assert (first["issued"], first["failed"]) == (1, 2)
    ids = [r["license"]["id"] for r in first["results"] if "license" in r]
    # The client retries after a lost answer, with the second item fixed.
    fixed = [items[0], body(key), items[2]]
    again = client.post(f"{API}/batches", json={"items": fixed}, headers=headers).get_json()
    assert again["results"][0]["replayed"] is True
    assert again["results"][0]["license"]["id"] == ids[0]
    assert "license" in again["results"][1] and "replayed" not in again["results"][1]
    assert again["results"][2]["error"] == "field_missing"  # still wrong, still refused
    assert (again["issued"], again["failed"]) == (1, 1)
    assert len(hub.licenses.list_for_holder("acct-9")) == 2
    # The same key with another body for an issued item: a conflict, nothing issued.
    other = [body(key, valid_until="2040-01-01")]
    clash = client.post(f"{API}/batches", json={"items": other}, headers=headers).get_json()
    assert clash["results"][0]["error"] == "idempotency_conflict"
    assert len(hub.licenses.list_for_holder("acct-9")) == 2
    for bad_key in ("", "k" * 195):
        bad = client.post(
            f"{API}/batches",
            json={"items": items},
            headers={**bearer(t), "Idempotency-Key": bad_key},
        )
        assert bad.status_code == 400, bad_key
    long_key = {**bearer(t), "Idempotency-Key": "k" * 194}
    ok = client.post(f"{API}/batches", json={"items": [body(key)] * 2}, headers=long_key)
    assert ok.get_json()["issued"] == 2  # item keys of 194 + "#1" fit the column


def test_openapi(api: Any) -> None:
    hub, client, token = api
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert {"/licenses", "/batches", "/status/{list_id}.cwt", "/issuers"} <= set(doc["paths"])


def test_idempotency_key(api: Any) -> None:
    hub, client, token = api
    t = token()
    key = generate_private_key("p256")
    payload = body(key)
    headers = bearer(t) | {"Idempotency-Key": "order-42"}
    first = client.post(f"{API}/licenses", json=payload, headers=headers)
    assert first.status_code == 201
    again = client.post(f"{API}/licenses", json=payload, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["credential"] == first.get_json()["credential"]
    other = client.post(f"{API}/licenses", json=body(key, valid_until=None), headers=headers)
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_conflict"
    assert len(hub.licenses.list_for_holder("acct-9")) == 1
    # the key is per client: another issuer's client may use the same key
    samr = bearer(token("samr-test")) | {"Idempotency-Key": "order-42"}
    biz = body(
        key, type="business_license", fields=example_fields(license_type("business_license").code)
    )
    assert client.post(f"{API}/licenses", json=biz, headers=samr).status_code == 201
    bad = client.post(
        f"{API}/licenses", json=payload, headers=bearer(t) | {"Idempotency-Key": "x" * 201}
    )
    assert bad.status_code == 400


def test_idempotency_under_a_race(api: Any) -> None:
    """Parallel requests with one key: one license, every answer the same license."""
    import threading

    hub, client, token = api
    t = token()
    key = generate_private_key("p256")
    payload = body(key)
    app = client.application
    answers: list[tuple[int, str]] = []

    def send() -> None:
        c = app.test_client()
        r = c.post(f"{API}/licenses", json=payload, headers=bearer(t) | {"Idempotency-Key": "race"})
        answers.append((r.status_code, r.get_json().get("id", r.get_json().get("error"))))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({a[1] for a in answers}) == 1, answers
    assert sorted(a[0] for a in answers) == [200] * 5 + [201]
    assert len(hub.licenses.list_for_holder("acct-9")) == 1


def test_each_client_is_rate_limited(api: Any) -> None:
    hub, _client, token = api
    app = create_app(hub.config, hub=hub)
    app.config["LICENSE_API_RATE_LIMIT"] = (0.5, 2)
    client = app.test_client()
    t = token()
    codes = [client.get(f"{API}/licenses/none", headers=bearer(t)).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    r = client.get(f"{API}/licenses/none", headers=bearer(t))
    assert r.status_code == 429 and r.get_json()["error"] == "rate_limited"
    assert r.headers["Retry-After"] == "2"
    other = token("samr-test")  # another client has its own budget
    assert client.get(f"{API}/licenses/none", headers=bearer(other)).status_code == 404
