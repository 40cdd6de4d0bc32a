"""The hub's CRLs: HubPki.crl lists the certificates of revoked seals under the CA that
issued them, and GET /pki/crl/<alg>[-root].crl serves them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from govtrust.app import create_app
from govtrust.demo import seed_demo
from govtrust.hubpki import CRL_VALIDITY
from trust.errors import CertificateError
from trust.identifiers import seed_participants
from trust.pki import load_crl


@pytest.fixture
def world(hub: Any) -> Any:
    hub.ensure_hub_keys()
    hub.pki.ensure()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    return hub


def _ca(hub: Any, alg: str, *, root: bool = False) -> Any:
    certs = hub.pki.roots() if root else hub.pki.cas()
    return next(c for c in certs if c.signature_algorithm.name == alg)


@pytest.mark.parametrize("alg", ["SM2", "ES256", "RS256"])
def test_every_ca_and_root_has_a_signed_empty_crl(world: Any, clock: Any, alg: str) -> None:
    for root in (False, True):
        crl = load_crl(world.pki.crl(alg, root=root))
        crl.verify(_ca(world, alg, root=root), at=clock.now)
        assert crl.revoked == ()
        assert crl.this_update == clock.now.replace(microsecond=0)
        assert crl.next_update == crl.this_update + CRL_VALIDITY
        assert crl.crl_number is not None and crl.crl_number > 0


def test_a_revoked_seal_is_on_its_issuing_cas_crl(world: Any, clock: Any) -> None:
    seal = next(s for s in world.seals.list(holder_id="zj") if s.algorithm == "RS256")
    cert = seal.certificate
    assert cert is not None
    before = world.pki.crl("RS256")
    assert world.pki.crl("RS256") == before  # unchanged set: the same CRL again
    clock.advance(minutes=10)
    world.seals.revoke(seal.id, actor="test", reason="印章遗失")
    crl = load_crl(world.pki.crl("RS256"))
    crl.verify(_ca(world, "RS256"), at=clock.now)
    entry = crl.entry(cert.serial)
    assert entry is not None
    assert entry.revocation_time == clock.now.replace(microsecond=0)
    assert crl.crl_number is not None and crl.crl_number > (load_crl(before).crl_number or 0)
    # Only its issuer lists it; the root and the other families do not.
    assert load_crl(world.pki.crl("RS256", root=True)).revoked == ()
    for alg in ("SM2", "ES256"):
        assert load_crl(world.pki.crl(alg)).entry(cert.serial) is None
    # The SM2 seal's certificate goes on the SM2 CA's CRL once revoked.
    sm2 = next(s for s in world.seals.list(holder_id="zj") if s.algorithm == "SM2")
    world.seals.revoke(sm2.id, actor="test")
    sm2_crl = load_crl(world.pki.crl("SM2"))
    sm2_crl.verify(_ca(world, "SM2"), at=clock.now)
    assert sm2_crl.entry(sm2.certificate.serial) is not None  # type: ignore[union-attr]


def test_crls_are_reissued_before_they_go_stale(world: Any, clock: Any) -> None:
    first = load_crl(world.pki.crl("ES256"))
    clock.advance(hours=2)
    second = load_crl(world.pki.crl("ES256"))
    assert second.this_update == first.this_update + timedelta(hours=2)
    assert (second.crl_number or 0) > (first.crl_number or 0)
    second.verify(_ca(world, "ES256"), at=clock.now)


def test_unknown_family_or_uninitialised_hub(hub: Any) -> None:
    with pytest.raises(CertificateError):
        hub.pki.crl("ES256")  # before govtrust init
    hub.ensure_hub_keys()
    hub.pki.ensure()
    with pytest.raises(CertificateError):
        hub.pki.crl("EdDSA")


def test_seal_certificates_point_at_the_crl(world: Any) -> None:
    for seal in world.seals.list(holder_id="zj"):
        cert = seal.certificate
        ext = cert.extension("2.5.29.31")
        assert ext is not None and not ext.critical
        url = f"{world.config.base_url}/pki/crl/{seal.algorithm}.crl".encode()
        assert url in ext.value
    # The hub's own keys (TSA, trust list …) carry none: they are not revoked through CRLs.
    hub_ees = [c for c in world.pki._certs(role="ee") if c.extension("2.5.29.37")]
    tsa = [c for c in hub_ees if "1.3.6.1.5.5.7.3.8" in c.extended_key_usage]
    assert tsa and all(c.extension("2.5.29.31") is None for c in tsa)


def test_crl_endpoint(world: Any, clock: Any) -> None:
    client = create_app(world.config, hub=world).test_client()
    r = client.get("/pki/crl/RS256.crl")
    assert r.status_code == 200
    assert r.mimetype == "application/pkix-crl"
    assert "public" in r.headers["Cache-Control"] and "max-age=300" in r.headers["Cache-Control"]
    assert r.headers["ETag"] and r.headers["Last-Modified"] and r.headers["Expires"]
    crl = load_crl(r.data)
    crl.verify(_ca(world, "RS256"), at=clock.now)
    again = client.get("/pki/crl/RS256.crl", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    root = client.get("/pki/crl/RS256-root.crl")
    assert root.status_code == 200
    load_crl(root.data).verify(_ca(world, "RS256", root=True), at=clock.now)

    seal = next(s for s in world.seals.list(holder_id="zj") if s.algorithm == "RS256")
    world.seals.revoke(seal.id, actor="test")
    fresh = client.get("/pki/crl/RS256.crl", headers={"If-None-Match": r.headers["ETag"]})
    assert fresh.status_code == 200
    assert load_crl(fresh.data).entry(seal.certificate.serial) is not None  # type: ignore[union-attr]

    for bad in ("EdDSA", "RS256-x", "..%2Fetc", "RS256-root-root"):
        missing = client.get(f"/pki/crl/{bad}.crl")
        assert missing.status_code == 404, bad
