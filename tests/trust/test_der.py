"""trust.der.check_der: DER as X.690 §10–11 has it, in one pass, typed errors only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as asn1_x509
from hypothesis import given, settings
from hypothesis import strategies as st

from trust import cms
from trust.crypto import generate_private_key
from trust.der import DerError, check_der, check_set_order
from trust.pki import issue_end_entity, issue_root

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def material() -> dict[str, bytes]:
    key = generate_private_key("p256")
    root = issue_root(
        key.signer("ES256"), "CN=DER 测试根,O=GovTrust,C=CN",
        not_before=T0, not_after=T0 + timedelta(days=365),
    )  # fmt: skip
    leaf_key = generate_private_key("p256")
    leaf = issue_end_entity(
        key.signer("ES256"), root, leaf_key.public_key(), "CN=印章,O=机关,C=CN",
        purpose="seal", not_before=T0, not_after=T0 + timedelta(days=30),
    )  # fmt: skip
    signed = cms.sign_detached(
        leaf_key.signer("ES256"), leaf, content=b"x", signing_time=T0, chain=[root]
    )
    return {"root": root.der, "leaf": leaf.der, "cms": signed}


def test_real_der_passes_and_agrees_with_a_full_reencoding(material: dict[str, bytes]) -> None:
    for name in ("root", "leaf"):
        der = material[name]
        check_der(der)
        assert asn1_x509.Certificate.load(der).dump(force=True) == der  # the slow oracle
    check_der(material["cms"])


@pytest.mark.parametrize(
    ("der", "why"),
    [
        (b"\x30\x80\x02\x01\x01\x00\x00", "indefinite length"),
        (b"\x04\x81\x03abc", "length 3 in the long form"),
        (b"\x04\x82\x00\x03abc", "length with a leading zero octet"),
        (b"\x1f\x05\x00", "tag number 5 in the high-tag form"),
        (b"\x1f\x80\x21\x00", "leading zero group"),
        (b"\x31\x06\x02\x01\x02\x02\x01\x01", "SET elements not in DER order"),
        (b"\x02\x02\x00\x01", "INTEGER not in its shortest form"),
        (b"\x02\x02\xff\x80", "INTEGER not in its shortest form"),
        (b"\x02\x00", "empty INTEGER"),
        (b"\x30\x03\x01\x01\x01", "BOOLEAN other than"),
        (b"\x05\x01\x00", "NULL with content"),
        (b"\x03\x02\x01\x01", "unused bits set"),
        (b"\x03\x01\x01", "bad BIT STRING"),
        (b"\x03\x02\x08\x00", "bad BIT STRING"),
        (b"\x30\x03\x02\x01\x01\x00", "trailing bytes"),
        (b"\x30\x05\x02\x01\x01", "runs past"),
        (b"\x30\x03\x02\x05\x01", "runs past"),
        (b"", "empty input"),
    ],
)
def test_not_der_refused(der: bytes, why: str) -> None:
    with pytest.raises(DerError, match=why):
        check_der(der)


@pytest.mark.parametrize(
    "der",
    [
        b"\x02\x02\x00\x80",  # 128 needs its leading zero
        b"\x02\x01\xff",  # -1
        b"\x31\x06\x02\x01\x01\x02\x01\x02",  # sorted SET OF
        b"\x31\x06\x02\x01\x01\x02\x01\x01",  # equal elements may repeat
        b"\x03\x02\x01\x02",  # one unused bit, clear
        b"\x03\x01\x00",  # empty BIT STRING
        b"\x01\x01\xff",
        b"\x05\x00",
        b"\x9f\x1f\x00",  # [31] in the high-tag form, as it must be
        b"\xa0\x06\x02\x01\x02\x02\x01\x01",  # [0] IMPLICIT SET OF: order unknown here
        b"\x04\x81\x80" + bytes(128),
    ],
)
def test_der_accepted(der: bytes) -> None:
    check_der(der)


def test_bounds() -> None:
    deep = b"\x05\x00"
    for _ in range(40):  # 40 SEQUENCEs around a NULL
        deep = b"\x30" + _tl(deep)
    with pytest.raises(DerError, match="nested deeper than 32"):
        check_der(deep, max_depth=32)
    check_der(deep, max_depth=64)
    many = b"\x30" + _tl(b"\x05\x00" * 100)
    with pytest.raises(DerError, match="more than 50 elements"):
        check_der(many, max_elements=50)
    check_der(many)


def _tl(body: bytes) -> bytes:
    return cms._length(len(body)) + body


def test_set_order_helper() -> None:
    check_set_order([b"\x02\x01\x01", b"\x02\x01\x02"])
    with pytest.raises(DerError, match="signed attributes not in DER order"):
        check_set_order([b"\x02\x01\x02", b"\x02\x01\x01"], "signed attributes")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_only_der_errors(data: bytes) -> None:
    try:
        check_der(data)
    except DerError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_certificate(material: dict[str, bytes], data: st.DataObject) -> None:
    der = bytearray(material["leaf"])
    pos = data.draw(st.integers(0, len(der) - 1))
    der[pos] = data.draw(st.integers(0, 255))
    try:
        check_der(bytes(der))
    except DerError:
        return
    # What check_der lets through still parses as a certificate or fails typed there.
    try:
        asn1_x509.Certificate.load(bytes(der), strict=True).native  # noqa: B018
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, LookupError):
        pass
