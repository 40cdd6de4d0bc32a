"""license_wallet.credential: issue → present → verify, selective disclosure, holder
binding, status, tampering, fuzzing and the QR size target."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from license_wallet.credential import (
    ALG_ES256,
    ALG_SM2,
    MAX_KB_AGE,
    VerifiedLicense,
    issue_credential,
    present,
    present_qr_text,
    qr_versions,
    verify_presentation,
)
from license_wallet.errors import (
    CredentialError,
    InvalidLicenseFields,
    InvalidLicenseIdentifier,
    LicenseError,
    LicenseRevoked,
    LicenseSuspended,
    MalformedPresentation,
    PresentationRejected,
)
from license_wallet.identifier import build_identifier
from license_wallet.qr import b45encode, decode_qr_text, encode_qr_text, render_qr
from license_wallet.status_list import StatusList, StatusType
from license_wallet.types import LicenseType, example_fields, license_type, license_types
from trust.cose import encode_deterministic, sign1
from trust.crypto import PublicKey, Signer, generate_private_key
from trust.errors import InvalidKey, MalformedInput

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
ISSUER_USCC = "113300000024820150"
STATUS_URI = "https://zwfw.gov.cn/sl/zj-gat/1"
KID = b"zjgat-01"
ID_CARD = license_type("resident_id_card")
ALGS = {"SM2": ALG_SM2, "ES256": ALG_ES256}
Lookup = Callable[[str, bytes | None], list[PublicKey]]
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@pytest.fixture(scope="module")
def issuers() -> dict[str, Signer]:
    return {
        "SM2": generate_private_key("sm2").signer("SM2"),
        "ES256": generate_private_key("p256").signer("ES256"),
    }


@pytest.fixture(scope="module")
def holder() -> Signer:
    return generate_private_key("p256").signer("ES256")


@pytest.fixture(scope="module")
def lookup(issuers: dict[str, Signer]) -> Lookup:
    keys: dict[tuple[str, bytes | None], list[PublicKey]] = {
        ("zj-gat", KID): [s.public_key for s in issuers.values()]
    }

    def find(iss: str, kid: bytes | None) -> list[PublicKey]:
        return keys.get((iss, kid), [])

    return find


def issue(
    signer: Signer,
    holder: Signer | PublicKey | dict[Any, Any],
    lt: Any = ID_CARD,
    *,
    serial: str = "330100202600012345",
    **overrides: Any,
) -> bytes:
    holder_key = holder.public_key if isinstance(holder, Signer) else holder
    args: dict[str, Any] = dict(
        issuer_id="zj-gat",
        type_code=lt.code,
        identifier=build_identifier(lt.code, ISSUER_USCC, serial, 1),
        fields=example_fields(lt.code),
        holder_public_key=holder_key,
        valid_from=T0,
        valid_until=T0 + timedelta(days=365 * 20),
        status_uri=STATUS_URI,
        status_index=7,
        issued_at=T0,
        kid=KID,
    )
    args.update(overrides)
    return issue_credential(signer, signer.algorithm.cose, **args)


def verify(data: str | bytes, lookup: Any, **kwargs: Any) -> VerifiedLicense:
    kwargs.setdefault("now", NOW + timedelta(seconds=5))
    return verify_presentation(data, issuer_keys=lookup, **kwargs)


def rejected(code: str, fn: Callable[[], object]) -> CredentialError:
    with pytest.raises(CredentialError) as exc:
        fn()
    assert exc.value.code == code, exc.value
    return exc.value


def status_lookup(statuses: dict[int, int]) -> Callable[[str, int], int]:
    """A verifier-side lookup over a decoded Token Status List (compressed and back)."""
    sl = StatusList(16, bits=2)
    for index, value in statuses.items():
        sl.set(index, value)
    lists = {STATUS_URI: StatusList.from_cbor(sl.to_cbor())}

    def find(uri: str, idx: int) -> int:
        return lists[uri].get(idx)

    return find


def parts(presentation: bytes) -> list[Any]:
    return cbor2.loads(presentation)  # type: ignore[no-any-return]


def rebind(cred: bytes, disclosures: Sequence[bytes], key: Signer, **claims: Any) -> bytes:
    """A presentation with a freshly signed key-binding token (what a holder could make)."""
    sd_hash = hashlib.sha256(encode_deterministic([cred, list(disclosures)]))
    body: dict[Any, Any] = {6: int(NOW.timestamp()), -65540: sd_hash.digest()[:16], **claims}
    kb = sign1(encode_deterministic(body), key, alg=ALG_ES256, protected_extra={16: "gt-kb"})
    return encode_deterministic([cred, list(disclosures), kb])


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("alg", ["SM2", "ES256"])
@pytest.mark.parametrize("lt", license_types(), ids=lambda t: t.slug)
def test_round_trip_every_type(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup, lt: LicenseType, alg: str
) -> None:
    cred = issue(issuers[alg], holder, lt)
    text = present_qr_text(cred, "full", holder, now=NOW, nonce=b"n-1", aud="counter-330106")
    assert text.startswith("GT1:")
    result = verify(
        text,
        lookup,
        expected_nonce=b"n-1",
        expected_aud="counter-330106",
        status_lookup=status_lookup({}),
    )
    assert result.fields == example_fields(lt.code)
    assert result.type_code == lt.code and result.type_name_zh == lt.name_zh
    assert result.identifier == str(build_identifier(lt.code, ISSUER_USCC, "330100202600012345", 1))
    assert result.issuer == "zj-gat" and result.kid == KID and result.alg == ALGS[alg]
    assert result.issuer_code == ISSUER_USCC
    assert result.valid_from == T0 and result.valid_until == T0 + timedelta(days=365 * 20)
    assert result.issued_at == T0 and result.kb_issued_at == NOW
    assert (result.status_uri, result.status_index, result.status) == (STATUS_URI, 7, 0)
    assert result.holder_key == holder.public_key
    assert result.nonce == b"n-1" and result.aud == "counter-330106"
    assert result.checks == (
        "envelope",
        "bounded_decoding",
        "issuer_signature",
        "claims",
        "validity",
        "disclosures",
        "kb_signature",
        "kb_freshness",
        "kb_nonce",
        "kb_aud",
        "sd_hash",
        "status",
    )
    # The same presentation as CBOR bytes verifies too.
    assert verify(decode_qr_text(text), lookup).fields == result.fields


def test_selective_disclosure_shows_only_chosen_fields(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    cred = issue(issuers["SM2"], holder)
    shown = verify(present(cred, ["holder_name", "birth_date"], holder, now=NOW), lookup)
    assert shown.fields == {"holder_name": "张晓明", "birth_date": "1990-03-07"}
    minimal = verify(present(cred, "minimal", holder, now=NOW), lookup)
    assert set(minimal.fields) == set(ID_CARD.minimal_keys) == {"holder_name", "holder_code"}
    nothing = verify(present(cred, [], holder, now=NOW), lookup)
    assert nothing.fields == {} and nothing.identifier  # the envelope claims stay visible
    # Undisclosed values appear nowhere in the presentation.
    body = present(cred, ["holder_name"], holder, now=NOW)
    assert "文三路".encode() not in body and b"330106199003071236" not in body


def test_issued_credential_carries_disclosures_the_presentation_drops(
    issuers: dict[str, Signer], holder: Signer
) -> None:
    cred = issue(issuers["ES256"], holder)
    issued = cbor2.loads(cred)
    assert issued.tag == 18 and len(issued.value[1][-65537]) == len(example_fields(ID_CARD.code))
    presented = cbor2.loads(parts(present(cred, "full", holder, now=NOW))[0])
    assert presented.value[1] == {}
    assert presented.value[2] == issued.value[2] and presented.value[3] == issued.value[3]
    claims = cbor2.loads(issued.value[2])
    assert len(claims[-65539]) == 16 * ID_CARD.digest_slots
    assert claims[65535] == {"status_list": {"idx": 7, "uri": STATUS_URI}}
    assert claims[8][1][1] == 2 and claims[8][1][-1] == 1  # cnf: EC2 P-256 COSE_Key
    assert cbor2.loads(issued.value[0]) == {1: -7, 4: KID, 16: "gt-lic"}


def test_digest_count_does_not_reveal_absent_optional_fields(
    issuers: dict[str, Signer], holder: Signer
) -> None:
    lt = license_type("marriage_certificate")
    fields = example_fields(lt.code)
    for key in ("spouse_id", "holder_nationality", "spouse_nationality", "jurisdiction"):
        del fields[key]
    few = cbor2.loads(cbor2.loads(issue(issuers["SM2"], holder, lt, fields=fields)).value[2])
    full = cbor2.loads(cbor2.loads(issue(issuers["SM2"], holder, lt)).value[2])
    assert len(few[-65539]) == len(full[-65539]) == 16 * lt.digest_slots


def test_holder_key_as_jwk_or_cose_key(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    jwk = holder.public_key.jwk()
    cred = issue(issuers["ES256"], holder, holder_public_key=jwk)
    assert verify(present(cred, "minimal", holder, now=NOW), lookup).holder_key == holder.public_key
    cose_key = cbor2.loads(cbor2.loads(cred).value[2])[8][1]
    again = issue(issuers["ES256"], holder, holder_public_key=dict(cose_key))
    assert verify(present(again, "minimal", holder, now=NOW), lookup).fields
    with pytest.raises(InvalidKey):
        issue(issuers["ES256"], holder, holder_public_key=generate_private_key("sm2").public_key())


def test_no_end_date(issuers: dict[str, Signer], holder: Signer, lookup: Lookup) -> None:
    cred = issue(issuers["SM2"], holder, valid_until=None)
    result = verify(present(cred, "minimal", holder, now=NOW), lookup)
    assert result.valid_until is None


# --------------------------------------------------------------------------- issuance input


def test_issue_refuses_bad_input(issuers: dict[str, Signer], holder: Signer) -> None:
    with pytest.raises(InvalidLicenseFields) as exc:
        issue(issuers["SM2"], holder, fields={**example_fields(ID_CARD.code), "photo": "x"})
    assert exc.value.field == "photo"
    other = license_type("business_license")
    with pytest.raises(InvalidLicenseIdentifier):
        issue(issuers["SM2"], holder, identifier=build_identifier(other.code, ISSUER_USCC, "1"))
    with pytest.raises(ValueError):
        issue(issuers["SM2"], holder, valid_until=T0)
    with pytest.raises(ValueError):
        issue(issuers["SM2"], holder, status_index=-1)
    with pytest.raises(ValueError):
        issue(issuers["SM2"], holder, valid_from=T0.replace(tzinfo=None))


def test_present_refuses_bad_requests(issuers: dict[str, Signer], holder: Signer) -> None:
    cred = issue(issuers["SM2"], holder, license_type("business_license"))
    with pytest.raises(InvalidLicenseFields) as exc:
        present(cred, ["photo"], holder, now=NOW)
    assert exc.value.code == "field_unknown"
    fields = example_fields(license_type("business_license").code)
    del fields["jurisdiction"]
    sparse = issue(issuers["SM2"], holder, license_type("business_license"), fields=fields)
    with pytest.raises(InvalidLicenseFields) as exc:
        present(sparse, ["jurisdiction"], holder, now=NOW)
    assert exc.value.code == "field_missing"
    other = generate_private_key("p256").signer("ES256")
    rejected("holder_key_mismatch", lambda: present(cred, "full", other, now=NOW))
    with pytest.raises(MalformedPresentation):
        present(b"\x00", "full", holder, now=NOW)
    with pytest.raises(ValueError):
        present(cred, "everything", holder, now=NOW)


# --------------------------------------------------------------------------- holder binding


def test_replay_with_another_nonce_is_refused(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    cred = issue(issuers["SM2"], holder)
    body = present(cred, "minimal", holder, now=NOW, nonce=b"counter-nonce-1")
    assert verify(body, lookup, expected_nonce=b"counter-nonce-1").nonce == b"counter-nonce-1"
    rejected("kb_nonce_mismatch", lambda: verify(body, lookup, expected_nonce=b"counter-nonce-2"))
    without = present(cred, "minimal", holder, now=NOW)
    rejected("kb_nonce_mismatch", lambda: verify(without, lookup, expected_nonce=b"n"))
    rejected("kb_aud_mismatch", lambda: verify(without, lookup, expected_aud="counter-1"))


def test_key_binding_age(issuers: dict[str, Signer], holder: Signer, lookup: Lookup) -> None:
    body = present(issue(issuers["ES256"], holder), "minimal", holder, now=NOW)
    verify(body, lookup, now=NOW + timedelta(seconds=MAX_KB_AGE))
    rejected("kb_stale", lambda: verify(body, lookup, now=NOW + timedelta(seconds=MAX_KB_AGE + 1)))
    rejected(
        "kb_stale", lambda: verify(body, lookup, now=NOW + timedelta(seconds=31), max_kb_age=30)
    )
    verify(body, lookup, now=NOW - timedelta(seconds=15))
    rejected("kb_in_future", lambda: verify(body, lookup, now=NOW - timedelta(seconds=16)))


def test_wrong_holder_key_is_refused(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    cred = issue(issuers["SM2"], holder)
    cred_p, shown, _ = parts(present(cred, "minimal", holder, now=NOW))
    thief = generate_private_key("p256").signer("ES256")
    rejected("kb_invalid", lambda: verify(rebind(cred_p, shown, thief), lookup))
    # The genuine holder key over the same data verifies.
    assert verify(rebind(cred_p, shown, holder), lookup).fields


def test_sd_hash_binds_the_exact_disclosures(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    cred = issue(issuers["SM2"], holder)
    cred_p, shown, kb = parts(present(cred, "full", holder, now=NOW))
    fewer = encode_deterministic([cred_p, shown[1:], kb])
    rejected("kb_sd_hash_mismatch", lambda: verify(fewer, lookup))
    reordered = encode_deterministic([cred_p, shown[::-1], kb])
    rejected("kb_sd_hash_mismatch", lambda: verify(reordered, lookup))
    other_cred = parts(present(issue(issuers["SM2"], holder), "full", holder, now=NOW))[0]
    swapped = encode_deterministic([other_cred, shown, kb])
    rejected("disclosure_unknown", lambda: verify(swapped, lookup))


def test_disclosure_from_another_credential_is_refused(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    a = parts(present(issue(issuers["SM2"], holder), ["holder_name"], holder, now=NOW))
    other_fields = {**example_fields(ID_CARD.code), "address": "北京市东城区正义路1号"}
    b = parts(present(issue(issuers["SM2"], holder, fields=other_fields), "full", holder, now=NOW))
    # Even with a key-binding token the holder re-signs, the foreign disclosure is unknown.
    rejected("disclosure_unknown", lambda: verify(rebind(a[0], a[1] + b[1][-1:], holder), lookup))


def test_duplicate_disclosure_is_refused(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    cred_p, shown, _ = parts(present(issue(issuers["SM2"], holder), "minimal", holder, now=NOW))
    rejected(
        "disclosure_duplicate", lambda: verify(rebind(cred_p, shown + shown[:1], holder), lookup)
    )


# --------------------------------------------------------------------------- issuer and validity


def test_issuer_checks(issuers: dict[str, Signer], holder: Signer, lookup: Lookup) -> None:
    body = present(issue(issuers["SM2"], holder), "minimal", holder, now=NOW)
    rejected("license_issuer_unknown", lambda: verify(body, lambda iss, kid: []))
    stranger = [generate_private_key("sm2").public_key(), generate_private_key("p256").public_key()]
    rejected("license_signature_invalid", lambda: verify(body, lambda iss, kid: stranger))
    rejected("license_alg_not_allowed", lambda: verify(body, lookup, allowed_algs=[ALG_ES256]))
    rejected("license_alg_not_allowed", lambda: verify(body, lookup, allowed_algs=[]))
    unknown_kid = present(issue(issuers["SM2"], holder, kid=b"other"), "minimal", holder, now=NOW)
    rejected("license_issuer_unknown", lambda: verify(unknown_kid, lookup))


def test_lookup_failures_are_typed(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    body = present(issue(issuers["SM2"], holder), "minimal", holder, now=NOW)

    def broken(iss: str, kid: bytes | None) -> list[PublicKey]:
        raise KeyError(iss)

    rejected("license_issuer_unknown", lambda: verify(body, broken))


def test_validity_window(issuers: dict[str, Signer], holder: Signer, lookup: Lookup) -> None:
    cred = issue(issuers["ES256"], holder, valid_from=T0, valid_until=T0 + timedelta(days=10))
    late = T0 + timedelta(days=10, seconds=15)  # exp plus the 15 s leeway
    body = present(cred, "minimal", holder, now=late)
    rejected("license_expired", lambda: verify(body, lookup, now=late))
    early_cred = issue(issuers["ES256"], holder, valid_from=NOW + timedelta(days=1))
    early = present(early_cred, "minimal", holder, now=NOW)
    rejected("license_not_yet_valid", lambda: verify(early, lookup, now=NOW))
    future = issue(issuers["ES256"], holder, issued_at=NOW + timedelta(hours=1))
    body = present(future, "minimal", holder, now=NOW)
    rejected("license_iat_in_future", lambda: verify(body, lookup, now=NOW))


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (StatusType.INVALID, LicenseRevoked, "license_revoked"),
        (StatusType.SUSPENDED, LicenseSuspended, "license_suspended"),
        (3, PresentationRejected, "license_status_unknown"),
    ],
)
def test_status(
    issuers: dict[str, Signer],
    holder: Signer,
    lookup: Lookup,
    status: int,
    error: type[CredentialError],
    code: str,
) -> None:
    body = present(issue(issuers["SM2"], holder), "minimal", holder, now=NOW)
    with pytest.raises(error) as exc:
        verify(body, lookup, status_lookup=status_lookup({7: status}))
    assert exc.value.code == code
    assert verify(body, lookup, status_lookup=status_lookup({8: status})).status == 0


def test_status_lookup_failures_are_indeterminate(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    body = present(issue(issuers["SM2"], holder, status_index=99), "minimal", holder, now=NOW)
    rejected(
        "license_status_unknown", lambda: verify(body, lookup, status_lookup=status_lookup({}))
    )
    other = present(
        issue(issuers["SM2"], holder, status_uri="https://x.cn/sl/9"), [], holder, now=NOW
    )
    rejected(
        "license_status_unknown", lambda: verify(other, lookup, status_lookup=status_lookup({}))
    )


# --------------------------------------------------------------------------- tampering


def test_flipping_any_byte_of_the_presentation_fails(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    body = present(issue(issuers["SM2"], holder), "minimal", holder, now=NOW, nonce=b"abc")
    verify(body, lookup)
    for i in range(len(body)):
        for mask in (0x01, 0x80):
            bad = bytearray(body)
            bad[i] ^= mask
            with pytest.raises(CredentialError):
                verify(bytes(bad), lookup)


def test_flipping_any_byte_of_each_component_fails(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    cred_p, shown, kb = parts(present(issue(issuers["ES256"], holder), "minimal", holder, now=NOW))
    components: list[tuple[str, bytes]] = [("credential", cred_p), ("kb", kb)]
    components += [(f"disclosure{i}", d) for i, d in enumerate(shown)]
    for name, blob in components:
        for i in range(len(blob)):
            bad = bytearray(blob)
            bad[i] ^= 0x04
            cred2, kb2 = cred_p, kb
            shown2 = list(shown)
            if name == "credential":
                cred2 = bytes(bad)
            elif name == "kb":
                kb2 = bytes(bad)
            else:
                shown2[int(name[-1])] = bytes(bad)
            with pytest.raises(CredentialError):
                verify(encode_deterministic([cred2, shown2, kb2]), lookup)


def test_changing_any_character_of_the_qr_text_fails(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    text = present_qr_text(issue(issuers["SM2"], holder), "minimal", holder, now=NOW)
    for i in range(len(text)):
        replacement = "0" if text[i] != "0" else "1"
        with pytest.raises(CredentialError):
            verify(text[:i] + replacement + text[i + 1 :], lookup)


def test_malformed_inputs_are_typed(lookup: Lookup) -> None:
    cases: list[str | bytes] = [
        "",
        "HC1:6BF",
        "GT1:%%%%",
        "GT1:" + b45encode(b"not zlib"),
        encode_qr_text(b"\xa0"),
        encode_qr_text(cbor2.dumps([b"", [], b""])),
        encode_qr_text(cbor2.dumps([b"", [1], b""])),
        b"\x83" + b"\x81" * 20,
        "GT1:" + "A" * 5000,
    ]
    for case in cases:
        with pytest.raises(MalformedPresentation):
            verify(case, lookup)
    with pytest.raises(MalformedPresentation):
        verify(12, lookup)  # type: ignore[arg-type]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_verify_raises_only_typed_errors(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup, data: st.DataObject
) -> None:
    valid = present(issue(issuers["SM2"], holder), "minimal", holder, now=NOW)
    choice = data.draw(st.sampled_from(["text", "b45", "bytes", "mutate", "cbor"]))
    sample: str | bytes
    if choice == "text":
        sample = data.draw(st.text(max_size=200))
    elif choice == "b45":
        sample = "GT1:" + b45encode(data.draw(st.binary(max_size=300)))
    elif choice == "bytes":
        sample = data.draw(st.binary(max_size=300))
    elif choice == "cbor":
        leaf = st.one_of(st.binary(max_size=40), st.integers(), st.text(max_size=10), st.none())
        tree = st.recursive(leaf, lambda c: st.lists(c, max_size=4), max_leaves=12)
        sample = cbor2.dumps(data.draw(tree))
    else:
        bad = bytearray(valid)
        for _ in range(data.draw(st.integers(1, 4))):
            bad[data.draw(st.integers(0, len(bad) - 1))] = data.draw(st.integers(0, 255))
        sample = bytes(bad)
    try:
        verify(sample, lookup)
    except (LicenseError, MalformedInput):
        pass


# --------------------------------------------------------------------------- QR size


@pytest.mark.parametrize("alg", ["SM2", "ES256"])
def test_id_card_presentation_fits_version_20_m(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup, alg: str
) -> None:
    """居民身份证 disclosing name and ID number (plus the always-shown validity),
    with a verifier nonce: QR version ≤ 20 at level M; decoded back with zxing-cpp."""
    cred = issue(issuers[alg], holder)
    text = present_qr_text(cred, ["holder_name", "holder_code"], holder, now=NOW, nonce=b"8bytes!!")
    image = render_qr(text, error="M")
    assert image.version <= 20, (image.version, len(text))
    assert image.mode == "alphanumeric"
    pil = Image.open(io.BytesIO(image.png)).convert("L")
    found = zxingcpp.read_barcodes(pil, formats=QR_ONLY)
    assert len(found) == 1 and found[0].text == text
    result = verify(found[0].text, lookup, expected_nonce=b"8bytes!!")
    assert result.fields == {"holder_name": "张晓明", "holder_code": "330106199003071236"}
    assert result.valid_from == T0


def test_qr_versions_helper() -> None:
    rows = qr_versions()
    assert len(rows) == len(license_types()) * 2 * 2
    assert {r["alg"] for r in rows} == {"SM2", "ES256"}
    for row in rows:
        assert 1 <= row["version"] <= 40 and row["chars"] > row["bytes"]
        if row["type"] == "resident_id_card" and row["disclosure"] == "minimal":
            assert row["version"] <= 20


# --------------------------------------------------------------------------- issuer-signed oddities


def resign(signer: Signer, claims: dict[Any, Any], *, typ: str = "gt-lic") -> bytes:
    """A presented-form credential over ``claims`` signed by a trusted issuer key."""
    return sign1(
        encode_deterministic(claims),
        signer,
        alg=signer.algorithm.cose,
        kid=KID,
        protected_extra={16: typ},
    )


def salted(label: int, value: Any) -> bytes:
    return encode_deterministic([b"\x11" * 16, label, value])


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({99: 1}, "credential_malformed"),
        ({4: 10**20}, "credential_malformed"),
        ({6: "yesterday"}, "credential_malformed"),
        ({1: 5}, "credential_malformed"),
        ({-65539: b"\x00" * 16}, "credential_malformed"),
        ({-65539: b"\x00" * 16 * ID_CARD.digest_slots}, "credential_malformed"),
        ({65535: {"status_list": {"idx": -1, "uri": STATUS_URI}}}, "credential_malformed"),
        ({8: {1: {1: 2, -1: 1, -2: b"\xff" * 32, -3: True}}}, "holder_key_invalid"),
        ({8: {1: {1: 2, -1: 2, -2: b"\x00" * 32, -3: True}}}, "holder_key_invalid"),
        ({-65538: "1.2.156.3005.2.x"}, "license_id_invalid"),
        ({-65538: "11100000000013338W001.113300000024820150.1.001.0"}, "license_id_invalid"),
    ],
)
def test_signed_but_malformed_claims(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup, change: dict[Any, Any], code: str
) -> None:
    claims = cbor2.loads(cbor2.loads(issue(issuers["SM2"], holder)).value[2])
    claims.update(change)
    cred = resign(issuers["SM2"], claims)
    rejected(code, lambda: verify(rebind(cred, [], holder), lookup))


def test_unknown_type_code_in_identifier(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup
) -> None:
    claims = cbor2.loads(cbor2.loads(issue(issuers["SM2"], holder)).value[2])
    lid = build_identifier("11100000000013338W999", ISSUER_USCC, "1")
    claims[-65538] = str(lid)[len("1.2.156.3005.2.") :]
    cred = resign(issuers["SM2"], claims)
    rejected("license_type_unknown", lambda: verify(rebind(cred, [], holder), lookup))


def test_wrong_typ_is_refused(issuers: dict[str, Signer], holder: Signer, lookup: Lookup) -> None:
    claims = cbor2.loads(cbor2.loads(issue(issuers["SM2"], holder)).value[2])
    cred = resign(issuers["SM2"], claims, typ="gt-kb")
    rejected("credential_malformed", lambda: verify(rebind(cred, [], holder), lookup))


@pytest.mark.parametrize(
    ("label", "value", "code"),
    [
        (77, "x", "disclosure_invalid"),  # label outside the schema
        (16, "M", "disclosure_invalid"),  # sex must be 男/女
        (1, 5, "disclosure_malformed"),
    ],
)
def test_signed_but_invalid_disclosures(
    issuers: dict[str, Signer], holder: Signer, lookup: Lookup, label: int, value: Any, code: str
) -> None:
    claims = cbor2.loads(cbor2.loads(issue(issuers["SM2"], holder)).value[2])
    d = salted(label, value)
    digests = {claims[-65539][i : i + 16] for i in range(16, len(claims[-65539]), 16)}
    digests.add(hashlib.sha256(d).digest()[:16])
    claims[-65539] = b"".join(sorted(digests))
    cred = resign(issuers["SM2"], claims)
    rejected(code, lambda: verify(rebind(cred, [d], holder), lookup))


def test_presented_identifier_reads_without_trusting(
    issuers: dict[str, Signer], holder: Signer
) -> None:
    from license_wallet.credential import presented_identifier

    cred = issue(issuers["SM2"], holder)
    text = present_qr_text(cred, "minimal", holder, now=T0 + timedelta(days=1))
    expected = build_identifier(ID_CARD.code, ISSUER_USCC, "330100202600012345", 1)
    assert presented_identifier(text) == expected
    with pytest.raises(MalformedPresentation):
        presented_identifier("GT1:ABC")


def test_disclosure_fast_path_agrees_with_the_general_decoder() -> None:
    """The direct reader of [salt, label, value] gives what decode_cbor gives, and
    leaves every other shape (non-preferred encodings, mutations) to it."""
    import random

    import cbor2

    from license_wallet.credential import _disclosure_fast
    from trust.cose import decode_cbor

    rng = random.Random(9285)
    taken = 0
    for _ in range(5000):
        label = rng.choice([0, 1, 23, 24, 200, 255, 256, 70000])
        value = "".join(
            chr(rng.randrange(32, 0x4E00 + 200)) for _ in range(rng.choice([0, 1, 24, 300]))
        )
        raw = cbor2.dumps([rng.randbytes(16), label, value])
        if rng.random() < 0.5:
            b = bytearray(raw)
            b[rng.randrange(len(b))] = rng.randrange(256)
            raw = bytes(b)
        fast = _disclosure_fast(raw)
        if fast is None:
            continue
        taken += 1
        assert list(decode_cbor(raw, max_size=1024, max_depth=1, max_items=4)) == fast
    assert taken > 1000
    assert (
        _disclosure_fast(bytes.fromhex("8350") + bytes(16) + bytes.fromhex("1801") + b"\x61a")
        is None
    )


def test_cose_fast_path_agrees_with_decode_sign1() -> None:
    """Credentials and key-binding tokens read directly give the CoseSign1 that
    trust.cose.decode_sign1 gives; every other shape (mutations, other header
    layouts, non-preferred encodings) goes to decode_sign1 and its checks."""
    import random

    import cbor2

    from license_wallet.credential import TYP_CREDENTIAL, TYP_KB, _decode_cose, _sign1_fast
    from license_wallet.errors import MalformedPresentation
    from license_wallet.qr import decode_qr_text
    from trust.cose import decode_sign1
    from trust.crypto import generate_private_key
    from trust.errors import TrustError

    rng = random.Random(9052)
    holder = generate_private_key("p256")
    samples = []
    for family, alg in (("sm2", "SM2"), ("p256", "ES256")):
        signer = generate_private_key(family).signer(alg)
        lt = license_type("resident_id_card")
        cred = issue_credential(
            signer,
            signer.algorithm.cose,
            issuer_id="mps",
            type_code=lt.code,
            identifier=build_identifier(lt.code, "113300000024820150", "SERIAL1", 1),
            fields=example_fields(lt.code),
            holder_public_key=holder.public_key(),
            valid_from=1_795_000_000,
            valid_until=1_900_000_000,
            status_uri="https://hub.example/sl/1",
            status_index=3,
            issued_at=1_795_000_000,
            kid=b"kid-0001",
        )
        text = present_qr_text(cred, "minimal", holder.signer("ES256"), now=1_795_000_100)
        outer = cbor2.loads(decode_qr_text(text))
        samples += [(outer[0], TYP_CREDENTIAL), (outer[2], TYP_KB)]
    taken = refused = 0
    for raw, typ in samples * 600:
        b = bytearray(raw)
        if rng.random() < 0.8:  # mostly mutated, in the headers where it matters
            for _ in range(rng.randrange(1, 3)):
                b[rng.randrange(min(len(b), 40))] = rng.randrange(256)
        data = bytes(b)
        fast = _sign1_fast(data, typ)
        try:
            general = _decode_cose(data, "x", typ) if fast is None else decode_sign1(data)
        except MalformedPresentation:
            refused += 1
            assert fast is None
            continue
        except TrustError:
            assert fast is None  # decode_sign1 refuses: the fast path must not accept
            refused += 1
            continue
        if fast is not None:
            taken += 1
            assert (fast.protected_bytes, dict(fast.protected), dict(fast.unprotected)) == (
                general.protected_bytes,
                dict(general.protected),
                dict(general.unprotected),
            )
            assert (fast.payload, fast.signature, fast.alg, fast.kid, fast.tags) == (
                general.payload,
                general.signature,
                general.alg,
                general.kid,
                general.tags,
            )
    assert taken > 400 and refused > 400
