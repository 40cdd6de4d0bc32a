"""seal_service.tsa: an RFC 3161 TSA (SM2 and ECDSA P-256) and token verification.

Round trips for both key families, every PKIStatus rejection the TSA gives,
every verifier check broken once, fuzzed requests and tokens, OpenSSL ``ts``
interop both ways for ECDSA, and a gmssl cross-check of an SM2 token signature
(OpenSSL 3.0 cannot verify SM2 with the GM/T 0009 ID in ``ts``).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import tsp as asn1_tsp
from gmssl import sm2 as gm_sm2
from hypothesis import given, settings
from hypothesis import strategies as st

from seal_service import tsa
from trust import cms
from trust.algorithms import OID
from trust.crypto import PrivateKey, generate_private_key
from trust.hashes import sha256, sm3
from trust.pki import Certificate, issue_end_entity, issue_root

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)
POLICY = "1.2.156.99999.1.1"
OTHER_POLICY = "1.2.156.99999.1.2"
DOC = b"a document to time-stamp\n"
ALGS = {"sm2": "SM2", "p256": "ES256"}


class _AnySequence(asn1_core.SequenceOf):
    _child_spec = asn1_core.Any


def require_tool(name: str) -> str:
    """As tests/conftest.py: skip locally, fail in CI (CI=true)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name!r} not found (Debian package {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)
    return path


@dataclass
class TsaPki:
    family: str
    alg: str
    root_key: PrivateKey
    root: Certificate
    key: PrivateKey
    cert: Certificate

    def authority(self, clock=lambda: NOW, **kwargs) -> tsa.TimeStampAuthority:  # type: ignore[no-untyped-def]
        serials = itertools.count(1000)
        return tsa.TimeStampAuthority(
            self.key.signer(self.alg),
            self.cert,
            [self.root],
            POLICY,
            clock,
            lambda: next(serials),
            **kwargs,
        )


def make_pki(family: str, *, start: datetime = T0, purpose: str = "tsa") -> TsaPki:
    alg = ALGS[family]
    root_key, key = generate_private_key(family), generate_private_key(family)
    root_signer = root_key.signer(alg)
    root = issue_root(
        root_signer,
        f"CN=TSA root {family}",
        not_before=start,
        not_after=start + timedelta(days=3650),
    )
    cert = issue_end_entity(
        root_signer,
        root,
        key.public_key(),
        f"CN=GovTrust TSA {family}",
        purpose=purpose,
        not_before=start,
        not_after=start + timedelta(days=365),
    )
    return TsaPki(family, alg, root_key, root, key, cert)


@pytest.fixture(scope="module", params=list(ALGS))
def pki(request: pytest.FixtureRequest) -> TsaPki:
    return make_pki(request.param)


@pytest.fixture(scope="module")
def p256() -> TsaPki:
    return make_pki("p256")


@pytest.fixture(scope="module")
def sm2_pki() -> TsaPki:
    return make_pki("sm2")


def verify(pki: TsaPki, response: bytes, **kwargs: object) -> tsa.TimestampInfo:
    kwargs.setdefault("digest_alg", "sha256")
    kwargs.setdefault("data", DOC)
    kwargs.setdefault("trusted_certs", [pki.root])
    return tsa.verify_timestamp_response(response, **kwargs)  # type: ignore[arg-type]


def token_of(response: bytes) -> bytes:
    parsed = tsa.parse_response(response)
    assert parsed.granted and parsed.token is not None
    return parsed.token


def code_of(pki: TsaPki, token: bytes, **kwargs: object) -> str:
    kwargs.setdefault("digest_alg", "sha256")
    kwargs.setdefault("data", DOC)
    kwargs.setdefault("trusted_certs", [pki.root])
    with pytest.raises(tsa.TsaError) as info:
        tsa.verify_timestamp_token(token, **kwargs)  # type: ignore[arg-type]
    return info.value.code


def rejected(response: bytes) -> tsa.TimestampResponse:
    parsed = tsa.parse_response(response)
    assert parsed.status == 2 and not parsed.granted and parsed.token is None
    return parsed


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("digest_alg", ["sha256", "sm3", "sha512"])
def test_round_trip(pki: TsaPki, digest_alg: str) -> None:
    authority = pki.authority()
    digest = cms.hash_data(digest_alg, DOC)
    response = authority.respond(tsa.make_request(digest_alg, digest, nonce=424242))
    info = verify(pki, response, digest_alg=digest_alg, nonce=424242)
    assert info.gen_time == NOW
    assert info.serial == 1000
    assert info.policy == POLICY
    assert info.nonce == 424242
    assert info.accuracy == timedelta(seconds=1)
    assert info.ordering is False
    assert info.tsa_certificate == pki.cert
    assert info.path == (pki.cert, pki.root)
    assert info.digest == digest
    # the same token verifies from the digest alone, and the next token has a new serial
    assert (
        tsa.verify_timestamp_token(
            token_of(response), digest_alg=digest_alg, digest=digest, trusted_certs=[pki.root]
        ).serial
        == 1000
    )
    assert (
        verify(
            pki, authority.respond(tsa.make_request(digest_alg, digest)), digest_alg=digest_alg
        ).serial
        == 1001
    )


def test_token_structure(pki: TsaPki) -> None:
    token = token_of(pki.authority().respond(tsa.make_request("sha256", sha256(DOC), nonce=7)))
    sd = asn1_cms.ContentInfo.load(token)["content"]
    assert sd["version"].native == "v3"
    assert sd["encap_content_info"]["content_type"].dotted == cms.ID_CT_TST_INFO
    tst_der = bytes(sd["encap_content_info"]["content"].parsed.dump())
    # identifier octets of the TSTInfo fields, in order: ordering FALSE is omitted (DER
    # DEFAULT), no tsa name, no extensions
    tags = [child.dump()[0] for child in _AnySequence.load(tst_der)]
    assert tags == [
        0x02,
        0x06,
        0x30,
        0x02,
        0x18,
        0x30,
        0x02,
    ]  # version policy imprint serial genTime accuracy nonce
    tst = asn1_tsp.TSTInfo.load(tst_der)
    assert tst["gen_time"].native == NOW
    assert tst["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
    si = sd["signer_infos"][0]
    types = {a["type"].dotted for a in si["signed_attrs"]}
    assert tsa.ATTR_SIGNING_CERTIFICATE_V2 in types
    expected_sig_oid = OID.SM3_WITH_SM2 if pki.family == "sm2" else OID.ECDSA_SHA256
    assert si["signature_algorithm"]["algorithm"].dotted == expected_sig_oid
    ess = next(a for a in si["signed_attrs"] if a["type"].dotted == tsa.ATTR_SIGNING_CERTIFICATE_V2)
    cert_id = ess["values"][0]["certs"][0]
    assert cert_id["cert_hash"].native == sha256(pki.cert.der)


def test_cert_req_controls_certificates(p256: TsaPki) -> None:
    authority = p256.authority()
    with_certs = token_of(authority.respond(tsa.make_request("sha256", sha256(DOC), cert_req=True)))
    without = token_of(authority.respond(tsa.make_request("sha256", sha256(DOC), cert_req=False)))
    assert len(asn1_cms.ContentInfo.load(with_certs)["content"]["certificates"]) == 2
    assert asn1_cms.ContentInfo.load(without)["content"]["certificates"].native is None
    # without certificates the verifier needs the TSA certificate from elsewhere
    assert code_of(p256, without) == "signer_not_found"
    info = tsa.verify_timestamp_token(
        without, digest_alg="sha256", data=DOC, trusted_certs=[p256.root], intermediates=[p256.cert]
    )
    assert info.tsa_certificate == p256.cert
    # or the TSA certificate itself as the trust anchor
    assert tsa.verify_timestamp_token(
        without, digest_alg="sha256", data=DOC, trusted_certs=[p256.cert]
    ).path == (p256.cert,)


def test_requested_policy_and_accuracy(p256: TsaPki) -> None:
    authority = p256.authority(
        accepted_policies=[OTHER_POLICY], accuracy=timedelta(seconds=2, milliseconds=5)
    )
    response = authority.respond(tsa.make_request("sha256", sha256(DOC), policy=OTHER_POLICY))
    info = verify(p256, response)
    assert info.policy == OTHER_POLICY
    assert info.accuracy == timedelta(seconds=2, milliseconds=5)
    assert verify(p256, response, policies=[OTHER_POLICY]).policy == OTHER_POLICY
    assert code_of(p256, token_of(response), policies=[POLICY]) == "policy_not_accepted"


def test_sm2_gm_content_types_and_sm3(sm2_pki: TsaPki) -> None:
    authority = sm2_pki.authority(gm_content_types=True)
    response = authority.respond(tsa.make_request("sm3", sm3(DOC), nonce=99))
    token = token_of(response)
    assert asn1_cms.ContentInfo.load(token)["content_type"].dotted == OID.GM_CMS_SIGNED_DATA
    assert verify(sm2_pki, response, digest_alg="sm3", nonce=99).nonce == 99


def test_sm2_token_signature_cross_checked_with_gmssl(sm2_pki: TsaPki) -> None:
    """An independent SM2 implementation (gmssl, verify only) accepts our TSA's signature."""
    token = token_of(sm2_pki.authority().respond(tsa.make_request("sm3", sm3(DOC))))
    si = asn1_cms.ContentInfo.load(token)["content"]["signer_infos"][0]
    signed = bytes(si["signed_attrs"].untag().dump())
    sig = asn1_algos.DSASignature.load(si["signature"].native).native
    x, y = sm2_pki.key.public_key().point()  # type: ignore[attr-defined]
    verifier = gm_sm2.CryptSM2(private_key=None, public_key=f"{x:064x}{y:064x}")
    sig_hex = f"{sig['r']:064x}{sig['s']:064x}"
    assert verifier.verify_with_sm3(sig_hex, signed) is True
    assert verifier.verify_with_sm3(sig_hex, signed[:-1] + bytes([signed[-1] ^ 1])) is not True


# --------------------------------------------------------------------------- rejections


def _raw_request(**fields: object) -> bytes:
    base: dict[str, object] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": sha256(DOC),
        },
    }
    base.update(fields)
    return bytes(asn1_tsp.TimeStampReq(base).dump(force=True))


