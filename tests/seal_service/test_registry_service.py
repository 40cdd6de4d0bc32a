"""Seal registry lifecycle and the sealing service (SQLite and PostgreSQL): seals of
the demo agency made, approved by their maker, used in every format, verified by
our verifiers; authorisation, idempotency and the audit trail."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
from pdf_samples import blank_pdf

from govtrust.demo import seed_demo
from seal_service.ofd import verify_ofd
from seal_service.pades import verify_pdf
from seal_service.registry import SealError, SealKind, SealStatus
from seal_service.service import IdempotencyConflict, SealForbidden, SealRequest
from seal_service.ses import parse_seal, parse_signature, verify_signature
from trust.cms import verify_detached
from trust.hashes import sm3

OFD = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw" / "helloworld.ofd"


@pytest.fixture
def world(hub: Any) -> Any:
    hub.ensure_hub_keys()
    hub.pki.ensure()
    from trust.identifiers import seed_participants

    hub.registry.seed(seed_participants())
    seed_demo(hub)
    seals = {s.algorithm: s for s in hub.seals.list(holder_id="zj")}
    return hub, seals


def roots(hub: Any) -> list[Any]:
    return hub.pki.roots()


def test_demo_seals_are_active_with_certificates(world: Any) -> None:
    hub, seals = world
    assert set(seals) == {"SM2", "RS256"}
    sm2 = seals["SM2"]
    assert sm2.status is SealStatus.ACTIVE and sm2.kind is SealKind.OFFICIAL
    assert sm2.certificate is not None and sm2.ses_seal_der is not None
    parsed = parse_seal(sm2.ses_seal_der)
    assert parsed.es_id == sm2.id and parsed.name == sm2.name
    assert sm2.certificate in parsed.certs  # the holder's certificate is in the seal
    actions = [e.action for e in hub.seals.events(sm2.id)]
    assert actions == ["seal.applied", "seal.approved", "seal.active"]
    assert all(e.log_index is not None for e in hub.seals.events(sm2.id))


def test_detached_ses_in_hash_mode_verifies(world: Any) -> None:
    hub, seals = world
    document = "一网通办 申请表".encode()
    result = hub.sealing.seal(
        SealRequest(seal_id=seals["SM2"].id, format="ses", digest=sm3(document)),
        holder_id="zj",
        client_id="zj-agency",
    )
    assert result.digest_hex == sm3(document).hex() and result.log_index is not None
    signature = parse_signature(result.data)
    cas = hub.pki.cas()
    report = verify_signature(
        signature, data_hash=sm3(document), roots=roots(hub), intermediates=cas
    )
    assert report.passed, report
    tampered = sm3(document + b"!")
    assert not verify_signature(
        signature, data_hash=tampered, roots=roots(hub), intermediates=cas
    ).passed


def test_detached_cms_over_a_document(world: Any) -> None:
    hub, seals = world
    document = b"%PDF-like bytes of a contract"
    for seal in seals.values():
        result = hub.sealing.seal(
            SealRequest(seal_id=seal.id, format="cms", document=document),
            holder_id="zj",
            client_id="zj-agency",
        )
        checked = verify_detached(result.data, content=document, roots=roots(hub))
        assert checked.verified and checked.path_validated
        assert checked.signer_certificate.der == seal.certificate_der


def test_ofd_and_pdf(world: Any) -> None:
    hub, seals = world
    sealed_ofd = hub.sealing.seal(
        SealRequest(seal_id=seals["SM2"].id, format="ofd", document=OFD.read_bytes(), x_mm=50),
        holder_id="zj",
        client_id="zj-agency",
    )
    assert verify_ofd(sealed_ofd.data, roots=roots(hub), intermediates=hub.pki.cas()).passed
    sealed_pdf = hub.sealing.seal(
        SealRequest(seal_id=seals["RS256"].id, format="pdf", document=blank_pdf(), x_mm=100),
        holder_id="zj",
        client_id="zj-agency",
    )
    (report,) = verify_pdf(sealed_pdf.data, trust_roots=roots(hub))
    assert report.indication.value == "PASSED", report
    with pytest.raises(SealError) as info:  # GB/T 33190 seals are SM2
        hub.sealing.seal(
            SealRequest(seal_id=seals["RS256"].id, format="ofd", document=OFD.read_bytes()),
            holder_id="zj",
            client_id="zj-agency",
        )
    assert info.value.code == "wrong_seal_algorithm"


def test_another_agency_may_not_use_the_seal(world: Any) -> None:
    hub, seals = world
    size_before = hub.log.size() if hasattr(hub.log, "size") else None
    with pytest.raises(SealForbidden):
        hub.sealing.seal(
            SealRequest(seal_id=seals["SM2"].id, format="ses", digest=b"\0" * 32),
            holder_id="gd",
            client_id="gd-agency",
        )
    assert hub.sealing.operations(seal_id=seals["SM2"].id) == []
    if size_before is not None:
        assert hub.log.size() == size_before + 1  # the seal.denied audit leaf


def test_suspended_revoked_and_expired_seals_are_refused(world: Any, clock: Any) -> None:
    hub, seals = world
    seal = seals["RS256"]
    request = SealRequest(seal_id=seal.id, format="cms", digest=b"\1" * 32)
    hub.seals.suspend(seal.id, actor="admin", reason="audit")
    with pytest.raises(SealError) as info:
        hub.sealing.seal(request, holder_id="zj", client_id="c")
    assert info.value.code == "seal_suspended"
    hub.seals.reinstate(seal.id, actor="admin")
    assert hub.sealing.seal(request, holder_id="zj", client_id="c").data
    hub.seals.revoke(seal.id, actor="admin", reason="key compromise")
    with pytest.raises(SealError) as info:
        hub.sealing.seal(request, holder_id="zj", client_id="c")
    assert info.value.code == "seal_revoked"
    assert [s.id for s in hub.seals.revoked()] == [seal.id]
    with pytest.raises(SealError) as info:
        hub.seals.reinstate(seal.id, actor="admin")
    assert info.value.code == "invalid_transition"
    clock.advance(days=4 * 365)
    assert hub.seals.get(seals["SM2"].id).status is SealStatus.EXPIRED


def test_idempotency_key(world: Any) -> None:
    hub, seals = world
    request = SealRequest(seal_id=seals["SM2"].id, format="ses", digest=b"\2" * 32)
    first = hub.sealing.seal(request, holder_id="zj", client_id="zj-agency", idempotency_key="k1")
    again = hub.sealing.seal(request, holder_id="zj", client_id="zj-agency", idempotency_key="k1")
    assert again.replayed and again.data == first.data and again.operation_id == first.operation_id
    other = SealRequest(seal_id=seals["SM2"].id, format="ses", digest=b"\3" * 32)
    with pytest.raises(IdempotencyConflict):
        hub.sealing.seal(other, holder_id="zj", client_id="zj-agency", idempotency_key="k1")
    # Another client's keys are its own.
    mine = hub.sealing.seal(other, holder_id="zj", client_id="zj-other", idempotency_key="k1")
    assert not mine.replayed
    assert len(hub.sealing.operations(seal_id=seals["SM2"].id)) == 2


def test_concurrent_twins_get_one_operation(world: Any) -> None:
    hub, seals = world
    request = SealRequest(seal_id=seals["RS256"].id, format="cms", digest=b"\4" * 32)
    results: list[Any] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            results.append(
                hub.sealing.seal(request, holder_id="zj", client_id="zj", idempotency_key="twin")
            )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({r.operation_id for r in results}) == 1
    assert len({hashlib.sha256(r.data).hexdigest() for r in results}) == 1
    assert len(hub.sealing.operations(seal_id=seals["RS256"].id)) == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": "stamp"}, "invalid_kind"),
        ({"algorithm": "RSA1024"}, "invalid_algorithm"),
        ({"name": ""}, "invalid_name"),
        ({"holder_id": "gd"}, "role_missing"),
        ({"holder_id": "nowhere"}, "unknown_participant"),
        ({"maker_id": None}, "maker_required"),
    ],
)
def test_bad_applications_are_refused(world: Any, changes: dict[str, Any], code: str) -> None:
    hub, _ = world
    args: dict[str, Any] = {
        "holder_id": "zj",
        "kind": "finance",
        "name": "财务专用章",
        "algorithm": "SM2",
        "maker_id": "samr",
        "actor": "admin",
    }
    args.update(changes)
    with pytest.raises(SealError) as info:
        hub.seals.apply(**args)
    assert info.value.code == code


def test_bad_requests_are_refused(world: Any) -> None:
    hub, seals = world
    cases = [
        (SealRequest(seal_id=seals["SM2"].id, format="docx", document=b"x"), "invalid_format"),
        (SealRequest(seal_id=seals["SM2"].id, format="ses"), "invalid_request"),
        (SealRequest(seal_id=seals["SM2"].id, format="ses", digest=b"short"), "bad_digest"),
        (
            SealRequest(
                seal_id=seals["SM2"].id, format="ses", digest=b"\0" * 32, digest_alg="sha256"
            ),
            "wrong_digest_algorithm",
        ),
        (
            SealRequest(seal_id=seals["SM2"].id, format="ofd", digest=b"\0" * 32),
            "document_required",
        ),
        (SealRequest(seal_id="ES-nope", format="cms", digest=b"\0" * 32), "seal_unknown"),
    ]
    for request, code in cases:
        with pytest.raises(SealError) as info:
            hub.sealing.seal(request, holder_id="zj", client_id="zj")
        assert info.value.code == code, request
    assert hub.sealing.operations() == []


def test_revocation_is_published_in_the_signed_trust_list(world: Any) -> None:
    from trust.trustlist import verify_trust_list

    hub, seals = world
    seal = seals["SM2"]
    hub.seals.revoke(seal.id, actor="admin", reason="key compromise")
    published = hub.trust_lists.latest()
    assert published is not None
    listed = verify_trust_list(
        published.document, roots=[c.der for c in hub.pki.roots()], at=hub.clock()
    )
    ext = listed.extensions["govtrust.seal_service"]
    assert [r["seal"] for r in ext["revoked_seals"]] == [seal.id]
    assert ext["revoked_seals"][0]["certificate_serial"] == format(seal.certificate.serial, "x")
    cas = {base64.b64decode(c) for c in ext["issuing_cas"]}
    assert {c.der for c in hub.pki.cas()} == cas
