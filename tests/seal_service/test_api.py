"""The sealing API end to end through the WSGI application: machine tokens from the
hub, object-level authorisation, hash mode, documents, idempotency, limits, errors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from govtrust.app import create_app
from govtrust.demo import DEMO_AGENCY_CLIENT, seed_demo
from govtrust.portals import portal_secret
from govtrust.ratelimit import TokenBucket
from seal_service.ofd import verify_ofd
from seal_service.ses import parse_signature, verify_signature
from trust.cms import verify_detached
from trust.hashes import sm3
from trust.identifiers import seed_participants

OFD = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw" / "helloworld.ofd"


@pytest.fixture
def api(hub: Any) -> Any:
    hub.ensure_hub_keys()
    hub.pki.ensure()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    hub.idp.clients.add(
        client_id="gd-agency",
        name="广东 用印系统",
        secret="g" * 40,
        scopes=["seal:sign"],
        participant_id="gd",
    )
    hub.idp.clients.add(client_id="lonely", name="no agency", secret="l" * 40, scopes=["seal:sign"])
    app = create_app(hub.config, hub=hub)
    client = app.test_client()

    def token(client_id: str = DEMO_AGENCY_CLIENT, secret: str | None = None) -> str:
        secret = secret or portal_secret(hub.master_key, DEMO_AGENCY_CLIENT)
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        r = client.post(
            "/idp/token",
            data={"grant_type": "client_credentials", "scope": "seal:sign"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert r.status_code == 200, r.data
        return str(r.get_json()["access_token"])

    seals = {s.algorithm: s for s in hub.seals.list(holder_id="zj")}
    return hub, client, token, seals


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def test_list_and_get_own_seals(api: Any) -> None:
    hub, client, token, seals = api
    t = token()
    listing = client.get("/api/seal/v1/seals", headers=bearer(t)).get_json()
    assert listing["holder"] == "zj"
    assert {s["algorithm"] for s in listing["seals"]} == {"SM2", "RS256"}
    one = client.get(f"/api/seal/v1/seals/{seals['SM2'].id}", headers=bearer(t))
    assert one.status_code == 200 and one.get_json()["kind_zh"] == "公章"
    image = client.get(f"/api/seal/v1/seals/{seals['SM2'].id}/image.png", headers=bearer(t))
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_hash_mode_ses_and_cms(api: Any) -> None:
    hub, client, token, seals = api
    t = token()
    document = "不动产登记申请书".encode()
    r = client.post(
        f"/api/seal/v1/seals/{seals['SM2'].id}/sign",
        json={"format": "ses", "digest": sm3(document).hex(), "digest_alg": "sm3"},
        headers=bearer(t),
    )
    assert r.status_code == 200, r.data
    assert r.headers["Seal-Digest"] == f"sm3={sm3(document).hex()}"
    assert int(r.headers["Seal-Log-Index"]) >= 0 and r.headers["Seal-Operation"]
    report = verify_signature(
        parse_signature(r.data),
        data_hash=sm3(document),
        roots=hub.pki.roots(),
        intermediates=hub.pki.cas(),
    )
    assert report.passed
    r = client.post(
        f"/api/seal/v1/seals/{seals['RS256'].id}/sign",
        json={"format": "cms", "digest": hashlib.sha256(document).hexdigest()},
        headers=bearer(t),
    )
    assert r.status_code == 200 and r.mimetype == "application/pkcs7-signature"
    assert verify_detached(r.data, content=document, roots=hub.pki.roots()).verified


def test_upload_an_ofd(api: Any) -> None:
    hub, client, token, seals = api
    r = client.post(
        f"/api/seal/v1/seals/{seals['SM2'].id}/sign",
        data={
            "format": "ofd",
            "page": "1",
            "x_mm": "60",
            "y_mm": "80",
            "file": (io.BytesIO(OFD.read_bytes()), "a.ofd"),
        },
        headers=bearer(token()),
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.data
    assert r.mimetype == "application/ofd"
    assert verify_ofd(r.data, roots=hub.pki.roots(), intermediates=hub.pki.cas()).passed


def test_other_agencies_get_403_and_an_audit_leaf(api: Any) -> None:
    hub, client, token, seals = api
    gd = token("gd-agency", "g" * 40)
    assert client.get("/api/seal/v1/seals", headers=bearer(gd)).get_json()["seals"] == []
    r = client.get(f"/api/seal/v1/seals/{seals['SM2'].id}", headers=bearer(gd))
    assert r.status_code == 403 and r.get_json()["error"] == "seal_forbidden"
    before = hub.log.size() if hasattr(hub.log, "size") else None
    r = client.post(
        f"/api/seal/v1/seals/{seals['SM2'].id}/sign",
        json={"format": "ses", "digest": "00" * 32},
        headers=bearer(gd),
    )
    assert r.status_code == 403 and r.get_json()["error"] == "seal_forbidden"
    if before is not None:
        assert hub.log.size() == before + 1
    assert hub.sealing.operations() == []
    lonely = token("lonely", "l" * 40)
    assert client.get("/api/seal/v1/seals", headers=bearer(lonely)).status_code == 403


def test_tokens_are_checked(api: Any) -> None:
    hub, client, token, seals = api
    assert client.get("/api/seal/v1/seals").status_code == 401
    assert client.get("/api/seal/v1/seals", headers=bearer("x.y.z")).status_code == 401
    t = token()
    claims = hub.idp.tokens.validate_access_token(t)
    hub.idp.server.revoke_access_token(
        claims.jti, client_id=DEMO_AGENCY_CLIENT, expires_at=claims.exp
    )
    r = client.get("/api/seal/v1/seals", headers=bearer(t))
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_token"


def test_idempotency_key_over_http(api: Any) -> None:
    hub, client, token, seals = api
    t = token()
    url = f"/api/seal/v1/seals/{seals['SM2'].id}/sign"
    body = {"format": "ses", "digest": "11" * 32}
    first = client.post(url, json=body, headers=bearer(t, **{"Idempotency-Key": "req-1"}))
    again = client.post(url, json=body, headers=bearer(t, **{"Idempotency-Key": "req-1"}))
    assert first.status_code == again.status_code == 200
    assert first.data == again.data and again.headers["Idempotent-Replayed"] == "true"
    other = client.post(
        url, json={**body, "digest": "22" * 32}, headers=bearer(t, **{"Idempotency-Key": "req-1"})
    )
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_conflict"


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"json": {"format": "ses", "digest": "zz"}}, 400, "invalid_request"),
        ({"json": {"format": "ofd", "digest": "00" * 32}}, 400, "invalid_request"),
        ({"json": ["not", "an", "object"]}, 400, "invalid_request"),
        ({"data": b"{not json", "content_type": "application/json"}, 400, "invalid_request"),
        ({"json": {"format": "ses", "digest": "00" * 16}}, 400, "bad_digest"),
        ({"data": b"raw", "content_type": "application/octet-stream"}, 400, "invalid_request"),
        (
            {
                "data": {"format": "ofd", "file": (b"PK\x03\x04 not a zip", "x.ofd")},
                "content_type": "multipart/form-data",
            },
            400,
            None,
        ),
        (
            {
                "data": {"format": "pdf", "x_mm": "-5", "file": (b"%PDF-1.7", "x.pdf")},
                "content_type": "multipart/form-data",
            },
            400,
            "invalid_request",
        ),
    ],
)
def test_bad_requests_are_4xx_with_a_reason(
    api: Any, kwargs: dict[str, Any], status: int, error: str | None
) -> None:
    hub, client, token, seals = api
    seal = seals["SM2"]
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("data"), dict) and "file" in kwargs["data"]:
        content, name = kwargs["data"]["file"]  # a fresh stream for every run
        kwargs["data"] = {**kwargs["data"], "file": (io.BytesIO(content), name)}
    r = client.post(f"/api/seal/v1/seals/{seal.id}/sign", headers=bearer(token()), **kwargs)
    assert r.status_code == status, r.data
    body = r.get_json()
    assert body["error"] and body["error_description"]
    if error is not None:
        assert body["error"] == error
    assert hub.sealing.operations() == []


def test_unknown_seal_and_inactive_seal(api: Any) -> None:
    hub, client, token, seals = api
    t = token()
    r = client.post(
        "/api/seal/v1/seals/ES-none/sign",
        json={"format": "ses", "digest": "00" * 32},
        headers=bearer(t),
    )
    assert r.status_code == 404
    hub.seals.suspend(seals["SM2"].id, actor="admin")
    r = client.post(
        f"/api/seal/v1/seals/{seals['SM2'].id}/sign",
        json={"format": "ses", "digest": "00" * 32},
        headers=bearer(t),
    )
    assert r.status_code == 409 and r.get_json()["error"] == "seal_suspended"


def test_oversized_upload_is_413_before_parsing(api: Any) -> None:
    from govtrust.app import MAX_BODY

    hub, client, token, seals = api
    r = client.post(
        f"/api/seal/v1/seals/{seals['SM2'].id}/sign",
        data=b"x" * (MAX_BODY + 1),
        headers=bearer(token()),
        content_type="multipart/form-data; boundary=b",
    )
    assert r.status_code == 413
    assert r.get_json()["error"]  # JSON under /api/, like every other error here
    assert hub.sealing.operations() == []


def test_rate_limit_per_agency(api: Any, monkeypatch: Any) -> None:
    hub, client, token, seals = api
    t = token()
    now = [1000.0]
    buckets = TokenBucket(rate=1.0, burst=3, clock=lambda: now[0])
    client.application.extensions["govtrust_seal_buckets"] = buckets
    codes = [client.get("/api/seal/v1/seals", headers=bearer(t)).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = client.get("/api/seal/v1/seals", headers=bearer(t))
    assert int(limited.headers["Retry-After"]) >= 1
    now[0] += 2
    assert client.get("/api/seal/v1/seals", headers=bearer(t)).status_code == 200
    gd = token("gd-agency", "g" * 40)  # another agency has its own bucket
    assert client.get("/api/seal/v1/seals", headers=bearer(gd)).status_code == 200


def test_openapi_describes_every_route(api: Any) -> None:
    hub, client, token, seals = api
    doc = client.get("/api/seal/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    routes = {
        rule.rule.removeprefix("/api/seal/v1").replace("<seal_id>", "{seal_id}")
        for rule in client.application.url_map.iter_rules()
        if rule.endpoint.startswith("seal_api.") and rule.endpoint != "seal_api.openapi_document"
    }
    assert routes == set(doc["paths"])
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"]
