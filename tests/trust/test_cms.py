"""trust.cms: CMS SignedData (RFC 5652) for SM2/SM3, ECDSA P-256, RSA PKCS#1 v1.5, Ed25519.

Round trips per family, one broken thing at a time with its error code,
fuzzed DER that yields only CmsError, OpenSSL interop both ways (ECDSA, RSA:
OpenSSL 3.0's ``cms`` cannot do Ed25519 or SM2 with the GM/T 0009 ID), and an
independent SM2 check of our signature with the pure-Python gmssl package.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from gmssl import sm2 as gm_sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trust import cms
from trust.algorithms import OID
from trust.crypto import PrivateKey, generate_private_key
from trust.hashes import digest as hash_digest
from trust.pki import Certificate, issue_end_entity, issue_root

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SIGNED_AT = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
CONTENT = b"GovTrust CMS content\r\n\x00\xe7\x94\xb5\xe5\xad\x90\n"

FAMILIES = {  # family → (algorithm, CMS digest, signature OID we write)
    "sm2": ("SM2", "sm3", OID.SM3_WITH_SM2),
    "p256": ("ES256", "sha256", OID.ECDSA_SHA256),
    "rsa": ("RS256", "sha256", OID.RSA_ENCRYPTION),
    "ed25519": ("EdDSA", "sha512", OID.ED25519),
}


@dataclass(frozen=True)
class Pki:
    family: str
    alg: str
    digest: str
    root_key: PrivateKey
    root: Certificate
    key: PrivateKey
    leaf: Certificate

    def signer(self):  # type: ignore[no-untyped-def]
        return self.key.signer(self.alg)


def make_pki(family: str, *, start: datetime = T0, purpose: str = "seal") -> Pki:
    alg, digest, _ = FAMILIES[family]
    root_key = generate_private_key(family, rsa_bits=2048)
    key = generate_private_key(family, rsa_bits=2048)
    root_signer = root_key.signer(alg)
    root = issue_root(
        root_signer,
        f"CN=CMS test root {family}",
        not_before=start,
        not_after=start + timedelta(days=3650),
    )
    leaf = issue_end_entity(
        root_signer,
        root,
        key.public_key(),
        f"CN=CMS test signer {family}",
        purpose=purpose,
        not_before=start,
        not_after=start + timedelta(days=730),
    )
    return Pki(family, alg, digest, root_key, root, key, leaf)


@pytest.fixture(scope="module", params=list(FAMILIES))
def pki(request: pytest.FixtureRequest) -> Pki:
    return make_pki(request.param)


@pytest.fixture(scope="module")
def p256() -> Pki:
    return make_pki("p256")


@pytest.fixture(scope="module")
def sm2() -> Pki:
    return make_pki("sm2")


def sign(p: Pki, content: bytes = CONTENT, **kwargs: object) -> bytes:
    return cms.sign_detached(p.signer(), p.leaf, content=content, signing_time=SIGNED_AT, **kwargs)  # type: ignore[arg-type]


def code_of(der: bytes, **kwargs: object) -> str:
    kwargs.setdefault("content", CONTENT)
    with pytest.raises(cms.CmsError) as info:
        cms.verify_detached(der, **kwargs)  # type: ignore[arg-type]
    return info.value.code


def reencode(der: bytes, edit) -> bytes:  # type: ignore[no-untyped-def]
    """Parse with asn1crypto's generic CMS classes, let ``edit`` change the SignedData, re-DER."""
    ci = asn1_cms.ContentInfo.load(der)
    edit(ci["content"])
    return bytes(ci.dump(force=True))


# --------------------------------------------------------------------------- round trips


def test_round_trip_content(pki: Pki) -> None:
    der = sign(pki, chain=[pki.root])
    result = cms.verify_detached(der, content=CONTENT)
    assert result.verified is True
    assert result.signer_certificate == pki.leaf
    assert result.signing_time == SIGNED_AT
    assert result.digest_algorithm == pki.digest
    assert result.signature_algorithm.name == pki.alg
    assert result.content_type == cms.ID_DATA
    assert result.outer_content_type == cms.ID_SIGNED_DATA
    assert set(result.certificates) == {pki.leaf, pki.root}  # a DER SET OF: sorted, not ordered
    assert result.path_validated is False
    assert result.content is None


