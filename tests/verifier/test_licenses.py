"""verifier.licenses: every outcome of a scanned license QR is a verdict with a reason."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from license_wallet.credential import issue_credential, present_qr_text
from license_wallet.identifier import build_identifier
from license_wallet.qr import b45encode, decode_qr_text, encode_qr_text
from license_wallet.status_list import StatusType
from license_wallet.types import example_fields, license_types
from trust.crypto import PublicKey, generate_private_key
from verifier.licenses import (
    INDETERMINATE,
    INVALID,
    VALID,
    IssuerInfo,
    ReplayCache,
    verify_license_qr,
)

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
ISSUER_USCC = "113300000024820150"
STATUS_URI = "https://hub.example/api/license/v1/status/mps.cwt"
ID_CARD = next(t for t in license_types() if t.name_zh == "居民身份证")
OTHER_TYPE = next(t for t in license_types() if t.name_zh == "结婚证")

ISSUER_KEY = generate_private_key("sm2")
ROGUE_KEY = generate_private_key("sm2")
HOLDER_KEY = generate_private_key("p256")


@dataclass
class Trust:
    """An in-memory LicenseTrust: one issuer ``mps`` with one SM2 key."""

    issuers: dict[str, IssuerInfo] = field(
        default_factory=lambda: {
            "mps": IssuerInfo(
                "mps", "公安部", "Ministry of Public Security", True, frozenset({ID_CARD.code})
            ),
        }
    )
    keys: dict[str, list[PublicKey]] = field(
        default_factory=lambda: {"mps": [ISSUER_KEY.public_key()]}
    )
    statuses: dict[int, int] = field(default_factory=dict)
    has_status_list: bool = True
    synced_at: datetime = NOW - timedelta(hours=1)

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        return self.issuers.get(participant_id)

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> Iterable[PublicKey]:
        return self.keys.get(participant_id, [])

    def status(self, uri: str, index: int) -> int | None:
        if not self.has_status_list or uri != STATUS_URI:
            return None
        return self.statuses.get(index, StatusType.VALID)

    def stale(self, now: datetime) -> str | None:
        return "trust data older than 24 h" if now - self.synced_at > timedelta(hours=24) else None


def credential(
    *,
    key=ISSUER_KEY,
    issuer: str = "mps",
    type_code: str = ID_CARD.code,
    valid_from: datetime = NOW - timedelta(days=365),
    valid_until: datetime | None = NOW + timedelta(days=3650),
    index: int = 7,
) -> bytes:
    return issue_credential(
        key.signer("SM2"),
        key.signer("SM2").algorithm.cose,
        issuer_id=issuer,
        type_code=type_code,
        identifier=build_identifier(type_code, ISSUER_USCC, "330100202600000007", 1),
        fields=example_fields(type_code),
        holder_public_key=HOLDER_KEY.public_key(),
        valid_from=valid_from,
        valid_until=valid_until,
        status_uri=STATUS_URI,
        status_index=index,
        issued_at=valid_from,
        kid=b"mps-0001",
    )


def qr(
    cred: bytes | None = None,
    *,
    at: datetime = NOW,
    nonce: bytes | None = None,
    show: str = "minimal",
    holder=HOLDER_KEY,
) -> str:
    return present_qr_text(cred or credential(), show, holder.signer("ES256"), now=at, nonce=nonce)


def swapped_key_binding() -> str:
    """Our credential and disclosures with the key-binding token of another holder's
    presentation (what copying a QR and re-signing with one's own key gives)."""
    other = generate_private_key("p256")
    theirs = issue_credential(
        ISSUER_KEY.signer("SM2"),
        ISSUER_KEY.signer("SM2").algorithm.cose,
        issuer_id="mps",
        type_code=ID_CARD.code,
        identifier=build_identifier(ID_CARD.code, ISSUER_USCC, "330100202600000008", 1),
        fields=example_fields(ID_CARD.code),
        holder_public_key=other.public_key(),
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        status_uri=STATUS_URI,
        status_index=8,
        issued_at=NOW - timedelta(days=1),
        kid=b"mps-0001",
    )
    mine = cbor2.loads(decode_qr_text(qr()))
    their_kb = cbor2.loads(decode_qr_text(qr(theirs, holder=other)))[2]
    return encode_qr_text(cbor2.dumps([mine[0], mine[1], their_kb]))


def without_key_binding() -> str:
    mine = cbor2.loads(decode_qr_text(qr()))
    return encode_qr_text(cbor2.dumps(mine[:2]))


def test_a_good_presentation_is_valid_with_only_the_disclosed_fields() -> None:
    verdict = verify_license_qr(qr(), Trust(), now=NOW)
    assert verdict.verdict == VALID and verdict.reasons == ()
    assert verdict.issuer is not None and verdict.issuer.name_zh == "公安部"
    body = verdict.as_dict()
    assert body["license"]["type_name_zh"] == "居民身份证"
    full = verify_license_qr(qr(show="full"), Trust(), now=NOW).as_dict()["license"]["fields"]
    assert set(body["license"]["fields"]) < set(full)


@pytest.mark.parametrize(
    ("make", "trust", "verdict", "reason"),
    [
        (lambda: qr(credential(key=ROGUE_KEY)), Trust(), INVALID, "bad_signature"),
        (lambda: qr(credential(issuer="nobody")), Trust(), INVALID, "untrusted_issuer"),
        (
            lambda: qr(),
            Trust(
                issuers={
                    "mps": IssuerInfo("mps", "公安部", "MPS", False, frozenset({ID_CARD.code}))
                }
            ),
            INVALID,
            "issuer_inactive",
        ),
        (
            lambda: qr(credential(type_code=OTHER_TYPE.code)),
            Trust(),
            INVALID,
            "issuer_not_authorized_for_type",
        ),
        (lambda: qr(credential(valid_until=NOW - timedelta(days=1))), Trust(), INVALID, "expired"),
        (
            lambda: qr(credential(valid_from=NOW + timedelta(days=2))),
            Trust(),
            INVALID,
            "not_yet_valid",
        ),
        (lambda: qr(), Trust(statuses={7: StatusType.INVALID}), INVALID, "revoked"),
        (lambda: qr(), Trust(statuses={7: StatusType.SUSPENDED}), INVALID, "suspended"),
        (lambda: qr(), Trust(has_status_list=False), INDETERMINATE, "status_unknown"),
        (lambda: swapped_key_binding(), Trust(), INVALID, "holder_binding_invalid"),
        (lambda: without_key_binding(), Trust(), INVALID, "holder_binding_missing"),
        (lambda: qr(at=NOW - timedelta(minutes=10)), Trust(), INVALID, "presentation_expired"),
        (lambda: qr(), Trust(synced_at=NOW - timedelta(days=3)), INDETERMINATE, "stale_trust_data"),
        (lambda: "HC1:" + qr()[4:], Trust(), INDETERMINATE, "unsupported_version"),
        (lambda: "GT1:" + b45encode(b"not zlib"), Trust(), INDETERMINATE, "malformed"),
        (lambda: "", Trust(), INDETERMINATE, "malformed"),
    ],
)
def test_each_failure_has_its_verdict_and_reason(make, trust, verdict, reason) -> None:
    result = verify_license_qr(make(), trust, now=NOW)
    assert (result.verdict, result.reasons) == (verdict, (reason,)), result.detail


def test_a_nonce_must_be_the_verifiers() -> None:
    text = qr(nonce=b"counter-1")
    assert verify_license_qr(text, Trust(), now=NOW, expected_nonce=b"counter-1").verdict == VALID
    wrong = verify_license_qr(text, Trust(), now=NOW, expected_nonce=b"counter-2")
    assert (wrong.verdict, wrong.reasons) == (INVALID, ("nonce_mismatch",))


def test_the_same_presentation_twice_is_a_replay_but_a_fresh_one_is_not() -> None:
    cache = ReplayCache()
    text = qr()
    assert verify_license_qr(text, Trust(), now=NOW, replay_cache=cache).verdict == VALID
    again = verify_license_qr(text, Trust(), now=NOW, replay_cache=cache)
    assert (again.verdict, again.reasons) == (INVALID, ("replayed",))
    fresh = qr(at=NOW + timedelta(seconds=1))
    assert verify_license_qr(fresh, Trust(), now=NOW, replay_cache=cache).verdict == VALID


def test_replay_cache_forgets_after_its_ttl_and_stays_bounded() -> None:
    clock = [0.0]
    cache = ReplayCache(ttl=10, max_entries=3, clock=lambda: clock[0])
    assert cache.check_and_add(b"a") is False
    assert cache.check_and_add(b"a") is True
    clock[0] = 11
    assert cache.check_and_add(b"a") is False
    for key in (b"b", b"c", b"d", b"e"):
        cache.check_and_add(key)
    assert len(cache) <= 3


def test_changing_any_character_never_yields_valid() -> None:
    text = qr()
    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for position in rng.sample(range(len(text)), 60):
        mutated = (
            text[:position]
            + rng.choice(alphabet.replace(text[position], ""))
            + text[position + 1 :]
        )
        result = verify_license_qr(mutated, Trust(), now=NOW)
        assert result.verdict in (INVALID, INDETERMINATE) and result.reasons, position


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_random_input_only_gives_verdicts(data) -> None:
    result = verify_license_qr(data, Trust(), now=NOW)
    assert result.verdict in (INVALID, INDETERMINATE) and len(result.reasons) == 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_truncated_and_bit_flipped_presentations_only_give_verdicts(data) -> None:
    text = GOOD_TEXT
    cut = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    result = verify_license_qr(text[:cut], Trust(), now=NOW)
    assert result.verdict in (INVALID, INDETERMINATE) and result.reasons


GOOD_TEXT = qr()


def test_as_dict_is_json_ready() -> None:
    import json

    body = verify_license_qr(GOOD_TEXT, Trust(), now=NOW).as_dict()
    assert json.loads(json.dumps(body, ensure_ascii=False))["verdict"] == VALID
    bad = replace(verify_license_qr("x", Trust(), now=NOW))
    assert bad.as_dict()["reasons"] == ["malformed"]
