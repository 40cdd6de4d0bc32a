"""The hub shell: landing page, language switch, security headers, errors."""

from __future__ import annotations

import pytest

from govtrust.app import create_app


@pytest.fixture
def app(hub, config):
    return create_app(config, hub=hub)


@pytest.fixture
def client(app):
    return app.test_client()


def test_landing_page_in_chinese_by_default(client):
    r = client.get("/")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert '<html lang="zh-CN">' in text
    assert "国家政务服务平台" in text and "统一身份认证" in text
    assert 'href="?lang=en"' in text


def test_english_switch_is_remembered(client):
    r = client.get("/?lang=en")
    assert "National single sign-on" in r.get_data(as_text=True)
    assert "lang=en" in r.headers.get("Set-Cookie", "")
    r2 = client.get("/")  # cookie kept by the test client
    assert '<html lang="en">' in r2.get_data(as_text=True)


def test_security_headers(client):
    r = client.get("/")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_algorithm_table_page(client):
    text = client.get("/algorithms").get_data(as_text=True)
    for needle in ("SM2", "-65601", "1.2.156.10197.1.501", "ES256", "EdDSA"):
        assert needle in text


def test_unknown_page_is_a_clean_404(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    assert "出错了" in r.get_data(as_text=True)


def test_api_errors_are_json(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404
    assert r.get_json()["error"] == "not_found"


def test_oversized_body_is_413_before_parsing(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    r = client.post("/api/anything", data=b"x" * 4096, content_type="application/octet-stream")
    assert r.status_code == 413


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
