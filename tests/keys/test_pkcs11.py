"""PKCS#11 custody against a real SoftHSM2 token: keys generated inside the token,
non-extractable, used through the KeyStore with purposes and rotation."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pkcs11
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11e

from govtrust.hub import Hub
from keys import KeyPurpose, KeyState
from keys._pkcs11 import Pkcs11Custody, Pkcs11Signer, shutdown
from keys.models import KeyRecord
from trust import (
    InvalidKey,
    KeyFamily,
    KeyNotFound,
    KeyPurposeError,
    KeyStateError,
    SigEncoding,
    UnsupportedAlgorithm,
    b64url_decode,
    generate_private_key,
    signature_algorithm,
)

pytestmark = pytest.mark.softhsm

IN_CI = os.environ.get("CI") == "true"
MODULE = os.environ.get("GOVTRUST_TEST_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
TOKEN, PIN, SO_PIN = "govtrust-test", "1234", "5678"
OTHER_TOKEN = "govtrust-other"


def require(condition: bool, reason: str) -> None:
    """As tests/conftest.py: skip locally, fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_tool(name: str, package: str | None = None) -> str:
    path = shutil.which(name)
    require(path is not None, f"'{name}' not found (Debian package {package or name})")
    assert path is not None
    return path


@dataclass(frozen=True)
class SoftHSM:
    module: str
    token: str
    pin: str
    conf: Path


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSM]:
    """A fresh SoftHSM2 token directory for the session.

    The PKCS#11 module is process-global and reads SOFTHSM2_CONF only in
    C_Initialize, so the variable is set before the first custody loads the
    module, and the module is finalised (``shutdown``) before and after.
    """
    util = require_tool("softhsm2-util", "softhsm2")
    require(Path(MODULE).exists(), f"PKCS#11 module {MODULE} not found (Debian package softhsm2)")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
        "slots.mechanisms = ALL\n"
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in (TOKEN, OTHER_TOKEN):
        subprocess.run(
            [util, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
            env=env,
            check=True,
            capture_output=True,
        )
    shutdown()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        yield SoftHSM(MODULE, TOKEN, PIN, conf)
        shutdown()


@pytest.fixture
def custody(softhsm: SoftHSM) -> Pkcs11Custody:
    return Pkcs11Custody(softhsm.module, softhsm.token, softhsm.pin)


@pytest.fixture
def hsm_hub(config, clock, softhsm: SoftHSM) -> Iterator[Hub]:
    """A hub configured like production: GOVTRUST_PKCS11_MODULE/TOKEN/PIN."""
    h = Hub(
        config.replace(
            pkcs11_module=softhsm.module, pkcs11_token=softhsm.token, pkcs11_pin=softhsm.pin
        ),
        clock=clock,
    )
    h.migrate()
    yield h
    h.close()


# --------------------------------------------------------------------------- helpers

PURPOSE_FOR = {
    "ES256": KeyPurpose.SEAL,
    "RS256": KeyPurpose.CA,
    "PS256": KeyPurpose.ID_TOKEN,
    "EdDSA": KeyPurpose.LOG,
}


def independent_verify(jwk: dict[str, object], alg: str, data: bytes, sig: bytes) -> bool:
    """Verify with pyca/cryptography on a key rebuilt from the published JWK
    (no GovTrust code involved)."""

    def num(name: str) -> int:
        return int.from_bytes(b64url_decode(str(jwk[name])), "big")

    try:
        if alg == "ES256":
            assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
            key = ec.EllipticCurvePublicNumbers(num("x"), num("y"), ec.SECP256R1()).public_key()
            key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        elif alg in ("RS256", "PS256"):
            assert jwk["kty"] == "RSA"
            rkey = rsa.RSAPublicNumbers(num("e"), num("n")).public_key()
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15()
                if alg == "RS256"
                else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            )
            rkey.verify(sig, data, pad, hashes.SHA256())
        else:
            assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
            ekey = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk["x"])))
            ekey.verify(sig, data)
    except InvalidSignature:
        return False
    return True


