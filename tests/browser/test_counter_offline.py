"""The counter page without the hub: the browser's own verifier (verifier/static/
offline.js over the snapshot of verifier/browser.py) gives the verdicts the
Python verifier gives — same verdict, same reason, same disclosed data — for
valid, revoked, suspended, forged, copied, stale, replayed and malformed QRs and
for hundreds of mutated presentations; and the page, once loaded, keeps working
after its server has gone: reloaded from the service worker's cache, it verifies
a scanned QR and a QR photo with the trust snapshot kept in IndexedDB."""

from __future__ import annotations

import os
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hub_helpers import demo_world, poll, serve

from keys import KeyPurpose
from license_wallet.credential import issue_credential, present_qr_text
from license_wallet.identifier import build_identifier
from license_wallet.qr import decode_qr_text, encode_qr_text, render_qr
from license_wallet.types import example_fields, license_type
from trust.crypto import generate_private_key
from verifier.bundle import check_bundle
from verifier.licenses import verify_license_qr

pytestmark = pytest.mark.chromium

ID_CARD = license_type("resident_id_card").code

# GovTrustOffline over the page's own snapshot, for a batch of QR texts at one time.
VERIFY_ALL = """async ([texts, now]) => {
  const response = await fetch("/verifier/api/snapshot");
  const trust = await GovTrustOffline.prepare(await response.json());
  const out = [];
  for (const text of texts) {
    const v = await GovTrustOffline.verifyQrText(text, trust, { now });
    out.push([v.verdict, v.reasons, v.license ? v.license.fields : null,
              v.license ? v.license.identifier : null, v.issuer ? v.issuer.id : null]);
  }
  return out;
}"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'govtrust.db'}"


@pytest.fixture
def clock() -> Any:
    # The page's own clock is the real one: the hub's must agree with it (within
    # seconds: a presentation lives 300 s). Fixed for the test, so that Python and
    # the browser can be asked about the very same moment.
    start = datetime.now(UTC).replace(microsecond=0)
    return lambda: start


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    errors: list[str] = []
    ctx.on("weberror", lambda e: errors.append(str(e.error)))
    try:
        yield ctx
    finally:
        ctx.close()
    assert errors == [], errors


class World:
    """A demo hub with a holder, licenses in every state, and crafted credentials."""

    def __init__(self, hub: Any) -> None:
        self.hub = demo_world(hub)
        self.key = generate_private_key("p256")
        self.jwk = self.key.public_key().jwk()
        self.mps = self.issue("mps", ID_CARD)
        gd = hub.registry.find("gd")
        self.gd_type = sorted(gd.license_types)[0]
        self.gd = self.issue("gd", self.gd_type)
        self.revoked = self.issue("mps", ID_CARD)
        hub.licenses.revoke(self.revoked.id, actor="test")
        self.suspended = self.issue("mps", ID_CARD)
        hub.licenses.suspend(self.suspended.id, actor="test")

    def issue(self, issuer: str, type_code: str) -> Any:
        fields = example_fields(type_code)
        return self.hub.licenses.issue(issuer, type_code, "acct", self.jwk, fields, actor="test")

    def now(self) -> datetime:
        return self.hub.clock()  # type: ignore[no-any-return]

    def qr(
        self, lic: Any, show: str = "full", *, at: datetime | None = None, key: Any = None
    ) -> str:
        signer = (key or self.key).signer("ES256")
        return present_qr_text(lic.credential, show, signer, now=at or self.now())

    def crafted(self, issuer: str, type_code: str, **times: int) -> str:
        """A credential signed with ``issuer``'s real license key, with chosen content."""
        kid, signer = self.hub.licenses._issuer_key(issuer, KeyPurpose.LICENSE)
        ref = self.mps
        t = int(self.now().timestamp())
        cred = issue_credential(
            signer,
            signer.algorithm.cose,
            issuer_id=issuer,
            type_code=type_code,
            identifier=build_identifier(type_code, "113300000024820150", "CRAFTED1", 1),
            fields=example_fields(type_code),
            holder_public_key=self.jwk,
            valid_from=t + times.get("nbf", -3600),
            valid_until=t + times.get("exp", 3600),
            status_uri=ref.status_uri,
            status_index=ref.status_idx,
            issued_at=t + times.get("iat", -3600),
            kid=ref_kid(ref.credential),
        )
        return present_qr_text(cred, "full", self.key.signer("ES256"), now=self.now())

    def python_verdicts(self, texts: list[str]) -> list[list[Any]]:
        now = self.now()
        roots = [c.der for c in self.hub.pki.roots()]
        trust = check_bundle(self.hub.verifier_bundle(), roots=roots, now=now)
        out = []
        for text in texts:
            v = verify_license_qr(text, trust, now=now)
            lic = v.license
            out.append(
                [
                    v.verdict,
                    list(v.reasons),
                    dict(lic.fields) if lic else None,
                    lic.identifier if lic else None,
                    v.issuer.participant_id if v.issuer else None,
                ]
            )
        return out


