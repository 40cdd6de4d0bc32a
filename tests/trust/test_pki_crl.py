"""X.509 v2 CRLs (RFC 5280 §5) made by trust.pki.issue_crl: round trips through our
parser and asn1crypto, OpenSSL's reading and verification (ECDSA, RSA), SM2 through
trust.crypto, refusals, and the cRLDistributionPoints extension."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from cryptography import x509 as pyca_x509

from trust.crypto import Signer, generate_private_key
from trust.errors import CertificateError
from trust.pki import (
    Certificate,
    issue_ca,
    issue_crl,
    issue_end_entity,
    issue_root,
    load_crl,
    validate_path,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
FAMILIES = {"ES256": ("p256", {}), "RS256": ("rsa", {"rsa_bits": 2048}), "SM2": ("sm2", {})}


@dataclass
class CA:
    signer: Signer
    root: Certificate
    leaf: Certificate


def make_ca(alg: str) -> CA:
    family, extra = FAMILIES[alg]
    key = generate_private_key(family, **extra)
    signer = key.signer(alg)
    root = issue_root(
        signer,
        f"CN=吊销测试 {alg} 根 CA,O=GovTrust,C=CN",
        not_before=T0,
        not_after=T0 + timedelta(days=3650),
    )
    leaf_key = generate_private_key(family, **extra)
    leaf = issue_end_entity(
        signer, root, leaf_key.public_key(), "CN=测试印章,C=CN", purpose="seal",
        not_before=T0, not_after=T0 + timedelta(days=700),
    )  # fmt: skip
    return CA(signer, root, leaf)


@pytest.fixture(scope="module", params=list(FAMILIES))
def ca(request: pytest.FixtureRequest) -> CA:
    return make_ca(request.param)


def crl_of(ca: CA, revoked=(), **kwargs) -> bytes:
    args = {"this_update": NOW, "next_update": NOW + timedelta(hours=24), "crl_number": 42}
    args.update(kwargs)
    return issue_crl(ca.signer, ca.root, revoked, **args)


def test_round_trip(ca: CA) -> None:
    when = NOW - timedelta(hours=3, microseconds=5)
    der = crl_of(ca, [(ca.leaf.serial, when, "key_compromise"), (7, when, None)])
    crl = load_crl(der)
    crl.verify(ca.root, at=NOW + timedelta(hours=1))
    assert crl.issuer.matches(ca.root.subject)
    assert (crl.this_update, crl.next_update) == (NOW, NOW + timedelta(hours=24))
    assert crl.crl_number == 42 and crl.aki == ca.root.ski
    assert crl.signature_algorithm.name == ca.signer.algorithm.name
    assert [r.serial for r in crl.revoked] == [7, ca.leaf.serial]  # sorted
    entry = crl.entry(ca.leaf.serial)
    assert entry is not None and entry.reason == "key_compromise"
    assert entry.revocation_time == when.replace(microsecond=0)
    assert crl.entry(7) is not None and crl.entry(7).reason is None  # type: ignore[union-attr]
    assert crl.entry(8) is None

    # An independent reading: asn1crypto's own structures.
    parsed = asn1_crl.CertificateList.load(der)
    tbs = parsed["tbs_cert_list"]
    assert tbs["version"].native == "v2"
    assert parsed.issuer.dump() == ca.root.subject.der
    assert parsed.crl_number_value.native == 42
    assert parsed.authority_key_identifier == ca.root.ski
    assert tbs["this_update"].chosen.__class__.__name__ == "UTCTime"
    entries = {e["user_certificate"].native: e for e in tbs["revoked_certificates"]}
    assert entries[ca.leaf.serial].crl_reason_value.native == "key_compromise"
    assert entries[7].crl_reason_value is None
    # The signature verifies with the issuer's key through trust.crypto (SM2 included).
    assert ca.root.public_key.verify(ca.signer.algorithm, tbs.dump(), parsed["signature"].native)


def test_empty_crl_has_no_revoked_certificates_field(ca: CA) -> None:
    der = crl_of(ca)
    assert isinstance(
        asn1_crl.CertificateList.load(der)["tbs_cert_list"]["revoked_certificates"].native,
        type(None),
    )
    crl = load_crl(der)
    assert crl.revoked == ()
    crl.verify(ca.root)


def test_verify_refuses_tampering_other_issuers_and_stale_lists(ca: CA) -> None:
    der = crl_of(ca, [(ca.leaf.serial, NOW, None)])
    bad = bytearray(der)
    bad[-5] ^= 0x01  # inside the signature
    with pytest.raises(CertificateError) as info:
        load_crl(bytes(bad)).verify(ca.root)
    assert info.value.code in ("crl_bad_signature", "crl_malformed")
    other = make_ca(ca.signer.algorithm.name)
    with pytest.raises(CertificateError) as info:
        load_crl(der).verify(other.root)
    assert info.value.code in ("crl_wrong_issuer", "crl_bad_signature")
    crl = load_crl(der)
    with pytest.raises(CertificateError) as info:
        crl.verify(ca.root, at=NOW + timedelta(hours=25))
    assert info.value.code == "crl_stale"
    with pytest.raises(CertificateError) as info:
        crl.verify(ca.root, at=NOW - timedelta(minutes=1))
    assert info.value.code == "crl_not_yet_valid"


@pytest.mark.parametrize(
    ("revoked", "kwargs"),
    [
        ([(5, NOW, None), (5, NOW, None)], {}),
        ([(5, NOW, "remove_from_crl")], {}),
        ([(5, NOW, "compromised")], {}),
        ([(0, NOW, None)], {}),
        ([(5, NOW.replace(tzinfo=None), None)], {}),
        ([], {"next_update": NOW}),
        ([], {"crl_number": -1}),
        ([], {"crl_number": 1 << 160}),
        ([], {"crl_number": True}),
    ],
)
def test_issue_refuses_bad_input(revoked, kwargs) -> None:
    ca = make_ca("ES256")
    with pytest.raises((CertificateError, ValueError)):
        crl_of(ca, revoked, **kwargs)


def test_only_a_ca_with_its_own_key_issues_crls() -> None:
    ca = make_ca("ES256")
    with pytest.raises(CertificateError) as info:
        issue_crl(
            ca.signer, ca.leaf, [], this_update=NOW, next_update=NOW + timedelta(1), crl_number=1
        )
    assert info.value.code == "issuance_refused"
    stranger = generate_private_key("p256").signer("ES256")
    with pytest.raises(CertificateError) as info:
        issue_crl(
            stranger, ca.root, [], this_update=NOW, next_update=NOW + timedelta(1), crl_number=1
        )
    assert info.value.code == "issuance_refused"


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x01", b"not a crl", b"\x30" * 40])
def test_malformed_crls_raise_crl_malformed(data: bytes) -> None:
    with pytest.raises(CertificateError) as info:
        load_crl(data)
    assert info.value.code == "crl_malformed"


def test_a_certificate_is_not_a_crl() -> None:
    with pytest.raises(CertificateError) as info:
        load_crl(make_ca("ES256").root.der)
    assert info.value.code == "crl_malformed"


@pytest.mark.openssl
@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_openssl_reads_and_verifies(alg: str, openssl_bin: str, tmp_path: Path) -> None:
    ca = make_ca(alg)
    der = crl_of(ca, [(ca.leaf.serial, NOW - timedelta(hours=1), "cessation_of_operation")])
    (tmp_path / "list.crl").write_bytes(der)
    (tmp_path / "root.pem").write_bytes(ca.root.pem())
    text = subprocess.run(
        [openssl_bin, "crl", "-inform", "DER", "-in", str(tmp_path / "list.crl"), "-noout", "-text"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Version 2" in text
    assert "CRL Number" in text and "42" in text
    assert "Authority Key Identifier" in text
    assert format(ca.leaf.serial, "X") in text.replace(":", "").upper()
    assert "Cessation Of Operation" in text
    verified = subprocess.run(
        [openssl_bin, "crl", "-inform", "DER", "-in", str(tmp_path / "list.crl"), "-noout",
         "-CAfile", str(tmp_path / "root.pem")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert verified.returncode == 0 and "verify OK" in verified.stdout + verified.stderr
    # Another CA's certificate does not verify it.
    (tmp_path / "other.pem").write_bytes(make_ca(alg).root.pem())
    refused = subprocess.run(
        [openssl_bin, "crl", "-inform", "DER", "-in", str(tmp_path / "list.crl"), "-noout",
         "-CAfile", str(tmp_path / "other.pem")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert "verify OK" not in refused.stdout + refused.stderr


def test_crl_distribution_points_on_end_entity_certificates() -> None:
    ca = make_ca("ES256")
    key = generate_private_key("p256")
    url = "http://127.0.0.1:8000/pki/crl/ES256.crl"
    cert = issue_end_entity(
        ca.signer, ca.root, key.public_key(), "CN=带 CDP 的印章,C=CN", purpose="seal",
        not_before=T0, not_after=T0 + timedelta(days=30), crl_urls=[url],
    )  # fmt: skip
    ext = cert.extension("2.5.29.31")
    assert ext is not None and not ext.critical
    parsed = pyca_x509.load_der_x509_certificate(cert.der)
    cdp = parsed.extensions.get_extension_for_class(pyca_x509.CRLDistributionPoints).value
    assert [n.value for n in cdp[0].full_name or []] == [url]
    # Non-critical: path validation is unaffected.
    assert validate_path(cert, roots=[ca.root], at=T0 + timedelta(days=1), purpose="seal")
    with pytest.raises(CertificateError):
        issue_end_entity(
            ca.signer, ca.root, key.public_key(), "CN=x,C=CN", purpose="seal",
            not_before=T0, not_after=T0 + timedelta(days=30), crl_urls=["not a url"],
        )  # fmt: skip


def test_crl_of_an_intermediate_ca() -> None:
    root = make_ca("SM2")
    ca_key = generate_private_key("sm2")
    ca_cert = issue_ca(
        root.signer, root.root, ca_key.public_key(), "CN=运营 CA,C=CN",
        not_before=T0, not_after=T0 + timedelta(days=365),
    )  # fmt: skip
    der = issue_crl(
        ca_key.signer("SM2"), ca_cert, [(99, NOW, None)],
        this_update=NOW, next_update=NOW + timedelta(days=1), crl_number=1,
    )  # fmt: skip
    crl = load_crl(der)
    crl.verify(ca_cert, at=NOW)
    with pytest.raises(CertificateError):
        crl.verify(root.root, at=NOW)