def token_objects(custody: Pkcs11Custody, ref: str) -> list[tuple[ObjectClass, str]]:
    with custody.session() as session:
        return sorted(
            (obj.object_class, obj.label) for obj in session.get_objects({Attribute.LABEL: ref})
        )


def record(hub: Hub, kid: str) -> KeyRecord:
    with hub.db.session() as s:
        rec = s.get(KeyRecord, kid)
        assert rec is not None
        return rec


# --------------------------------------------------------------------------- tests


def test_hub_builds_pkcs11_custody_from_config(hsm_hub):
    assert isinstance(hsm_hub.hsm, Pkcs11Custody)
    assert PIN not in repr(hsm_hub.hsm)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA"])
def test_generate_sign_verify(hsm_hub, alg):
    purpose = PURPOSE_FOR[alg]
    info = hsm_hub.keys.generate(purpose, alg, backend="pkcs11")
    assert info.backend == "pkcs11" and info.state is KeyState.ACTIVE
    signer = hsm_hub.keys.signer(purpose, algorithm=alg)
    assert isinstance(signer, Pkcs11Signer)
    assert signer.key_id == info.kid and signer.public_key == info.public_key
    assert signer.algorithm is signature_algorithm(alg)

    data = b"GovTrust \xe6\x94\xbf\xe5\x8a\xa1 payload"
    sig = signer.sign(data)
    assert info.public_key.verify(alg, data, sig)
    assert not info.public_key.verify(alg, data + b"!", sig)
    jwk = hsm_hub.keys.get(info.kid).jwk()
    assert independent_verify(jwk, alg, data, sig)
    assert not independent_verify(jwk, alg, data + b"!", sig)

    if alg == "ES256":
        assert sig[0] == 0x30  # DER SEQUENCE { r, s }
        raw = signer.sign_raw(data)
        assert len(raw) == 64
        assert info.public_key.verify(alg, data, raw, encoding=SigEncoding.RAW)
    elif alg == "EdDSA":
        assert len(sig) == 64
        assert sig == signer.sign(data)  # Ed25519 is deterministic
    else:
        assert info.public_key.native.key_size == 3072  # the default size
        assert len(sig) == 384

    rec = record(hsm_hub, info.kid)
    assert rec.private_blob is None
    assert rec.backend == "pkcs11"
    assert rec.external_ref and rec.external_ref.startswith("gt-")
    assert token_objects(hsm_hub.hsm, rec.external_ref) == [
        (ObjectClass.PUBLIC_KEY, rec.external_ref),
        (ObjectClass.PRIVATE_KEY, rec.external_ref),
    ]


@pytest.mark.parametrize(
    ("family", "secret_attrs"),
    [
        (KeyFamily.P256, (Attribute.VALUE,)),
        (KeyFamily.ED25519, (Attribute.VALUE,)),
        (KeyFamily.RSA, (Attribute.PRIVATE_EXPONENT, Attribute.PRIME_1, Attribute.PRIME_2)),
    ],
)
def test_private_key_is_sensitive_and_not_extractable(softhsm, family, secret_attrs):
    custody = Pkcs11Custody(softhsm.module, softhsm.token, softhsm.pin, rsa_bits=2048)
    ref = f"gt-attr-{family}"
    stored = custody.generate(ref, family, context=lambda pub: b"unused")
    assert stored.blob is None and stored.ref == ref
    assert stored.public_key.family is family
    try:
        with custody.session() as session:
            (priv,) = session.get_objects(
                {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: ref}
            )
            expected = {
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.ALWAYS_SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.NEVER_EXTRACTABLE: True,
                Attribute.LOCAL: True,  # generated inside the token
                Attribute.MODIFIABLE: False,
                Attribute.SIGN: True,
                Attribute.SIGN_RECOVER: False,
                Attribute.DECRYPT: False,
                Attribute.UNWRAP: False,
                Attribute.DERIVE: False,
                Attribute.LABEL: ref,
                Attribute.ID: ref.encode(),
            }
            assert {attr: priv[attr] for attr in expected} == expected
            # The secret never comes out ...
            for attr in secret_attrs:
                with pytest.raises(p11e.AttributeSensitive):
                    priv[attr]
            if family is KeyFamily.RSA:  # an RSA private key has no CKA_VALUE at all
                with pytest.raises(p11e.AttributeTypeInvalid):
                    priv[Attribute.VALUE]
            # ... and cannot be made to come out: the attributes are frozen
            # (CKR_ACTION_PROHIBITED with CKA_MODIFIABLE false, otherwise
            # CKR_ATTRIBUTE_READ_ONLY), wrapping is refused.
            for attr, value in (
                (Attribute.EXTRACTABLE, True),
                (Attribute.SENSITIVE, False),
                (Attribute.DECRYPT, True),
                (Attribute.DERIVE, True),
            ):
                with pytest.raises(p11e.PKCS11Error):
                    priv[attr] = value
                assert priv[attr] is not value
            wrapping = session.generate_key(
                pkcs11.KeyType.AES, 256, capabilities=pkcs11.MechanismFlag.WRAP
            )
            try:
                with pytest.raises(p11e.KeyUnextractable):
                    wrapping.wrap_key(priv)
            finally:
                wrapping.destroy()
    finally:
        custody.destroy(ref)