def ref_kid(credential: bytes) -> bytes:
    """The COSE kid in a credential's protected header."""
    tagged = cbor2.loads(credential)
    return bytes(cbor2.loads(tagged.value[0])[4])


def outer(text: str) -> list[Any]:
    return list(cbor2.loads(decode_qr_text(text)))


def wrap(obj: Any) -> str:
    return encode_qr_text(cbor2.dumps(obj))


@pytest.fixture
def world(hub: Any) -> World:
    return World(hub)


def js_verdicts(page: Any, texts: list[str], now: datetime) -> list[list[Any]]:
    return page.evaluate(VERIFY_ALL, [texts, int(now.timestamp())])  # type: ignore[no-any-return]


def test_browser_and_python_give_the_same_verdicts(
    world: World, context: Any, hub: Any, config: Any
) -> None:
    w = world
    other_holder = generate_private_key("p256")
    theirs = w.hub.licenses.issue(
        "mps",
        ID_CARD,
        "acct-2",
        other_holder.public_key().jwk(),
        example_fields(ID_CARD),
        actor="test",
    )
    borrowed = outer(w.qr(w.mps))
    borrowed[2] = outer(w.qr(theirs, key=other_holder))[2]  # another device's key binding
    copied = outer(w.qr(w.mps))[:2]
    extra = outer(w.qr(w.mps))
    extra[1] = [*extra[1], cbor2.dumps([os.urandom(16), 1, "张三"])]
    forged = outer(w.qr(w.gd))
    cred = cbor2.loads(forged[0])
    sig = bytearray(cred.value[3])
    sig[-1] ^= 1
    forged[0] = cbor2.dumps(cbor2.CBORTag(18, [*cred.value[:3], bytes(sig)]))
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    cases = {
        "sm2 full": w.qr(w.mps),
        "sm2 minimal": w.qr(w.mps, "minimal"),
        "es256": w.qr(w.gd),
        "revoked": w.qr(w.revoked),
        "suspended": w.qr(w.suspended),
        "copied credential": wrap(copied),
        "unsigned disclosure": wrap(extra),
        "forged issuer signature": wrap(forged),
        "another device's key": wrap(borrowed),
        "old presentation": w.qr(w.mps, at=w.now() - timedelta(seconds=400)),
        "presentation from the future": w.qr(w.mps, at=w.now() + timedelta(seconds=120)),
        "expired license": w.crafted("mps", ID_CARD, nbf=-7200, iat=-7200, exp=-60),
        "license not yet valid": w.crafted("mps", ID_CARD, nbf=3600, exp=7200),
        "type not authorised": w.crafted("mps", w.gd_type),
        "other version": "GT2:" + w.qr(w.mps)[4:],
        "junk": "GT1:NOT-A-LICENSE",
        "truncated": w.qr(w.mps)[:-7],
        "zlib bomb": "GT1:" + b45(zlib.compress(b"\0" * 1_000_000, 9)),
        "deep CBOR": "GT1:" + b45(zlib.compress(cbor2.dumps(deep))),
        "empty": "",
        "an EU DCC": "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC",
        "no prefix": "6BFOXN%TS3DH0YOJ58S",
    }
    with serve(hub, config) as url:
        page = context.new_page()
        page.goto(url + "/verifier/?verify=local")
        texts = list(cases.values())
        js = js_verdicts(page, texts, w.now())
    py = w.python_verdicts(texts)
    for name, a, b in zip(cases, py, js, strict=True):
        assert a == b, f"{name}: python {a} vs browser {b}"
    verdicts = {name: (a[0], a[1]) for name, a in zip(cases, py, strict=True)}
    assert verdicts["sm2 full"] == ("VALID", []) and verdicts["es256"] == ("VALID", [])
    assert verdicts["revoked"] == ("INVALID", ["revoked"])
    assert verdicts["suspended"] == ("INVALID", ["suspended"])
    assert verdicts["copied credential"] == ("INVALID", ["holder_binding_missing"])
    assert verdicts["unsigned disclosure"] == ("INVALID", ["disclosure_not_signed"])
    assert verdicts["forged issuer signature"] == ("INVALID", ["bad_signature"])
    assert verdicts["another device's key"] == ("INVALID", ["holder_binding_invalid"])
    assert verdicts["old presentation"] == ("INVALID", ["presentation_expired"])
    assert verdicts["presentation from the future"] == ("INVALID", ["presentation_expired"])
    assert verdicts["expired license"] == ("INVALID", ["expired"])
    assert verdicts["license not yet valid"] == ("INVALID", ["not_yet_valid"])
    assert verdicts["type not authorised"] == ("INVALID", ["issuer_not_authorized_for_type"])
    for name in ("other version", "an EU DCC"):
        assert verdicts[name] == ("INDETERMINATE", ["unsupported_version"]), name
    for name in ("junk", "truncated", "zlib bomb", "deep CBOR", "empty", "no prefix"):
        assert verdicts[name] == ("INDETERMINATE", ["malformed"]), name

    # the issuer suspended in the registry: the next snapshot says so
    hub.registry.suspend("gd", actor="test", reason="test")
    texts = [w.qr(w.gd)]
    with serve(hub, config) as url:
        page = context.new_page()
        page.goto(url + "/verifier/?verify=local")
        js = js_verdicts(page, texts, w.now())
    assert js == w.python_verdicts(texts)
    assert js[0][:2] == ["INVALID", ["issuer_inactive"]]

    # too old: a snapshot past its usable time refuses everything as stale
    later = w.now() + timedelta(days=3)
    with serve(hub, config) as url:
        page = context.new_page()
        page.goto(url + "/verifier/?verify=local")
        stale = js_verdicts(page, [w.qr(w.mps)], later)
    assert stale[0][:2] == ["INDETERMINATE", ["stale_trust_data"]]


