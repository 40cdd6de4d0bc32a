"""Key custody: purposes, lifecycle, rotation overlap, JWKS, encryption at rest."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from keys import KeyPurpose, KeyState, MasterKey, MasterKeyError
from keys.models import KeyRecord
from trust import KeyNotFound, KeyPurposeError, KeyStateError, UnsupportedAlgorithm


@pytest.mark.parametrize("alg", ["SM2", "ES256", "RS256", "EdDSA"])
def test_generate_sign_verify(hub, alg):
    purpose = KeyPurpose.LOG if alg == "EdDSA" else (KeyPurpose.CA)
    info = hub.keys.generate(purpose, alg)
    signer = hub.keys.signer(purpose, algorithm=alg)
    assert signer.key_id == info.kid
    sig = signer.sign(b"payload")
    assert info.public_key.verify(alg, b"payload", sig)
    assert not info.public_key.verify(alg, b"payloaX", sig)


def test_private_key_is_encrypted_at_rest(hub):
    info = hub.keys.generate(KeyPurpose.SEAL, "SM2")
    with hub.db.session() as s:
        rec = s.get(KeyRecord, info.kid)
        blob = rec.private_blob
    assert blob is not None and rec.external_ref is None
    # The raw private scalar must not appear in the stored blob.
    signer = hub.keys.signer(KeyPurpose.SEAL)
    d = signer._sign.__closure__[0].cell_contents.private_numbers().private_value
    assert d.to_bytes(32, "big") not in blob
    assert b"PRIVATE KEY" not in blob


def test_purpose_enforced(hub):
    info = hub.keys.generate(KeyPurpose.ID_TOKEN, "ES256")
    with pytest.raises(KeyPurposeError) as exc:
        hub.keys.signer_for(info.kid, KeyPurpose.SEAL)
    assert exc.value.code == "key_purpose_mismatch"
    with pytest.raises(KeyPurposeError):
        hub.keys.verification_key(info.kid, KeyPurpose.ACCESS_TOKEN)
    assert hub.keys.signer_for(info.kid, KeyPurpose.ID_TOKEN).key_id == info.kid


def test_algorithm_allow_list_per_purpose(hub):
    with pytest.raises(UnsupportedAlgorithm):
        hub.keys.generate(KeyPurpose.LICENSE, "RS256")
    with pytest.raises(UnsupportedAlgorithm):
        hub.keys.generate(KeyPurpose.LOG, "none")


def test_one_active_key_per_purpose_owner_algorithm(hub):
    hub.keys.generate(KeyPurpose.TSA, "ES256")
    with pytest.raises(KeyStateError) as exc:
        hub.keys.generate(KeyPurpose.TSA, "ES256")
    assert exc.value.code == "key_conflict"
    # another owner or algorithm is fine
    hub.keys.generate(KeyPurpose.TSA, "ES256", owner="zj")
    hub.keys.generate(KeyPurpose.TSA, "SM2")


def test_rotation_overlap(hub, clock):
    old = hub.keys.generate(KeyPurpose.ID_TOKEN, "RS256")
    sig_old = hub.keys.signer(KeyPurpose.ID_TOKEN).sign(b"token")
    new = hub.keys.rotate(KeyPurpose.ID_TOKEN, "RS256", overlap=timedelta(hours=1))
    assert new.kid != old.kid and new.state is KeyState.ACTIVE
    assert hub.keys.get(old.kid).state is KeyState.RETIRING
    # The old key is verify-only during the overlap ...
    with pytest.raises(KeyStateError):
        hub.keys.signer_for(old.kid, KeyPurpose.ID_TOKEN)
    assert hub.keys.verification_key(old.kid, KeyPurpose.ID_TOKEN).verify(
        "RS256", b"token", sig_old
    )
    kids = [k["kid"] for k in hub.keys.jwks(KeyPurpose.ID_TOKEN)["keys"]]
    assert sorted(kids) == sorted([old.kid, new.kid])
    assert hub.keys.signer(KeyPurpose.ID_TOKEN).key_id == new.kid
    # ... and gone after it.
    clock.advance(hours=1, seconds=1)
    assert [k["kid"] for k in hub.keys.jwks(KeyPurpose.ID_TOKEN)["keys"]] == [new.kid]
    with pytest.raises(KeyStateError):
        hub.keys.verification_key(old.kid, KeyPurpose.ID_TOKEN)
    assert hub.keys.retire_due() == [old.kid]
    assert hub.keys.get(old.kid).state is KeyState.RETIRED


def test_rotation_under_load_never_fails_verification(hub):
    """Signing and verifying continuously while keys rotate: zero failures."""
    hub.keys.generate(KeyPurpose.ACCESS_TOKEN, "ES256")
    failures: list[str] = []
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            signer = hub.keys.signer(KeyPurpose.ACCESS_TOKEN)
            sig = signer.sign(b"msg")
            try:
                pub = hub.keys.verification_key(signer.key_id, KeyPurpose.ACCESS_TOKEN)
                if not pub.verify("ES256", b"msg", sig):
                    failures.append("bad signature")
            except Exception as exc:  # noqa: BLE001 - any failure counts
                failures.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(5):
        hub.keys.rotate(KeyPurpose.ACCESS_TOKEN, "ES256", overlap=timedelta(minutes=5))
    stop.set()
    for t in threads:
        t.join()
    assert failures == []


def test_pending_then_activate(hub):
    info = hub.keys.generate(KeyPurpose.STATUS_LIST, "SM2", activate=False)
    assert info.state is KeyState.PENDING
    with pytest.raises(KeyNotFound):
        hub.keys.signer(KeyPurpose.STATUS_LIST)
    hub.keys.activate(info.kid)
    assert hub.keys.signer(KeyPurpose.STATUS_LIST).key_id == info.kid
    with pytest.raises(KeyStateError):
        hub.keys.activate(info.kid)


def test_wrong_master_key_cannot_unwrap(hub, config):
    from keys import KeyStore, SoftwareCustody

    info = hub.keys.generate(KeyPurpose.SEAL, "ES256")
    other = KeyStore(hub.db, software=SoftwareCustody(MasterKey(bytes(32))))
    with pytest.raises(MasterKeyError):
        other.signer_for(info.kid, KeyPurpose.SEAL)


def test_blob_moved_to_another_record_does_not_decrypt(hub):
    a = hub.keys.generate(KeyPurpose.SEAL, "ES256")
    b = hub.keys.generate(KeyPurpose.SEAL, "ES256", owner="gd")
    with hub.db.write() as s:
        ra, rb = s.get(KeyRecord, a.kid), s.get(KeyRecord, b.kid)
        rb.private_blob = ra.private_blob
    with pytest.raises(MasterKeyError):
        hub.keys.signer_for(b.kid, KeyPurpose.SEAL)


def test_master_key_parsing(tmp_path):
    with pytest.raises(MasterKeyError):
        MasterKey.parse("not-a-key")
    with pytest.raises(MasterKeyError):
        MasterKey.load(None, tmp_path / "missing.key")
    k = MasterKey.load(None, tmp_path / "new.key", create=True)
    assert (tmp_path / "new.key").stat().st_mode & 0o777 == 0o600
    assert MasterKey.load(None, tmp_path / "new.key").key_id == k.key_id
    assert "key" not in repr(k).lower().replace("masterkey", "")


def test_key_list_never_contains_private_material(hub):
    hub.keys.generate(KeyPurpose.SEAL, "SM2")
    for info in hub.keys.list():
        jwk = info.jwk()
        assert "d" not in jwk and set(jwk) >= {"kid", "alg", "use", "kty"}


def test_records_in_database(hub):
    hub.keys.generate(KeyPurpose.LOG, "EdDSA")
    with hub.db.session() as s:
        rows = s.scalars(select(KeyRecord)).all()
    assert [r.state for r in rows] == ["active"]


def test_a_key_retired_elsewhere_stops_signing_at_once(hub):
    """The signer is cached per process, its key's state is not: another process
    (another KeyStore on the same database) retiring the key stops this one's very
    next signature, and purpose is still checked on the cached path."""
    from keys import KeyStore, SoftwareCustody

    info = hub.keys.generate(KeyPurpose.LICENSE, "SM2", owner="license-issuer:mps")
    first = hub.keys.signer_for(info.kid, KeyPurpose.LICENSE)
    assert hub.keys.signer_for(info.kid, KeyPurpose.LICENSE) is first  # cached
    with pytest.raises(KeyPurposeError):
        hub.keys.signer_for(info.kid, KeyPurpose.SEAL)
    other = KeyStore(hub.db, software=SoftwareCustody(hub.master_key))
    other.retire(info.kid)
    with pytest.raises(KeyStateError):
        hub.keys.signer_for(info.kid, KeyPurpose.LICENSE)
    with hub.db.write() as s:  # gone altogether (as after a purge): not found, typed
        s.delete(s.get(KeyRecord, info.kid))
    with pytest.raises(KeyNotFound):
        hub.keys.signer_for(info.kid, KeyPurpose.LICENSE)