def test_sm2_is_refused_with_a_pointer_to_the_software_backend(hsm_hub, custody):
    with pytest.raises(UnsupportedAlgorithm) as exc:
        hsm_hub.keys.generate(KeyPurpose.SEAL, "SM2", backend="pkcs11")
    assert "SoftHSM2 has no SM2 mechanism" in exc.value.message
    assert "software backend" in exc.value.message and "docs/keys.md" in exc.value.message
    assert hsm_hub.keys.list(purpose=KeyPurpose.SEAL) == []
    with pytest.raises(UnsupportedAlgorithm):
        custody.generate("gt-sm2", KeyFamily.SM2, context=lambda pub: b"")
    assert token_objects(custody, "gt-sm2") == []
    # SM2 keys stay available, in the software backend.
    assert hsm_hub.keys.generate(KeyPurpose.SEAL, "SM2").backend == "software"


def test_purpose_enforced_for_hsm_keys(hsm_hub):
    info = hsm_hub.keys.generate(KeyPurpose.ID_TOKEN, "ES256", backend="pkcs11")
    with pytest.raises(KeyPurposeError):
        hsm_hub.keys.signer_for(info.kid, KeyPurpose.SEAL)
    with pytest.raises(KeyPurposeError):
        hsm_hub.keys.verification_key(info.kid, KeyPurpose.ACCESS_TOKEN)
    with pytest.raises(UnsupportedAlgorithm):  # the allow-list holds for every backend
        hsm_hub.keys.generate(KeyPurpose.LICENSE, "RS256", backend="pkcs11")
    with pytest.raises(KeyStateError) as exc:  # one active key per purpose/owner/alg
        hsm_hub.keys.generate(KeyPurpose.ID_TOKEN, "ES256", backend="pkcs11")
    assert exc.value.code == "key_conflict"
    signer = hsm_hub.keys.signer_for(info.kid, KeyPurpose.ID_TOKEN)
    assert info.public_key.verify("ES256", b"t", signer.sign(b"t"))


