"""idp.fastlane: the machine-token fast lane answers only successes, and exactly the
successes the full token endpoint would give; everything else reaches Flask."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest

from govtrust.app import create_app
from idp.fastlane import MAX_LANE_BODY


@pytest.fixture
def app_and_hits(live: Any) -> tuple[Any, list[str]]:
    """An application on the live hub whose Flask layer counts the requests it sees."""
    app = create_app(live.hub.config, hub=live.hub)
    hits: list[str] = []

    @app.before_request
    def count() -> None:
        from flask import request

        hits.append(request.path)

    return app, hits


def _basic(client_id: str, secret: str) -> str:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _post(app: Any, live: Any, body: str, *, auth: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": auth or _basic("machine", live.basic("machine")[1])}
    headers.update(kw.pop("headers", {}))
    return app.test_client().post(
        kw.pop("path", "/idp/token"),
        data=body,
        headers=headers,
        content_type=kw.pop("content_type", "application/x-www-form-urlencoded"),
        **kw,
    )


def test_success_is_answered_by_the_lane_with_a_valid_token(live: Any, app_and_hits: Any) -> None:
    app, hits = app_and_hits
    response = _post(app, live, "grant_type=client_credentials&scope=seal%3Asign")
    assert response.status_code == 200, response.data
    assert hits == []  # Flask never saw it
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    body = json.loads(response.data)
    assert body["token_type"] == "Bearer" and body["scope"] == "seal:sign"
    claims = live.idp.tokens.validate_access_token(
        body["access_token"], required_scopes=("seal:sign",)
    )
    assert claims.client_id == "machine" and claims.scope == {"seal:sign"}


def test_lane_and_full_path_give_the_same_answer(live: Any, app_and_hits: Any) -> None:
    app, hits = app_and_hits
    fast = json.loads(_post(app, live, "grant_type=client_credentials").data)
    # A query string sends the same request down the full path.
    full_response = _post(app, live, "grant_type=client_credentials", path="/idp/token?x=1")
    assert hits == ["/idp/token"]
    full = json.loads(full_response.data)
    assert set(fast) == set(full) == {"access_token", "token_type", "expires_in", "scope"}
    assert fast["scope"] == full["scope"] == "seal:sign license:issue"
    assert fast["token_type"] == full["token_type"]
    assert abs(fast["expires_in"] - full["expires_in"]) <= 1


@pytest.mark.parametrize(
    ("body", "auth", "content_type", "status", "error"),
    [
        # wrong secret, unknown client, no secret: the full path's 401
        (
            "grant_type=client_credentials",
            _basic("machine", "wrong" * 8),
            None,
            401,
            "invalid_client",
        ),
        ("grant_type=client_credentials", _basic("nobody", "x" * 40), None, 401, "invalid_client"),
        (
            "grant_type=client_credentials",
            "Basic " + base64.b64encode(b"machine").decode(),
            None,
            401,
            "invalid_client",
        ),
        ("grant_type=client_credentials", "Basic %%%notbase64", None, 401, "invalid_client"),
        # a scope beyond the registration
        ("grant_type=client_credentials&scope=license%3Arevoke", None, None, 400, "invalid_scope"),
        # a second authentication method in the body
        ("grant_type=client_credentials&client_secret=abc", None, None, 401, "invalid_client"),
        # duplicated parameter
        (
            "grant_type=client_credentials&scope=seal%3Asign&scope=license%3Aissue",
            None,
            None,
            None,
            None,
        ),
        # another grant type
        ("grant_type=password&username=a&password=b", None, None, 400, "unsupported_grant_type"),
        # not a form
        ('{"grant_type": "client_credentials"}', None, "application/json", None, None),
    ],
)
def test_everything_else_reaches_the_full_endpoint(
    live: Any,
    app_and_hits: Any,
    body: str,
    auth: str | None,
    content_type: str | None,
    status: int | None,
    error: str | None,
) -> None:
    app, hits = app_and_hits
    kw: dict[str, Any] = {}
    if content_type:
        kw["content_type"] = content_type
    response = _post(app, live, body, auth=auth, **kw)
    assert hits == ["/idp/token"], "the lane must not answer this request"
    if status is not None:
        assert response.status_code == status, response.data
        assert json.loads(response.data)["error"] == error
    else:
        assert response.status_code >= 400


def test_rp_clients_do_not_get_machine_tokens_through_the_lane(
    live: Any, app_and_hits: Any
) -> None:
    app, hits = app_and_hits
    response = _post(
        app,
        live,
        "grant_type=client_credentials",
        auth=_basic("rp-rs256", live.basic("rp-rs256")[1]),
    )
    assert hits == ["/idp/token"]
    assert response.status_code == 400
    assert json.loads(response.data)["error"] == "unauthorized_client"


def test_oversized_bodies_take_the_full_path(live: Any, app_and_hits: Any) -> None:
    app, hits = app_and_hits
    body = "grant_type=client_credentials&scope=" + "seal%3Asign+" * (MAX_LANE_BODY // 10)
    response = _post(app, live, body)
    assert hits == ["/idp/token"]
    assert response.status_code == 200  # a long but valid request still works, just slower
    assert json.loads(response.data)["scope"] == "seal:sign"


def test_other_paths_and_methods_are_untouched(live: Any, app_and_hits: Any) -> None:
    app, hits = app_and_hits
    response = app.test_client().get("/idp/token")
    assert response.status_code == 405 and hits == ["/idp/token"]
    response = _post(app, live, "grant_type=client_credentials", path="/idp/introspect")
    assert hits[-1] == "/idp/introspect"
    assert "access_token" not in json.loads(response.data)
