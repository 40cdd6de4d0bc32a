"""``govtrust idp client add|list``, ``idp deliver-logouts`` and ``idp sync-clients``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from govtrust.cli import cli
from govtrust.db import utcnow
from idp.models import LogoutDelivery
from trust import generate_private_key
from trust.identifiers import seed_participants

RP = "https://rp.example.cn/callback"


@pytest.fixture
def run(config):
    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)

    return invoke


@pytest.fixture
def initialised(run):
    result = run("init")
    assert result.exit_code == 0, result.output
    return run


def test_add_generates_a_secret_and_shows_it_once(initialised, hub):
    result = initialised("idp", "client", "add", "--client-id", "sh-portal", "--redirect-uri", RP)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"client_id", "client_secret"} and out["client_id"] == "sh-portal"
    assert "shown once" in result.stderr
    client = hub.idp.clients.get("sh-portal")
    assert client is not None and client.check_client_secret(out["client_secret"])
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert (client.scopes, client.id_token_signed_response_alg) == (("openid", "profile"), "RS256")
    # The listing never shows secrets.
    listed = json.loads(initialised("idp", "client", "list", "--json").stdout)
    assert [c["client_id"] for c in listed] == ["sh-portal"]
    assert out["client_secret"] not in initialised("idp", "client", "list", "--json").stdout
    assert "client_secret_hash" not in listed[0]


def test_add_with_every_option_then_list(initialised, hub):
    secret = "s" * 40
    result = initialised(
        "idp", "client", "add",
        "--client-id", "js-portal",
        "--name", "江苏政务服务网",
        "--redirect-uri", RP,
        "--redirect-uri", "https://rp.example.cn/cb2",
        "--secret", secret,
        "--post-logout-redirect-uri", "https://rp.example.cn/",
        "--backchannel-logout-uri", "https://rp.example.cn/bcl",
        "--scope", "openid profile",
        "--scope", "phone",
        "--id-token-alg", "ES256",
        "--participant-id", "js",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"client_id": "js-portal"}
    listed = {
        c["client_id"]: c for c in json.loads(initialised("idp", "client", "list", "--json").stdout)
    }
    c = listed["js-portal"]
    assert c["name"] == "江苏政务服务网" and c["participant_id"] == "js"
    assert c["redirect_uris"] == [RP, "https://rp.example.cn/cb2"]
    assert c["post_logout_redirect_uris"] == ["https://rp.example.cn/"]
    assert c["backchannel_logout_uri"] == "https://rp.example.cn/bcl"
    assert c["scopes"] == ["openid", "profile", "phone"]
    assert c["id_token_signed_response_alg"] == "ES256"
    assert hub.idp.clients.get("js-portal").check_client_secret(secret)
    text = initialised("idp", "client", "list").stdout
    assert "js-portal\t江苏政务服务网\tjs\tclient_secret_basic\tES256\t" in text


def test_add_with_a_jwks_file_uses_private_key_jwt(initialised, hub, tmp_path):
    jwk = dict(generate_private_key("p256").public_key().jwk(), kid="k1", alg="ES256")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    result = initialised(
        "idp", "client", "add", "--client-id", "agency", "--redirect-uri", RP, "--jwks", str(path)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"client_id": "agency"}
    assert hub.idp.clients.get("agency").token_endpoint_auth_method == "private_key_jwt"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--secret", "s" * 40, "--jwks", "jwks.json"], "usage"),
        (["--secret", "short"], "invalid_client_metadata"),
        (["--redirect-uri", "http://rp.example.cn/cb"], "invalid_client_metadata"),
        (["--scope", "everything"], "invalid_client_metadata"),
        (["--participant-id", "no-such-participant"], "unknown_participant"),
    ],
)
def test_add_refuses_bad_input_with_exit_2(initialised, args, code):
    result = initialised("idp", "client", "add", "--client-id", "bad", "--redirect-uri", RP, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"govtrust: {code}: ")


def test_add_refuses_an_existing_client(initialised):
    assert (
        initialised("idp", "client", "add", "--client-id", "dup", "--redirect-uri", RP).exit_code
        == 0
    )
    again = initialised("idp", "client", "add", "--client-id", "dup", "--redirect-uri", RP)
    assert again.exit_code == 2 and "client_exists" in again.stderr


def test_deliver_logouts_retries_what_is_due(initialised, hub):
    assert json.loads(initialised("idp", "deliver-logouts").stdout) == {
        "delivered": 0,
        "retry": 0,
        "failed": 0,
    }
    now = utcnow()
    with hub.db.write() as s:
        s.add(
            LogoutDelivery(
                sid="sid-1",
                client_id="gone",
                uri="http://127.0.0.1:9/backchannel",  # nothing listens on the discard port
                logout_token="x.y.z",
                status="pending",
                attempts=0,
                next_attempt_at=now - timedelta(seconds=1),
                created_at=now,
            )
        )
    out = json.loads(initialised("idp", "deliver-logouts").stdout)
    assert out == {"delivered": 0, "retry": 1, "failed": 0}
    (row,) = hub.idp.deliveries("sid-1")
    assert row.attempts == 1 and row.status == "pending" and row.last_error


def test_sync_clients_follows_the_registry(initialised, hub):
    assert initialised("init", "--demo").exit_code == 0
    out = json.loads(initialised("idp", "sync-clients").stdout)
    assert out["unchanged"] == ["gd-portal", "zj-portal"]
    assert out["renamed"] == out["not_active"] == out["without_client"] == []

    other = next(
        p.id for p in seed_participants() if p.level == "provincial" and p.id not in ("zj", "gd")
    )
    hub.registry.grant_role(other, "relying_party", actor="test")
    hub.registry.suspend("gd", actor="test", reason="test")
    from idp.models import Client

    with hub.db.write() as s:
        s.get(Client, "zj-portal").name = "old name"
    out = json.loads(initialised("idp", "sync-clients").stdout)
    assert out["renamed"] == ["zj-portal"]
    assert hub.idp.clients.get("zj-portal").name == "浙江政务服务网"
    assert out["not_active"] == [
        {
            "client_id": "gd-portal",
            "participant_id": "gd",
            "status": "suspended",
            "relying_party": True,
        }
    ]
    assert out["without_client"] == [other]


def test_disable_enable_and_rotate_secret(initialised, hub):
    out = json.loads(
        initialised("idp", "client", "add", "--client-id", "gov-app", "--redirect-uri", RP).stdout
    )
    old_secret = out["client_secret"]
    assert hub.idp.clients.get("gov-app") is not None

    result = initialised("idp", "client", "disable", "gov-app")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"client_id": "gov-app", "disabled": True, "changed": True}
    hub.idp.clients._cache.clear()  # another process: its cache runs out within seconds
    assert hub.idp.clients.get("gov-app") is None  # refused at every endpoint
    listed = json.loads(initialised("idp", "client", "list", "--json").stdout)
    assert listed[0]["disabled"] is True
    again = json.loads(initialised("idp", "client", "disable", "gov-app").stdout)
    assert again["changed"] is False

    assert initialised("idp", "client", "enable", "gov-app").exit_code == 0
    hub.idp.clients._cache.clear()
    client = hub.idp.clients.get("gov-app")
    assert client is not None and client.check_client_secret(old_secret)

    rotated = initialised("idp", "client", "rotate-secret", "gov-app")
    assert rotated.exit_code == 0 and "shown once" in rotated.stderr
    new_secret = json.loads(rotated.stdout)["client_secret"]
    hub.idp.clients._cache.clear()
    client = hub.idp.clients.get("gov-app")
    assert client is not None
    assert client.check_client_secret(new_secret) and not client.check_client_secret(old_secret)

    kinds = [e.kind for e in hub.idp.client_events("gov-app")]
    assert kinds == ["client_disabled", "client_enabled", "client_secret_rotated"]


def test_disable_an_unknown_client_is_exit_2(initialised):
    result = initialised("idp", "client", "disable", "nobody")
    assert result.exit_code == 2 and "client_unknown" in result.stderr
