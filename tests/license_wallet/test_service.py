"""The license service on SQLite and PostgreSQL: issuance checks against the
registry, SM2 and ES256 issuer keys, credentials that verify through
verify_presentation, the lifecycle state machine with log leaves, signed status
lists, and unique status indexes under concurrent issuance."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from hub_helpers import demo_world
from sqlalchemy import func, select

from govtrust.demo import seed_demo
from license_wallet.credential import present_qr_text, verify_presentation
from license_wallet.errors import InvalidLicenseFields, LicenseRevoked, LicenseSuspended
from license_wallet.models import LicenseRecord, StatusListRecord
from license_wallet.service import (
    STATUS_LIST_MEDIA_TYPE,
    IssueRequest,
    LicenseService,
    LicenseServiceError,
    LicenseStatus,
)
from license_wallet.status_list import StatusList, StatusType
from license_wallet.types import example_fields, license_type
from trust.cose import decode_sign1, verify_sign1
from trust.crypto import generate_private_key
from trust.identifiers import seed_participants

ID_CARD = license_type("resident_id_card").code
DRIVING = license_type("driving_license").code
BUSINESS = license_type("business_license").code


@pytest.fixture
def world(hub: Any) -> Any:
    return demo_world(hub)


def holder() -> Any:
    return generate_private_key("p256")


def issue(hub: Any, key: Any, issuer: str = "mps", type_code: str = ID_CARD, **kw: Any) -> Any:
    return hub.licenses.issue(
        issuer,
        type_code,
        kw.pop("subject", "acct-1"),
        key.public_key().jwk(),
        kw.pop("fields", example_fields(type_code)),
        actor="test",
        **kw,
    )


def count(hub: Any) -> int:
    with hub.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(LicenseRecord)) or 0)


def verify(hub: Any, qr: str, **kw: Any) -> Any:
    return verify_presentation(
        qr,
        issuer_keys=hub.licenses.issuer_keys(),
        now=hub.clock(),
        status_lookup=hub.licenses.status_of,
        **kw,
    )


def test_demo_citizen_holds_an_id_card_and_a_driving_license(world: Any) -> None:
    from govtrust.demo import DEMO_CITIZEN, DEMO_CITIZEN_ID, demo_holder_key

    account = world.idp.accounts.by_username(DEMO_CITIZEN)
    held = world.licenses.list_for_holder(account.id)
    assert sorted(v.type_code for v in held) == [ID_CARD, DRIVING]
    assert all(v.issuer_id == "mps" and v.fields["holder_code"] == DEMO_CITIZEN_ID for v in held)
    seed_demo(world)  # idempotent
    assert len(world.licenses.list_for_holder(account.id)) == 2
    key = demo_holder_key(world)
    for v in held:
        qr = present_qr_text(v.credential, "full", key.signer("ES256"), now=world.clock())
        assert verify(world, qr).fields["holder_name"] == "张三"


def test_demo_grants_match_the_catalogue(world: Any) -> None:
    mps = world.registry.get("mps")
    assert ID_CARD in mps.license_types and DRIVING in mps.license_types
    for p in world.registry.list():
        for code in p.license_types:
            license_type(code)  # every granted code is a catalogue type


def test_issue_sm2_and_es256_and_verify(world: Any) -> None:
    key = holder()
    lic = issue(world, key)
    assert lic.status is LicenseStatus.VALID and lic.issuer_id == "mps"
    assert lic.identifier.startswith(f"1.2.156.3005.2.{ID_CARD}.")
    assert lic.log_index is not None and lic.status_list_id == "mps.1"
    assert decode_sign1(lic.credential).alg == -65601  # SM2 for mps
    qr = present_qr_text(lic.credential, "minimal", key.signer("ES256"), now=world.clock())
    result = verify(world, qr)
    assert result.issuer == "mps" and result.fields["holder_name"] == lic.fields["holder_name"]

    biz = issue(world, key, issuer="samr", type_code=BUSINESS)
    assert decode_sign1(biz.credential).alg == -7  # ES256 for samr
    qr = present_qr_text(biz.credential, "full", key.signer("ES256"), now=world.clock())
    assert verify(world, qr).type_code == BUSINESS
    events = world.licenses.events(lic.id)
    assert [e.action for e in events] == ["license.issued"]
    assert events[0].log_index == lic.log_index
    entry = world.log.entry(lic.log_index)
    assert entry is not None and entry.kind == "license.issued"


@pytest.mark.parametrize(
    ("issuer", "type_code", "code"),
    [
        ("mps", BUSINESS, "license_type_not_granted"),
        ("moe", ID_CARD, "role_missing"),
        ("nobody", ID_CARD, "unknown_participant"),
    ],
)
def test_issuer_must_be_authorised(world: Any, issuer: str, type_code: str, code: str) -> None:
    before = count(world)
    with pytest.raises(LicenseServiceError) as err:
        issue(world, holder(), issuer=issuer, type_code=type_code)
    assert err.value.code == code
    assert count(world) == before


def test_suspended_issuer_is_refused_and_its_keys_unpublished(world: Any) -> None:
    key = holder()
    lic = issue(world, key)
    world.registry.suspend("mps", actor="test")
    with pytest.raises(LicenseServiceError) as err:
        issue(world, key)
    assert err.value.code == "participant_inactive"
    qr = present_qr_text(lic.credential, "minimal", key.signer("ES256"), now=world.clock())
    with pytest.raises(Exception) as rejected:
        verify(world, qr)
    assert getattr(rejected.value, "code", "") == "license_issuer_unknown"


def test_bad_input_stores_nothing(world: Any) -> None:
    before = count(world)
    fields = example_fields(ID_CARD) | {"birth_date": "1990-02-30"}
    with pytest.raises(InvalidLicenseFields):
        issue(world, holder(), fields=fields)
    with pytest.raises(LicenseServiceError) as err:
        world.licenses.issue(
            "mps",
            ID_CARD,
            "a",
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
            example_fields(ID_CARD),
            actor="t",
        )
    assert err.value.code == "holder_key_invalid"
    sm2 = generate_private_key("sm2")
    with pytest.raises(LicenseServiceError):
        issue(world, sm2)
    now = world.clock()
    with pytest.raises(LicenseServiceError) as err:
        issue(world, holder(), valid_from=now, valid_until=now - timedelta(days=1))
    assert err.value.code == "invalid_validity"
    assert count(world) == before


def test_lifecycle_and_status_list(world: Any) -> None:
    key = holder()
    a, b, c = (issue(world, key) for _ in range(3))
    assert [b.status_idx - a.status_idx, c.status_idx - a.status_idx] == [1, 2]
    first = world.licenses.status_list_token("mps")
    assert world.licenses.status_list_token(a.status_list_id) is first  # cached

    world.licenses.suspend(b.id, actor="test", reason="暂扣")
    world.licenses.revoke(c.id, actor="test")
    with pytest.raises(LicenseServiceError) as err:
        world.licenses.reinstate(c.id, actor="test")  # revoked is final
    assert err.value.code == "invalid_transition"
    with pytest.raises(LicenseServiceError):
        world.licenses.suspend(c.id, actor="test")

    token = world.licenses.status_list_token(a.status_list_id)
    assert token is not first and token.version == 2
    msg = decode_sign1(token.token)
    assert msg.protected[16] == STATUS_LIST_MEDIA_TYPE
    keys = [k for k in world.keys.list(owner="license-issuer:mps") if k.purpose == "status_list"]
    assert len(keys) == 1
    verify_sign1(token.token, keys[0].public_key, allowed_algs=(-65601,))
    claims = cbor2.loads(msg.payload)
    assert claims[2] == a.status_uri
    assert claims[4] - claims[6] == 86400 and claims[65534] == 300
    sl = StatusList.decompress(claims[65533]["lst"], claims[65533]["bits"])
    assert sl.get(a.status_idx) == StatusType.VALID
    assert sl.get(b.status_idx) == StatusType.SUSPENDED
    assert sl.get(c.status_idx) == StatusType.INVALID

    qr_b = present_qr_text(b.credential, "minimal", key.signer("ES256"), now=world.clock())
    with pytest.raises(LicenseSuspended):
        verify(world, qr_b)
    qr_c = present_qr_text(c.credential, "minimal", key.signer("ES256"), now=world.clock())
    with pytest.raises(LicenseRevoked):
        verify(world, qr_c)
    world.licenses.reinstate(b.id, actor="test")
    assert world.licenses.get(b.id).status is LicenseStatus.VALID
    verify(world, qr_b)
    assert [e.action for e in world.licenses.events(b.id)] == [
        "license.issued",
        "license.suspended",
        "license.reinstated",
    ]
    assert all(e.log_index is not None for e in world.licenses.events(b.id))
    revoked = world.licenses.events(c.id)
    assert [e.action for e in revoked] == ["license.issued", "license.revoked"]
    for event in world.licenses.events(b.id) + revoked:  # each one a leaf of the log
        leaf = world.log.entry(event.log_index)
        assert leaf is not None and leaf.kind == event.action


def test_a_settled_status_list_is_republished_with_zopfli(world: Any, clock: Any) -> None:
    """A change is published at once (zlib); a list unchanged for a refresh period
    is re-signed with the same statuses, compressed smaller (Zopfli)."""
    a, b = issue(world, holder()), issue(world, holder())
    world.licenses.revoke(a.id, actor="test")
    fresh = world.licenses.status_list_token(a.status_list_id)
    assert not fresh.compact

    def lst(token: Any) -> bytes:
        return bytes(cbor2.loads(decode_sign1(token.token).payload)[65533]["lst"])

    clock.advance(hours=1, seconds=1)
    settled = world.licenses.status_list_token(a.status_list_id)
    assert settled.compact and settled.version == fresh.version
    statuses = StatusList.decompress(lst(fresh), 2)
    assert lst(settled) == statuses.compress(small=True) != lst(fresh)
    assert StatusList.decompress(lst(settled), 2) == statuses
    assert world.licenses.status_list_token(a.status_list_id) is settled  # cached

    world.licenses.suspend(b.id, actor="test")
    changed = world.licenses.status_list_token(a.status_list_id)
    assert not changed.compact and changed.version == settled.version + 1
    assert StatusList.decompress(lst(changed), 2).get(b.status_idx) == StatusType.SUSPENDED


def test_batch_is_per_item(world: Any) -> None:
    key = holder()
    good = IssueRequest("mps", ID_CARD, "acct-2", key.public_key().jwk(), example_fields(ID_CARD))
    bad = IssueRequest("mps", ID_CARD, "acct-2", key.public_key().jwk(), {"holder_name": "张三"})
    wrong = IssueRequest(
        "mps", BUSINESS, "acct-2", key.public_key().jwk(), example_fields(BUSINESS)
    )
    results = world.licenses.issue_batch([good, bad, wrong, good], actor="batch")
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error == "field_missing" and results[1].field is not None
    assert results[2].error == "license_type_not_granted"
    first, second = (r.license.status_idx for r in results if r.license)
    assert second == first + 1  # failed items took no index
    assert len(world.licenses.list_for_holder("acct-2")) == 2


def test_full_list_rolls_over_to_the_next(hub: Any, clock: Any) -> None:
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    small = LicenseService(
        hub.db, keys=hub.keys, participants=hub.registry, base_url="https://h", list_size=2
    )
    key = holder()
    fields = example_fields(BUSINESS)
    got = [
        small.issue("samr", BUSINESS, "s", key.public_key().jwk(), fields, actor="t")
        for _ in range(5)
    ]
    assert [(g.status_list_id, g.status_idx) for g in got] == [
        ("samr.1", 0),
        ("samr.1", 1),
        ("samr.2", 0),
        ("samr.2", 1),
        ("samr.3", 0),
    ]


def test_concurrent_issuance_allocates_distinct_indexes(world: Any) -> None:
    """8 threads × 25 issuances (separate connections; on SQLite, BEGIN IMMEDIATE
    serialises them; on PostgreSQL the list row's lock): every index distinct and
    gap-free, the counter equal to the number issued."""
    key = holder()
    jwk = key.public_key().jwk()
    fields = example_fields(ID_CARD)
    world.licenses.ensure_issuer_keys("mps")
    with world.db.session() as s:
        base = s.scalar(select(StatusListRecord.next_index).where(StatusListRecord.id == "mps.1"))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                world.licenses.issue("mps", ID_CARD, "c", jwk, fields, actor="thread")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    idx, counter = _stored_indexes(world, "c")
    assert idx == list(range(base, base + 200))
    assert counter == base + 200


def _stored_indexes(world: Any, subject: str) -> tuple[list[int], int]:
    """The sorted status indexes of ``subject``'s licenses and mps.1's counter."""
    with world.db.session() as s:
        idx = s.scalars(
            select(LicenseRecord.status_idx).where(LicenseRecord.holder_subject == subject)
        ).all()
        counter = s.scalar(
            select(StatusListRecord.next_index).where(StatusListRecord.id == "mps.1")
        )
    return sorted(idx), int(counter or 0)


def _issue_in_a_worker_process(config: Any, subject: str, n: int) -> list[tuple[str, int]]:
    """One worker process: its own Hub (own engine, own caches) on the shared database."""
    from govtrust.hub import Hub

    hub = Hub(config)
    try:
        jwk = generate_private_key("p256").public_key().jwk()
        fields = example_fields(ID_CARD)
        out = []
        for _ in range(n):
            view = hub.licenses.issue("mps", ID_CARD, subject, jwk, fields, actor="worker")
            out.append((view.status_list_id, view.status_idx))
        return out
    finally:
        hub.close()


def test_issuance_from_several_worker_processes_allocates_distinct_indexes(
    world: Any, config: Any
) -> None:
    """As under ``govtrust serve --workers N``: 3 processes × 20 issuances at once,
    each process its own hub on the same database. Every index distinct and
    gap-free; the list's counter equals the number issued."""
    import multiprocessing

    world.licenses.ensure_issuer_keys("mps")
    with world.db.session() as s:
        base = s.scalar(select(StatusListRecord.next_index).where(StatusListRecord.id == "mps.1"))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        parts = pool.starmap(_issue_in_a_worker_process, [(config, "p", 20)] * 3)
    got = [pair for part in parts for pair in part]
    assert {list_id for list_id, _ in got} == {"mps.1"}
    assert sorted(idx for _, idx in got) == list(range(base, base + 60))
    stored, counter = _stored_indexes(world, "p")
    assert stored == list(range(base, base + 60))
    assert counter == base + 60


def test_issuer_keys_are_in_the_signed_trust_list(world: Any) -> None:
    from trust.trustlist import verify_trust_list

    world.pki.ensure()
    published = world.trust_lists.publish()
    listed = verify_trust_list(
        published.document, roots=[c.der for c in world.pki.roots()], at=world.clock()
    )
    issuers = {i["id"]: i for i in listed.extensions["govtrust.license_wallet"]["issuers"]}
    mps = issuers["mps"]
    assert ID_CARD in mps["license_types"]
    purposes = {(k["purpose"], k["alg"]) for k in mps["keys"]}
    assert purposes == {("license", "SM2"), ("status_list", "SM2")}
    held = world.licenses.list_for_issuer("mps")
    assert {k["kid"] for k in mps["keys"] if k["purpose"] == "license"} == {held[0].key_id}


def test_status_lookup_refuses_foreign_lists_and_indexes(world: Any) -> None:
    lic = issue(world, holder())
    assert world.licenses.status_of(lic.status_uri, lic.status_idx) == StatusType.VALID
    for uri, idx in (
        (lic.status_uri, 1 << 20),
        (lic.status_uri, -1),
        ("https://elsewhere.example/status/mps.1.cwt", 0),
        (lic.status_uri.replace("mps.1", "mps.9"), 0),
    ):
        with pytest.raises(LicenseServiceError) as err:
            world.licenses.status_of(uri, idx)
        assert err.value.code == "status_list_unknown"