def test_round_trip_digest_both_ways(pki: Pki) -> None:
    d = cms.hash_data(pki.digest, CONTENT)
    der = cms.sign_detached(pki.signer(), pki.leaf, digest=(pki.digest, d), signing_time=SIGNED_AT)
    assert cms.verify_detached(der, content=CONTENT).signing_time == SIGNED_AT
    assert cms.verify_detached(der, digest=(pki.digest, d)).signer_certificate == pki.leaf
    # content mode writes the same message-digest attribute
    from_content = cms.verify_detached(sign(pki), digest=(pki.digest, d))
    md_attr = "1.2.840.113549.1.9.4"
    assert from_content.signers[0].attribute(md_attr) == bytes([0x04, len(d)]) + d
    assert cms.verify_detached(der, digest=(pki.digest, d)).signers[0].attribute(md_attr) == (
        bytes([0x04, len(d)]) + d
    )


def test_algorithm_identifiers_written(pki: Pki) -> None:
    ci = asn1_cms.ContentInfo.load(sign(pki))
    si = ci["content"]["signer_infos"][0]
    assert si["version"].native == "v1"
    assert si["sid"].name == "issuer_and_serial_number"
    assert si["signature_algorithm"]["algorithm"].dotted == FAMILIES[pki.family][2]
    assert si["digest_algorithm"]["algorithm"].dotted == cms.DIGEST_OIDS[pki.digest]
    attr_types = [a["type"].dotted for a in si["signed_attrs"]]
    assert sorted(attr_types) == sorted(
        ["1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5"]
    )
    assert ci["content"]["encap_content_info"]["content"].native is None


def test_signed_attributes_are_der_set_of(p256: Pki) -> None:
    """The signed attributes are written as DER: asn1crypto's own re-encoding of
    what we embedded (and signed) gives the same bytes, sorted SET OF included,
    with extra attributes whose encodings sort before and after the standard ones."""
    ess = bytes.fromhex("3009300730050403010203")  # SigningCertificateV2 {certs: [hash]}
    der = cms.sign_encapsulated(
        p256.signer(),
        p256.leaf,
        content=b"\x02\x01\x05",
        content_type="1.2.840.113549.1.9.16.1.4",
        signing_time=SIGNED_AT,
        extra_signed_attributes=[
            ("1.2.840.113549.1.9.16.2.47", ess),
            ("0.9.2342.19200300.100.1.1", bytes.fromhex("0c0161")),
        ],
    )
    si = asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    embedded = si["signed_attrs"].untag().dump()
    assert embedded[0] == 0x31
    reencoded = asn1_cms.CMSAttributes.load(embedded).dump(force=True)
    assert embedded == reencoded
    types = [a["type"].dotted for a in asn1_cms.CMSAttributes.load(embedded)]
    assert types[0] == "0.9.2342.19200300.100.1.1" and len(types) == 5
    result = cms.verify_encapsulated(der, content_types=["1.2.840.113549.1.9.16.1.4"])
    assert result.verified is True and result.content == b"\x02\x01\x05"


@pytest.mark.parametrize("value", [b"", b"\x04\x01", b"\x04\x00\x04\x00", "text"])
def test_extra_attribute_value_must_be_one_tlv(p256: Pki, value: object) -> None:
    with pytest.raises(cms.CmsError) as info:
        cms.sign_detached(
            p256.signer(),
            p256.leaf,
            content=CONTENT,
            signing_time=SIGNED_AT,
            extra_signed_attributes=[("1.2.840.113549.1.9.16.2.47", value)],  # type: ignore[list-item]
        )
    assert info.value.code == "invalid_argument"