def test_rotation_with_hsm_keys(hsm_hub, clock):
    keys, hsm = hsm_hub.keys, hsm_hub.hsm
    # software → HSM (migration), then HSM → HSM
    first = keys.generate(KeyPurpose.ID_TOKEN, "ES256")
    sig_first = keys.signer(KeyPurpose.ID_TOKEN).sign(b"token-1")
    second = keys.rotate(KeyPurpose.ID_TOKEN, "ES256", overlap=timedelta(hours=1), backend="pkcs11")
    assert second.backend == "pkcs11" and second.state is KeyState.ACTIVE
    sig_second = keys.signer(KeyPurpose.ID_TOKEN).sign(b"token-2")
    assert keys.signer(KeyPurpose.ID_TOKEN).key_id == second.kid

    clock.advance(minutes=30)
    third = keys.rotate(KeyPurpose.ID_TOKEN, "ES256", overlap=timedelta(hours=1), backend="pkcs11")
    assert keys.get(second.kid).state is KeyState.RETIRING
    # The old HSM key is verify-only during the overlap ...
    with pytest.raises(KeyStateError):
        keys.signer_for(second.kid, KeyPurpose.ID_TOKEN)
    assert keys.verification_key(second.kid, KeyPurpose.ID_TOKEN).verify(
        "ES256", b"token-2", sig_second
    )
    assert keys.verification_key(first.kid, KeyPurpose.ID_TOKEN).verify(
        "ES256", b"token-1", sig_first
    )
    published = {k["kid"] for k in keys.jwks(KeyPurpose.ID_TOKEN)["keys"]}
    assert published == {first.kid, second.kid, third.kid}
    new_sig = keys.signer(KeyPurpose.ID_TOKEN).sign(b"token-3")
    assert third.public_key.verify("ES256", b"token-3", new_sig)

    # ... and retired after it: retiring destroys its token objects (it never signs again).
    ref = record(hsm_hub, second.kid).external_ref
    assert ref and len(token_objects(hsm, ref)) == 2
    clock.advance(hours=1)
    assert sorted(keys.retire_due()) == sorted([first.kid, second.kid])
    assert {k["kid"] for k in keys.jwks(KeyPurpose.ID_TOKEN)["keys"]} == {third.kid}
    assert token_objects(hsm, ref) == []
    assert keys.signer(KeyPurpose.ID_TOKEN).key_id == third.kid


def test_destroy_removes_both_objects(custody):
    ref = "gt-destroy"
    stored = custody.generate(ref, KeyFamily.P256, context=lambda pub: b"")
    signer = custody.signer(
        signature_algorithm("ES256"), stored.public_key, None, ref, context=b"", key_id="k"
    )
    assert stored.public_key.verify("ES256", b"x", signer.sign(b"x"))
    assert len(token_objects(custody, ref)) == 2
    custody.destroy(ref)
    assert token_objects(custody, ref) == []
    custody.destroy(ref)  # idempotent
    custody.destroy(None)
    with pytest.raises(KeyNotFound):
        custody.signer(
            signature_algorithm("ES256"), stored.public_key, None, ref, context=b"", key_id="k"
        )
    with pytest.raises(KeyStateError):  # an existing signer fails cleanly, typed
        signer.sign(b"x")


def test_signer_checks_the_token_key_against_the_record(custody):
    ref = "gt-mismatch"
    stored = custody.generate(ref, KeyFamily.P256, context=lambda pub: b"")
    try:
        es256 = signature_algorithm("ES256")
        other = generate_private_key(KeyFamily.P256).public_key()
        with pytest.raises(InvalidKey, match="does not match"):
            custody.signer(es256, other, None, ref, context=b"", key_id="k")
        with pytest.raises(UnsupportedAlgorithm):
            custody.signer(
                signature_algorithm("EdDSA"), stored.public_key, None, ref, context=b"", key_id="k"
            )
        with pytest.raises(KeyNotFound):
            custody.signer(es256, stored.public_key, None, None, context=b"", key_id="k")
        with pytest.raises(KeyStateError) as exc:  # refs are unique in the token
            custody.generate(ref, KeyFamily.P256, context=lambda pub: b"")
        assert exc.value.code == "key_conflict"
    finally:
        custody.destroy(ref)


