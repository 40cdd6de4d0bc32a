"""The offline verifier's trust bundle: sync, offline verdicts, refusal of
stale, rolled-back, forked and tampered trust data (verifier/bundle.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hub_helpers import demo_world

from license_wallet.credential import present_qr_text
from license_wallet.types import example_fields, license_type
from trust.crypto import generate_private_key
from verifier.bundle import (
    BUNDLE_FILE,
    BundleError,
    accept_bundle,
    load_cache,
)
from verifier.licenses import verify_license_qr

ID_CARD = license_type("resident_id_card").code


@pytest.fixture
def world(hub: Any) -> Any:
    return demo_world(hub)


@pytest.fixture
def roots_pem(world: Any) -> bytes:
    return b"".join(c.pem() for c in world.pki.roots())


def issue(world: Any, key: Any, issuer: str = "mps") -> Any:
    return world.licenses.issue(
        issuer, ID_CARD, "acct-1", key.public_key().jwk(), example_fields(ID_CARD), actor="test"
    )


def qr(world: Any, lic: Any, key: Any) -> str:
    return present_qr_text(lic.credential, "minimal", key.signer("ES256"), now=world.clock())


def sync(world: Any, cache: Path, roots_pem: bytes | None = None, **kw: Any) -> Any:
    return accept_bundle(
        world.verifier_bundle(),
        cache,
        now=world.clock(),
        roots_pem=roots_pem,
        consistency=kw.pop("consistency", world.log.consistency_proof),
        **kw,
    )


def edit(bundle: bytes, **changes: Any) -> bytes:
    doc = json.loads(bundle)
    doc.update(changes)
    return json.dumps(doc).encode()


def refused(code: str, data: bytes, cache: Path, world: Any, **kw: Any) -> BundleError:
    before = {p.name: p.read_bytes() for p in cache.iterdir()} if cache.exists() else {}
    with pytest.raises(BundleError) as err:
        accept_bundle(data, cache, now=kw.pop("now", world.clock()), **kw)
    assert err.value.code == code, (err.value.code, err.value.message)
    after = {p.name: p.read_bytes() for p in cache.iterdir()} if cache.exists() else {}
    assert after == before  # a refused bundle changes nothing on disk
    return err.value


def test_sync_then_verify_offline(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    key = generate_private_key("p256")
    lic = issue(world, key)
    cache = tmp_path / "cache"
    stored = sync(world, cache, roots_pem)
    assert stored.stale(world.clock()) is None
    assert (cache / BUNDLE_FILE).exists() and (cache / "roots.pem").read_bytes() == roots_pem
    trust = load_cache(cache, now=world.clock())  # re-checked from disk
    verdict = verify_license_qr(qr(world, lic, key), trust, now=world.clock())
    assert verdict.verdict == "VALID", verdict
    assert verdict.issuer is not None and verdict.issuer.participant_id == "mps"
    info = trust.freshness(world.clock())
    assert info["stale"] is None and info["status_lists"] >= 1 and info["log_size"] > 0


def test_revocation_reaches_the_counter_at_the_next_sync(
    world: Any, roots_pem: bytes, tmp_path: Path
) -> None:
    key = generate_private_key("p256")
    lic = issue(world, key)
    cache = tmp_path / "cache"
    sync(world, cache, roots_pem)
    world.licenses.revoke(lic.id, actor="test")
    offline = load_cache(cache, now=world.clock())
    # Offline, the counter still holds the list from before the revocation …
    assert verify_license_qr(qr(world, lic, key), offline, now=world.clock()).verdict == "VALID"
    world.clock.advance(seconds=5)
    sync(world, cache)  # the pin is kept from the first sync
    verdict = verify_license_qr(
        qr(world, lic, key), load_cache(cache, now=world.clock()), now=world.clock()
    )
    assert (verdict.verdict, verdict.reasons) == ("INVALID", ("revoked",))


def test_suspended_issuer_is_inactive_not_unknown(
    world: Any, roots_pem: bytes, tmp_path: Path
) -> None:
    key = generate_private_key("p256")
    lic = issue(world, key)
    world.registry.suspend("mps", actor="test", reason="audit")
    world.trust_lists.publish()
    trust = sync(world, tmp_path / "cache", roots_pem)
    verdict = verify_license_qr(qr(world, lic, key), trust, now=world.clock())
    assert (verdict.verdict, verdict.reasons) == ("INVALID", ("issuer_inactive",))


def test_aged_cache_gives_stale_trust_data(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    key = generate_private_key("p256")
    lic = issue(world, key)
    cache = tmp_path / "cache"
    bundle = world.verifier_bundle()
    accept_bundle(bundle, cache, now=world.clock(), roots_pem=roots_pem)
    world.clock.advance(hours=25)  # status lists live 24 h
    trust = load_cache(cache, now=world.clock())  # still loads …
    assert trust.stale(world.clock()) is not None
    verdict = verify_license_qr(qr(world, lic, key), trust, now=world.clock())
    assert (verdict.verdict, verdict.reasons) == ("INDETERMINATE", ("stale_trust_data",))
    # … and the same old bundle is refused as a fresh sync.
    refused("status_list_expired", bundle, tmp_path / "other", world, roots_pem=roots_pem)
    world.clock.advance(hours=30)  # past the trust list's next_update + grace as well
    assert "trust list" in (load_cache(cache, now=world.clock()).stale(world.clock()) or "")


def test_trust_list_rollback_is_refused(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = world.verifier_bundle()
    world.clock.advance(seconds=10)
    world.trust_lists.publish()
    sync(world, cache, roots_pem)
    refused("rollback", old, cache, world)


def test_log_rollback_and_fork_are_refused(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    issue(world, generate_private_key("p256"))  # the issuer's keys exist from here on
    small = world.verifier_bundle()
    issue(world, generate_private_key("p256"))  # the log grows; the trust list stays
    grown = world.verifier_bundle()
    assert json.loads(small)["trust_list"] == json.loads(grown)["trust_list"]
    sync(world, cache, roots_pem)
    refused("log_rollback", small, cache, world)
    issue(world, generate_private_key("p256"))
    # A proof that does not connect the two trees: what a forked log would send.
    refused(
        "log_fork",
        world.verifier_bundle(),
        cache,
        world,
        consistency=lambda old, new: [b"\x00" * 32] * 3,
    )
    sync(world, cache)  # the honest proof passes


def test_tampered_parts_are_refused(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bundle = world.verifier_bundle()
    doc = json.loads(bundle)
    uri, token = next(iter(doc["status_lists"].items()))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-5] ^= 1  # in the signature
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode()
    kw = {"roots_pem": roots_pem}
    refused("status_list_invalid", edit(bundle, status_lists={uri: flipped}), cache, world, **kw)
    # A genuine list offered under another list's URI.
    refused(
        "status_list_invalid", edit(bundle, status_lists={uri + "x": token}), cache, world, **kw
    )
    cp = doc["checkpoint"].replace("\n", "\n\n", 1)
    refused("checkpoint_invalid", edit(bundle, checkpoint=cp), cache, world, **kw)
    lines = doc["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)  # another tree size under the old signature
    refused("checkpoint_invalid", edit(bundle, checkpoint="\n".join(lines)), cache, world, **kw)
    tl = json.loads(doc["trust_list"])
    tl["payload"] = tl["payload"][:-4] + ("AAAA" if tl["payload"][-4:] != "AAAA" else "BBBB")
    refused("bad_signature", edit(bundle, trust_list=json.dumps(tl)), cache, world, **kw)
    assert not cache.exists() or not (cache / BUNDLE_FILE).exists()
    sync(world, cache, roots_pem)  # the untouched bundle is fine


def test_malformed_bundles_and_missing_pin(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    kw = {"roots_pem": roots_pem}
    refused("malformed", b"\xff not json", cache, world, **kw)
    refused("malformed", b"[1, 2]", cache, world, **kw)
    refused("malformed", b"[" * 100_000, cache, world, **kw)
    refused("unsupported_format", edit(world.verifier_bundle(), format="x/2"), cache, world, **kw)
    refused("malformed", edit(world.verifier_bundle(), status_lists=[]), cache, world, **kw)
    refused(
        "malformed", edit(world.verifier_bundle(), status_lists={"u": "!!"}), cache, world, **kw
    )
    refused("too_large", b" " * (32 * 1024 * 1024 + 1), cache, world, **kw)
    refused("no_trust_anchor", world.verifier_bundle(), cache, world)
    refused("no_trust_anchor", world.verifier_bundle(), cache, world, roots_pem=b"not pem")
    with pytest.raises(BundleError) as err:
        load_cache(cache, now=world.clock())
    assert err.value.code == "no_cache"


def test_other_roots_do_not_vouch(world: Any, tmp_path: Path) -> None:
    from datetime import timedelta

    from trust.pki import issue_root

    now = world.clock()
    other = issue_root(
        generate_private_key("p256").signer("ES256"),
        "CN=Other hub root",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=365),
    )
    bundle = world.verifier_bundle()
    err = refused("untrusted_signer", bundle, tmp_path / "c", world, roots_pem=other.pem())
    assert "root" in err.message


def test_tampered_cache_is_checked_again(world: Any, roots_pem: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sync(world, cache, roots_pem)
    doc = json.loads((cache / BUNDLE_FILE).read_bytes())
    uri, token = next(iter(doc["status_lists"].items()))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x40
    doc["status_lists"][uri] = base64.urlsafe_b64encode(bytes(raw)).decode()
    (cache / BUNDLE_FILE).write_text(json.dumps(doc))
    with pytest.raises(BundleError) as err:
        load_cache(cache, now=world.clock())
    assert err.value.code == "status_list_invalid"


def test_keys_made_after_the_last_trust_list_reach_the_bundle(
    world: Any, roots_pem: bytes, tmp_path: Path
) -> None:
    """A license issuer's keys are made at its first issuance; the bundle must carry
    them although the trust list was published before (no manual republish)."""
    first = world.trust_lists.publish()
    payload = json.loads(first.document)["payload"]
    listed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    keyless = [
        i
        for i in listed["extensions"]["govtrust.license_wallet"]["issuers"]
        if not i["keys"] and i["license_types"] and i["status"] == "active"
    ]
    assert keyless, "the demo should have an issuer that has not issued yet"
    issuer, type_code = keyless[0]["id"], keyless[0]["license_types"][0]
    key = generate_private_key("p256")
    lic = world.licenses.issue(
        issuer, type_code, "acct-2", key.public_key().jwk(), example_fields(type_code), actor="t"
    )
    trust = sync(world, tmp_path / "cache", roots_pem)
    assert trust.trust_list.sequence > first.sequence
    verdict = verify_license_qr(qr(world, lic, key), trust, now=world.clock())
    assert verdict.verdict == "VALID", verdict
    again = world.verifier_bundle()  # nothing changed since: no new list
    assert json.loads(again)["trust_list"] == json.loads(world.verifier_bundle())["trust_list"]


def test_a_status_list_signed_by_another_issuer_is_not_trusted(
    world: Any, roots_pem: bytes, tmp_path: Path
) -> None:
    """Issuer B's status-list key signing a list under issuer A's URI (all VALID,
    hiding A's revocation): the signature checks out, the signer is wrong."""
    from keys import KeyPurpose
    from license_wallet.status_list import StatusList
    from trust.cose import encode_deterministic, sign1

    key = generate_private_key("p256")
    lic = issue(world, key)  # mps
    world.licenses.revoke(lic.id, actor="test")
    other = next(
        i["id"]
        for i in world.licenses.issuers()
        if i["id"] != "mps" and i["status"] == "active" and i["license_types"]
    )
    world.licenses.ensure_issuer_keys(other)
    (info,) = [
        k for k in world.keys.list(purpose=KeyPurpose.STATUS_LIST, owner=f"license-issuer:{other}")
    ]
    signer = world.keys.signer_for(info.kid, KeyPurpose.STATUS_LIST)
    now = int(world.clock().timestamp())
    claims = {
        2: lic.status_uri,
        6: now,
        4: now + 3600,
        65534: 300,
        65533: {"bits": 2, "lst": StatusList(lic.status_idx + 1, 2).compress()},
    }
    forged = sign1(
        encode_deterministic(claims),
        signer,
        alg=signer.algorithm.cose,
        kid=next(
            base64.urlsafe_b64decode(k["cose_kid"] + "=" * (-len(k["cose_kid"]) % 4))
            for i in world.licenses.issuers()
            if i["id"] == other
            for k in i["keys"]
            if k["purpose"] == "status_list"
        ),
        protected_extra={16: "application/statuslist+cwt"},
    )
    bundle = json.loads(world.verifier_bundle())
    bundle["status_lists"][lic.status_uri] = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    trust = accept_bundle(
        json.dumps(bundle).encode(), tmp_path / "c", now=world.clock(), roots_pem=roots_pem
    )
    verdict = verify_license_qr(qr(world, lic, key), trust, now=world.clock())
    assert (verdict.verdict, verdict.reasons) == ("INDETERMINATE", ("status_unknown",))
    assert "another issuer" in verdict.detail