def b45(data: bytes) -> str:
    from license_wallet.qr import b45encode

    return b45encode(data)


def mutations(text: str, rng: random.Random, n: int) -> list[str]:
    """Random changes to a presentation's CBOR (re-compressed, so they reach the
    parsers and the signature checks) and to its QR text."""
    raw = bytearray(decode_qr_text(text))
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:  # flip a bit inside the CBOR
            b = bytearray(raw)
            pos = rng.randrange(len(b))
            b[pos] ^= 1 << rng.randrange(8)
            out.append(encode_qr_text(bytes(b)))
        elif kind == 1:  # overwrite a byte
            b = bytearray(raw)
            b[rng.randrange(len(b))] = rng.randrange(256)
            out.append(encode_qr_text(bytes(b)))
        elif kind == 2:  # truncate or extend the CBOR
            cut = rng.randrange(len(raw))
            tail = bytes(rng.randrange(256) for _ in range(rng.randrange(3)))
            out.append(encode_qr_text(bytes(raw[:cut]) + tail))
        else:  # change a character of the QR text
            pos = rng.randrange(4, len(text))
            out.append(
                text[:pos]
                + rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
                + text[pos + 1 :]
            )
    return out


def test_mutated_presentations_get_the_same_verdicts(
    world: World, context: Any, hub: Any, config: Any
) -> None:
    rng = random.Random(20261127)
    texts = mutations(world.qr(world.mps), rng, 200) + mutations(world.qr(world.gd), rng, 200)
    with serve(hub, config) as url:
        page = context.new_page()
        page.goto(url + "/verifier/?verify=local")
        js = js_verdicts(page, texts, world.now())
    py = world.python_verdicts(texts)
    differ = [(t, a[:2], b[:2]) for t, a, b in zip(texts, py, js, strict=True) if a != b]
    assert differ == []
    reasons = {tuple(v[1]) for v in py}
    assert len(reasons) >= 4  # the mutations reach several checks, not only the parser


