"""trust.pki: issuance, parsing and RFC 5280 path validation, checked against OpenSSL.

OpenSSL 3.0.19 (Debian) and SM2 certificates, as measured here:

* Without a distinguishing ID, OpenSSL signs and verifies SM2 X.509 signatures
  with an *empty* ID, not the GM/T 0009 default ``1234567812345678`` that
  GM/T 0015 certificates (ours, and OpenSSL's own with ``-sigopt distid:…``) use.
  So ``openssl verify`` needs ``-vfyopt distid:1234567812345678``; it is accepted
  and necessary.
* ``openssl verify`` applies ``-vfyopt`` only to the certificate being verified,
  not to ``-untrusted``/``-CAfile`` certificates, so a three-level SM2 chain
  fails at depth 1 in one command, whoever issued it (OpenSSL's own chains
  too; openssl/openssl#23471). The chain is checked one link per command::

      openssl verify -vfyopt distid:1234567812345678 -CAfile root.pem inter.pem
      openssl verify -vfyopt distid:1234567812345678 -partial_chain -CAfile inter.pem leaf.pem

  and the root's self-signature (never checked by ``openssl verify``; with
  ``-check_ss_sig`` it fails for the same reason) with
  ``openssl dgst -sm3 -verify root-pub.pem -sigopt distid:1234567812345678``.
* ``openssl x509 -req`` checks the CSR's SM2 self-signature with the empty ID
  too and needs ``-vfyopt distid:1234567812345678`` to accept a CSR made with
  ``-sigopt distid:1234567812345678``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trust import CertificateError, PrivateKey, generate_private_key, signature_algorithm
from trust.pki import (
    EKU_DOCUMENT_SIGNING,
    EKU_TIME_STAMPING,
    GOVTRUST_EKU_ARC,
    KEY_PURPOSES,
    MAX_PATH_LENGTH,
    Certificate,
    Extension,
    Name,
    issue_ca,
    issue_certificate_unsafe,
    issue_end_entity,
    issue_root,
    key_identifier,
    load_certificate,
    load_certificates,
    validate_path,
)

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NOT_BEFORE = T0 - timedelta(days=1)
NOT_AFTER = T0 + timedelta(days=365)
DISTID = "distid:1234567812345678"

FAMILIES = {"SM2": "sm2", "ES256": "p256", "RS256": "rsa", "PS256": "rsa", "EdDSA": "ed25519"}
PURPOSES = tuple(KEY_PURPOSES)

# The exact AlgorithmIdentifier DER per family (parameters absent / NULL / explicit PSS).
ALGORITHM_IDENTIFIERS = {
    "SM2": "300a06082a811ccf55018375",
    "ES256": "300a06082a8648ce3d040302",
    "RS256": "300d06092a864886f70d01010b0500",
    "PS256": "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06"
    "092a864886f70d010108300d06096086480165030402010500a203020120",
    "EdDSA": "300506032b6570",
}


def require_openssl() -> str:
    """The openssl binary; skip when missing, but fail on CI (CI=true)."""
    path = shutil.which("openssl")
    if path is None:
        reason = "'openssl' is not on PATH (Debian package openssl)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip")
        pytest.skip(reason)
    return path


def run(
    *args: str | Path, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def key(family: str) -> PrivateKey:
    return generate_private_key(family, rsa_bits=2048)


@dataclass
class Chain:
    alg: str
    root_key: PrivateKey
    root: Certificate
    inter_key: PrivateKey
    inter: Certificate
    leaves: dict[str, tuple[Certificate, PrivateKey]] = field(default_factory=dict)

    def leaf(self, purpose: str = "id_token") -> Certificate:
        return self.leaves[purpose][0]


def make_chain(alg: str, *, purposes: tuple[str, ...] = PURPOSES) -> Chain:
    family = FAMILIES[alg]
    root_key, inter_key = key(family), key(family)
    root = issue_root(
        root_key.signer(alg),
        f"CN=国家政务服务平台 {alg} 根 CA,O=国家政务服务平台,C=CN",
        not_before=NOT_BEFORE,
        not_after=T0 + timedelta(days=3650),
        path_length=1,
    )
    inter = issue_ca(
        root_key.signer(alg),
        root,
        inter_key.public_key(),
        f"CN=浙江省政务服务网 {alg} CA,O=浙江省人民政府办公厅,ST=浙江省,C=CN",
        not_before=NOT_BEFORE,
        not_after=T0 + timedelta(days=1825),
    )
    chain = Chain(alg, root_key, root, inter_key, inter)
    for purpose in purposes:
        leaf_key = key(family)
        leaf = issue_end_entity(
            inter_key.signer(alg),
            inter,
            leaf_key.public_key(),
            f"CN=leaf {purpose},O=市场监管总局,C=CN",
            purpose=purpose,
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
            dns_names=("verify.gjzwfw.gov.cn",) if purpose == "id_token" else (),
            uris=("https://www.gjzwfw.gov.cn/",) if purpose == "id_token" else (),
        )
        chain.leaves[purpose] = (leaf, leaf_key)
    return chain


@pytest.fixture(scope="module", params=list(FAMILIES))
def chain(request: pytest.FixtureRequest) -> Chain:
    return make_chain(request.param)


@pytest.fixture(scope="module")
def p256() -> Chain:
    return make_chain("ES256", purposes=("id_token", "seal", "tsa"))


def validate(leaf: Certificate, c: Chain, **kwargs: object) -> list[Certificate]:
    options: dict[str, object] = {"intermediates": [c.inter], "roots": [c.root], "at": T0}
    options.update(kwargs)
    return validate_path(leaf, **options)  # type: ignore[arg-type]


def code_of(leaf: Certificate, c: Chain, **kwargs: object) -> str:
    with pytest.raises(CertificateError) as info:
        validate(leaf, c, **kwargs)
    return info.value.code


def ee_extensions(
    subject_key: PrivateKey,
    issuer: Certificate,
    *,
    ca: bool = False,
    path_length: int | None = None,
    key_usage: set[str] | None = None,
    extra: tuple[Extension, ...] = (),
) -> list[Extension]:
    usage = key_usage or ({"key_cert_sign", "crl_sign"} if ca else {"digital_signature"})
    return [
        Extension.basic_constraints(ca=ca, path_length=path_length),
        Extension.key_usage(usage),
        Extension.subject_key_identifier(key_identifier(subject_key.public_key())),
        Extension.authority_key_identifier(key_identifier(issuer.public_key)),
        *extra,
    ]


def unsafe(
    signer_key: PrivateKey,
    alg: str,
    issuer: Certificate,
    subject_key: PrivateKey,
    subject: str,
    **kwargs: object,
) -> Certificate:
    exts = kwargs.pop("extensions", None) or ee_extensions(subject_key, issuer, **kwargs)  # type: ignore[arg-type]
    return issue_certificate_unsafe(
        signer_key.signer(alg),
        issuer=issuer.subject,
        subject=subject,
        subject_public_key=subject_key.public_key(),
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        extensions=exts,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- issuance


def test_chain_validates_for_every_purpose(chain: Chain) -> None:
    for purpose in PURPOSES:
        leaf = chain.leaf(purpose)
        assert validate(leaf, chain, purpose=purpose) == [leaf, chain.inter, chain.root]
        assert validate(leaf, chain) == [leaf, chain.inter, chain.root]


def test_signature_algorithm_identifier_per_family(chain: Chain) -> None:
    for cert in (chain.root, chain.inter, chain.leaf()):
        assert cert.signature_algorithm_der.hex() == ALGORITHM_IDENTIFIERS[chain.alg]
        assert cert.tbs_signature_algorithm_der == cert.signature_algorithm_der
        assert cert.signature_algorithm is signature_algorithm(chain.alg)


def test_certificate_fields(chain: Chain) -> None:
    root, inter, leaf = chain.root, chain.inter, chain.leaf("id_token")
    assert root.version == inter.version == leaf.version == 3
    assert root.subject == root.issuer and root.self_issued
    assert str(root.subject) == f"CN=国家政务服务平台 {chain.alg} 根 CA,O=国家政务服务平台,C=CN"
    assert root.subject.common_name == f"国家政务服务平台 {chain.alg} 根 CA"
    assert inter.subject.get("ST") == "浙江省" and inter.issuer.matches(root.subject)
    assert (root.is_ca, root.path_length) == (True, 1)
    assert (inter.is_ca, inter.path_length) == (True, 0)
    assert (leaf.is_ca, leaf.path_length) == (False, None)
    assert root.key_usage == inter.key_usage == {"key_cert_sign", "crl_sign"}
    assert root.extended_key_usage == frozenset()
    assert leaf.not_before == NOT_BEFORE and leaf.not_after == NOT_AFTER
    assert leaf.not_before.tzinfo is not None
    assert leaf.public_key == chain.leaves["id_token"][1].public_key()
    assert leaf.public_key.family.value == FAMILIES[chain.alg]
    assert leaf.dns_names == ("verify.gjzwfw.gov.cn",)
    assert leaf.uris == ("https://www.gjzwfw.gov.cn/",)
    # keyIdentifier: RFC 5280 method 1 = SHA-1 of the subjectPublicKey bits, every family.
    spki = asn1_keys.PublicKeyInfo.load(leaf.public_key.spki_der())
    assert leaf.ski == hashlib.sha1(bytes(spki["public_key"].contents)[1:]).digest()
    assert leaf.aki == inter.ski and inter.aki == root.ski == root.aki
    assert leaf.fingerprint_sha256 == hashlib.sha256(leaf.der).hexdigest()
    critical = {e.oid for e in leaf.extensions if e.critical}
    assert critical == {"2.5.29.19", "2.5.29.15"}


@pytest.mark.parametrize("purpose", PURPOSES)
def test_purpose_table(p256: Chain, purpose: str) -> None:
    leaf = issue_end_entity(
        p256.inter_key.signer("ES256"),
        p256.inter,
        key("p256").public_key(),
        "CN=x,C=CN",
        purpose=purpose,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    rule = KEY_PURPOSES[purpose]
    assert "digital_signature" in leaf.key_usage
    assert ("content_commitment" in leaf.key_usage) == (purpose == "seal")
    eku = leaf.extension("2.5.29.37")
    assert eku is not None and eku.critical == (purpose == "tsa")
    expected = {"seal": EKU_DOCUMENT_SIGNING, "tsa": EKU_TIME_STAMPING}.get(purpose)
    (only,) = leaf.extended_key_usage
    assert only == (expected or only) and only == rule.extended_key_usage[0]
    if expected is None:
        assert only.startswith(GOVTRUST_EKU_ARC + ".")
    assert len({p.extended_key_usage for p in KEY_PURPOSES.values()}) == len(KEY_PURPOSES)


def test_strict_der_parser_reads_our_certificates(chain: Chain) -> None:
    """pyca/cryptography's Rust parser rejects non-DER: an independent structure check."""
    for cert in (chain.root, chain.inter, *(c for c, _ in chain.leaves.values())):
        parsed = pyca_x509.load_der_x509_certificate(cert.der)
        assert parsed.serial_number == cert.serial
        assert parsed.tbs_certificate_bytes == cert.tbs_der
        assert parsed.signature == cert.signature
        assert parsed.version is pyca_x509.Version.v3
        assert parsed.not_valid_after_utc == cert.not_after
        bc = parsed.extensions.get_extension_for_class(pyca_x509.BasicConstraints)
        assert bc.critical and bc.value.ca == cert.is_ca
        ku = parsed.extensions.get_extension_for_class(pyca_x509.KeyUsage)
        assert ku.critical
        ski = parsed.extensions.get_extension_for_class(pyca_x509.SubjectKeyIdentifier)
        assert ski.value.digest == cert.ski
        if chain.alg != "SM2":  # cryptography has no SM2 keys
            assert ski.value == pyca_x509.SubjectKeyIdentifier.from_public_key(parsed.public_key())