def test_rejections(p256: TsaPki) -> None:
    authority = p256.authority()
    cases = {
        tsa.PKIFailure.BAD_ALG: _raw_request(
            message_imprint={
                "hash_algorithm": {"algorithm": "sha1"},
                "hashed_message": b"\x00" * 20,
            }
        ),
        tsa.PKIFailure.BAD_DATA_FORMAT: _raw_request(
            message_imprint={
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": b"\x00" * 31,
            }
        ),
        tsa.PKIFailure.BAD_REQUEST: _raw_request(version="v2"),
        tsa.PKIFailure.UNACCEPTED_POLICY: tsa.make_request(
            "sha256", sha256(DOC), policy=OTHER_POLICY
        ),
        tsa.PKIFailure.UNACCEPTED_EXTENSION: _raw_request(
            extensions=[{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}]
        ),
    }
    for failure, request in cases.items():
        parsed = rejected(authority.respond(request))
        assert parsed.failures == {failure}, (failure, parsed)
        assert parsed.status_text and parsed.status_text[0]
    for junk in (b"", b"\x30\x00", b"\x30\x80\x00\x00", b"\xff" * 40, b"\x30" + b"\x00" * 9000):
        assert rejected(authority.respond(junk)).failures == {tsa.PKIFailure.BAD_DATA_FORMAT}


