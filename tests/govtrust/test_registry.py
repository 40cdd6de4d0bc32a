"""Participant registry: seed, onboarding, lifecycle with actors, grants, keys, events."""

from __future__ import annotations

import pytest

from govtrust.registry import Registry, RegistryError, Role, Status
from trust import generate_private_key
from trust.identifiers import make_uscc, seed_participants


@pytest.fixture
def registry(hub, clock):
    return Registry(hub.db, clock=clock)


def test_seed_is_complete_and_idempotent(registry):
    created = registry.seed(seed_participants())
    assert "hub" in created and "zj" in created and "xpcc" in created
    assert registry.seed(seed_participants()) == []
    everyone = registry.list()
    provinces = [p for p in everyone if p.level == "provincial"]
    assert len(provinces) == 32  # 31 mainland provincial-level platforms + the XPCC
    names = {p.name_zh for p in everyone}
    for dept in ("公安部", "市场监管总局", "教育部", "人力资源社会保障部", "商务部"):
        assert any(dept in n for n in names), dept
    assert all(p.status is Status.ACTIVE for p in everyone)
    assert registry.get("hub").name_zh == "国家政务服务平台"


def test_onboarding_lifecycle_records_actor_and_time(registry, clock):
    registry.seed(seed_participants())
    p = registry.apply(
        id="zj-hz-xihu",
        name_zh="杭州市西湖区行政审批局",
        name_en="Xihu District Administrative Approval Bureau",
        level="county",
        division="330106",
        parent_id="zj",
        actor="admin:alice",
    )
    assert p.status is Status.APPLIED
    clock.advance(minutes=5)
    assert registry.approve(p.id, actor="admin:bob").status is Status.APPROVED
    assert registry.activate(p.id, actor="admin:bob").status is Status.ACTIVE
    assert registry.suspend(p.id, actor="admin:carol", reason="audit").status is Status.SUSPENDED
    assert registry.reinstate(p.id, actor="admin:carol").status is Status.ACTIVE
    assert registry.revoke(p.id, actor="admin:dave").status is Status.REVOKED
    events = registry.events(p.id)
    assert [e.action for e in reversed(events)] == [
        "participant.applied",
        "participant.approved",
        "participant.active",
        "participant.suspended",
        "participant.active",
        "participant.revoked",
    ]
    assert events[0].actor == "admin:dave" and events[-1].actor == "admin:alice"
    assert events[-2].at > events[-1].at
    with pytest.raises(RegistryError) as exc:
        registry.reinstate(p.id, actor="admin:eve")
    assert exc.value.code == "invalid_transition"
    with pytest.raises(RegistryError) as exc:
        registry.grant_role(p.id, Role.SEAL_HOLDER, actor="admin:eve")
    assert exc.value.code == "participant_revoked"


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("id", "Bad Id", "invalid_id"),
        ("level", "galactic", "invalid_level"),
        ("division", "999999", "invalid_division"),
        ("uscc", "91350100M000100Y44", "invalid_uscc"),
        ("name_zh", "  ", "invalid_name"),
    ],
)
def test_invalid_applications_are_refused(registry, field, value, code):
    fields = dict(
        id="new-agency", name_zh="某局", name_en="Some Bureau", level="agency", actor="admin:alice"
    )
    fields[field] = value
    with pytest.raises(RegistryError) as exc:
        registry.apply(**fields)
    assert exc.value.code == code
    assert registry.find("new-agency") is None


def test_duplicate_id_and_uscc(registry):
    uscc = make_uscc("1", "1", "330000", "DEMTEXT1")
    registry.apply(id="a", name_zh="甲", name_en="A", level="agency", uscc=uscc, actor="x")
    with pytest.raises(RegistryError) as exc:
        registry.apply(id="a", name_zh="乙", name_en="B", level="agency", actor="x")
    assert exc.value.code == "participant_exists"
    with pytest.raises(RegistryError):
        registry.apply(id="b", name_zh="乙", name_en="B", level="agency", uscc=uscc, actor="x")


def test_roles_and_license_types(registry):
    registry.seed(seed_participants())
    with pytest.raises(RegistryError) as exc:
        registry.grant_license_type("mps", "111", actor="admin")
    assert exc.value.code == "role_required"
    registry.grant_role("mps", Role.LICENSE_ISSUER, actor="admin")
    p = registry.grant_license_type("mps", "111", actor="admin")
    assert p.license_types == ("111",) and p.has_role("license_issuer")
    assert registry.grant_license_type("mps", "111", actor="admin").license_types == ("111",)
    assert [x.id for x in registry.list(role=Role.LICENSE_ISSUER)] == ["mps"]
    p = registry.revoke_role("mps", Role.LICENSE_ISSUER, actor="admin")
    assert p.license_types == () and not p.has_role("license_issuer")


