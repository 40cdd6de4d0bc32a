"""The counter page's JSON endpoints through the WSGI app: CSRF, verdicts on QR
text, photos and sealed documents, no-store answers, replay, the trust source
(hub data, then a synced bundle), and typed errors for bad requests."""

from __future__ import annotations

import base64
import io
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from hub_helpers import demo_world

from benchmarks.verifier.photos import photo
from govtrust.app import create_app
from license_wallet.credential import present_qr_text
from license_wallet.types import example_fields, license_type
from trust.crypto import generate_private_key
from verifier.bundle import accept_bundle

ID_CARD = license_type("resident_id_card").code


@pytest.fixture
def counter(hub: Any) -> Any:
    demo_world(hub)
    client = create_app(hub.config, hub=hub).test_client()
    page = client.get("/verifier/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "窗口核验" in html
    token = re.search(r'data-csrf="([^"]+)"', html)
    assert token is not None
    return hub, client, token.group(1)


def license_and_qr(hub: Any) -> tuple[Any, Any]:
    key = generate_private_key("p256")
    lic = hub.licenses.issue(
        "mps", ID_CARD, "acct-1", key.public_key().jwk(), example_fields(ID_CARD), actor="test"
    )
    return lic, lambda: present_qr_text(
        lic.credential, "full", key.signer("ES256"), now=hub.clock()
    )


def post_text(client: Any, csrf: str, text: Any) -> Any:
    return client.post("/verifier/api/verify", json={"text": text}, headers={"X-CSRF-Token": csrf})


def test_text_verdicts_and_replay(counter: Any) -> None:
    hub, client, csrf = counter
    lic, qr = license_and_qr(hub)
    text = qr()
    r = post_text(client, csrf, text)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert body["verdict"] == "VALID" and body["issuer"]["id"] == "mps"
    assert body["license"]["field_labels"]["holder_name"] == "姓名"
    assert body["trust"]["source"] == "hub"
    again = post_text(client, csrf, text).get_json()
    assert (again["verdict"], again["reasons"]) == ("INVALID", ["replayed"])
    assert again["reason_texts"] == [{"code": "replayed", "text": "二维码已被使用过"}]
    hub.licenses.revoke(lic.id, actor="test")
    revoked = post_text(client, csrf, qr()).get_json()
    assert (revoked["verdict"], revoked["reasons"]) == ("INVALID", ["revoked"])
    junk = client.post(
        "/verifier/api/verify?lang=en", json={"text": "GT1:ZZZ"}, headers={"X-CSRF-Token": csrf}
    ).get_json()
    assert junk["verdict"] == "INDETERMINATE"
    assert junk["reason_texts"][0]["text"] == "input cannot be parsed"


def test_csrf_and_bad_requests(counter: Any) -> None:
    _, client, csrf = counter
    assert post_text(client, "wrong", "GT1:X").status_code == 400
    assert client.post("/verifier/api/verify", json={"text": "GT1:X"}).status_code == 400
    assert post_text(client, csrf, 42).get_json()["error"] == "bad_request"
    r = client.post("/verifier/api/verify", data="not json", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400 and r.get_json()["error"] == "bad_request"
    r = client.post("/verifier/api/verify-file", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400
    huge = post_text(client, csrf, "GT1:" + "A" * 10_000).get_json()
    assert (huge["verdict"], huge["reasons"]) == ("INDETERMINATE", ["malformed"])


def test_photo_and_document_uploads(counter: Any) -> None:
    hub, client, csrf = counter
    _, qr = license_and_qr(hub)

    def upload(data: bytes, name: str) -> dict[str, Any]:
        r = client.post(
            "/verifier/api/verify-file",
            data={"file": (io.BytesIO(data), name), "csrf_token": csrf},
            content_type="multipart/form-data",
        )
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        return dict(r.get_json())

    shot = upload(photo(qr(), angle=10), "photo.jpg")
    assert (shot["verdict"], shot["kind"], shot["input"]) == ("VALID", "license", "qr-image")
    blank = upload(photo("HTTPS://EXAMPLE", blur=8.0), "blurred.jpg")
    assert blank["reasons"] == ["unreadable_image"]
    doc = upload(b"%PDF-1.7\n garbage", "x.pdf")
    assert doc["kind"] == "document" and doc["verdict"] == "INDETERMINATE"
    assert doc["reason_texts"][0]["text"]


def test_a_synced_bundle_becomes_the_trust_source(counter: Any) -> None:
    hub, client, csrf = counter
    _, qr = license_and_qr(hub)
    roots = b"".join(c.pem() for c in hub.pki.roots())
    accept_bundle(
        hub.verifier_bundle(), Path(hub.config.verifier_cache), now=hub.clock(), roots_pem=roots
    )
    info = client.get("/verifier/api/trust").get_json()
    assert info["source"] == "bundle" and info["stale"] is None
    assert post_text(client, csrf, qr()).get_json()["verdict"] == "VALID"
    hub.clock.advance(hours=25)
    stale = post_text(client, csrf, qr()).get_json()
    assert (stale["verdict"], stale["reasons"]) == ("INDETERMINATE", ["stale_trust_data"])
    html = client.get("/verifier/").get_data(as_text=True)
    assert 'data-stale="yes"' in html and "信任数据过旧" in html


def test_an_id_token_gets_its_own_verdict(counter: Any) -> None:
    import json

    from keys import KeyPurpose
    from trust.jws import sign_compact

    hub, client, csrf = counter
    info = hub.keys.list(purpose=KeyPurpose.ID_TOKEN)[0]
    now = int(hub.clock().timestamp())
    claims = {"iss": hub.config.base_url, "sub": "s-1", "aud": "zj", "iat": now, "exp": now + 60}
    signer = hub.keys.signer_for(info.kid, KeyPurpose.ID_TOKEN)
    token = sign_compact(json.dumps({**claims, "acr": "loa1"}).encode(), signer, {"typ": "JWT"})
    body = post_text(client, csrf, token).get_json()
    assert (body["verdict"], body["kind"]) == ("VALID", "id_token")
    assert body["claims"]["acr"] == "loa1" and body["claim_labels"]["acr"] == "认证等级"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = post_text(client, csrf, forged).get_json()
    assert (bad["verdict"], bad["reasons"]) == ("INVALID", ["bad_signature"])


def test_decode_frame(counter: Any) -> None:
    hub, client, csrf = counter
    _, qr = license_and_qr(hub)
    text = qr()

    def frame(data: bytes, token: str = csrf) -> tuple[int, Any, str]:
        # The multipart body by hand: Werkzeug's test client spools a large one to a
        # temporary file that it never closes.
        body = (
            b'--B\r\nContent-Disposition: form-data; name="frame"; filename="f.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--B--\r\n"
        )
        r = client.post(
            "/verifier/api/decode-frame",
            data=body,
            content_type="multipart/form-data; boundary=B",
            headers={"X-CSRF-Token": token},
        )
        return r.status_code, r.get_json(silent=True), r.headers.get("Cache-Control", "")

    assert frame(photo(text, side=640)) == (200, {"text": text}, "no-store")
    assert frame(photo("X", blur=9.0))[0] == 204  # keep scanning
    assert frame(b"not an image")[0] == 204
    assert frame(photo(text), token="wrong")[0] == 400
    assert frame(b"\xff\xd8" + b"\x00" * (4 * 1024 * 1024))[0] == 413
    missing = client.post("/verifier/api/decode-frame", headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 400
    # Decoding is not verifying: the text is still fresh for /api/verify.
    assert post_text(client, csrf, text).get_json()["verdict"] == "VALID"


def test_the_counter_api_is_rate_limited(hub: Any) -> None:
    demo_world(hub)
    app = create_app(hub.config, hub=hub)
    app.config["COUNTER_RATE_LIMIT"] = (0.5, 2)
    client = app.test_client()
    html = client.get("/verifier/").get_data(as_text=True)
    csrf = re.search(r'data-csrf="([^"]+)"', html)
    assert csrf is not None
    answers = [post_text(client, csrf.group(1), "GT1:X") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].get_json() == {
        "error": "rate_limited",
        "message": "请求过于频繁，请稍后再试。",
    }
    assert answers[2].headers["Retry-After"] == "2"
    assert client.get("/verifier/api/trust").status_code == 200  # reads are not counted


def test_the_browser_snapshot(counter: Any) -> None:
    """/verifier/api/snapshot: what the page keeps for offline use — issuers with
    their state, types and license keys, raw status lists, the type catalogue; no
    personal data; from the hub's own bundle (checked), then from a synced one."""
    hub, client, _ = counter
    lic, _qr = license_and_qr(hub)
    hub.licenses.revoke(lic.id, actor="test")
    r = client.get("/verifier/api/snapshot")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    snap = r.get_json()
    assert snap["format"] == "govtrust.counter-snapshot/1"
    assert snap["source"] == "hub" and snap["stale"] is None
    mps = next(i for i in snap["issuers"] if i["id"] == "mps")
    assert mps["active"] and ID_CARD in mps["license_types"]
    assert {k["crv"] for k in mps["keys"]} == {"SM2"} and len(mps["keys"][0]["x"]) == 64
    sl = snap["status_lists"][lic.status_uri]
    raw = zlib.decompress(base64.b64decode(sl["lst"]))
    assert sl["issuer"] == "mps" and sl["bits"] == 2
    assert (raw[lic.status_idx // 4] >> (2 * (lic.status_idx % 4))) & 3 == 1  # revoked
    assert snap["types"][ID_CARD]["fields"][0]["label"] >= 0
    assert "11" in snap["provinces"] and "83" in snap["id_provinces"]
    text = r.get_data(as_text=True)
    assert example_fields(ID_CARD)["holder_name"] not in text  # no license data
    assert lic.id not in text

    roots = b"".join(c.pem() for c in hub.pki.roots())
    accept_bundle(
        hub.verifier_bundle(), Path(hub.config.verifier_cache), now=hub.clock(), roots_pem=roots
    )
    synced = client.get("/verifier/api/snapshot").get_json()
    assert synced["source"] == "bundle" and synced["issuers"] == snap["issuers"]
    hub.clock.advance(hours=25)
    assert client.get("/verifier/api/snapshot").get_json()["stale"]


def test_the_snapshot_without_trust_data_trusts_nothing(hub: Any) -> None:
    client = create_app(hub.config, hub=hub).test_client()  # no keys, no registry
    snap = client.get("/verifier/api/snapshot").get_json()
    assert snap["issuers"] == [] and snap["status_lists"] == {} and snap["stale"]


def test_the_service_worker_is_served_for_the_page_scope(counter: Any) -> None:
    _, client, _ = counter
    r = client.get("/verifier/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    body = r.get_data(as_text=True)
    r.close()
    assert "api/snapshot" in body and 'request.method !== "GET"' in body
