"""Registry console: login without enumeration, CSRF, onboarding and approval, grants, keys."""

from __future__ import annotations

import re

import pytest

from govtrust.admin.auth import add_admin
from govtrust.app import create_app
from trust import generate_private_key
from trust.identifiers import seed_participants

PASSWORD = "correct horse battery"


@pytest.fixture
def app(hub, config):
    hub.registry.seed(seed_participants())
    add_admin(hub.db, "alice", PASSWORD)
    return create_app(config, hub=hub)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client, path="/admin/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username="alice", password=PASSWORD):
    token = csrf(client)
    return client.post(
        "/admin/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_console_requires_login(client):
    r = client.get("/admin/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]


def test_login_failures_look_the_same(client):
    unknown = login(client, "mallory", PASSWORD)
    wrong = login(client, "alice", "wrong password!!")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]+"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(unknown) == strip(wrong)


def test_throttle_expires_and_cannot_lock_out_forever(client, clock):
    for _ in range(5):
        assert login(client, "alice", "wrong password!!").status_code == 401
    assert login(client).status_code == 401  # throttled: even the right password waits
    clock.advance(seconds=31)
    assert login(client).status_code == 303


def test_login_rotates_session_and_post_without_csrf_is_refused(client):
    r = login(client)
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/")
    r = client.post("/admin/participants/zj/lifecycle", data={"action": "suspend"})
    assert r.status_code == 400


def test_list_and_detail_in_both_languages(client):
    login(client)
    html = client.get("/admin/").get_data(as_text=True)
    assert "浙江" in html and "国家政务服务平台" in html
    html = client.get("/admin/participants/zj?lang=en").get_data(as_text=True)
    assert "Zhejiang" in html and "History" in html
    assert client.get("/admin/participants/nobody").status_code == 404
    assert client.get("/admin/?status=bogus").status_code == 400


def test_onboarding_then_approval_then_grants(client, hub):
    login(client)
    token = csrf(client, "/admin/participants/new")
    r = client.post(
        "/admin/participants/new",
        data={
            "csrf_token": token,
            "id": "zj-xihu",
            "name_zh": "西湖区行政审批局",
            "name_en": "Xihu Approval Bureau",
            "level": "county",
            "division": "330106",
            "parent": "zj",
        },
    )
    assert r.status_code == 303
    for action in ("approve", "activate"):
        r = client.post(
            "/admin/participants/zj-xihu/lifecycle",
            data={"csrf_token": token, "action": action, "reason": "ok"},
        )
        assert r.status_code == 303
    client.post(
        "/admin/participants/zj-xihu/roles",
        data={"csrf_token": token, "role": "license_issuer", "op": "grant"},
    )
    client.post(
        "/admin/participants/zj-xihu/license-types",
        data={"csrf_token": token, "license_type": "111", "op": "grant"},
    )
    key = generate_private_key("p256")
    client.post(
        "/admin/participants/zj-xihu/keys",
        data={
            "csrf_token": token,
            "purpose": "license",
            "algorithm": "ES256",
            "material": key.public_key().pem().decode(),
        },
    )
    p = hub.registry.get("zj-xihu")
    assert p.status.value == "active" and p.roles == ("license_issuer",)
    assert p.license_types == ("111",) and p.keys[0].algorithm == "ES256"
    actors = {e.actor for e in hub.registry.events("zj-xihu")}
    assert actors == {"admin:alice"}


def test_bad_input_is_a_clear_error_not_a_500(client):
    login(client)
    token = csrf(client, "/admin/participants/new")
    r = client.post(
        "/admin/participants/new",
        data={
            "csrf_token": token,
            "id": "x",
            "name_zh": "某",
            "name_en": "X",
            "level": "agency",
            "uscc": "123",
        },
    )
    assert r.status_code == 422 and "invalid_uscc" in r.get_data(as_text=True)
    r = client.post(
        "/admin/participants/zj/keys",
        data={"csrf_token": token, "purpose": "license", "algorithm": "SM2", "material": "junk"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "invalid_key" in r.get_data(as_text=True)
    r = client.post(
        "/admin/participants/zj/lifecycle",
        data={"csrf_token": token, "action": "approve"},
        follow_redirects=True,
    )
    assert "invalid_transition" in r.get_data(as_text=True)
    r = client.post(
        "/admin/participants/zj/lifecycle", data={"csrf_token": token, "action": "explode"}
    )
    assert r.status_code == 400


def test_open_redirect_after_login_is_refused(client):
    token = csrf(client)
    r = client.post(
        "/admin/login?next=//evil.example/",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert r.headers["Location"].endswith("/admin/")


def test_sign_out_ends_the_session_on_the_server(client):
    login(client)
    cookie = client.get_cookie("session").value
    token = csrf(client, "/admin/")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    client.set_cookie("session", cookie)  # a copy of the old cookie is useless
    assert client.get("/admin/").status_code == 302