def test_path_validation_with_roots(pki: Pki) -> None:
    result = cms.verify_detached(sign(pki), content=CONTENT, roots=[pki.root], purpose="seal")
    assert result.path_validated is True
    assert result.signers[0].path == (pki.leaf, pki.root)
    other = make_pki(pki.family)
    assert code_of(sign(pki), roots=[other.root]) in ("cert_unknown_issuer", "cert_untrusted_root")
    # validated at the signing-time by default; an explicit instant after expiry fails
    late = pki.leaf.not_after + timedelta(days=1)
    assert code_of(sign(pki), roots=[pki.root], at=late) == "cert_expired"


def test_sm2_gm_flavour(sm2: Pki) -> None:
    der = sign(sm2, gm_content_types=True)
    ci = asn1_cms.ContentInfo.load(der)
    assert ci["content_type"].dotted == OID.GM_CMS_SIGNED_DATA
    result = cms.verify_detached(der, content=CONTENT)
    assert result.outer_content_type == OID.GM_CMS_SIGNED_DATA
    assert result.content_type == OID.GM_CMS_DATA
    si = asn1_cms.ContentInfo.load(sign(sm2))["content"]["signer_infos"][0]
    assert si["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
    assert si["digest_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.401"


def test_signing_time_after_2049_is_generalized_time(p256: Pki) -> None:
    late = datetime(2051, 5, 1, tzinfo=UTC)
    der = cms.sign_detached(p256.signer(), p256.leaf, content=CONTENT, signing_time=late)
    assert b"\x18\x0f20510501000000Z" in der
    assert cms.verify_detached(der, content=CONTENT).signing_time == late


def test_sm2_signature_cross_checked_with_gmssl(sm2: Pki) -> None:
    """gmssl is an independent SM2 implementation (verify only; SECURITY.md)."""
    si = asn1_cms.ContentInfo.load(sign(sm2))["content"]["signer_infos"][0]
    to_verify = bytes(si["signed_attrs"].untag().dump())
    r, s = asn1_algos.DSASignature.load(si["signature"].native).native.values()
    x, y = sm2.key.public_key().point()  # type: ignore[attr-defined]
    verifier = gm_sm2.CryptSM2(private_key=None, public_key=f"{x:064x}{y:064x}")
    sig_hex = f"{r:064x}{s:064x}"
    assert verifier.verify_with_sm3(sig_hex, to_verify) is True
    assert verifier.verify_with_sm3(sig_hex, to_verify + b"x") is not True


# --------------------------------------------------------------------------- sign-side refusals


def test_sign_refusals(p256: Pki) -> None:
    with pytest.raises(cms.CmsError) as e:
        cms.sign_detached(p256.signer(), p256.leaf, signing_time=SIGNED_AT)
    assert e.value.code == "invalid_argument"
    with pytest.raises(cms.CmsError) as e:
        cms.sign_detached(
            p256.signer(), p256.leaf, digest=("sm3", b"\x00" * 32), signing_time=SIGNED_AT
        )
    assert e.value.code == "digest_algorithm_mismatch"
    with pytest.raises(cms.CmsError) as e:
        cms.sign_detached(
            p256.signer(), p256.leaf, digest=("sha256", b"\x00" * 31), signing_time=SIGNED_AT
        )
    assert e.value.code == "invalid_argument"
    with pytest.raises(cms.CmsError) as e:
        cms.sign_detached(
            p256.signer(), p256.leaf, content=CONTENT, signing_time=datetime(2026, 1, 2)
        )
    assert e.value.code == "invalid_argument"
    other = generate_private_key("p256")
    with pytest.raises(cms.CmsError) as e:
        cms.sign_detached(other.signer("ES256"), p256.leaf, content=CONTENT, signing_time=SIGNED_AT)
    assert e.value.code == "invalid_argument"


def test_pss_is_not_a_cms_algorithm_here() -> None:
    p = make_pki("rsa")
    with pytest.raises(cms.CmsError) as e:
        cms.sign_detached(p.key.signer("PS256"), p.leaf, content=CONTENT, signing_time=SIGNED_AT)
    assert e.value.code == "unsupported_algorithm"


# --------------------------------------------------------------------------- verification failures


def test_tampered_content_and_digest(pki: Pki) -> None:
    der = sign(pki)
    assert code_of(der, content=CONTENT + b"!") == "digest_mismatch"
    d = bytearray(cms.hash_data(pki.digest, CONTENT))
    d[0] ^= 1
    assert code_of(der, content=None, digest=(pki.digest, bytes(d))) == "digest_mismatch"
    wrong_alg = "sha384" if pki.digest != "sha384" else "sha256"
    wrong = cms.hash_data(wrong_alg, CONTENT)
    assert code_of(der, content=None, digest=(wrong_alg, wrong)) == "digest_algorithm_mismatch"


def test_tampered_signature(pki: Pki) -> None:
    def flip(sd: asn1_cms.SignedData) -> None:
        si = sd["signer_infos"][0]
        sig = bytearray(si["signature"].native)
        sig[len(sig) // 2] ^= 0x01
        si["signature"] = bytes(sig)

    assert code_of(reencode(sign(pki), flip)) == "bad_signature"


def test_tampered_signed_attribute(pki: Pki) -> None:
    der = sign(pki)
    old = b"\x17\x0d260301123005Z"
    assert der.count(old) == 1
    assert code_of(der.replace(old, b"\x17\x0d260301123006Z")) == "bad_signature"


def test_content_type_attribute_must_match(p256: Pki) -> None:
    der = sign(p256)
    id_data = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"
    enveloped = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03"
    first = der.index(id_data)  # eContentType comes before the signed attributes
    tampered = der[:first] + enveloped + der[first + len(id_data) :]
    assert code_of(tampered) == "content_type_mismatch"  # not an expected eContentType
    assert code_of(tampered, content_types=None) == "content_type_mismatch"  # attr ≠ eContentType


def test_signature_algorithm_must_fit_the_key(p256: Pki) -> None:
    def swap(sd: asn1_cms.SignedData) -> None:
        sd["signer_infos"][0]["signature_algorithm"] = {"algorithm": OID.ECDSA_SHA384}

    assert code_of(reencode(sign(p256), swap)) == "unsupported_algorithm"

    def digest_swap(sd: asn1_cms.SignedData) -> None:
        sd["signer_infos"][0]["digest_algorithm"] = {"algorithm": OID.SM3}

    assert code_of(reencode(sign(p256), digest_swap)) == "unsupported_algorithm"


def test_unsigned_attributes_refused_unless_ignorable(p256: Pki) -> None:
    countersig = "1.2.840.113549.1.9.6"

    def add(sd: asn1_cms.SignedData) -> None:
        sd["signer_infos"][0]["unsigned_attrs"] = [
            {"type": countersig, "values": [asn1_cms.SignerInfo.load(sd["signer_infos"][0].dump())]}
        ]

    der = reencode(sign(p256), add)
    assert code_of(der) == "unsupported_attribute"
    assert cms.verify_detached(der, content=CONTENT, ignore_unsigned_attributes={countersig})


def test_missing_signed_attributes(p256: Pki) -> None:
    def strip(sd: asn1_cms.SignedData) -> None:
        sd["signer_infos"][0]["signed_attrs"] = asn1_cms.CMSAttributes(
            [
                a
                for a in sd["signer_infos"][0]["signed_attrs"]
                if a["type"].native != "message_digest"
            ]
        )

    assert code_of(reencode(sign(p256), strip)) == "missing_attribute"

    def drop_all(sd: asn1_cms.SignedData) -> None:
        sd["signer_infos"][0]["signed_attrs"] = None

    assert code_of(reencode(sign(p256), drop_all)) == "missing_attribute"


def test_duplicate_signed_attribute(p256: Pki) -> None:
    def dup(sd: asn1_cms.SignedData) -> None:
        attrs = list(sd["signer_infos"][0]["signed_attrs"])
        extra = asn1_cms.CMSAttribute(
            {"type": "signing_time", "values": [asn1_cms.Time({"utc_time": SIGNED_AT})]}
        )
        sd["signer_infos"][0]["signed_attrs"] = asn1_cms.CMSAttributes([*attrs, extra])

    assert code_of(reencode(sign(p256), dup)) == "malformed"


def test_multiple_signers_only_when_asked(p256: Pki) -> None:
    second = make_pki("p256")
    der2 = sign(second)

    def merge(sd: asn1_cms.SignedData) -> None:
        other = asn1_cms.ContentInfo.load(der2)["content"]
        sd["signer_infos"] = [*sd["signer_infos"], other["signer_infos"][0]]
        sd["certificates"] = [*sd["certificates"], other["certificates"][0]]

    merged = reencode(sign(p256), merge)
    assert code_of(merged) == "multiple_signers"
    result = cms.verify_detached(merged, content=CONTENT, allow_multiple_signers=True)
    assert {s.certificate for s in result.signers} == {p256.leaf, second.leaf}


def test_signer_certificate_must_be_found(p256: Pki) -> None:
    def strip(sd: asn1_cms.SignedData) -> None:
        sd["certificates"] = None

    der = reencode(sign(p256), strip)
    assert code_of(der) == "signer_not_found"
    assert cms.verify_detached(der, content=CONTENT, extra_certificates=[p256.leaf]).verified
    assert code_of(der, extra_certificates=[make_pki("p256").leaf]) == "signer_not_found"


def test_ber_indefinite_length_refused(p256: Pki) -> None:
    der = sign(p256)
    assert der[:2] == b"\x30\x82"
    body = der[4:]
    ber = b"\x30\x80" + body + b"\x00\x00"
    assert code_of(ber) == "not_der"
    # non-minimal length encoding of the outer SEQUENCE
    assert code_of(b"\x30\x83\x00" + der[2:]) == "not_der"


def test_unsorted_signed_attributes_are_not_der(p256: Pki) -> None:
    """[0] IMPLICIT hides the SET tag from the one-pass DER check: the signed
    attributes' order is checked on its own."""
    der = sign(p256)
    ci = asn1_cms.ContentInfo.load(der)
    si = ci["content"]["signer_infos"][0]
    attrs = [bytes(a.dump()) for a in si["signed_attrs"]]
    assert attrs == sorted(attrs) and len(attrs) == 3
    body = b"".join([attrs[1], attrs[0], attrs[2]])
    old = bytes(si["signed_attrs"].dump())
    new = b"\xa0" + bytes([len(body)]) + body
    assert len(new) == len(old) and der.count(old) == 1
    assert code_of(der.replace(old, new)) == "not_der"


def test_non_minimal_integer_inside_is_not_der(p256: Pki) -> None:
    der = sign(p256)
    ci = asn1_cms.ContentInfo.load(der)
    version = bytes(ci["content"]["signer_infos"][0]["version"].dump())
    assert version == b"\x02\x01\x01"
    # The CMS version (3) is the first INTEGER; widen it to 2 octets, lengths fixed up.
    sd_version = bytes(ci["content"]["version"].dump())
    inner = bytes(ci["content"].contents).replace(sd_version, b"\x02\x02\x00" + sd_version[2:], 1)
    content = b"\x30" + cms._length(len(inner)) + inner
    explicit = b"\xa0" + cms._length(len(content)) + content
    oid = bytes(ci["content_type"].dump())
    outer = b"\x30" + cms._length(len(oid) + len(explicit)) + oid + explicit
    assert code_of(outer) == "not_der"


def test_detached_means_detached(p256: Pki) -> None:
    attached = cms.sign_encapsulated(
        p256.signer(), p256.leaf, content=CONTENT, content_type=cms.ID_DATA, signing_time=SIGNED_AT
    )
    assert code_of(attached) == "not_detached"
    result = cms.verify_encapsulated(attached, content_types=[cms.ID_DATA])
    assert result.content == CONTENT
    with pytest.raises(cms.CmsError) as e:
        cms.verify_encapsulated(sign(p256), content_types=[cms.ID_DATA])
    assert e.value.code == "no_content"


def test_size_bound(p256: Pki) -> None:
    assert code_of(b"\x30" + b"\x00" * cms.MAX_CMS_SIZE) == "too_large"


def test_argument_checks(p256: Pki) -> None:
    der = sign(p256)
    assert code_of(der, content=CONTENT, digest=("sha256", b"\x00" * 32)) == "invalid_argument"
    assert code_of(der, content=None) == "invalid_argument"
    assert code_of(der, content=None, digest=("md5", b"\x00" * 16)) == "invalid_argument"


# --------------------------------------------------------------------------- fuzzing


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600))
def test_fuzz_random_bytes(data: bytes) -> None:
    with pytest.raises(cms.CmsError):
        cms.verify_detached(data, content=CONTENT)


_VALID: dict[str, bytes] = {}


def _valid_der() -> bytes:
    if "p256" not in _VALID:
        _VALID["p256"] = sign(make_pki("p256"))
    return _VALID["p256"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_signed_data(data: st.DataObject) -> None:
    der = bytearray(_valid_der())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(der) - 1))
        der[pos] = data.draw(st.integers(0, 255))
    if bytes(der) == _valid_der():
        return
    cut = data.draw(st.integers(0, len(der)))
    mutated = bytes(der[:cut]) if data.draw(st.booleans()) else bytes(der)
    try:
        cms.verify_detached(mutated, content=CONTENT)
    except cms.CmsError as exc:
        assert exc.code  # a typed, coded error and nothing else
    else:
        # a mutation that still verifies can only be outside the signed bytes and certificates
        # (e.g. in the unsigned outer version number): the signer must still be the same
        assert cms.verify_detached(mutated, content=CONTENT).signing_time == SIGNED_AT