def test_concurrent_signing_in_four_threads(custody):
    custody_refs = {
        "ES256": ("gt-conc-ec", KeyFamily.P256),
        "EdDSA": ("gt-conc-ed", KeyFamily.ED25519),
    }
    signers = {}
    for alg, (ref, family) in custody_refs.items():
        stored = custody.generate(ref, family, context=lambda pub: b"")
        signers[alg] = custody.signer(
            signature_algorithm(alg), stored.public_key, None, ref, context=b"", key_id=ref
        )
    results: list[tuple[str, bytes, bytes]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            barrier.wait()
            local = []
            for i in range(60):
                alg = "ES256" if (i + n) % 2 else "EdDSA"
                data = f"thread {n} message {i}".encode()
                local.append((alg, data, signers[alg].sign(data)))
            # key generation interleaved with the other threads' signatures
            ref = f"gt-conc-{n}"
            stored = custody.generate(ref, KeyFamily.P256, context=lambda pub: b"")
            s = custody.signer(
                signature_algorithm("ES256"), stored.public_key, None, ref, context=b"", key_id=ref
            )
            local.append(("ES256-own", ref.encode(), s.sign(ref.encode())))
            custody.destroy(ref)
            with lock:
                results.extend(local)
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert len(results) == 4 * 61
        for alg, data, sig in results:
            if alg == "ES256-own":
                continue  # its key was destroyed; verified by construction (probe)
            assert signers[alg].public_key.verify(alg, data, sig), (alg, data)
    finally:
        for ref, _ in custody_refs.values():
            custody.destroy(ref)


def test_recovers_when_the_session_is_closed_under_it(custody):
    ref = "gt-recover"
    stored = custody.generate(ref, KeyFamily.ED25519, context=lambda pub: b"")
    try:
        signer = custody.signer(
            signature_algorithm("EdDSA"), stored.public_key, None, ref, context=b"", key_id="k"
        )
        with custody.session() as session:
            session.close()  # C_Logout + C_CloseSession behind the custody's back
        assert stored.public_key.verify("EdDSA", b"after", signer.sign(b"after"))
    finally:
        custody.destroy(ref)


def test_forked_child_reinitialises_the_module(custody):
    ref = "gt-fork"
    stored = custody.generate(ref, KeyFamily.P256, context=lambda pub: b"")
    try:
        signer = custody.signer(
            signature_algorithm("ES256"), stored.public_key, None, ref, context=b"", key_id="k"
        )
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python ≥ 3.12 warns about fork() while other threads run; none of ours do.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # child: only os._exit leaves
            code = 1
            try:
                os.close(read)
                os.write(write, signer.sign(b"from the child"))
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as fh:
            sig = fh.read()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert stored.public_key.verify("ES256", b"from the child", sig)
        # and the parent's session is untouched
        assert stored.public_key.verify("ES256", b"parent", signer.sign(b"parent"))
    finally:
        custody.destroy(ref)


def test_rsa_size_is_configurable(softhsm):
    custody = Pkcs11Custody(softhsm.module, softhsm.token, softhsm.pin, rsa_bits=2048)
    stored = custody.generate("gt-rsa2048", KeyFamily.RSA, context=lambda pub: b"")
    try:
        assert stored.public_key.native.key_size == 2048
    finally:
        custody.destroy("gt-rsa2048")
    with pytest.raises(InvalidKey):
        Pkcs11Custody(softhsm.module, softhsm.token, softhsm.pin, rsa_bits=1024)


def test_configuration_errors_are_typed(softhsm, tmp_path):
    with pytest.raises(KeyStateError) as exc:
        Pkcs11Custody(softhsm.module, "no-such-token", softhsm.pin)
    assert exc.value.code == "key_backend"
    with pytest.raises(KeyStateError) as exc:
        Pkcs11Custody(softhsm.module, OTHER_TOKEN, "0000")
    assert exc.value.code == "key_backend" and "0000" not in exc.value.message
    with pytest.raises(KeyStateError) as exc:  # login is per process and token
        Pkcs11Custody(softhsm.module, softhsm.token, "9999")
    assert exc.value.code == "key_backend"
    with pytest.raises(KeyStateError) as exc:
        Pkcs11Custody(str(tmp_path / "missing.so"), softhsm.token, softhsm.pin)
    assert exc.value.code == "key_backend"
    # the right PIN on the second token works
    other = Pkcs11Custody(softhsm.module, OTHER_TOKEN, softhsm.pin)
    stored = other.generate("gt-other", KeyFamily.ED25519, context=lambda pub: b"")
    other.destroy("gt-other")
    assert stored.public_key.family is KeyFamily.ED25519
