"""Offline verdicts on the hub's ID tokens (verifier/id_tokens.py): a real token
from the IdP's signer checked through the synced trust list, and every way a
token can be wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hub_helpers import demo_world

from keys import KeyPurpose
from trust.crypto import b64url, generate_private_key
from trust.jws import sign_compact
from verifier.bundle import accept_bundle
from verifier.id_tokens import looks_like_jwt, verify_id_token


@pytest.fixture
def world(hub: Any, tmp_path: Path) -> Any:
    demo_world(hub)
    hub.ensure_hub_keys()
    roots = b"".join(c.pem() for c in hub.pki.roots())
    trust = accept_bundle(hub.verifier_bundle(), tmp_path / "c", now=hub.clock(), roots_pem=roots)
    return hub, trust


def signer(hub: Any, alg: str | None = None) -> Any:
    infos = [
        k
        for k in hub.keys.list(purpose=KeyPurpose.ID_TOKEN)
        if alg is None or k.algorithm.name == alg
    ]
    assert infos, f"no {alg} ID-token key"
    return hub.keys.signer_for(infos[0].kid, KeyPurpose.ID_TOKEN)


def token(hub: Any, alg: str | None = None, header: dict | None = None, **claims: Any) -> str:
    now = int(hub.clock().timestamp())
    body = {
        "iss": hub.config.base_url,
        "sub": "pairwise-abc",
        "aud": "zj-portal",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "acr": "loa2",
        "amr": ["pwd", "otp"],
        "name": "张三",
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return sign_compact(
        json.dumps(body).encode(), signer(hub, alg), {"typ": "JWT", **(header or {})}
    )


@pytest.mark.parametrize("alg", ["RS256", "ES256", "SM2"])
def test_hub_id_tokens_verify_offline(world: Any, alg: str) -> None:
    hub, trust = world
    if not any(k.algorithm.name == alg for k in hub.keys.list(purpose=KeyPurpose.ID_TOKEN)):
        hub.keys.generate(KeyPurpose.ID_TOKEN, alg, label=f"test {alg}")
        hub.trust_lists.publish()
        roots = b"".join(c.pem() for c in hub.pki.roots())
        trust = accept_bundle(
            hub.verifier_bundle(),
            Path(hub.config.data_dir) / "c2",
            now=hub.clock(),
            roots_pem=roots,
        )
    t = token(hub, alg)
    assert looks_like_jwt(t)
    v = verify_id_token(t, trust, now=hub.clock(), audience="zj-portal", nonce="n-1")
    assert (v.verdict, v.reasons) == ("VALID", ()), v
    assert v.claims["name"] == "张三" and v.claims["acr"] == "loa2"
    assert "nonce" not in v.claims  # shown claims only


def test_wrong_tokens(world: Any) -> None:
    hub, trust = world
    now = hub.clock()

    def reason(t: str, **kw: Any) -> tuple[str, tuple[str, ...]]:
        v = verify_id_token(t, trust, now=hub.clock(), **kw)
        return v.verdict, v.reasons

    good = token(hub)
    head, body, sig = good.split(".")
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    assert reason(f"{head}.{body}.{flipped}") == ("INVALID", ("bad_signature",))
    assert reason(good, audience="gd-portal") == ("INVALID", ("audience_mismatch",))
    assert reason(good, nonce="other") == ("INVALID", ("nonce_mismatch",))
    ts = int(now.timestamp())
    assert reason(token(hub, exp=ts - 60)) == ("INVALID", ("expired",))
    assert reason(token(hub, iat=ts + 600)) == ("INVALID", ("not_yet_valid",))
    assert reason(token(hub, iss="https://evil.example")) == ("INVALID", ("untrusted_issuer",))
    assert reason(token(hub, header={"typ": "at+jwt"})) == ("INVALID", ("wrong_token_type",))
    assert reason(token(hub, events={"x": {}})) == ("INVALID", ("wrong_token_type",))
    assert reason(token(hub, sub=None)) == ("INDETERMINATE", ("malformed",))
    rogue = generate_private_key("p256").signer("ES256")
    forged = sign_compact(json.dumps({"iss": hub.config.base_url}).encode(), rogue, {"kid": "x"})
    assert reason(forged) == ("INVALID", ("untrusted_issuer",))
    none_alg = f"{b64url(json.dumps({'alg': 'none'}).encode())}.{body}."
    assert reason(none_alg)[0] in ("INVALID", "INDETERMINATE")
    assert reason(none_alg)[0] != "VALID"
    hs = f"{b64url(json.dumps({'alg': 'HS256', 'kid': 'k'}).encode())}.{body}.{sig}"
    assert reason(hs) == ("INVALID", ("bad_signature",))
    for junk in ("", "a.b", "x" * 20_000, "GT1:ABC", "ééé.ééé.ééé"):
        assert reason(junk)[0] == "INDETERMINATE"
    hub.clock.advance(hours=60)
    assert reason(token(hub)) == ("INDETERMINATE", ("stale_trust_data",))
