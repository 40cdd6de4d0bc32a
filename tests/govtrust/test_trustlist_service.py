"""Trust-list publication at the hub: PKI, signing, HTTP with ETag, sequence under concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner

from govtrust.app import create_app
from govtrust.cli import cli
from govtrust.registry import Role
from trust import generate_private_key
from trust.identifiers import seed_participants
from trust.pki import validate_path
from trust.trustlist import TrustListClient, verify_trust_list


@pytest.fixture
def world(hub):
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    hub.pki.ensure()
    return hub


def test_pki_is_idempotent_and_chains(world, clock):
    assert world.pki.ensure() == []
    roots = world.pki.roots()
    assert sorted(r.signature_algorithm.name for r in roots) == ["ES256", "RS256", "SM2"]
    for info in world.keys.list(purpose="trust_list", owner="hub"):
        leaf, ca = world.pki.chain_for(info.kid)
        path = validate_path(
            leaf, intermediates=[ca], roots=roots, at=clock(), purpose="trust_list"
        )
        assert len(path) == 3 and leaf.public_key == info.public_key


def test_published_list_verifies_against_hub_roots(world, clock, tmp_path):
    world.registry.grant_role("mps", Role.LICENSE_ISSUER, actor="test")
    world.registry.grant_license_type("mps", "111", actor="test")
    world.registry.apply(
        id="applicant", name_zh="申请中单位", name_en="Applicant", level="agency", actor="test"
    )
    world.registry.suspend("gd", actor="test")
    key = generate_private_key("sm2")
    world.registry.register_key(
        "mps",
        purpose="license",
        algorithm="SM2",
        actor="test",
        public_key_pem=key.public_key().pem(),
    )
    p = world.trust_lists.publish()
    roots = [r.der for r in world.pki.roots()]
    tl = TrustListClient(roots=roots, state_dir=tmp_path).accept(p.document, now=clock())
    assert tl.sequence == p.sequence == 1
    assert tl.is_authorised("mps", "111")
    assert tl.participant("gd").status == "suspended" and not tl.has_role("gd", "relying_party")
    assert tl.participant("applicant") is None  # applicants are not published
    (listed_key,) = tl.keys_for("mps", "license")
    assert listed_key.jwk["crv"] == "SM2"
    assert len(tl.participants) == 42


def test_sequence_is_monotonic_and_unique_under_concurrency(world, clock):
    results: list[int] = []
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            results.append(world.trust_lists.publish().sequence)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=publish) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [1, 2, 3, 4, 5, 6]


def test_http_endpoint_with_etag(world, config):
    client = create_app(config, hub=world).test_client()
    r = client.get("/.well-known/trust-list")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    etag = r.headers["ETag"]
    assert r.headers["X-Trust-List-Sequence"] == "1"
    again = client.get("/.well-known/trust-list", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    roots = [c.der for c in world.pki.roots()]
    assert verify_trust_list(r.data, roots=roots, at=world.clock()).sequence == 1
    pem = client.get("/.well-known/trust-roots.pem").data
    assert pem.count(b"BEGIN CERTIFICATE") == 3


def test_expiring_list_is_republished_on_request(world, clock):
    first = world.trust_lists.current()
    assert world.trust_lists.current().sequence == first.sequence
    clock.advance(hours=23, minutes=1)
    assert world.trust_lists.current().sequence == first.sequence + 1


def test_cli_publish_verify_and_rollback(world, config, tmp_path):
    runner = CliRunner()
    run = lambda *a: runner.invoke(cli, list(a), obj={"config": config}, catch_exceptions=False)  # noqa: E731
    assert run("trust-list", "roots", "--out", str(tmp_path / "roots.pem")).exit_code == 0
    assert run("trust-list", "publish", "--out", str(tmp_path / "1.json")).exit_code == 0
    assert run("trust-list", "publish", "--out", str(tmp_path / "2.json")).exit_code == 0
    state = str(tmp_path / "state")
    ok = run(
        "trust-list",
        "verify",
        str(tmp_path / "2.json"),
        "--roots",
        str(tmp_path / "roots.pem"),
        "--state-dir",
        state,
    )
    assert ok.exit_code == 0 and "sequence 2" in ok.output
    back = run(
        "trust-list",
        "verify",
        str(tmp_path / "1.json"),
        "--roots",
        str(tmp_path / "roots.pem"),
        "--state-dir",
        state,
        "--json",
    )
    assert back.exit_code == 1 and '"rollback"' in back.output
    (tmp_path / "bad.json").write_bytes(
        (tmp_path / "2.json").read_bytes().replace(b'"payload": "e', b'"payload": "f')
    )
    bad = run(
        "trust-list", "verify", str(tmp_path / "bad.json"), "--roots", str(tmp_path / "roots.pem")
    )
    assert bad.exit_code == 1


def test_publication_is_logged(world):
    before = world.log.head().size
    p = world.trust_lists.publish(validity=timedelta(hours=1))
    entries = world.log.entries(before, before + 1)
    assert entries[0].kind == "trust_list.published"
    assert entries[0].data["sequence"] == p.sequence and entries[0].data["sha256"] == p.digest