# --------------------------------------------------------------------------- OpenSSL interop


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def live_pki(request: pytest.FixtureRequest) -> Pki:
    # OpenSSL checks validity against the wall clock.
    return make_pki(request.param, start=datetime.now(UTC) - timedelta(days=1))


@pytest.mark.openssl
@pytest.mark.parametrize("live_pki", ["p256", "rsa"], indirect=True)
def test_openssl_verifies_our_cms(live_pki: Pki, openssl_bin: str, tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_bytes(live_pki.root.pem())
    (tmp_path / "data.bin").write_bytes(CONTENT)
    der = cms.sign_detached(
        live_pki.signer(), live_pki.leaf, content=CONTENT, signing_time=datetime.now(UTC)
    )
    (tmp_path / "sig.der").write_bytes(der)
    argv = [
        openssl_bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der",
        "-content", "data.bin", "-CAfile", "root.pem", "-purpose", "any", "-out", "out.bin",
    ]  # fmt: skip
    proc = _run(argv, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Verification successful" in proc.stderr
    (tmp_path / "data.bin").write_bytes(CONTENT + b"tampered")
    proc = _run(argv, tmp_path)
    assert proc.returncode != 0


@pytest.mark.openssl
@pytest.mark.parametrize("live_pki", ["p256", "rsa"], indirect=True)
def test_we_verify_openssl_cms(live_pki: Pki, openssl_bin: str, tmp_path: Path) -> None:
    (tmp_path / "leaf.pem").write_bytes(live_pki.leaf.pem())
    (tmp_path / "leaf.key").write_bytes(live_pki.key.pem())
    (tmp_path / "data.bin").write_bytes(CONTENT)
    proc = _run(
        [
            openssl_bin,
            "cms",
            "-sign",
            "-binary",
            "-in",
            "data.bin",
            "-signer",
            "leaf.pem",
            "-inkey",
            "leaf.key",
            "-md",
            "sha256",
            "-outform",
            "DER",
            "-out",
            "sig.der",
        ],  # fmt: skip
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    der = (tmp_path / "sig.der").read_bytes()
    result = cms.verify_detached(der, content=CONTENT, roots=[live_pki.root], purpose="seal")
    assert result.signer_certificate == live_pki.leaf
    assert result.digest_algorithm == "sha256"
    assert result.path_validated
    assert result.signing_time is not None
    assert abs(result.signing_time - datetime.now(UTC)) < timedelta(minutes=5)
    assert code_of(der, content=CONTENT[:-1]) == "digest_mismatch"
    assert cms.verify_detached(der, digest=("sha256", hash_digest("sha256", CONTENT))).verified