def test_key_registration(registry):
    registry.seed(seed_participants())
    key = generate_private_key("sm2")
    view = registry.register_key(
        "zj",
        purpose="license",
        algorithm="SM2",
        actor="admin",
        public_key_pem=key.public_key().pem(),
    )
    assert view.jwk["crv"] == "SM2" and view.kid == key.public_key().thumbprint()[:22]
    with pytest.raises(RegistryError) as exc:
        registry.register_key(
            "zj",
            purpose="license",
            algorithm="SM2",
            actor="admin",
            public_key_pem=key.public_key().pem(),
        )
    assert exc.value.code == "key_exists"
    with pytest.raises(RegistryError) as exc:
        registry.register_key(
            "zj",
            purpose="license",
            algorithm="ES256",
            actor="admin",
            public_key_pem=generate_private_key("sm2").public_key().pem(),
        )
    assert exc.value.code == "invalid_key"
    with pytest.raises(RegistryError) as exc:
        registry.register_key(
            "zj", purpose="license", algorithm="SM2", actor="admin", public_key_pem=b"garbage"
        )
    assert exc.value.code == "invalid_key"
    registry.retire_key("zj", view.kid, actor="admin")
    assert registry.get("zj").keys[0].status == "retired"


def test_every_change_goes_to_the_event_log(hub, clock):
    seen: list[tuple[str, dict]] = []

    class Recorder:
        def append(self, session, kind, data):
            seen.append((kind, dict(data)))
            return len(seen) - 1

    registry = Registry(hub.db, log=Recorder(), clock=clock)
    registry.apply(id="x", name_zh="某", name_en="X", level="agency", actor="admin:a")
    registry.approve("x", actor="admin:b")
    registry.grant_role("x", "seal_holder", actor="admin:b")
    assert [k for k, _ in seen] == [
        "participant.applied",
        "participant.approved",
        "participant.role_granted",
    ]
    assert seen[1][1]["actor"] == "admin:b" and seen[1][1]["participant"] == "x"
    assert [e.log_index for e in reversed(registry.events("x"))] == [0, 1, 2]


def test_failed_change_leaves_no_event(hub, clock):
    seen = []

    class Recorder:
        def append(self, session, kind, data):
            seen.append(kind)
            return 0

    registry = Registry(hub.db, log=Recorder(), clock=clock)
    registry.apply(id="x", name_zh="某", name_en="X", level="agency", actor="a")
    with pytest.raises(RegistryError):
        registry.activate("x", actor="a")  # applied → active skips approval
    assert seen == ["participant.applied"]
    assert len(registry.events("x")) == 1


def test_registry_and_key_changes_reach_the_transparency_log(hub):
    """Hub wiring: participant changes and key lifecycle are log leaves, in the same transaction."""
    hub.keys.generate("log", "EdDSA")
    hub.registry.apply(id="x", name_zh="某", name_en="X", level="agency", actor="admin:a")
    hub.registry.approve("x", actor="admin:b")
    hub.keys.rotate("log", "EdDSA")
    kinds = [e.kind for e in hub.log.entries(0, hub.log.head().size)]
    assert kinds == [
        "key.generated",
        "participant.applied",
        "participant.approved",
        "key.generated",
        "key.rotated",
    ]
    last = hub.registry.events("x")[0]
    assert last.log_index == 2
    assert hub.log.entries(2, 3)[0].data["actor"] == "admin:b"


def test_find_without_keys_is_find_with_its_keys_left_out(hub) -> None:
    """The hot-path read (three Core statements) gives the same view as the ORM
    read, keys excepted; an unknown participant is None on both."""
    import dataclasses

    hub.registry.seed(seed_participants())
    hub.registry.register_key(
        "zj",
        purpose="license",
        algorithm="SM2",
        actor="admin",
        public_key_pem=generate_private_key("sm2").public_key().pem(),
    )
    assert hub.registry.find("zj").keys  # so that leaving keys out is seen
    for view in hub.registry.list():
        full = hub.registry.find(view.id)
        light = hub.registry.find(view.id, keys=False)
        assert full is not None and light is not None
        assert light.keys == ()
        assert dataclasses.replace(full, keys=()) == light
    assert hub.registry.find("no-such-participant", keys=False) is None
    assert hub.registry.find("no-such-participant") is None