def test_ber_request_is_bad_data_format(p256: TsaPki) -> None:
    der = tsa.make_request("sha256", sha256(DOC))
    ber = b"\x30\x80" + der[2:] + b"\x00\x00"
    assert rejected(p256.authority().respond(ber)).failures == {tsa.PKIFailure.BAD_DATA_FORMAT}


def test_sm3_imprint_can_be_turned_off(sm2_pki: TsaPki) -> None:
    authority = sm2_pki.authority(imprint_algorithms=["sha256"])
    parsed = rejected(authority.respond(tsa.make_request("sm3", sm3(DOC))))
    assert parsed.failures == {tsa.PKIFailure.BAD_ALG}


def test_clock_and_signer_failures(p256: TsaPki) -> None:
    def broken() -> datetime:
        raise OSError("no time source")

    parsed = rejected(p256.authority(clock=broken).respond(tsa.make_request("sha256", sha256(DOC))))
    assert parsed.failures == {tsa.PKIFailure.TIME_NOT_AVAILABLE}
    naive = rejected(
        p256.authority(clock=lambda: datetime(2026, 6, 1)).respond(
            tsa.make_request("sha256", sha256(DOC))
        )
    )
    assert naive.failures == {tsa.PKIFailure.TIME_NOT_AVAILABLE}
    bad_serial = tsa.TimeStampAuthority(
        p256.key.signer("ES256"), p256.cert, [], POLICY, lambda: NOW, lambda: 0
    )
    parsed = rejected(bad_serial.respond(tsa.make_request("sha256", sha256(DOC))))
    assert parsed.failures == {tsa.PKIFailure.SYSTEM_FAILURE}