def test_names_are_utf8_and_country_printable(p256: Chain) -> None:
    cn = "浙江省政务服务网 ES256 CA".encode()
    assert b"\x0c" + bytes([len(cn)]) + cn in p256.inter.der  # UTF8String
    assert b"\x06\x03\x55\x04\x06\x13\x02CN" in p256.inter.der  # countryName PrintableString
    subject = asn1_x509.Certificate.load(p256.inter.der)["tbs_certificate"]["subject"]
    kinds = {ava["type"].native: ava["value"].name for rdn in subject.chosen for ava in rdn}
    assert kinds == {
        "country_name": "printable_string",
        "state_or_province_name": "utf8_string",
        "organization_name": "utf8_string",
        "common_name": "utf8_string",
    }


def test_name_parse_build_and_rfc4514() -> None:
    name = Name.parse(" CN = 国家政务服务平台 SM2 根 CA , O=国家政务服务平台,C=CN")
    assert name.attributes == (
        ("CN", "国家政务服务平台 SM2 根 CA"),
        ("O", "国家政务服务平台"),
        ("C", "CN"),
    )
    assert [oid for rdn in name.rdns for oid, _ in rdn] == ["2.5.4.6", "2.5.4.10", "2.5.4.3"]
    assert (
        Name.build({"CN": "国家政务服务平台 SM2 根 CA", "O": "国家政务服务平台", "C": "CN"}) == name
    )
    assert (
        Name.build([("cn", "国家政务服务平台 SM2 根 CA"), ("o", "国家政务服务平台"), ("c", "CN")])
        == name
    )
    assert Name.from_der(name.der) == name
    tricky = Name.parse(r"CN=a\,b\+c\\d\2C,O=\ lead,OU=trail\ ,serialNumber=91110000+O=x")
    assert tricky.get("CN") == "a,b+c\\d,"
    assert tricky.get("O") == " lead" and tricky.get("OU") == "trail "
    assert Name.parse(str(tricky)) == tricky
    assert tricky.rdns[0] == (("2.5.4.5", "91110000"), ("2.5.4.10", "x"))  # multi-valued RDN
    assert Name.parse("cn=ABC  def").matches(Name.parse("CN=abc def"))
    assert not Name.parse("CN=abc").matches(Name.parse("CN=abd"))
    assert Name.parse("CN=a=b").common_name == "a=b"  # RFC 4514 §3: "=" may stand unescaped
    for bad in (
        "",
        "CN",
        "XX=1",
        "C=China",
        "C=cn",
        "CN=a;b",
        "CN=#0c01",
        "CN=" + "x" * 65,
        "serialNumber=中文",
        "emailAddress=张@x",
        "CN=a\\",
    ):
        with pytest.raises(CertificateError) as info:
            Name.parse(bad)
        assert info.value.code == "invalid_name", bad


