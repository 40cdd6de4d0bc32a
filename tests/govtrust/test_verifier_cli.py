"""``govtrust verifier sync|status`` and ``govtrust verify`` from the synced cache:
a counter machine with no hub database, syncing over HTTP, then judging offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hub_helpers import serve

from govtrust.cli import cli
from govtrust.config import Config
from govtrust.hub import Hub
from license_wallet.credential import present_qr_text
from license_wallet.types import example_fields, license_type
from trust.crypto import generate_private_key

ID_CARD = license_type("resident_id_card").code


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'govtrust.db'}"


def invoke(config: Config, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)


@pytest.fixture
def hub_world(config: Config) -> Iterator[tuple[Hub, Any, str]]:
    """An initialised demo hub with one license and a fresh presentation of it."""
    assert invoke(config, "init", "--demo").exit_code == 0
    hub = Hub(config)
    key = generate_private_key("p256")
    lic = hub.licenses.issue(
        "mps", ID_CARD, "acct-1", key.public_key().jwk(), example_fields(ID_CARD), actor="test"
    )
    qr = present_qr_text(lic.credential, "minimal", key.signer("ES256"), now=datetime.now(UTC))
    yield hub, lic, qr
    hub.close()


def test_counter_syncs_over_http_and_verifies_offline(
    config: Config, hub_world: tuple[Hub, Any, str], tmp_path: Path
) -> None:
    hub, lic, qr = hub_world
    counter = Config(data_dir=tmp_path / "counter")  # no hub database here
    roots = tmp_path / "hub-roots.pem"
    roots.write_bytes(b"".join(c.pem() for c in hub.pki.roots()))

    before = json.loads(invoke(counter, "verify", "--text", qr, "--json").stdout)
    assert (before["verdict"], before["reasons"]) == ("INDETERMINATE", ["stale_trust_data"])

    with serve(hub, config) as url:
        unpinned = invoke(counter, "verifier", "sync", "--hub", url)
        assert unpinned.exit_code == 2 and "no_trust_anchor" in unpinned.stderr
        synced = invoke(counter, "verifier", "sync", "--hub", url, "--roots", str(roots), "--json")
        assert synced.exit_code == 0, synced.output
        info = json.loads(synced.stdout)
        assert info["stale"] is None and info["status_lists"] >= 1

        # The hub is down from here on: the counter judges from its cache.
    status = invoke(counter, "verifier", "status", "--json")
    assert status.exit_code == 0 and json.loads(status.stdout)["stale"] is None
    valid = invoke(counter, "verify", "--text", qr, "--json")
    assert valid.exit_code == 0, valid.output
    body = json.loads(valid.stdout)
    assert body["verdict"] == "VALID" and body["issuer"]["id"] == "mps"

    hub.licenses.revoke(lic.id, actor="test")
    with serve(hub, config) as url:
        assert invoke(counter, "verifier", "sync", "--hub", url + "/").exit_code == 0
    revoked = invoke(counter, "verify", "--text", qr, "--json")
    assert revoked.exit_code == 1
    assert json.loads(revoked.stdout)["reasons"] == ["revoked"]


def test_sync_from_the_local_hub_warns_about_the_pin(
    config: Config, hub_world: tuple[Hub, Any, str], tmp_path: Path
) -> None:
    _, _, qr = hub_world
    cache = tmp_path / "local-cache"
    result = invoke(config, "verifier", "sync", "--cache", str(cache))
    assert result.exit_code == 0, result.output
    assert "pinning the local hub's own roots" in result.stderr
    assert "已同步" in result.stdout and (cache / "bundle.json").exists()
    again = invoke(config, "verifier", "sync", "--cache", str(cache))
    assert again.exit_code == 0 and "pinning" not in again.stderr


def test_status_and_sync_errors_are_typed(tmp_path: Path) -> None:
    counter = Config(data_dir=tmp_path / "counter")
    none = invoke(counter, "verifier", "status")
    assert none.exit_code == 2 and "no_cache" in none.stderr
    bad = invoke(counter, "verifier", "sync", "--hub", "ftp://example")
    assert bad.exit_code == 2 and "usage" in bad.stderr
    down = invoke(counter, "verifier", "sync", "--hub", "http://127.0.0.1:9", "--timeout", "2")
    assert down.exit_code == 2 and "hub_unavailable" in down.stderr


def test_a_corrupt_cache_gives_stale_trust_data(
    config: Config, hub_world: tuple[Hub, Any, str], tmp_path: Path
) -> None:
    _, _, qr = hub_world
    cache = tmp_path / "cache"
    assert invoke(config, "verifier", "sync", "--cache", str(cache)).exit_code == 0
    (cache / "bundle.json").write_text("{}")
    counter = Config(data_dir=tmp_path / "counter", verifier_cache=cache)
    body = json.loads(invoke(counter, "verify", "--text", qr, "--json").stdout)
    assert (body["verdict"], body["reasons"]) == ("INDETERMINATE", ["stale_trust_data"])
    assert "unusable" in body["detail"]


def test_verify_an_id_token_from_the_command_line(
    config: Config, hub_world: tuple[Hub, Any, str]
) -> None:
    import time

    from keys import KeyPurpose
    from trust.jws import sign_compact

    hub = hub_world[0]
    info = hub.keys.list(purpose=KeyPurpose.ID_TOKEN)[0]
    now = int(time.time())
    claims = {"iss": hub.config.base_url, "sub": "s", "aud": "zj", "iat": now, "exp": now + 60}
    signer = hub.keys.signer_for(info.kid, KeyPurpose.ID_TOKEN)
    token = sign_compact(json.dumps(claims).encode(), signer, {"typ": "JWT"})
    ok = invoke(config, "verify", "--text", token, "--json", "--audience", "zj")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["claims"]["sub"] == "s"
    other = invoke(config, "verify", "--text", token, "--audience", "gd")
    assert other.exit_code == 1 and "audience_mismatch" in other.stdout