def test_rejected_response_does_not_verify(p256: TsaPki) -> None:
    response = p256.authority().respond(b"junk")
    with pytest.raises(tsa.TsaError) as e:
        verify(p256, response)
    assert e.value.code == "rejected"


def test_authority_refuses_bad_configuration(p256: TsaPki) -> None:
    seal = make_pki("p256", purpose="seal")
    with pytest.raises(tsa.TsaError) as e:
        tsa.TimeStampAuthority(
            seal.key.signer("ES256"), seal.cert, [], POLICY, lambda: NOW, lambda: 1
        )
    assert e.value.code == "tsa_certificate_purpose"
    with pytest.raises(tsa.TsaError) as e:
        tsa.TimeStampAuthority(
            seal.key.signer("ES256"), p256.cert, [], POLICY, lambda: NOW, lambda: 1
        )
    assert e.value.code == "invalid_argument"
    ed = generate_private_key("ed25519")
    with pytest.raises(tsa.TsaError) as e:
        tsa.TimeStampAuthority(ed.signer("EdDSA"), p256.cert, [], POLICY, lambda: NOW, lambda: 1)
    assert e.value.code == "unsupported_algorithm"


def test_make_request_checks() -> None:
    with pytest.raises(tsa.TsaError):
        tsa.make_request("sha1", b"\x00" * 20)
    with pytest.raises(tsa.TsaError):
        tsa.make_request("sha256", b"\x00" * 20)
    with pytest.raises(tsa.TsaError):
        tsa.make_request("sha256", sha256(DOC), nonce=-1)
    req = asn1_tsp.TimeStampReq.load(tsa.make_request("sm3", sm3(DOC), nonce=5, cert_req=True))
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].dotted == OID.SM3
    assert req["nonce"].native == 5 and req["cert_req"].native is True
    assert 1 << 62 <= tsa.new_nonce() < 1 << 63


# --------------------------------------------------------------------------- verifier checks


def test_imprint_and_nonce_checks(pki: TsaPki) -> None:
    token = token_of(pki.authority().respond(tsa.make_request("sha256", sha256(DOC), nonce=11)))
    assert code_of(pki, token, data=DOC + b"x") == "imprint_mismatch"
    assert code_of(pki, token, data=None, digest_alg="sm3", digest=sm3(DOC)) == "imprint_mismatch"
    assert code_of(pki, token, nonce=12) == "nonce_mismatch"
    no_nonce = token_of(pki.authority().respond(tsa.make_request("sha256", sha256(DOC))))
    assert code_of(pki, no_nonce, nonce=11) == "nonce_mismatch"


def test_trust_checks(pki: TsaPki) -> None:
    token = token_of(pki.authority().respond(tsa.make_request("sha256", sha256(DOC))))
    assert code_of(pki, token, trusted_certs=[]) == "cert_untrusted_root"
    other = make_pki(pki.family)
    assert code_of(pki, token, trusted_certs=[other.root]) in (
        "cert_unknown_issuer",
        "cert_untrusted_root",
    )
    # genTime after the TSA certificate expired
    late = pki.authority(clock=lambda: pki.cert.not_after + timedelta(days=1))
    late_token = token_of(late.respond(tsa.make_request("sha256", sha256(DOC))))
    assert code_of(pki, late_token) == "cert_expired"


def test_tampered_token_signature(p256: TsaPki) -> None:
    token = token_of(p256.authority().respond(tsa.make_request("sha256", sha256(DOC))))
    ci = asn1_cms.ContentInfo.load(token)
    si = ci["content"]["signer_infos"][0]
    sig = bytearray(si["signature"].native)
    sig[10] ^= 1
    si["signature"] = bytes(sig)
    assert code_of(p256, bytes(ci.dump(force=True))) == "bad_signature"


def test_tampered_tst_info(p256: TsaPki) -> None:
    token = token_of(p256.authority().respond(tsa.make_request("sha256", sha256(DOC), nonce=1234)))
    # the nonce 1234 = 0x04d2 sits only in the TSTInfo, which message-digest covers
    assert token.count(b"\x02\x02\x04\xd2") == 1
    assert (
        code_of(p256, token.replace(b"\x02\x02\x04\xd2", b"\x02\x02\x04\xd3")) == "digest_mismatch"
    )


