"""Signed trust list: tampering, wrong signer, rollback, equivocation, staleness,
root rotation (announced and forged), one-family verifiers, empty policies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from trust import b64url, b64url_decode, generate_private_key
from trust.pki import issue_ca, issue_end_entity, issue_root
from trust.trustlist import (
    TrustListClient,
    TrustListError,
    TrustListSigner,
    build_payload,
    sign_trust_list,
    verify_trust_list,
)

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


class Hierarchy:
    """A hub PKI for one family: root → issuing CA → trust-list signer."""

    def __init__(self, family: str, alg: str, label: str) -> None:
        self.alg = alg
        root_key, ca_key, ee_key = (generate_private_key(family) for _ in range(3))
        life = dict(not_before=T0 - timedelta(days=1), not_after=T0 + timedelta(days=3650))
        self.root = issue_root(
            root_key.signer(alg), f"CN={label} 根 CA,O=国家政务服务平台,C=CN", path_length=1, **life
        )
        self.ca = issue_ca(
            root_key.signer(alg), self.root, ca_key.public_key(), f"CN={label} 运营 CA,C=CN", **life
        )
        self.leaf = issue_end_entity(
            ca_key.signer(alg),
            self.ca,
            ee_key.public_key(),
            f"CN={label} 信任列表签名,C=CN",
            purpose="trust_list",
            **life,
        )
        self.signer = TrustListSigner(ee_key.signer(alg), (self.leaf, self.ca))
        self.ca_key = ca_key


@pytest.fixture(scope="module")
def sm2():
    return Hierarchy("sm2", "SM2", "SM2")


@pytest.fixture(scope="module")
def ecc():
    return Hierarchy("p256", "ES256", "ECC")


PARTICIPANTS = [
    {
        "id": "zj",
        "name_zh": "浙江政务服务网",
        "name_en": "Zhejiang",
        "level": "provincial",
        "status": "active",
        "roles": ["license_issuer", "relying_party"],
        "license_types": ["111"],
        "keys": [
            {"kid": "k1", "purpose": "license", "alg": "SM2", "jwk": {"kty": "EC"}, "x5c": []}
        ],
        "division": "330000",
    },
    {
        "id": "gd",
        "name_zh": "广东政务服务网",
        "name_en": "Guangdong",
        "level": "provincial",
        "status": "suspended",
        "roles": ["license_issuer"],
        "license_types": ["111"],
        "keys": [],
    },
]


def make(
    hs,
    *,
    seq=1,
    issued=T0,
    valid=timedelta(hours=24),
    roots=None,
    announced=(),
    participants=PARTICIPANTS,
):
    roots = [h.root.der for h in hs] if roots is None else roots
    payload = build_payload(
        sequence=seq,
        issuer="hub",
        issued_at=issued,
        next_update=issued + valid,
        participants=participants,
        roots=roots,
        announced_roots=announced,
    )
    return sign_trust_list(payload, [h.signer for h in hs])


def client(tmp_path, roots, **kw):
    return TrustListClient(roots=[r.der for r in roots], state_dir=tmp_path / "state", **kw)


def test_valid_list_and_lookups(sm2, ecc):
    tl = verify_trust_list(make([sm2, ecc]), roots=[sm2.root.der, ecc.root.der], at=T0)
    assert tl.sequence == 1
    assert tl.is_authorised("zj", "111") and not tl.is_authorised("zj", "222")
    assert not tl.is_authorised("gd", "111")  # suspended issuers are not trusted
    assert not tl.is_authorised("nobody", "111")
    assert [k.kid for k in tl.keys_for("zj", "license")] == ["k1"]
    assert tl.find_keys("k1")[0][0].id == "zj"


@pytest.mark.parametrize("only", ["sm2", "ecc"])
def test_a_verifier_pinning_one_family_checks_that_signature(sm2, ecc, only):
    h = {"sm2": sm2, "ecc": ecc}[only]
    tl = verify_trust_list(make([sm2, ecc]), roots=[h.root.der], at=T0, algorithms={h.alg})
    assert tl.sequence == 1


def _tamper_payload(doc: bytes) -> bytes:
    obj = json.loads(doc)
    payload = json.loads(b64url_decode(obj["payload"]))
    payload["participants"][1]["status"] = "active"
    obj["payload"] = b64url(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    return json.dumps(obj).encode()


def test_tampered_list_is_refused(sm2, ecc):
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(_tamper_payload(make([sm2, ecc])), roots=[sm2.root.der], at=T0)
    assert exc.value.code == "bad_signature"


def test_one_bad_signature_among_good_ones_is_refused(sm2, ecc):
    obj = json.loads(make([sm2, ecc]))
    sig = bytearray(b64url_decode(obj["signatures"][1]["signature"]))
    sig[5] ^= 1
    obj["signatures"][1]["signature"] = b64url(bytes(sig))
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(json.dumps(obj).encode(), roots=[sm2.root.der, ecc.root.der], at=T0)
    assert exc.value.code == "bad_signature"


def test_wrong_signer_is_refused(sm2, ecc):
    mallory = Hierarchy("sm2", "SM2", "SM2")  # same names, different keys
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(make([mallory]), roots=[sm2.root.der, ecc.root.der], at=T0)
    assert exc.value.code == "untrusted_signer"


def test_signer_certificate_for_another_purpose_is_refused(sm2):
    key = generate_private_key("sm2")
    life = dict(not_before=T0 - timedelta(days=1), not_after=T0 + timedelta(days=30))
    seal_cert = issue_end_entity(
        sm2.ca_key.signer("SM2"), sm2.ca, key.public_key(), "CN=seal,C=CN", purpose="seal", **life
    )
    doc = sign_trust_list(
        build_payload(
            sequence=1,
            issuer="hub",
            issued_at=T0,
            next_update=T0 + timedelta(1),
            participants=[],
            roots=[sm2.root.der],
        ),
        [TrustListSigner(key.signer("SM2"), (seal_cert, sm2.ca))],
    )
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(doc, roots=[sm2.root.der], at=T0)
    assert exc.value.code == "untrusted_signer"


def test_rollback_and_equivocation(tmp_path, sm2):
    c = client(tmp_path, [sm2.root])
    c.accept(make([sm2], seq=1), now=T0)
    c.accept(make([sm2], seq=2), now=T0)
    with pytest.raises(TrustListError) as exc:
        c.accept(make([sm2], seq=1), now=T0)
    assert exc.value.code == "rollback"
    with pytest.raises(TrustListError) as exc:  # same number, other content
        c.accept(make([sm2], seq=2, participants=PARTICIPANTS[:1]), now=T0)
    assert exc.value.code == "equivocation"
    # The highest sequence survives a restart (persisted).
    again = client(tmp_path, [sm2.root])
    assert again.sequence == 2
    with pytest.raises(TrustListError):
        again.accept(make([sm2], seq=1), now=T0)


def test_stale_and_future_lists(tmp_path, sm2):
    c = client(tmp_path, [sm2.root], grace=timedelta(hours=2))
    doc = make([sm2], seq=1)
    c.accept(doc, now=T0 + timedelta(hours=25))  # within next_update + grace
    with pytest.raises(TrustListError) as exc:
        c.current(now=T0 + timedelta(hours=26, seconds=1))
    assert exc.value.code == "stale"
    with pytest.raises(TrustListError) as exc:
        client(tmp_path / "b", [sm2.root]).accept(
            make([sm2], seq=1, issued=T0 + timedelta(hours=1)), now=T0
        )
    assert exc.value.code == "not_yet_valid"


def test_root_rotation_announced_by_the_old_root_is_followed(tmp_path, sm2):
    new = Hierarchy("sm2", "SM2", "SM2 第二代")
    c = client(tmp_path, [sm2.root])
    # A list signed only under the new root, not yet announced: refused.
    with pytest.raises(TrustListError) as exc:
        c.accept(make([new], seq=1, roots=[new.root.der]), now=T0)
    assert exc.value.code == "untrusted_signer"
    # The old root announces the new one ...
    c.accept(make([sm2], seq=1, announced=[new.root.der]), now=T0)
    assert new.root.der in c.roots
    # ... and a list signed under the new root alone is now accepted; it drops the old root.
    c.accept(make([new], seq=2, roots=[new.root.der]), now=T0)
    assert c.roots == [new.root.der]
    with pytest.raises(TrustListError) as exc:
        c.accept(make([sm2], seq=3), now=T0)
    assert exc.value.code == "untrusted_signer"


def test_forged_rotation_is_refused(tmp_path, sm2):
    mallory = Hierarchy("sm2", "SM2", "SM2")
    c = client(tmp_path, [sm2.root])
    # Mallory announces her own root in a list she signs herself: not under a pinned root.
    with pytest.raises(TrustListError) as exc:
        c.accept(
            make([mallory], seq=5, roots=[mallory.root.der], announced=[mallory.root.der]), now=T0
        )
    assert exc.value.code == "untrusted_signer"
    assert c.roots == [sm2.root.der] and c.sequence == 0


def test_empty_policy_and_empty_list_trust_nothing(tmp_path, sm2):
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(make([sm2]), roots=[], at=T0)
    assert exc.value.code == "no_trust_anchor"
    with pytest.raises(TrustListError):
        TrustListClient(roots=[], state_dir=tmp_path)
    tl = verify_trust_list(make([sm2], participants=[]), roots=[sm2.root.der], at=T0)
    assert tl.participants == {} and not tl.is_authorised("zj", "111")
    assert tl.find_keys("k1") == [] and tl.keys_for("zj", "license") == []
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(make([sm2]), roots=[sm2.root.der], at=T0, algorithms={"EdDSA"})
    assert exc.value.code == "malformed"


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"{}",
        b"[]",
        b"not json",
        b'{"payload":"","signatures":[]}',
        b'{"payload":"e30","signatures":[{"protected":"e30","signature":""}]}',
    ],
)
def test_malformed_documents_give_typed_errors(sm2, doc):
    with pytest.raises(TrustListError) as exc:
        verify_trust_list(doc, roots=[sm2.root.der], at=T0)
    assert exc.value.code in {"malformed", "untrusted_signer"}


def test_no_current_list_before_the_first_accept(tmp_path, sm2):
    with pytest.raises(TrustListError) as exc:
        client(tmp_path, [sm2.root]).current(now=T0)
    assert exc.value.code == "no_trust_list"
