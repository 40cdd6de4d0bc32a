"""SES_Signature ``timeStamp [0]``: an RFC 3161 token over the signature value (GB/T 38540-2020).

"对签名值的时间戳": the token's message imprint is the hash of the octets of the
``signature`` BIT STRING. Tokens come from GovTrust's own TSA
(:mod:`seal_service.tsa`, SM2 and ECDSA P-256 keys); the signatures from the
home-made builders in ``ses_builders``.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import core
from hypothesis import given, settings
from hypothesis import strategies as st
from ses_builders import SIGNING_TIME, T0, TestPKI, make_pki, seal_v4, signature_v1, signature_v4
from ses_builders import seal_v1 as build_seal_v1

from seal_service import ses, tsa
from seal_service.report import CheckStatus, Indication, SubIndication
from seal_service.ses import parse_signature, verify_signature
from trust.cms import hash_data
from trust.crypto import generate_private_key
from trust.pki import issue_end_entity, issue_root
from verifier.documents import verify_document

ZERO_HASH = bytes(32)
POLICY = "1.2.156.99999.1.1"
#: the TSA's clock: after the claimed signing time, inside every validity period
GEN_TIME = SIGNING_TIME + timedelta(minutes=5)


class Tsa:
    def __init__(self, family: str = "sm2", *, clock: datetime = GEN_TIME) -> None:
        alg = {"sm2": "SM2", "p256": "ES256"}[family]
        root_key, key = generate_private_key(family), generate_private_key(family)
        self.root = issue_root(
            root_key.signer(alg), f"CN=SES TSA test root {family}",
            not_before=T0, not_after=T0 + timedelta(days=3650),
        )  # fmt: skip
        self.cert = issue_end_entity(
            root_key.signer(alg), self.root, key.public_key(), f"CN=SES test TSA {family}",
            purpose="tsa", not_before=T0, not_after=T0 + timedelta(days=3650),
        )  # fmt: skip
        serials = itertools.count(1)
        self.authority = tsa.TimeStampAuthority(
            key.signer(alg), self.cert, [self.root], POLICY, lambda: clock, lambda: next(serials)
        )

    def token(self, data: bytes, digest_alg: str = "sm3") -> bytes:
        response = self.authority.respond(tsa.make_request(digest_alg, hash_data(digest_alg, data)))
        parsed = tsa.parse_response(response)
        assert parsed.granted and parsed.token is not None
        return parsed.token


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return make_pki()


@pytest.fixture(scope="module")
def tsa_sm2() -> Tsa:
    return Tsa("sm2")


def with_timestamp(sig_der: bytes, token: bytes) -> bytes:
    """``sig_der`` (a v4 SES_Signature) with ``timeStamp [0]`` set; every signed byte kept."""
    sig = ses.SESSignatureV4.load(sig_der)
    sig["time_stamp"] = core.OctetBitString(token, explicit=0)
    return sig.dump(force=True)


def stamped(pki: TestPKI, authority: Tsa, *, over: str = "signature", **kwargs: object) -> bytes:
    plain = signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, version=5, **kwargs)  # type: ignore[arg-type]
    parsed = parse_signature(plain)
    covered = parsed.signature if over == "signature" else parsed.tbs_bytes
    return with_timestamp(plain, authority.token(covered))


def test_valid_timestamp_passes_and_proves_the_signing_time(pki: TestPKI, tsa_sm2: Tsa) -> None:
    sig = parse_signature(stamped(pki, tsa_sm2))
    assert sig.version == 5 and sig.time_stamp is not None
    assert sig.time_info == SIGNING_TIME
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root, tsa_sm2.root])
    check = report.check("timestamp")
    assert check.status is CheckStatus.PASSED
    assert GEN_TIME.isoformat() in check.detail
    assert report.indication is Indication.PASSED
    # the proven time (genTime), not the claimed timeInfo, is the signing time
    assert report.signing_time == GEN_TIME
    assert report.validation_time == GEN_TIME


def test_tsa_roots_can_be_given_apart_from_the_seal_roots(pki: TestPKI, tsa_sm2: Tsa) -> None:
    sig = parse_signature(stamped(pki, tsa_sm2))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root], tsa_roots=[tsa_sm2.root])
    assert report.status("timestamp") is CheckStatus.PASSED and report.passed
    # the TSA anchor is not a seal anchor
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[tsa_sm2.root], tsa_roots=[])
    assert report.status("timestamp") is CheckStatus.INDETERMINATE
    assert report.status("signer_chain") is CheckStatus.INDETERMINATE


@pytest.mark.parametrize("family", ["p256", "sm2"])
def test_sha256_imprint(pki: TestPKI, family: str) -> None:
    authority = Tsa(family)
    plain = signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, version=5)
    token = authority.token(parse_signature(plain).signature, "sha256")
    sig = parse_signature(with_timestamp(plain, token))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root, authority.root])
    assert report.status("timestamp") is CheckStatus.PASSED
    assert "sha256" in report.check("timestamp").detail


def test_no_trusted_tsa_certificate_is_indeterminate(pki: TestPKI, tsa_sm2: Tsa) -> None:
    sig = parse_signature(stamped(pki, tsa_sm2))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    check = report.check("timestamp")
    assert check.status is CheckStatus.INDETERMINATE
    assert check.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )
    # an unverified time-stamp proves nothing: the claimed time stays the signing time
    assert report.signing_time == SIGNING_TIME
    none_at_all = verify_signature(sig, data_hash=ZERO_HASH)
    assert none_at_all.status("timestamp") is CheckStatus.INDETERMINATE


def test_tampered_token_fails(pki: TestPKI, tsa_sm2: Tsa) -> None:
    plain = signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, version=5)
    token = tsa_sm2.token(parse_signature(plain).signature)
    ci = asn1_cms.ContentInfo.load(token)
    si = ci["content"]["signer_infos"][0]
    raw = bytearray(si["signature"].native)
    raw[-3] ^= 0x01
    si["signature"] = bytes(raw)
    sig = parse_signature(with_timestamp(plain, bytes(ci.dump(force=True))))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root, tsa_sm2.root])
    check = report.check("timestamp")
    assert check.status is CheckStatus.FAILED
    assert check.sub_indication is SubIndication.SIG_CRYPTO_FAILURE
    assert report.indication is Indication.FAILED
    assert report.signing_time == SIGNING_TIME  # not the genTime of a broken token


def test_token_over_other_bytes_is_a_hash_failure(pki: TestPKI, tsa_sm2: Tsa) -> None:
    # a token over TBS_Sign (not over the signature value) does not time-stamp this signature
    sig = parse_signature(stamped(pki, tsa_sm2, over="tbs"))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root, tsa_sm2.root])
    assert report.check("timestamp").status is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_token_of_another_signature_fails(pki: TestPKI, tsa_sm2: Tsa) -> None:
    # SM2 signatures are randomised: two signatures of the same TBS differ
    first = stamped(pki, tsa_sm2)
    token = parse_signature(first).time_stamp
    assert token is not None
    other = signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, version=5)
    sig = parse_signature(with_timestamp(other, token))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root, tsa_sm2.root])
    assert report.check("timestamp").sub_indication is SubIndication.HASH_FAILURE


def test_gen_time_proves_existence_before_the_signer_certificate_expired(tsa_sm2: Tsa) -> None:
    # the signer certificate expired 1 day before the claimed timeInfo, but the TSA
    # proves the signature existed 2 days before that claim
    short = make_pki(holder_not_after=SIGNING_TIME - timedelta(days=1))
    early = Tsa("sm2", clock=SIGNING_TIME - timedelta(days=2))
    plain = signature_v4(short, seal_v4(short), data_hash=ZERO_HASH, version=5)
    unstamped = verify_signature(parse_signature(plain), data_hash=ZERO_HASH, roots=[short.root])
    assert unstamped.sub_indication is SubIndication.EXPIRED
    sig = parse_signature(with_timestamp(plain, early.token(parse_signature(plain).signature)))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[short.root, early.root])
    assert report.status("timestamp") is CheckStatus.PASSED
    assert report.status("signer_certificate_validity") is CheckStatus.PASSED
    assert report.passed and report.signing_time == SIGNING_TIME - timedelta(days=2)
    # an explicit ``at`` still wins over the proven time
    late = verify_signature(
        sig, data_hash=ZERO_HASH, roots=[short.root, early.root], at=SIGNING_TIME
    )
    assert late.sub_indication is SubIndication.EXPIRED


def test_unstamped_signatures_have_no_timestamp_check(pki: TestPKI) -> None:
    v4 = parse_signature(signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH))
    v1 = parse_signature(signature_v1(pki, build_seal_v1(pki), data_hash=ZERO_HASH))
    for sig in (v4, v1):
        report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
        assert sig.time_stamp is None and report.passed
        with pytest.raises(KeyError):
            report.check("timestamp")


def test_verify_document_reports_the_timestamp(pki: TestPKI, tsa_sm2: Tsa) -> None:
    data = b"the signed document"
    plain = signature_v4(pki, seal_v4(pki), data_hash=ses_hash(data), version=5)
    der = with_timestamp(plain, tsa_sm2.token(parse_signature(plain).signature))
    verdict = verify_document(der, signed_data=data, roots=[pki.root, tsa_sm2.root])
    assert verdict.verdict == "VALID" and verdict.kind == "ses"
    (summary,) = verdict.signatures
    checks = {c["name"]: c["status"] for c in summary["checks"]}
    assert checks["timestamp"] == "passed"
    assert summary["signing_time"] == GEN_TIME.isoformat()
    missing_tsa = verify_document(der, signed_data=data, roots=[pki.root])
    assert missing_tsa.verdict == "INDETERMINATE"
    assert missing_tsa.reasons == ("no_certificate_chain_found",)


def ses_hash(data: bytes) -> bytes:
    return hash_data("sm3", data)


@settings(max_examples=40, deadline=None)
@given(junk=st.binary(min_size=0, max_size=300))
def test_arbitrary_timestamp_bytes_never_pass_or_raise(pki: TestPKI, junk: bytes) -> None:
    plain = signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, version=5)
    sig = parse_signature(with_timestamp(plain, junk))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    assert report.status("timestamp") in (CheckStatus.FAILED, CheckStatus.INDETERMINATE)
    assert not report.passed