def _sign_token(
    pki: TsaPki, cert: Certificate, key: PrivateKey, extra: list[tuple[str, bytes]]
) -> bytes:
    tst = asn1_tsp.TSTInfo(
        {
            "version": "v1",
            "policy": POLICY,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": sha256(DOC),
            },
            "serial_number": 5,
            "gen_time": NOW,
        }
    )
    return cms.sign_encapsulated(
        key.signer(pki.alg),
        cert,
        content=bytes(tst.dump(force=True)),
        content_type=cms.ID_CT_TST_INFO,
        extra_signed_attributes=extra,
    )


def _ess_v2(cert: Certificate) -> bytes:
    return bytes(asn1_tsp.SigningCertificateV2({"certs": [{"cert_hash": sha256(cert.der)}]}).dump())


def test_signing_certificate_attribute(p256: TsaPki) -> None:
    assert (
        code_of(p256, _sign_token(p256, p256.cert, p256.key, [])) == "missing_signing_certificate"
    )
    other = make_pki("p256")
    wrong = _sign_token(
        p256, p256.cert, p256.key, [(tsa.ATTR_SIGNING_CERTIFICATE_V2, _ess_v2(other.cert))]
    )
    assert code_of(p256, wrong) == "signing_certificate_mismatch"
    v1 = bytes(
        asn1_tsp.SigningCertificate(
            {"certs": [{"cert_hash": cms.hash_data("sha1", p256.cert.der)}]}
        ).dump()
    )
    good_v1 = _sign_token(p256, p256.cert, p256.key, [(tsa.ATTR_SIGNING_CERTIFICATE, v1)])
    info = tsa.verify_timestamp_token(
        good_v1, digest_alg="sha256", data=DOC, trusted_certs=[p256.root]
    )
    assert info.serial == 5 and info.accuracy is None
    bad_v1 = bytes(asn1_tsp.SigningCertificate({"certs": [{"cert_hash": b"\x00" * 20}]}).dump())
    assert (
        code_of(
            p256, _sign_token(p256, p256.cert, p256.key, [(tsa.ATTR_SIGNING_CERTIFICATE, bad_v1)])
        )
        == "signing_certificate_mismatch"
    )


def test_token_from_a_non_tsa_certificate(p256: TsaPki) -> None:
    seal = make_pki("p256", purpose="seal")
    token = _sign_token(
        seal, seal.cert, seal.key, [(tsa.ATTR_SIGNING_CERTIFICATE_V2, _ess_v2(seal.cert))]
    )
    assert code_of(seal, token) == "tsa_certificate_purpose"


def test_token_must_hold_tst_info(p256: TsaPki) -> None:
    data_token = cms.sign_encapsulated(
        p256.key.signer("ES256"), p256.cert, content=b"x", content_type=cms.ID_DATA
    )
    assert code_of(p256, data_token) == "content_type_mismatch"


# --------------------------------------------------------------------------- fuzzing


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_respond_never_raises(data: bytes) -> None:
    authority = _FUZZ.setdefault("tsa", make_pki("p256")).authority()
    parsed = tsa.parse_response(authority.respond(data))
    assert parsed.status in (0, 2)


_FUZZ: dict[str, TsaPki] = {}


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fuzz_token_only_tsa_errors(data: st.DataObject) -> None:
    pki = _FUZZ.setdefault("tsa", make_pki("p256"))
    if "token" not in _FUZZ:
        _FUZZ["token"] = token_of(pki.authority().respond(tsa.make_request("sha256", sha256(DOC))))  # type: ignore[assignment]
    token = bytearray(_FUZZ["token"])  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(1, 4))):
        token[data.draw(st.integers(0, len(token) - 1))] = data.draw(st.integers(0, 255))
    try:
        tsa.verify_timestamp_token(
            bytes(token), digest_alg="sha256", data=DOC, trusted_certs=[pki.root]
        )
    except tsa.TsaError as exc:
        assert exc.code
    with pytest.raises(tsa.TsaError):
        tsa.verify_timestamp_token(
            data.draw(st.binary(max_size=300)),
            digest_alg="sha256",
            data=DOC,
            trusted_certs=[pki.root],
        )


# --------------------------------------------------------------------------- OpenSSL interop

TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.156.99999.1.1
other_policies = 1.2.156.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = {ess}
certs = chain.pem
"""


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def live(tmp_path: Path) -> TsaPki:
    pki = make_pki("p256", start=datetime.now(UTC) - timedelta(days=1))
    (tmp_path / "root.pem").write_bytes(pki.root.pem())
    (tmp_path / "chain.pem").write_bytes(pki.root.pem())
    (tmp_path / "tsa.pem").write_bytes(pki.cert.pem())
    (tmp_path / "tsa.key").write_bytes(pki.key.pem())
    (tmp_path / "data.bin").write_bytes(DOC)
    return pki


@pytest.mark.openssl
@pytest.mark.parametrize("cert_req", [True, False])
def test_openssl_verifies_our_response(live: TsaPki, tmp_path: Path, cert_req: bool) -> None:
    openssl = require_tool("openssl")
    authority = live.authority(clock=lambda: datetime.now(UTC))
    nonce = tsa.new_nonce()
    response = authority.respond(
        tsa.make_request("sha256", sha256(DOC), nonce=nonce, cert_req=cert_req)
    )
    (tmp_path / "resp.tsr").write_bytes(response)
    text = _run([openssl, "ts", "-reply", "-in", "resp.tsr", "-text"], tmp_path)
    assert text.returncode == 0, text.stderr
    assert "Status: Granted." in text.stdout
    assert f"Policy OID: {POLICY}" in text.stdout
    assert f"Nonce: 0x{nonce:X}" in text.stdout.replace("Nonce: 0x0", "Nonce: 0x")
    argv = [
        openssl,
        "ts",
        "-verify",
        "-data",
        "data.bin",
        "-in",
        "resp.tsr",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "tsa.pem",
    ]
    proc = _run(argv, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Verification: OK" in proc.stdout
    (tmp_path / "data.bin").write_bytes(DOC + b"changed")
    proc = _run(argv, tmp_path)
    assert proc.returncode != 0
    assert "Verification: OK" not in proc.stdout


@pytest.mark.openssl
def test_our_tsa_answers_an_openssl_query(live: TsaPki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    proc = _run(
        [openssl, "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "q.tsq"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    query = (tmp_path / "q.tsq").read_bytes()
    nonce = asn1_tsp.TimeStampReq.load(query)["nonce"].native
    response = live.authority(clock=lambda: datetime.now(UTC)).respond(query)
    assert verify(live, response, nonce=nonce).nonce == nonce
    (tmp_path / "resp.tsr").write_bytes(response)
    proc = _run(
        [
            openssl,
            "ts",
            "-verify",
            "-queryfile",
            "q.tsq",
            "-in",
            "resp.tsr",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "tsa.pem",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Verification: OK" in proc.stdout


@pytest.mark.openssl
@pytest.mark.parametrize("ess", ["sha256", "sha1"])
def test_we_verify_openssl_responses(live: TsaPki, tmp_path: Path, ess: str) -> None:
    """openssl ts -reply with our ECDSA TSA key and certificate; ESSCertIDv2 and v1."""
    openssl = require_tool("openssl")
    (tmp_path / "ts.cnf").write_text(TS_CONFIG.format(ess=ess))
    (tmp_path / "serial").write_text("2a\n")
    proc = _run(
        [openssl, "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "q.tsq"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    proc = _run(
        [
            openssl,
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            "q.tsq",
            "-signer",
            "tsa.pem",
            "-inkey",
            "tsa.key",
            "-out",
            "r.tsr",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    nonce = asn1_tsp.TimeStampReq.load((tmp_path / "q.tsq").read_bytes())["nonce"].native
    response = (tmp_path / "r.tsr").read_bytes()
    info = verify(live, response, nonce=nonce)
    assert info.serial == 0x2B  # openssl increments the serial file, then uses it
    assert info.policy == POLICY
    assert info.ordering is True
    assert info.accuracy == timedelta(seconds=1, milliseconds=500, microseconds=100)
    assert info.tsa_certificate == live.cert
    assert abs(info.gen_time - datetime.now(UTC)) < timedelta(minutes=5)
    signer = asn1_cms.ContentInfo.load(token_of(response))["content"]["signer_infos"][0]
    expected_attr = (
        tsa.ATTR_SIGNING_CERTIFICATE_V2 if ess == "sha256" else tsa.ATTR_SIGNING_CERTIFICATE
    )
    assert expected_attr in {a["type"].dotted for a in signer["signed_attrs"]}
    with pytest.raises(tsa.TsaError) as e:
        verify(live, response, data=DOC + b"x")
    assert e.value.code == "imprint_mismatch"
    with pytest.raises(tsa.TsaError) as e:
        verify(live, response, nonce=nonce + 1)
    assert e.value.code == "nonce_mismatch"