def test_page_verifies_after_the_hub_is_gone(
    world: World, context: Any, hub: Any, config: Any, tmp_path: Path
) -> None:
    w = world
    page = context.new_page()
    with serve(hub, config) as url:
        page.goto(url + "/verifier/")
        trust = page.locator("#counter-trust")
        poll(page, lambda: trust.get_attribute("data-local") == "ready", "the snapshot")
        poll(
            page,
            lambda: page.evaluate(
                "async () => navigator.serviceWorker.controller !== null &&"
                " (await (await caches.open('govtrust-counter-v1')).keys()).length >= 7"
            ),
            "the service worker's cache",
        )
        assert "可用至" in page.locator("#counter-local-trust").inner_text()
    # the hub is gone: the page comes from the service worker, the data from IndexedDB
    response = page.reload()
    assert response is not None and response.from_service_worker
    assert page.title() == "窗口核验"
    poll(
        page, lambda: page.locator("#counter-trust").get_attribute("data-local") == "ready", "data"
    )

    def scan(text: str) -> str:
        page.locator("#counter-text").focus()
        page.keyboard.insert_text(text)
        page.keyboard.press("Enter")
        return str(poll(page, lambda: verdict_of(page), "a verdict"))

    shown = w.qr(w.mps)
    assert scan(shown) == "VALID"
    result = page.locator("#counter-result")
    assert result.get_attribute("data-offline") == "yes"
    assert "本机浏览器离线核验" in page.locator("#counter-mode").inner_text()
    assert page.locator('#counter-license dd[data-field="holder_name"]').inner_text()
    assert "公安部" in page.locator("#counter-license").inner_text()
    page.locator("#counter-clear").click()
    assert page.locator("#counter-license").inner_text() == ""

    assert scan(shown) == "INVALID"  # the same QR again: caught on this device
    assert page.locator("#counter-reasons li").first.get_attribute("data-code") == "replayed"
    assert scan(w.qr(w.revoked)) == "INVALID"
    assert page.locator("#counter-reasons li").first.get_attribute("data-code") == "revoked"
    assert scan(w.qr(w.gd)) == "VALID"  # ES256 through WebCrypto

    # a photo of a wallet QR, read by jsQR in the page
    png = tmp_path / "qr.png"
    png.write_bytes(render_qr(w.qr(w.mps, "minimal"), scale=6).png)
    page.locator("#counter-file").set_input_files(str(png))
    page.locator("#counter-file-submit").click()
    assert poll(page, lambda: verdict_of(page), "a photo verdict") == "VALID"
    # a sealed document needs the hub: said so, not guessed
    doc = tmp_path / "a.pdf"
    doc.write_bytes(b"%PDF-1.7\n%%EOF\n")
    page.locator("#counter-clear").click()
    page.locator("#counter-file").set_input_files(str(doc))
    page.locator("#counter-file-submit").click()
    assert poll(page, lambda: verdict_of(page), "a document verdict") == "INDETERMINATE"
    assert "签章文件" in page.locator("#counter-reasons").inner_text()


def verdict_of(page: Any) -> str | None:
    value = page.locator("#counter-result").get_attribute("data-verdict")
    return value if value not in ("", "working", None) else None


def test_english_offline_page(world: World, context: Any, hub: Any, config: Any) -> None:
    page = context.new_page()
    with serve(hub, config) as url:
        page.goto(url + "/verifier/?lang=en&verify=local")
        poll(page, lambda: page.locator("#counter-trust").get_attribute("data-local"), "data")
        assert "usable until" in page.locator("#counter-local-trust").inner_text()
        page.locator("#counter-text").focus()
        page.keyboard.insert_text(world.qr(world.mps))
        page.keyboard.press("Enter")
        assert poll(page, lambda: verdict_of(page), "a verdict") == "VALID"
        assert "Verified offline in this browser" in page.locator("#counter-mode").inner_text()
        labels = page.locator("#counter-license dt").all_inner_texts()
        lt = license_type(ID_CARD)
        assert [f.name_en for f in lt.fields if f.name_en in labels] == [
            f.name_en for f in lt.fields
        ]