def test_serials_are_random_positive_and_at_most_20_octets(p256: Chain) -> None:
    serials = set()
    for _ in range(20):
        cert = issue_end_entity(
            p256.inter_key.signer("ES256"),
            p256.inter,
            key("p256").public_key(),
            "CN=s",
            purpose="log",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        )
        serials.add(cert.serial)
        assert cert.serial.bit_length() == 127
        encoded = asn1_x509.Certificate.load(cert.der)["tbs_certificate"]["serial_number"].contents
        assert len(encoded) == 16 and encoded[0] < 0x80
    assert len(serials) == 20


@pytest.mark.parametrize(
    ("not_after", "tag"),
    [
        (datetime(2049, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "utc_time"),
        (datetime(2050, 1, 1, tzinfo=UTC), "general_time"),
    ],
)
def test_validity_time_encoding(p256: Chain, not_after: datetime, tag: str) -> None:
    cert = issue_ca(
        p256.root_key.signer("ES256"),
        p256.root,
        key("p256").public_key(),
        "CN=t",
        not_before=datetime(2026, 1, 1, 8, tzinfo=timezone_plus8()),
        not_after=not_after,
    )
    validity = asn1_x509.Certificate.load(cert.der)["tbs_certificate"]["validity"]
    assert validity["not_after"].name == tag and validity["not_before"].name == "utc_time"
    assert cert.not_after == not_after.replace(microsecond=0)
    assert cert.not_before == datetime(2026, 1, 1, 0, tzinfo=UTC)  # 08:00 China time
    assert validity["not_before"].chosen.contents == b"260101000000Z"


def timezone_plus8() -> object:
    from datetime import timezone

    return timezone(timedelta(hours=8))


def test_issuance_refusals(p256: Chain) -> None:
    leaf, leaf_key = p256.leaves["id_token"]
    signer = p256.inter_key.signer("ES256")
    pub = key("p256").public_key()
    cases = [
        lambda: issue_end_entity(
            leaf_key.signer("ES256"),
            leaf,
            pub,
            "CN=x",
            purpose="log",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        ),  # issuer not a CA
        lambda: issue_ca(
            p256.root_key.signer("ES256"),
            p256.inter,
            pub,
            "CN=x",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        ),  # key is not inter's
        lambda: issue_end_entity(
            signer,
            p256.inter,
            p256.inter_key.public_key(),
            "CN=x",
            purpose="log",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        ),
        lambda: issue_end_entity(
            signer,
            p256.inter,
            pub,
            "CN=x",
            purpose="log",
            not_before=NOT_AFTER,
            not_after=NOT_BEFORE,
        ),
        lambda: issue_end_entity(
            signer,
            p256.inter,
            pub,
            "CN=x",
            purpose="printing",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        ),
        lambda: issue_end_entity(
            signer,
            p256.inter,
            pub,
            "CN=x",
            purpose="id_token",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
            dns_names=["a b"],
        ),
        lambda: issue_root(signer, "CN=x", not_before=NOT_BEFORE, not_after=NOT_AFTER, serial=0),
    ]
    for case in cases:
        with pytest.raises(CertificateError) as info:
            case()
        assert info.value.code == "issuance_refused"
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_root(signer, "CN=x", not_before=datetime(2026, 1, 1), not_after=NOT_AFTER)


def test_load_pem_der_and_bundles(p256: Chain) -> None:
    leaf = p256.leaf()
    assert load_certificate(leaf.der) == leaf
    assert load_certificate(leaf.pem()) == leaf
    assert load_certificate(leaf.pem().decode()) == leaf
    assert hash(load_certificate(leaf.pem())) == hash(leaf)
    bundle = b"# chain\n" + leaf.pem() + p256.inter.pem() + p256.root.pem()
    assert load_certificates(bundle) == [leaf, p256.inter, p256.root]
    assert load_certificates(leaf.der) == [leaf]
    assert repr(leaf).startswith("<Certificate subject='CN=leaf id_token,O=市场监管总局,C=CN'")
    assert repr(leaf.subject) == "Name('CN=leaf id_token,O=市场监管总局,C=CN')"


JUNK = [
    b"",
    b"junk",
    b"\x30\x03\x02\x01\x01",
    b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    "证书".encode(),
    "证书",
    b"\x30\x84\xff\xff\xff\xff",
    b"\x30" * 5000,
]


@pytest.mark.parametrize("data", JUNK)
def test_junk_is_malformed(data: bytes | str) -> None:
    with pytest.raises(CertificateError) as info:
        load_certificate(data)
    assert info.value.code == "malformed"
    with pytest.raises(CertificateError) as info:
        load_certificates(data)
    assert info.value.code == "malformed"


def test_other_malformed_inputs(p256: Chain) -> None:
    leaf = p256.leaf()
    key_pem = p256.inter_key.pem()
    for data in (
        leaf.der + b"\x00",
        leaf.der[:-1],
        key_pem,
        leaf.pem() + leaf.pem(),
        leaf.pem() + key_pem,
        leaf.der * 40,
        42,
    ):
        with pytest.raises(CertificateError) as info:
            load_certificate(data)  # type: ignore[arg-type]
        assert info.value.code == "malformed"
    with pytest.raises(CertificateError):
        load_certificates(leaf.pem() + key_pem)


def test_unsupported_signature_algorithm_is_typed(p256: Chain) -> None:
    cert = asn1_x509.Certificate.load(p256.leaf().der)
    sha1_rsa = asn1_algos.SignedDigestAlgorithm({"algorithm": "sha1_rsa"})
    mutated = asn1_x509.Certificate(
        {
            "tbs_certificate": cert["tbs_certificate"],
            "signature_algorithm": sha1_rsa,
            "signature_value": cert["signature_value"].native,
        }
    ).dump()
    with pytest.raises(CertificateError) as info:
        load_certificate(mutated)
    assert info.value.code == "cert_unsupported_algorithm"


# --------------------------------------------------------------------------- validation failures


def test_expired_and_not_yet_valid(chain: Chain) -> None:
    leaf = chain.leaf()
    assert code_of(leaf, chain, at=NOT_AFTER + timedelta(seconds=1)) == "cert_expired"
    assert code_of(leaf, chain, at=NOT_BEFORE - timedelta(seconds=1)) == "cert_not_yet_valid"
    assert validate(leaf, chain, at=NOT_AFTER) and validate(leaf, chain, at=NOT_BEFORE)


def test_expired_intermediate_and_root(p256: Chain) -> None:
    sub_key = key("p256")
    old = issue_ca(
        p256.root_key.signer("ES256"),
        p256.root,
        sub_key.public_key(),
        "CN=old CA",
        not_before=NOT_BEFORE - timedelta(days=30),
        not_after=T0 - timedelta(days=1),
    )
    leaf = issue_end_entity(
        sub_key.signer("ES256"),
        old,
        key("p256").public_key(),
        "CN=l",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert code_of(leaf, p256, intermediates=[old]) == "cert_expired"
    root_key = key("p256")
    old_root = issue_root(
        root_key.signer("ES256"),
        "CN=old root",
        not_before=NOT_BEFORE,
        not_after=T0 - timedelta(seconds=1),
    )
    leaf2 = issue_end_entity(
        root_key.signer("ES256"),
        old_root,
        key("p256").public_key(),
        "CN=l",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert code_of(leaf2, p256, roots=[old_root]) == "cert_expired"


def test_tampered_tbs_is_bad_signature(chain: Chain) -> None:
    leaf = chain.leaf()
    tampered = load_certificate(leaf.der.replace(b"leaf", b"lEaf", 1))
    assert tampered.subject.common_name == "lEaf id_token"
    assert code_of(tampered, chain) == "cert_bad_signature"
    stamp = chain.inter.not_after.strftime("%y%m%d%H%M%SZ").encode()
    longer = stamp[:-2] + b"1Z"  # one second more of validity
    inter = load_certificate(chain.inter.der.replace(stamp, longer, 1))
    assert inter.not_after == chain.inter.not_after + timedelta(seconds=1)
    assert code_of(leaf, chain, intermediates=[inter]) == "cert_bad_signature"


def test_tampered_signature_is_bad_signature(chain: Chain) -> None:
    der = bytearray(chain.leaf().der)
    der[-1] ^= 0x01
    assert code_of(load_certificate(bytes(der)), chain) == "cert_bad_signature"


def test_outer_and_inner_signature_algorithm_must_match() -> None:
    c = make_chain("RS256", purposes=("log",))
    leaf = asn1_x509.Certificate.load(c.leaf("log").der)
    pss = asn1_algos.SignedDigestAlgorithm.load(bytes.fromhex(ALGORITHM_IDENTIFIERS["PS256"]))
    mixed = asn1_x509.Certificate(
        {
            "tbs_certificate": leaf["tbs_certificate"],
            "signature_algorithm": pss,
            "signature_value": leaf["signature_value"].native,
        }
    ).dump()
    assert code_of(load_certificate(mixed), c) == "cert_bad_signature"


def test_non_minimal_der_sm2_signature_is_accepted() -> None:
    """OFD seal certificates in the wild carry long-form DER lengths in SM2 signatures."""
    c = make_chain("SM2", purposes=("seal",))
    leaf = c.leaf("seal")
    r, s = asn1_algos.DSASignature.load(leaf.signature).native.values()

    def long_int(v: int) -> bytes:
        body = b"\x00" + v.to_bytes(32, "big")  # redundant leading zero
        return b"\x02\x81" + bytes([len(body)]) + body

    body = long_int(r) + long_int(s)
    loose = b"\x30\x81" + bytes([len(body)]) + body
    der = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(leaf.tbs_der),
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm.load(
                leaf.signature_algorithm_der
            ),
            "signature_value": loose,
        }
    ).dump()
    relaxed = load_certificate(der)
    assert relaxed.signature == loose and relaxed != leaf
    assert validate(relaxed, c, purpose="seal")[0] == relaxed


def test_issuer_that_is_not_a_ca(p256: Chain) -> None:
    ee, ee_key = p256.leaves["id_token"]
    victim = unsafe(ee_key, "ES256", ee, key("p256"), "CN=victim")
    assert code_of(victim, p256, intermediates=[p256.inter, ee]) == "cert_not_ca"


def test_ca_without_key_cert_sign(p256: Chain) -> None:
    sub_key = key("p256")
    sub = unsafe(
        p256.inter_key,
        "ES256",
        p256.inter,
        sub_key,
        "CN=weak CA",
        ca=True,
        key_usage={"crl_sign", "digital_signature"},
    )
    leaf = unsafe(sub_key, "ES256", sub, key("p256"), "CN=l")
    root_issued = unsafe(
        p256.root_key, "ES256", p256.root, sub_key, "CN=weak CA", ca=True, key_usage={"crl_sign"}
    )
    assert code_of(leaf, p256, intermediates=[root_issued]) == "cert_key_usage"
    assert sub.is_ca


def test_path_length_constraint(p256: Chain) -> None:
    # p256.inter has pathLenConstraint 0; it issues another CA anyway.
    sub_key = key("p256")
    sub = issue_ca(
        p256.inter_key.signer("ES256"),
        p256.inter,
        sub_key.public_key(),
        "CN=sub CA",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    leaf = issue_end_entity(
        sub_key.signer("ES256"),
        sub,
        key("p256").public_key(),
        "CN=l",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert code_of(leaf, p256, intermediates=[p256.inter, sub]) == "cert_path_length"
    # The sub-CA itself is fine: the target certificate is not counted (RFC 5280 §6.1.4 (l)).
    assert validate(sub, p256) == [sub, p256.inter, p256.root]
    # A root with pathLenConstraint 0 admits no intermediate at all.
    root_key, inter_key = key("p256"), key("p256")
    root = issue_root(
        root_key.signer("ES256"),
        "CN=pl0 root",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        path_length=0,
    )
    inter = issue_ca(
        root_key.signer("ES256"),
        root,
        inter_key.public_key(),
        "CN=i",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    leaf = issue_end_entity(
        inter_key.signer("ES256"),
        inter,
        key("p256").public_key(),
        "CN=l",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert code_of(leaf, p256, intermediates=[inter], roots=[root]) == "cert_path_length"
    direct = issue_end_entity(
        root_key.signer("ES256"),
        root,
        key("p256").public_key(),
        "CN=d",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert validate(direct, p256, intermediates=[], roots=[root]) == [direct, root]


def test_wrong_purpose(chain: Chain) -> None:
    assert code_of(chain.leaf("id_token"), chain, purpose="access_token") == "cert_key_usage"
    assert code_of(chain.leaf("id_token"), chain, purpose="seal") == "cert_key_usage"
    assert code_of(chain.leaf("tsa"), chain, purpose="license") == "cert_key_usage"
    assert code_of(chain.leaf("seal"), chain, purpose="tsa") == "cert_key_usage"
    assert code_of(chain.inter, chain, purpose="trust_list") == "cert_key_usage"


def test_tsa_eku_must_be_critical_and_alone(p256: Chain) -> None:
    for eku in (
        Extension.extended_key_usage([EKU_TIME_STAMPING], critical=False),
        Extension.extended_key_usage([EKU_TIME_STAMPING, EKU_DOCUMENT_SIGNING], critical=True),
    ):
        leaf = unsafe(p256.inter_key, "ES256", p256.inter, key("p256"), "CN=tsa", extra=(eku,))
        assert code_of(leaf, p256, purpose="tsa") == "cert_key_usage"
        assert validate(leaf, p256)  # fine without a purpose


def test_issuer_eku_constrains_leaf_purpose(p256: Chain) -> None:
    sub_key = key("p256")
    eku = Extension.extended_key_usage([EKU_TIME_STAMPING])
    sub = unsafe(p256.root_key, "ES256", p256.root, sub_key, "CN=TSA CA", ca=True, extra=(eku,))
    seal = issue_end_entity(
        sub_key.signer("ES256"),
        sub,
        key("p256").public_key(),
        "CN=s",
        purpose="seal",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert code_of(seal, p256, intermediates=[sub], purpose="seal") == "cert_key_usage"
    assert validate(seal, p256, intermediates=[sub])


def test_root_with_same_name_but_other_key_is_untrusted(chain: Chain) -> None:
    family = FAMILIES[chain.alg]
    impostor = issue_root(
        key(family).signer(chain.alg),
        chain.root.subject,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        path_length=1,
    )
    assert impostor.subject == chain.root.subject and impostor.der != chain.root.der
    leaf = chain.leaf()
    assert code_of(leaf, chain, roots=[impostor]) == "cert_untrusted_root"
    assert (
        code_of(leaf, chain, roots=[impostor], intermediates=[chain.inter, chain.root])
        == "cert_untrusted_root"
    )


def test_self_signed_leaf_and_unknown_issuer(p256: Chain) -> None:
    k = key("p256")
    lonely = issue_root(
        k.signer("ES256"), "CN=self made", not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    assert code_of(lonely, p256) == "cert_untrusted_root"
    assert code_of(p256.leaf(), p256, intermediates=[]) == "cert_unknown_issuer"
    with pytest.raises(CertificateError) as info:
        validate_path(p256.leaf(), intermediates=[p256.inter], roots=[], at=T0)
    assert info.value.code == "cert_untrusted_root"
    # A trust anchor is its own path.
    assert validate(p256.inter, p256, roots=[p256.inter]) == [p256.inter]


def test_unknown_critical_extension(p256: Chain) -> None:
    weird = Extension("1.2.156.10197.9.9.9", True, b"\x05\x00")
    leaf = unsafe(p256.inter_key, "ES256", p256.inter, key("p256"), "CN=w", extra=(weird,))
    assert code_of(leaf, p256) == "cert_unsupported_critical_extension"
    mild = Extension("1.2.156.10197.9.9.9", False, b"\x05\x00")
    assert validate(
        unsafe(p256.inter_key, "ES256", p256.inter, key("p256"), "CN=w", extra=(mild,)), p256
    )
    sub_key = key("p256")
    name_constraints = Extension("2.5.29.30", True, bytes.fromhex("3000"))
    sub = unsafe(
        p256.root_key, "ES256", p256.root, sub_key, "CN=nc CA", ca=True, extra=(name_constraints,)
    )
    leaf2 = unsafe(sub_key, "ES256", sub, key("p256"), "CN=l")
    assert code_of(leaf2, p256, intermediates=[sub]) == "cert_unsupported_critical_extension"


def test_backtracks_over_alternative_issuers(p256: Chain) -> None:
    # An expired copy of the intermediate (same name, same key) is tried and skipped.
    expired = issue_ca(
        p256.root_key.signer("ES256"),
        p256.root,
        p256.inter_key.public_key(),
        p256.inter.subject,
        not_before=NOT_BEFORE - timedelta(days=9),
        not_after=T0 - timedelta(days=1),
    )
    leaf = p256.leaf()
    assert validate(leaf, p256, intermediates=[expired, p256.inter])[1] == p256.inter
    # A cross-certificate from an untrusted root is tried first, then the trusted path.
    other_key = key("p256")
    other = issue_root(
        other_key.signer("ES256"), "CN=other root", not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    cross = issue_ca(
        other_key.signer("ES256"),
        other,
        p256.inter_key.public_key(),
        p256.inter.subject,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    path = validate(leaf, p256, intermediates=[cross, other, p256.inter])
    assert path == [leaf, p256.inter, p256.root]
    assert code_of(leaf, p256, intermediates=[cross, other]) == "cert_untrusted_root"


def test_loops_terminate(p256: Chain) -> None:
    kx, ky = key("p256"), key("p256")
    x0 = issue_root(kx.signer("ES256"), "CN=X", not_before=NOT_BEFORE, not_after=NOT_AFTER)
    y0 = issue_root(ky.signer("ES256"), "CN=Y", not_before=NOT_BEFORE, not_after=NOT_AFTER)
    x_by_y = issue_ca(
        ky.signer("ES256"),
        y0,
        kx.public_key(),
        "CN=X",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        path_length=None,
    )
    y_by_x = issue_ca(
        kx.signer("ES256"),
        x0,
        ky.public_key(),
        "CN=Y",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        path_length=None,
    )
    leaf = issue_end_entity(
        kx.signer("ES256"),
        x_by_y,
        key("p256").public_key(),
        "CN=l",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert code_of(leaf, p256, intermediates=[x_by_y, y_by_x]) == "cert_unknown_issuer"
    assert code_of(leaf, p256, intermediates=[x_by_y, y_by_x, x0, y0]) == "cert_untrusted_root"


def _deep_chain(intermediates: int) -> tuple[Certificate, list[Certificate], Certificate]:
    root_key = key("p256")
    root = issue_root(
        root_key.signer("ES256"), "CN=deep root", not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    issuer, issuer_key, chain = root, root_key, []
    for i in range(intermediates):
        k = key("p256")
        issuer = issue_ca(
            issuer_key.signer("ES256"),
            issuer,
            k.public_key(),
            f"CN=level {i}",
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
            path_length=None,
        )
        issuer_key = k
        chain.append(issuer)
    leaf = issue_end_entity(
        issuer_key.signer("ES256"),
        issuer,
        key("p256").public_key(),
        "CN=deep leaf",
        purpose="log",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    return leaf, chain, root


def test_maximum_path_length() -> None:
    leaf, inters, root = _deep_chain(MAX_PATH_LENGTH - 2)
    assert len(validate_path(leaf, intermediates=inters, roots=[root], at=T0)) == MAX_PATH_LENGTH
    leaf, inters, root = _deep_chain(MAX_PATH_LENGTH - 1)
    with pytest.raises(CertificateError) as info:
        validate_path(leaf, intermediates=inters, roots=[root], at=T0)
    assert info.value.code == "cert_path_length"


def test_mixed_families_in_one_path() -> None:
    rsa_root_key, sm2_inter_key, sm2_leaf_key = key("rsa"), key("sm2"), key("sm2")
    root = issue_root(
        rsa_root_key.signer("PS256"), "CN=RSA root,C=CN", not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    inter = issue_ca(
        rsa_root_key.signer("PS256"),
        root,
        sm2_inter_key.public_key(),
        "CN=SM2 under RSA,C=CN",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    leaf = issue_end_entity(
        sm2_inter_key.signer("SM2"),
        inter,
        sm2_leaf_key.public_key(),
        "CN=SM2 seal,C=CN",
        purpose="seal",
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    assert inter.signature_algorithm.name == "PS256" and leaf.signature_algorithm.name == "SM2"
    assert validate_path(leaf, intermediates=[inter], roots=[root], at=T0, purpose="seal")


def test_naive_time_and_unknown_purpose_are_programming_errors(p256: Chain) -> None:
    with pytest.raises(ValueError):
        validate(p256.leaf(), p256, at=datetime(2026, 11, 26))
    with pytest.raises(ValueError):
        validate(p256.leaf(), p256, purpose="printing")


# --------------------------------------------------------------------------- fuzz


@functools.cache
def fuzz_material() -> tuple[tuple[bytes, ...], Certificate, Certificate]:
    chains = [make_chain(alg, purposes=("tsa",)) for alg in ("SM2", "ES256", "RS256")]
    seeds = tuple(d for c in chains for d in (c.leaf("tsa").der, c.inter.der))
    return seeds, chains[0].inter, chains[0].root


@st.composite
def mutated_certificates(draw: st.DrawFn) -> bytes:
    seeds, _, _ = fuzz_material()
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, len(data) - 1)) if data else 0
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x82, 0xFF]))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
    return bytes(data)


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_certificates())
def test_fuzz_mutated_der_only_raises_certificate_error(data: bytes) -> None:
    _, inter, root = fuzz_material()
    try:
        cert = load_certificate(data)
    except CertificateError:
        return
    try:
        validate_path(cert, intermediates=[inter], roots=[root], at=T0, purpose="tsa")
    except CertificateError:
        pass


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=200)))
def test_fuzz_arbitrary_input_only_raises_certificate_error(data: bytes | str) -> None:
    for loader in (load_certificate, load_certificates):
        with pytest.raises(CertificateError):
            loader(data)


# --------------------------------------------------------------------------- OpenSSL interop


def write_chain(c: Chain, purpose: str, directory: Path) -> tuple[Path, Path, Path]:
    paths = (directory / "root.pem", directory / "inter.pem", directory / "leaf.pem")
    for path, cert in zip(paths, (c.root, c.inter, c.leaf(purpose)), strict=True):
        path.write_bytes(cert.pem())
    return paths


def openssl_verify_chain(
    openssl: str, root: Path, inter: Path, leaf: Path, *, sm2: bool, attime: datetime | None = T0
) -> None:
    """Assert OpenSSL accepts leaf → inter → root (per link for SM2; see module docstring)."""
    when = ["-attime", str(int(attime.timestamp()))] if attime else []
    if not sm2:
        out = run(
            openssl, "verify", *when, "-x509_strict", "-CAfile", root, "-untrusted", inter, leaf
        ).stdout
        assert out.strip() == f"{leaf}: OK"
        return
    out = run(
        openssl, "verify", *when, "-x509_strict", "-vfyopt", DISTID, "-CAfile", root, inter
    ).stdout
    assert out.strip() == f"{inter}: OK"
    out = run(
        openssl,
        "verify",
        *when,
        "-x509_strict",
        "-vfyopt",
        DISTID,
        "-partial_chain",
        "-CAfile",
        inter,
        leaf,
    ).stdout
    assert out.strip() == f"{leaf}: OK"


@pytest.mark.openssl
@pytest.mark.parametrize("purpose", PURPOSES)
def test_openssl_verifies_our_chains(chain: Chain, purpose: str, tmp_path: Path) -> None:
    openssl = require_openssl()
    root, inter, leaf = write_chain(chain, purpose, tmp_path)
    openssl_verify_chain(openssl, root, inter, leaf, sm2=chain.alg == "SM2")


@pytest.mark.openssl
def test_openssl_sm2_needs_distid_and_one_link_per_command(tmp_path: Path) -> None:
    openssl = require_openssl()
    c = make_chain("SM2", purposes=("seal",))
    root, inter, leaf = write_chain(c, "seal", tmp_path)
    when = ["-attime", str(int(T0.timestamp()))]
    # Without the ID, OpenSSL uses an empty one and the signature does not verify.
    plain = run(openssl, "verify", *when, "-CAfile", root, inter, check=False)
    assert plain.returncode != 0 and "certificate signature failure" in plain.stdout + plain.stderr
    # With -untrusted, -vfyopt reaches only the target: depth 1 fails (openssl/openssl#23471).
    one = run(
        openssl,
        "verify",
        *when,
        "-vfyopt",
        DISTID,
        "-CAfile",
        root,
        "-untrusted",
        inter,
        leaf,
        check=False,
    )
    if one.returncode != 0:
        assert "error 7 at 1 depth lookup" in one.stdout + one.stderr
    # The root's self-signature, checked with openssl dgst over the TBSCertificate.
    (tmp_path / "tbs.der").write_bytes(c.root.tbs_der)
    (tmp_path / "sig.der").write_bytes(c.root.signature)
    (tmp_path / "pub.pem").write_bytes(c.root.public_key.pem())
    out = run(
        openssl,
        "dgst",
        "-sm3",
        "-verify",
        tmp_path / "pub.pem",
        "-sigopt",
        DISTID,
        "-signature",
        tmp_path / "sig.der",
        tmp_path / "tbs.der",
    ).stdout
    assert out.strip() == "Verified OK"


@pytest.mark.openssl
def test_openssl_parses_our_certificates(chain: Chain, tmp_path: Path) -> None:
    openssl = require_openssl()
    root, inter, leaf = write_chain(chain, "tsa", tmp_path)
    text = run(openssl, "x509", "-in", root, "-noout", "-text", "-nameopt", "utf8").stdout
    assert f"CN=国家政务服务平台 {chain.alg} 根 CA" in text
    assert "CA:TRUE, pathlen:1" in text and "Certificate Sign, CRL Sign" in text
    expected_alg = {
        "SM2": "SM2-with-SM3",
        "ES256": "ecdsa-with-SHA256",
        "RS256": "sha256WithRSAEncryption",
        "PS256": "rsassaPss",
        "EdDSA": "ED25519",
    }[chain.alg]
    assert f"Signature Algorithm: {expected_alg}" in text
    text = run(openssl, "x509", "-in", inter, "-noout", "-text").stdout
    assert "CA:TRUE, pathlen:0" in text
    text = run(openssl, "x509", "-in", leaf, "-noout", "-text").stdout
    assert "X509v3 Extended Key Usage: critical" in text and "Time Stamping" in text
    assert "CA:FALSE" in text and "Digital Signature" in text
    ski = ":".join(f"{b:02X}" for b in chain.leaf("tsa").ski or b"")
    assert ski in text
    if chain.alg == "PS256":
        assert "Mask Algorithm: mgf1 with sha256" in text and "Salt Length: 0x20" in text


@pytest.mark.openssl
def test_openssl_parses_generalized_time(p256: Chain, tmp_path: Path) -> None:
    openssl = require_openssl()
    cert = issue_ca(
        p256.root_key.signer("ES256"),
        p256.root,
        key("p256").public_key(),
        "CN=long lived",
        not_before=NOT_BEFORE,
        not_after=datetime(2051, 6, 1, 12, 30, tzinfo=UTC),
    )
    (tmp_path / "c.pem").write_bytes(cert.pem())
    out = run(openssl, "x509", "-in", tmp_path / "c.pem", "-noout", "-enddate").stdout
    assert out.strip() == "notAfter=Jun  1 12:30:00 2051 GMT"


OPENSSL_KEYGEN = {
    "SM2": ["-algorithm", "SM2"],
    "ES256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "RS256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}
CA_EXT = """basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
"""
TSA_EXT = """basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
"""


def openssl_chain(openssl: str, alg: str, d: Path) -> tuple[Path, Path, Path]:
    """root → intermediate → TSA leaf, made entirely by OpenSSL."""
    digest = ["-sm3", "-sigopt", DISTID] if alg == "SM2" else ["-sha256"]
    vfy = ["-vfyopt", DISTID] if alg == "SM2" else []
    for name in ("root", "inter", "leaf"):
        run(openssl, "genpkey", *OPENSSL_KEYGEN[alg], "-out", d / f"{name}.key")
    (d / "ca.ext").write_text(CA_EXT)
    (d / "tsa.ext").write_text(TSA_EXT)
    run(
        openssl,
        "req",
        "-x509",
        "-new",
        "-utf8",
        "-key",
        d / "root.key",
        *digest,
        "-days",
        "30",
        "-subj",
        f"/C=CN/O=国家政务服务平台/CN=OpenSSL {alg} 根 CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        d / "root.pem",
    )
    for name, issuer, ext, subj in (
        ("inter", "root", "ca.ext", f"/C=CN/O=广东省人民政府/CN=OpenSSL {alg} 广东 CA"),
        ("leaf", "inter", "tsa.ext", f"/C=CN/O=广东省人民政府/CN=OpenSSL {alg} TSA"),
    ):
        run(
            openssl,
            "req",
            "-new",
            "-utf8",
            "-key",
            d / f"{name}.key",
            *digest,
            "-subj",
            subj,
            "-out",
            d / f"{name}.csr",
        )
        run(
            openssl,
            "x509",
            "-req",
            "-in",
            d / f"{name}.csr",
            *vfy,
            "-CA",
            d / f"{issuer}.pem",
            "-CAkey",
            d / f"{issuer}.key",
            "-CAcreateserial",
            *digest,
            "-days",
            "10",
            "-extfile",
            d / ext,
            "-out",
            d / f"{name}.pem",
            cwd=d,
        )
    return d / "root.pem", d / "inter.pem", d / "leaf.pem"


@pytest.mark.openssl
@pytest.mark.parametrize("alg", list(OPENSSL_KEYGEN))
def test_we_validate_chains_that_openssl_issued(alg: str, tmp_path: Path) -> None:
    openssl = require_openssl()
    root_p, inter_p, leaf_p = openssl_chain(openssl, alg, tmp_path)
    openssl_verify_chain(openssl, root_p, inter_p, leaf_p, sm2=alg == "SM2", attime=None)
    root, inter, leaf = (load_certificate(p.read_bytes()) for p in (root_p, inter_p, leaf_p))
    now = datetime.now(UTC)
    assert validate_path(leaf, intermediates=[inter], roots=[root], at=now, purpose="tsa") == [
        leaf,
        inter,
        root,
    ]
    assert root.subject.common_name == f"OpenSSL {alg} 根 CA"
    assert leaf.signature_algorithm.name == alg
    assert leaf.key_usage == {"digital_signature", "content_commitment"}
    assert inter.path_length == 0 and not leaf.is_ca
    for cert in (root, inter, leaf):  # OpenSSL's "hash" SKI is method 1 too
        assert cert.ski == key_identifier(cert.public_key)
    assert leaf.aki == inter.ski
    bundle = load_certificates(root_p.read_bytes() + inter_p.read_bytes())
    assert validate_path(leaf, intermediates=bundle, roots=[root], at=now) == [leaf, inter, root]
    with pytest.raises(CertificateError) as info:
        validate_path(leaf, intermediates=[inter], roots=[root], at=now, purpose="seal")
    assert info.value.code == "cert_key_usage"
    tampered = load_certificate(leaf.der.replace(b"TSA", b"TSB", 1))
    with pytest.raises(CertificateError) as info:
        validate_path(tampered, intermediates=[inter], roots=[root], at=now)
    assert info.value.code == "cert_bad_signature"


def test_signature_bit_string_with_unused_bits_is_malformed() -> None:
    """One encoding per signature: a BIT STRING claiming unused bits is refused."""
    from trust import generate_private_key
    from trust.errors import CertificateError
    from trust.pki import issue_root, load_certificate

    now = datetime.now(UTC)
    key = generate_private_key("p256")
    cert = issue_root(
        key.signer("ES256"), "CN=t,C=CN", not_before=now, not_after=now + timedelta(days=1)
    )
    der = bytearray(cert.der)
    # The signature BIT STRING is the last element: 03 <len> 00 <sig>; set unused bits to 1.
    idx = bytes(der).rfind(b"\x03", 0, len(der) - 60)
    while not (der[idx] == 0x03 and der[idx + 2] == 0x00 and idx + 2 + der[idx + 1] == len(der)):
        idx = bytes(der).rfind(b"\x03", 0, idx)
    der[idx + 2] = 0x01
    with pytest.raises(CertificateError) as exc:
        load_certificate(bytes(der))
    assert exc.value.code == "malformed"
