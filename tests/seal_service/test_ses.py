"""SES seals and signatures (GM/T 0031-2014 v1, GB/T 38540-2020 v4, "v5"): parsing and verification.

The ofdrw vectors (tests/vectors/seal/ofdrw/README.md) pin interoperability;
home-made structures from ses_builders reach PASSED with a test PKI and break
one thing at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ses_builders import (
    SIGNING_TIME,
    T0,
    flip,
    make_pki,
    non_minimal_der,
    raw,
    seal_v1,
    seal_v4,
    signature_v1,
    signature_v4,
)

from seal_service import (
    CheckStatus,
    Indication,
    SealFormatError,
    SubIndication,
    parse_seal,
    parse_signature,
    verify_seal,
    verify_signature,
)
from seal_service import ses as ses_module
from trust.algorithms import OID
from trust.errors import TrustError
from trust.hashes import sm3
from trust.pki import load_certificate

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
ZERO_HASH = bytes(32)
CRYPTO_CHECKS = ("signature", "signer_in_seal", "seal_signature")
VALIDITY_CHECKS = (
    "seal_validity",
    "signer_certificate_validity",
    "seal_maker_certificate_validity",
)


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def cert(name: str):
    return load_certificate(vector(name))


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def statuses(result) -> dict[str, CheckStatus]:
    return {c.name: c.status for c in result.checks}


# --------------------------------------------------------------------------- ofdrw seals


@pytest.mark.parametrize(
    ("name", "version", "es_id", "seal_name"),
    [
        ("UserV1.esl", 1, "40C8CDD24DEF43388B86E62CCE1D6832", "OFDRW测试用印章"),
        ("UserV4.esl", 4, "51f044b76510434e9bc67a1185c2fba5", "OFD R&W 测试用印章"),
        ("UserV5.esl", 5, "09aaf39291e049e4b3d716414590937e", "OFD R&W V5测试用印章"),
        ("UserV5_ts.esl", 5, "55a4a957189a48f596706fb431e962c5", "OFD R&W V5测试用印章"),
    ],
)
def test_ofdrw_seal_parses_and_maker_signature_is_valid(name, version, es_id, seal_name):
    data = vector(name)
    seal = parse_seal(data)
    assert (seal.version, seal.es_id, seal.name, seal.header_id) == (
        version,
        es_id,
        seal_name,
        "ES",
    )
    assert seal.maker_signature_algorithm == OID.SM3_WITH_SM2
    assert seal.picture.type == "PNG" and (seal.picture.width, seal.picture.height) == (40, 40)
    assert seal.picture.data.startswith(b"\x89PNG")
    assert seal.cert_list_type == 1 and len(seal.certs) == 1
    assert seal.certs[0] == cert("USER.cert.pem")  # the seal holder
    assert seal.maker_cert == cert("SealBuilder.cert.pem")  # the seal maker
    assert seal.der == data
    result = verify_seal(seal, at=seal.valid_start + timedelta(days=1))
    assert result.status("seal_signature") is CheckStatus.PASSED
    assert result.status("seal_validity") is CheckStatus.PASSED
    assert result.status("seal_maker_chain") is CheckStatus.INDETERMINATE


def test_maker_signature_covers_the_bytes_of_each_version():
    """v4/v5: DER(SES_SealInfo). v1: DER(SEQUENCE{SES_SealInfo, cert, signatureAlgorithm})."""
    v4 = parse_seal(vector("UserV4.esl"))
    info = ses_module.SESealV4.load(vector("UserV4.esl"))["seal_info"].dump()
    assert v4.signed_bytes == info and vector("UserV4.esl")[4 : 4 + len(info)] == info

    v1_data = vector("UserV1.esl")
    v1 = parse_seal(v1_data)
    parsed = ses_module.SESealV1.load(v1_data)
    body = (
        parsed["seal_info"].dump()
        + parsed["sign_info"]["cert"].dump()
        + parsed["sign_info"]["signature_algorithm"].dump()
    )
    assert v1.signed_bytes[0] == 0x30 and v1.signed_bytes.endswith(body)
    key = v1.maker_cert.public_key
    assert key.verify("SM2", v1.signed_bytes, v1.maker_signature)
    # …and not over the v4 choice of bytes (so the version rule really matters).
    assert not key.verify("SM2", parsed["seal_info"].dump(), v1.maker_signature)
    assert not v4.maker_cert.public_key.verify("SM2", b"\x30\x82" + info, v4.maker_signature)


def test_ofdrw_v1_and_v4_seals_are_valid_in_their_window():
    for name in ("UserV1.esl", "UserV4.esl"):
        seal = parse_seal(vector(name))
        result = verify_seal(seal, at=datetime(2021, 1, 1, tzinfo=UTC))
        assert result.indication is Indication.INDETERMINATE
        assert result.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        assert [c.name for c in result.checks if c.status is CheckStatus.PASSED] == [
            "seal_signature",
            "seal_validity",
            "seal_maker_certificate_validity",
        ]


def test_ofdrw_seal_outside_its_window():
    seal = parse_seal(vector("UserV4.esl"))  # valid 2020-04-22 02:09 – 2022-04-22 02:09 UTC
    before = verify_seal(seal, at=datetime(2020, 4, 22, 2, 8, tzinfo=UTC))
    assert (before.indication, before.sub_indication) == (
        Indication.FAILED,
        SubIndication.NOT_YET_VALID,
    )
    after = verify_seal(seal, at=datetime(2023, 1, 1, tzinfo=UTC))
    assert (after.indication, after.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)
    assert after.status("seal_signature") is CheckStatus.PASSED


@pytest.mark.parametrize("name", ["UserV5.esl", "UserV5_ts.esl"])
def test_ofdrw_v5_seals_were_made_with_an_expired_maker_certificate(name):
    """Finding 2 of the vectors README: maker signature valid, maker certificate expired 2022."""
    seal = parse_seal(vector(name))
    assert seal.create_date == seal.valid_start and seal.create_date.year == 2026
    assert seal.maker_cert.not_after == datetime(2022, 4, 21, 14, 39, 38, tzinfo=UTC)
    result = verify_seal(seal, at=seal.valid_start + timedelta(days=1))
    assert result.status("seal_signature") is CheckStatus.PASSED
    assert result.status("seal_validity") is CheckStatus.PASSED
    assert result.status("seal_maker_certificate_validity") is CheckStatus.FAILED
    assert (result.indication, result.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)


def test_ofdrw_v5_timestamp_is_read():
    assert parse_seal(vector("UserV5_ts.esl")).time_stamp == b"\x01\x02\x03"
    assert parse_seal(vector("UserV5.esl")).time_stamp is None


# --------------------------------------------------------------------------- ofdrw signatures


def test_signed_value_v4_is_valid_over_zero_hash():
    sig = parse_signature(vector("SignedValueV4.dat"))
    assert sig.version == 4 and sig.data_hash == ZERO_HASH
    assert sig.property_info == "/Doc_0/Signs/Sign_0/Signature.xml"
    assert sig.time_info == datetime(2020, 10, 12, 11, 14, 3, tzinfo=UTC)
    assert sig.signer_cert == cert("USER.cert.pem")
    assert sig.seal.es_id == "51f044b76510434e9bc67a1185c2fba5"
    # the signature covers DER(TBS_Sign) exactly as received
    assert sig.signer_cert.public_key.verify("SM2", sig.tbs_bytes, sig.signature)
    assert vector("SignedValueV4.dat")[4 : 4 + len(sig.tbs_bytes)] == sig.tbs_bytes
    report = verify_signature(sig, data_hash=ZERO_HASH)
    for name in ("data_hash", *CRYPTO_CHECKS, *VALIDITY_CHECKS):
        assert report.status(name) is CheckStatus.PASSED, report.check(name)
    assert report.status("signer_chain") is CheckStatus.INDETERMINATE
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert report.signer_subject == str(cert("USER.cert.pem").subject)
    assert (report.seal_name, report.seal_id) == ("OFD R&W 测试用印章", sig.seal.es_id)
    assert report.signing_time == report.validation_time == sig.time_info
    assert report.reasons() == ("NO_CERTIFICATE_CHAIN_FOUND", "NO_CERTIFICATE_CHAIN_FOUND")


def test_signed_value_v5_signature_valid_but_certificates_expired_at_signing_time():
    """Finding 2: signed 2026-04-24 with the USER certificate that expired 2022-04-21."""
    sig = parse_signature(vector("SignedValueV5.dat"))
    assert sig.version == 5 and sig.data_hash == ZERO_HASH and sig.seal.version == 5
    assert sig.time_info == datetime(2026, 4, 24, 8, 53, 26, tzinfo=UTC)
    report = verify_signature(sig, data_hash=ZERO_HASH)
    for name in ("data_hash", *CRYPTO_CHECKS, "seal_validity"):
        assert report.status(name) is CheckStatus.PASSED
    assert report.status("signer_certificate_validity") is CheckStatus.FAILED
    assert report.status("seal_maker_certificate_validity") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)


def test_wrong_data_hash_is_a_hash_failure():
    sig = parse_signature(vector("SignedValueV4.dat"))
    report = verify_signature(sig, data_hash=b"\x01" * 32)
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert verify_signature(sig, data_hash=None).status("data_hash") is CheckStatus.SKIPPED


def test_validity_is_judged_at_signing_time_unless_told_otherwise():
    sig = parse_signature(vector("SignedValueV4.dat"))
    now = verify_signature(sig, data_hash=ZERO_HASH, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert (now.indication, now.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)
    assert now.status("signature") is CheckStatus.PASSED
    with pytest.raises(TypeError):
        verify_signature(sig, data_hash=ZERO_HASH, at=datetime(2026, 1, 1))


def test_ofdrw_root_lacks_key_cert_sign_so_chain_stays_indeterminate():
    """Finding 5: ROOT signed USER and SealBuilder but has no keyCertSign."""
    root = cert("ROOT.cert.pem")
    assert root.is_ca and "key_cert_sign" not in root.key_usage
    for leaf in (cert("USER.cert.pem"), cert("SealBuilder.cert.pem")):
        assert root.public_key.verify(leaf.signature_algorithm, leaf.tbs_der, leaf.signature)
    report = verify_signature(
        parse_signature(vector("SignedValueV4.dat")), data_hash=ZERO_HASH, roots=[root]
    )
    assert report.status("signer_chain") is CheckStatus.INDETERMINATE
    assert report.check("signer_chain").sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    assert report.indication is Indication.INDETERMINATE


@pytest.mark.openssl
def test_derived_pems_match_the_pkcs12_files(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:  # skip locally, fail in CI (as tests/trust does)
        reason = "'openssl' is not on PATH (Debian package openssl)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true")
        pytest.skip(reason)
    for name, password in (("ROOT", "123456"), ("SealBuilder", "777777"), ("USER", "777777")):
        out = subprocess.run(
            [openssl, "pkcs12", "-legacy", "-in", str(VECTORS / f"{name}.p12"), "-passin", f"pass:{password}", "-nokeys"],
            capture_output=True, check=True,
        )  # fmt: skip
        assert load_certificate(out.stdout[out.stdout.index(b"-----BEGIN") :]) == cert(
            f"{name}.cert.pem"
        )


# --------------------------------------------------------------------------- home-made: PASSED and each failure


def test_home_made_v4_signature_passes_with_its_root(pki):
    sig = parse_signature(signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    assert report.indication is Indication.PASSED and report.sub_indication is None
    assert all(c.status is CheckStatus.PASSED for c in report.checks), report.checks
    assert report.passed
    # no anchors, or someone else's anchors: INDETERMINATE, never FAILED
    assert (
        verify_signature(sig, data_hash=ZERO_HASH).sub_indication
        is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    )
    other = make_pki()
    wrong = verify_signature(sig, data_hash=ZERO_HASH, roots=[other.root])
    assert (wrong.indication, wrong.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


def test_home_made_seal_passes_verify_seal(pki):
    seal = parse_seal(seal_v4(pki))
    assert seal.version == 4
    assert verify_seal(seal, at=SIGNING_TIME, roots=[pki.root]).passed
    v5 = parse_seal(seal_v4(pki, version=5, time_stamp=b"token"))
    assert v5.version == 5 and v5.time_stamp == b"token"
    assert verify_seal(v5, at=SIGNING_TIME, roots=[pki.root]).passed


def test_home_made_v1_seal_and_signature(pki):
    seal = parse_seal(seal_v1(pki))
    assert seal.version == 1
    assert verify_seal(seal, at=SIGNING_TIME, roots=[pki.root]).passed
    sig = parse_signature(signature_v1(pki, seal_v1(pki), data_hash=ZERO_HASH))
    assert sig.version == 1 and sig.time_info == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root]).passed


def test_v1_seal_signed_over_seal_info_alone_fails(pki):
    seal = parse_seal(seal_v1(pki, signed="info"))
    result = verify_seal(seal, at=SIGNING_TIME, roots=[pki.root])
    assert (result.indication, result.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )


def test_v1_time_info_that_is_not_a_time_is_indeterminate(pki):
    sig = parse_signature(
        signature_v1(pki, seal_v1(pki), data_hash=ZERO_HASH, time_info=b"\x30\x03token")
    )
    assert sig.time_info is None
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    assert report.status("signature") is CheckStatus.PASSED
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_POE,
    )


@pytest.mark.parametrize("encode", [raw, non_minimal_der], ids=["raw-r-s", "non-minimal-der"])
def test_real_world_signature_encodings_are_accepted(pki, encode):
    seal = seal_v4(pki, encode=encode)
    sig = parse_signature(signature_v4(pki, seal, data_hash=ZERO_HASH, encode=encode))
    assert verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root]).passed


def test_signer_not_in_seal_fails(pki):
    other = make_pki()
    seal = seal_v4(pki)
    sig = parse_signature(
        signature_v4(
            pki, seal, data_hash=ZERO_HASH, signer_key=other.holder_key, signer_cert=other.holder
        )
    )
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    assert report.status("signature") is CheckStatus.PASSED  # a valid signature by someone else
    assert report.status("signer_in_seal") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )


@pytest.mark.parametrize("digest_type", ["sm3", "SM3", "1.2.156.10197.1.401", "custom"])
def test_cert_digest_list_seal(pki, digest_type):
    seal = seal_v4(pki, cert_list_type=2, digest_type=digest_type)
    parsed = parse_seal(seal)
    assert parsed.certs == () and parsed.cert_digests == ((digest_type, sm3(pki.holder.der)),)
    sig = parse_signature(signature_v4(pki, seal, data_hash=ZERO_HASH))
    assert verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root]).passed
    other = make_pki()
    stranger = parse_signature(
        signature_v4(
            pki, seal, data_hash=ZERO_HASH, signer_key=other.holder_key, signer_cert=other.holder
        )
    )
    assert (
        verify_signature(stranger, data_hash=ZERO_HASH).status("signer_in_seal")
        is CheckStatus.FAILED
    )


def test_unknown_signature_algorithm_fails(pki):
    sig = parse_signature(signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, alg="1.2.3.4"))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )
    ecdsa = parse_signature(
        signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, alg=OID.ECDSA_SHA256)
    )
    assert verify_signature(ecdsa, data_hash=ZERO_HASH).status("signature") is CheckStatus.FAILED


def test_seal_expired_or_not_yet_valid_at_signing_time(pki):
    expired = seal_v4(pki, valid_end=SIGNING_TIME - timedelta(seconds=1))
    report = verify_signature(
        parse_signature(signature_v4(pki, expired, data_hash=ZERO_HASH)),
        data_hash=ZERO_HASH,
        roots=[pki.root],
    )
    assert (report.indication, report.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)
    assert report.status("seal_validity") is CheckStatus.FAILED
    early = seal_v4(pki, valid_start=SIGNING_TIME + timedelta(seconds=1))
    report = verify_signature(
        parse_signature(signature_v4(pki, early, data_hash=ZERO_HASH)),
        data_hash=ZERO_HASH,
        roots=[pki.root],
    )
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.NOT_YET_VALID,
    )


def test_signer_certificate_expired_at_signing_time(pki):
    short = make_pki(holder_not_after=SIGNING_TIME - timedelta(days=1))
    sig = parse_signature(signature_v4(short, seal_v4(short), data_hash=ZERO_HASH))
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[short.root])
    assert report.status("signer_certificate_validity") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (Indication.FAILED, SubIndication.EXPIRED)


def test_signature_timestamp_that_is_not_a_token_fails(pki):
    # RFC 3161 tokens are verified (tests/seal_service/test_ses_timestamp.py); bytes
    # that are not a token are a broken time-stamp, not something to skip.
    sig = parse_signature(
        signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH, version=5, time_stamp=b"tst")
    )
    assert sig.version == 5 and sig.time_stamp == b"tst"
    report = verify_signature(sig, data_hash=ZERO_HASH, roots=[pki.root])
    assert report.status("timestamp") is CheckStatus.FAILED
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.FORMAT_FAILURE,
    )


@pytest.mark.parametrize("where", ["tbs", "signature", "seal_info", "maker_signature"])
def test_any_changed_signed_byte_fails(pki, where):
    data = signature_v4(pki, seal_v4(pki), data_hash=ZERO_HASH)
    sig = parse_signature(data)
    if where == "tbs":
        index = data.index(b"/Doc_0/Signs")  # in propertyInfo
    elif where == "signature":
        index = len(data) - 1
    elif where == "seal_info":
        index = data.index(b"not-a-real-image")
    else:
        index = data.index(sig.seal.maker_signature) + 10
    changed = parse_signature(flip(data, index))
    report = verify_signature(changed, data_hash=ZERO_HASH, roots=[pki.root])
    assert (report.indication, report.sub_indication) == (
        Indication.FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )


# --------------------------------------------------------------------------- malformed input


def _nested(depth: int) -> bytes:
    data = b"\x05\x00"
    for _ in range(depth):
        data = b"\x30" + ses_module._der_length(len(data)) + data
    return data


MALFORMED = {
    "empty": b"",
    "junk": b"not an SES structure at all",
    "integer": b"\x02\x01\x01",
    "truncated": None,  # filled in below
    "trailing": None,
    "indefinite-length": b"\x30\x80\x02\x01\x01\x00\x00",
    "deep": _nested(200),
    "three-elements": b"\x30\x09\x02\x01\x01\x02\x01\x01\x02\x01\x01",
    "wrong-tags": b"\x30\x06\x04\x01\x01\x04\x01\x01",
    "huge-length": b"\x30\x84\xff\xff\xff\xff",
    "high-tag": b"\x30\x07\x1f\x81\x82\x83\x84\x85\x00",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("parse", [parse_seal, parse_signature], ids=["seal", "signature"])
def test_malformed_input_raises_seal_format_error(case, parse):
    data = MALFORMED[case]
    if case == "truncated":
        data = (
            vector("SignedValueV4.dat")[:-7]
            if parse is parse_signature
            else vector("UserV4.esl")[:-7]
        )
    elif case == "trailing":
        data = (
            vector("SignedValueV4.dat") if parse is parse_signature else vector("UserV4.esl")
        ) + b"\x00"
    with pytest.raises(SealFormatError) as info:
        parse(data)
    assert info.value.code == "malformed" and isinstance(info.value, TrustError)


def test_a_seal_is_not_a_signature_and_vice_versa():
    with pytest.raises(SealFormatError):
        parse_signature(vector("UserV4.esl"))
    with pytest.raises(SealFormatError):
        parse_seal(vector("SignedValueV4.dat"))
    with pytest.raises(SealFormatError):
        parse_seal("UserV4.esl")  # type: ignore[arg-type]


def test_oversized_input_is_refused_before_parsing():
    big = (
        b"\x30\x84" + (ses_module.MAX_SES_SIZE).to_bytes(4, "big") + bytes(ses_module.MAX_SES_SIZE)
    )
    with pytest.raises(SealFormatError, match="larger than"):
        parse_seal(big)


def test_unparseable_embedded_certificate_is_a_format_error(pki):
    data = seal_v4(pki)
    der = pki.maker.der
    broken = data.replace(der, der[:50] + b"\x00" + der[51:])
    with pytest.raises(SealFormatError):
        parse_seal(broken)


def test_bit_string_with_unused_bits_is_refused(pki):
    data = bytearray(seal_v4(pki))
    parsed = ses_module.SESealV4.load(bytes(data))
    sv = parsed["signed_value"].dump()
    start = bytes(data).index(sv)
    data[start + len(sv) - len(parsed["signed_value"].contents)] = 0x03  # unused-bits octet
    with pytest.raises(SealFormatError):
        parse_seal(bytes(data))


# --------------------------------------------------------------------------- fuzz


_SAMPLES = [vector(n) for n in ("UserV1.esl", "UserV4.esl", "UserV5_ts.esl", "SignedValueV4.dat")]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(_SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[pos : pos + draw(st.integers(1, 32))]
        if not data:
            break
    return bytes(data)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.one_of(st.binary(max_size=300), mutated()))
def test_fuzz_parser_raises_only_seal_format_error(data):
    for parse in (parse_seal, parse_signature):
        try:
            parsed = parse(data)
        except SealFormatError:
            continue
        # whatever parses must also verify without raising
        if parse is parse_seal:
            verify_seal(parsed, at=T0)
        else:
            verify_signature(parsed, data_hash=ZERO_HASH)


def test_parsed_values_are_frozen():
    seal = parse_seal(vector("UserV4.esl"))
    with pytest.raises(AttributeError):
        seal.name = "x"  # type: ignore[misc]
