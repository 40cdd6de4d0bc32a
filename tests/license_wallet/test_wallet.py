"""The e-license wallet (/wallet/) through Flask's test client against the demo world:
the real sign-in through the hub (the app is also served on a port, for the wallet's
back-channel calls to the hub), the citizen's licenses, owner-only credentials, the QR
endpoint's limits, CSRF, binding a device key, Chinese and English pages. Runs on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL. The browser side (holder.js, the dynamic QR)
is in tests/browser/test_wallet.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from govtrust.app import create_app
from govtrust.config import Config
from govtrust.demo import (
    DEMO_CITIZEN,
    DEMO_CITIZEN_PASSWORD,
    demo_holder_key,
    seed_demo,
)
from govtrust.hub import Hub
from license_wallet import wallet
from license_wallet.credential import present_qr_text, verify_presentation
from license_wallet.qr import decode_qr_text
from license_wallet.service import LicenseStatus
from trust import b64url_decode, generate_private_key
from trust.identifiers import make_citizen_id, seed_participants

OTHER_CITIZEN = "lisi-citizen"
OTHER_PASSWORD = "Li-Si-Wallet-2026"


@dataclass
class World:
    url: str
    app: Flask
    hub: Hub
    zhangsan: str  # account id = the wallet's public sub
    other: str

    def __call__(self, path: str) -> str:
        return self.url + path


def _postgres_url(base: str) -> Iterator[str]:
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


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    holder: dict[str, Callable[..., Any]] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    data_dir = tmp_path_factory.mktemp("wallet") / "instance"
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{data_dir.parent / 'govtrust.db'}"])
    else:
        base = os.environ.get("TEST_DATABASE_URL")
        if not base:  # as tests/conftest.py's require(): a skip here, a failure in CI
            if os.environ.get("CI") == "true":
                pytest.fail("required in CI: TEST_DATABASE_URL is not set (PostgreSQL tests)")
            pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL tests)")
        urls = _postgres_url(base)
    database_url = next(urls)
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    config = Config(
        data_dir=data_dir,
        database_url=database_url,
        master_key=secrets.token_hex(32),
        base_url=url,
        testing=True,
    )
    hub = Hub(config)
    hub.migrate()
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    hub.pki.ensure()
    summary = seed_demo(hub)
    assert summary["wallet"]["client"] == {"license-wallet": "created"}
    other = hub.idp.accounts.create_citizen(
        username=OTHER_CITIZEN,
        password=OTHER_PASSWORD,
        name="李四",
        id_number=make_citizen_id("440104", dt.date(1988, 2, 3), 7),
    )
    app = create_app(config, hub=hub)
    holder["app"] = app
    zhangsan = hub.idp.accounts.by_username(DEMO_CITIZEN)
    assert zhangsan is not None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield World(url=url, app=app, hub=hub, zhangsan=zhangsan.id, other=other.id)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        hub.close()
        for _ in urls:  # drop the PostgreSQL schema
            pass


# ----------------------------------------------------------------------------- helpers


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def follow(c: FlaskClient, url: str, *, hops: int = 10) -> tuple[Any, str]:
    response = c.get(url)
    for _ in range(hops):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response, url
        url = urljoin(url, response.headers["Location"])
        response = c.get(url)
    raise AssertionError("too many redirects")


@dataclass
class Citizen:
    client: FlaskClient
    csrf: str
    home: str
    base: str  # the cookies belong to the served origin

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(self.base + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(self.base + path, **kwargs)


def sign_in(
    world: World, username: str = DEMO_CITIZEN, password: str = DEMO_CITIZEN_PASSWORD
) -> Citizen:
    """Wallet → hub login page → password → (consent) → back at the wallet."""
    c = world.app.test_client()
    page, at = follow(c, world("/wallet/login"))
    assert urlsplit(at).path == "/idp/login", at
    html = page.get_data(as_text=True)
    assert "电子证照夹" in html  # the hub names the client the citizen signs in to
    answer = c.post(
        at,
        data={"csrf_token": csrf_of(html), "username": username, "password": password},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    page, at = follow(c, urljoin(at, answer.headers["Location"]))
    if urlsplit(at).path == "/idp/consent":
        html = page.get_data(as_text=True)
        answer = c.post(at, data={"csrf_token": csrf_of(html), "decision": "allow"})
        page, at = follow(c, urljoin(at, answer.headers["Location"]))
    assert at == world("/wallet/"), at
    html = page.get_data(as_text=True)
    assert 'data-signed-in="yes"' in html, html[:3000]
    return Citizen(c, csrf_of(html), html, world.url)


def qr_post(citizen: Citizen, text: str, **extra: str) -> Any:
    data = {"csrf_token": citizen.csrf, "text": text, **extra}
    return citizen.post("/wallet/qr.svg", data=data, headers={"Accept": "application/json"})


def presentation(world: World, license_id: str, key: Any, disclose: list[str] | None) -> str:
    view = world.hub.licenses.get(license_id)
    return present_qr_text(
        view.credential, disclose or "full", key.signer("ES256"), now=world.hub.clock()
    )


# ----------------------------------------------------------------------------- pages


def test_anonymous_is_sent_to_the_hub_login(world: World) -> None:
    c = world.app.test_client()
    r = c.get("/wallet/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-signed-in="no"' in html
    assert '<html lang="zh-CN">' in html and "电子证照夹" in html
    assert 'href="/wallet/login"' in html
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in html and not re.search(r"<[^>]*\son\w+=", html)
    r = c.get("/wallet/login")
    assert r.status_code == 302
    target = urlsplit(r.headers["Location"])
    assert target.path == "/idp/authorize" and "client_id=license-wallet" in target.query
    assert "code_challenge_method=S256" in target.query
    # A license page without a session goes to the sign-in.
    lic = world.hub.licenses.list_for_holder(world.zhangsan)[0]
    r = c.get(f"/wallet/licenses/{lic.id}")
    assert r.status_code == 303 and r.headers["Location"].endswith("/wallet/login")
    # JSON endpoints: 401 without a session.
    r = c.get(f"/wallet/licenses/{lic.id}/credential")
    assert r.status_code == 401 and r.get_json()["error"] == "login_required"
    r = c.post("/wallet/qr.svg", data={"text": "GT1:00"})
    assert r.status_code == 401


def test_the_citizen_sees_the_demo_licenses(world: World) -> None:
    citizen = sign_in(world)
    html = citizen.home
    assert "您好，张三" in html
    views = world.hub.licenses.list_for_holder(world.zhangsan)
    assert {v.type_code[-3:] for v in views} >= {"001", "003"}
    for v in views:
        assert f'data-license-id="{v.id}"' in html
        assert v.identifier in html
    assert "居民身份证" in html and "机动车驾驶证" in html
    assert "有效" in html and "公安部" in html
    assert "2041-03-01" in html  # the identity card's validity
    # The page compares the browser's key with the licenses' and offers rebinding.
    assert 'data-rebindable="yes"' in html
    demo = demo_holder_key(world.hub).public_key().thumbprint()
    assert f'data-valid-keys="{demo}"' in html or demo in html


def test_detail_page_and_the_owner_only_credential(world: World) -> None:
    citizen = sign_in(world)
    lic = next(
        v for v in world.hub.licenses.list_for_holder(world.zhangsan) if v.status.value == "valid"
    )
    r = citizen.get(f"/wallet/licenses/{lic.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:500]
    assert "出示二维码" in html and "完整" in html and "最少" in html and "自定义" in html
    assert 'data-period="25"' in html
    assert (
        citizen.get(f"/wallet/licenses/{lic.id}?period=3")
        .get_data(as_text=True)
        .count('data-period="3"')
        == 1
    )
    # The credential: only with the CSRF header, only to the owner.
    url = f"/wallet/licenses/{lic.id}/credential"
    assert citizen.get(url).status_code == 400
    assert citizen.get(url, headers={"X-CSRF-Token": "é" * 8}).status_code == 400
    r = citizen.get(url, headers={"X-CSRF-Token": citizen.csrf})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert b64url_decode(r.get_json()["credential"]) == lic.credential
    other = sign_in(world, OTHER_CITIZEN, OTHER_PASSWORD)
    assert "您暂无电子证照" in other.home
    r = other.get(url, headers={"X-CSRF-Token": other.csrf})
    assert r.status_code == 404
    assert other.get(f"/wallet/licenses/{lic.id}").status_code == 404
    assert (
        other.get(
            "/wallet/licenses/nope/credential", headers={"X-CSRF-Token": other.csrf}
        ).status_code
        == 404
    )


def test_qr_svg_renders_a_presentation_and_refuses_junk(world: World) -> None:
    citizen = sign_in(world)
    lic = world.hub.licenses.list_for_holder(world.zhangsan)[0]
    text = presentation(world, lic.id, demo_holder_key(world.hub), ["holder_name"])
    r = qr_post(citizen, text)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("image/svg+xml")
    assert r.get_data(as_text=True).lstrip().startswith("<svg")
    assert 1 <= int(r.headers["X-QR-Version"]) <= 40
    r = qr_post(citizen, text, format="png")
    assert r.status_code == 200 and r.data.startswith(b"\x89PNG")
    # Refused: not GT1:, not Base45, a length no Base45 text has, oversize, no CSRF.
    for bad in ("HC1:ABC", "GT1:abc", "GT1:", "GT1:0000", "GT1:<svg>", "GT1:" + "0" * 4293):
        r = qr_post(citizen, bad)
        assert r.status_code in (400, 413), bad
        assert r.get_json()["error"] in ("qr_text_invalid", "qr_too_long"), bad
    assert qr_post(citizen, "GT1:" + "0" * 5000).status_code == 413
    # Well-formed Base45 that is no presentation; someone else's presentation.
    assert qr_post(citizen, "GT1:" + "0" * 30).get_json()["error"] == "qr_text_invalid"
    other = sign_in(world, OTHER_CITIZEN, OTHER_PASSWORD)
    r = qr_post(other, text)
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"
    r = citizen.post("/wallet/qr.svg", data={"text": text, "csrf_token": "wrong"})
    assert r.status_code == 400 and r.get_json()["error"] == "csrf"
    r = citizen.post("/wallet/qr.svg", data={"text": "GT1:" + "0" * 20_000})
    assert r.status_code == 413
    decode_qr_text(text)  # the text is a real presentation


def test_logout_and_bind_need_the_csrf_token(world: World) -> None:
    citizen = sign_in(world)
    r = citizen.post("/wallet/logout", data={"csrf_token": "nope"})
    assert r.status_code == 400
    r = citizen.post("/wallet/holder-key", data={"jwk": "{}", "csrf_token": "nope"})
    assert r.status_code == 400 and r.get_json()["error"] == "csrf"
    bad = {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}
    r = citizen.post(
        "/wallet/holder-key", data={"jwk": json.dumps(bad), "csrf_token": citizen.csrf}
    )
    assert r.status_code == 400 and r.get_json()["error"] == "holder_key_invalid"
    private = {**generate_private_key("p256").public_key().jwk(), "d": "AAAA"}
    r = citizen.post(
        "/wallet/holder-key", data={"jwk": json.dumps(private), "csrf_token": citizen.csrf}
    )
    assert r.status_code == 400 and r.get_json()["error"] == "holder_key_invalid"
    sm2 = generate_private_key("sm2").public_key().jwk()  # WebCrypto keys are P-256
    r = citizen.post(
        "/wallet/holder-key", data={"jwk": json.dumps(sm2), "csrf_token": citizen.csrf}
    )
    assert r.status_code == 400 and r.get_json()["error"] == "holder_key_invalid"
    r = citizen.post("/wallet/logout", data={"csrf_token": citizen.csrf})
    assert r.status_code == 303 and "/idp/" in r.headers["Location"]
    assert 'data-signed-in="no"' in citizen.get("/wallet/").get_data(as_text=True)


def test_binding_a_device_reissues_the_demo_licenses(world: World) -> None:
    citizen = sign_in(world)
    before = [
        v
        for v in world.hub.licenses.list_for_holder(world.zhangsan)
        if v.status is LicenseStatus.VALID
    ]
    device = generate_private_key("p256")
    jwk = device.public_key().jwk()
    r = citizen.post(
        "/wallet/holder-key", data={"jwk": json.dumps(jwk), "csrf_token": citizen.csrf}
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    moved = r.get_json()["reissued"]
    assert {m["old"] for m in moved} == {v.id for v in before}
    for m in moved:
        old, new = world.hub.licenses.get(m["old"]), world.hub.licenses.get(m["new"])
        actions = [e.action for e in world.hub.licenses.events(old.id)]
        assert actions[-2:] == ["license.suspended", "license.revoked"]
        assert old.status is LicenseStatus.REVOKED
        assert new.status is LicenseStatus.VALID and new.holder_subject == world.zhangsan
        assert new.fields == old.fields and new.type_code == old.type_code
        assert new.valid_from == old.valid_from and new.valid_until == old.valid_until
        assert new.holder_key_jwk == jwk
        # The device's key presents it; the verifier says VALID.
        text = presentation(world, new.id, device, None)
        verified = verify_presentation(
            text,
            issuer_keys=world.hub.licenses.issuer_keys(),
            now=world.hub.clock(),
            status_lookup=world.hub.licenses.status_of,
        )
        assert verified.identifier == new.identifier
    # Binding the same key again moves nothing; the list shows the new licenses first.
    r = citizen.post(
        "/wallet/holder-key", data={"jwk": json.dumps(jwk), "csrf_token": citizen.csrf}
    )
    assert r.get_json()["reissued"] == []
    html = citizen.get("/wallet/").get_data(as_text=True)
    assert "已吊销" in html
    assert html.index(moved[0]["new"]) < html.index(moved[0]["old"])
    # A second device may take over the licenses the wallet re-issued.
    second = generate_private_key("p256").public_key().jwk()
    r = citizen.post(
        "/wallet/holder-key", data={"jwk": json.dumps(second), "csrf_token": citizen.csrf}
    )
    assert len(r.get_json()["reissued"]) == len(before)


def test_english_pages(world: World) -> None:
    citizen = sign_in(world)
    html = citizen.get("/wallet/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "E-license wallet" in html and "My licenses" in html and "Hello, 张三" in html
    assert "Resident identity card" in html or "identity card" in html.lower()
    lic = world.hub.licenses.list_for_holder(world.zhangsan)[0]
    html = citizen.get(f"/wallet/licenses/{lic.id}?lang=en").get_data(as_text=True)
    assert "Show QR" in html and "Minimal" in html and "Custom" in html
    r = citizen.post("/wallet/qr.svg?lang=en", data={"text": "GT1:abc", "csrf_token": citizen.csrf})
    assert r.get_json()["message"].startswith("Invalid QR text")


def test_static_files_and_the_seeded_client(world: World) -> None:
    c = world.app.test_client()
    for name in ("wallet.js", "holder.js", "wallet.css"):
        r = c.get(f"/wallet/static/{name}")
        assert r.status_code == 200, name
        r.close()
    client = world.hub.idp.clients.get(wallet.WALLET.client_id)
    assert client is not None and client.subject_type == "public" and client.first_party
    assert wallet.seed_wallet_client(world.hub)["client"] == {"license-wallet": "unchanged"}
