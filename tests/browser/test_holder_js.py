"""license_wallet/static/holder.js in headless Chromium: the non-extractable WebCrypto holder
key, the browser-built presentation (CBOR, key binding, sd_hash, Base45, zlib) checked by the
Python verifier, and the encoders checked against the Python ones.

The module is served by a tiny Flask app with a strict CSP (``script-src 'self'``, no
``unsafe-eval``, no inline script); a test page module imports it and exposes it as
``window.holder``. Playwright's ``page.evaluate`` goes through the DevTools protocol, so the CSP
does not stop it; nothing here waits on ``wait_for_function``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from flask import Flask, Response, send_from_directory
from werkzeug.serving import make_server

from license_wallet.credential import (
    VerifiedLicense,
    issue_credential,
    verify_presentation,
)
from license_wallet.errors import CredentialError
from license_wallet.identifier import build_identifier
from license_wallet.qr import b45encode, decode_qr_text, inflate
from license_wallet.types import example_fields, license_type
from trust.cose import decode_sign1, encode_deterministic
from trust.crypto import PublicKey, Signer, generate_private_key, public_key_from_jwk

pytestmark = pytest.mark.chromium

STATIC = Path(__file__).parents[2] / "license_wallet" / "static"
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>holder.js</title>'
    '<script type="module" src="/test-page.js"></script></head><body></body></html>'
)
PAGE_MODULE = 'import * as holder from "/static/holder.js";\nwindow.holder = holder;\n'

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NOW = int((T0 + timedelta(days=30)).timestamp())
ISSUER_USCC = "113300000024820150"
KID = b"zjgat-01"
ID_CARD = license_type("resident_id_card")
H_DISCLOSURES = -65537


# --------------------------------------------------------------------------- fixtures


def create_test_app() -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index() -> Response:
        return Response(PAGE, mimetype="text/html")

    @app.get("/test-page.js")
    def page_module() -> Response:
        return Response(PAGE_MODULE, mimetype="text/javascript")

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC, name, mimetype="text/javascript")

    return app


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_test_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="holder-js", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


def open_page(context: Any, url: str, problems: list[str]) -> Any:
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    response = page.goto(url + "/")
    assert response.status == 200
    assert response.headers["content-security-policy"] == CSP
    wait_for_module(page)
    return page


def wait_for_module(page: Any) -> None:
    """Poll from Python: the CSP has no 'unsafe-eval', so no wait_for_function."""
    for _ in range(100):
        if page.evaluate("() => typeof window.holder === 'object'"):
            return
        time.sleep(0.05)
    raise AssertionError("holder.js did not load")


@pytest.fixture
def page(context: Any, server_url: str) -> Iterator[Any]:
    problems: list[str] = []
    page = open_page(context, server_url, problems)
    yield page
    assert problems == [], f"CSP refusals or script errors: {problems}"


@pytest.fixture(scope="module")
def issuer() -> Signer:
    return generate_private_key("p256").signer("ES256")


def lookup_for(issuer: Signer) -> Any:
    def find(iss: str, kid: bytes | None) -> list[PublicKey]:
        return [issuer.public_key] if (iss, kid) == ("zj-gat", KID) else []

    return find


def holder_jwk(page: Any) -> dict[str, str]:
    return page.evaluate("async () => (await window.holder.getOrCreateHolderKey()).publicJwk")


def issue(issuer: Signer, holder: dict[str, str] | PublicKey, **overrides: Any) -> bytes:
    args: dict[str, Any] = dict(
        issuer_id="zj-gat",
        type_code=ID_CARD.code,
        identifier=build_identifier(ID_CARD.code, ISSUER_USCC, "330100202600012345", 1),
        fields=example_fields(ID_CARD.code),
        holder_public_key=holder,
        valid_from=T0,
        valid_until=T0 + timedelta(days=365 * 20),
        status_uri="https://zwfw.gov.cn/sl/zj-gat/1",
        status_index=7,
        issued_at=T0,
        kid=KID,
    )
    args.update(overrides)
    return issue_credential(issuer, issuer.algorithm.cose, **args)


BUILD = """async ([cred, show, nonce, aud, now, qr]) => {
    const opts = {now, aud: aud ?? undefined,
                  nonce: nonce === null ? undefined : new Uint8Array(nonce)};
    const c = new Uint8Array(cred);
    if (qr) return await window.holder.presentationQrText(c, show, opts);
    return Array.from(await window.holder.buildPresentation(c, show, opts));
}"""


def build(
    page: Any,
    credential: bytes,
    show: str | list[int],
    *,
    nonce: bytes | None = None,
    aud: str | None = None,
    now: int = NOW,
) -> bytes:
    """The presentation bytes the browser builds."""
    args = [list(credential), show, None if nonce is None else list(nonce), aud, now, False]
    return bytes(page.evaluate(BUILD, args))


def build_qr(page: Any, credential: bytes, show: str | list[int], **kw: Any) -> str:
    nonce = kw.get("nonce")
    args = [
        list(credential),
        show,
        None if nonce is None else list(nonce),
        kw.get("aud"),
        kw.get("now", NOW),
        True,
    ]
    return str(page.evaluate(BUILD, args))


def verify(data: str | bytes, issuer: Signer, **kwargs: Any) -> VerifiedLicense:
    kwargs.setdefault("now", NOW + 5)
    return verify_presentation(data, issuer_keys=lookup_for(issuer), **kwargs)


def rejected(code: str, data: str | bytes, issuer: Signer, **kwargs: Any) -> None:
    with pytest.raises(CredentialError) as exc:
        verify(data, issuer, **kwargs)
    assert exc.value.code == code, exc.value


# --------------------------------------------------------------------------- the holder key


def test_holder_key_is_non_extractable_p256_and_survives_a_reload(page, context, server_url):
    first = page.evaluate(
        """async () => {
        const {privateKey, publicJwk} = await window.holder.getOrCreateHolderKey();
        let exported = "exported";
        for (const format of ["jwk", "pkcs8"]) {
            try { await crypto.subtle.exportKey(format, privateKey); }
            catch (e) { exported = e.name; continue; }
            return {exported: format};
        }
        return {exported, extractable: privateKey.extractable, usages: privateKey.usages,
                algorithm: privateKey.algorithm, type: privateKey.type, publicJwk};
    }"""
    )
    assert first["exported"] == "InvalidAccessError"
    assert first["extractable"] is False
    assert first["usages"] == ["sign"]
    assert first["algorithm"] == {"name": "ECDSA", "namedCurve": "P-256"}
    assert first["type"] == "private"
    jwk = first["publicJwk"]
    assert set(jwk) == {"kty", "crv", "x", "y"} and jwk["crv"] == "P-256"
    public_key_from_jwk(jwk)  # a valid point

    page.reload()
    wait_for_module(page)
    assert holder_jwk(page) == jwk
    other_tab = open_page(context, server_url, [])
    assert holder_jwk(other_tab) == jwk
    stored = page.evaluate(
        """() => new Promise((resolve, reject) => {
        const req = indexedDB.open("govtrust-wallet");
        req.onsuccess = () => {
            const get = req.result.transaction("keys").objectStore("keys").getAllKeys();
            get.onsuccess = () => { resolve(get.result); req.result.close(); };
            get.onerror = () => reject(get.error);
        };
        req.onerror = () => reject(req.error);
    })"""
    )
    assert stored == ["holder"]


def test_another_browser_profile_has_another_key_and_a_race_creates_one(page, browser, server_url):
    fresh = browser.new_context()
    try:
        racing = open_page(fresh, server_url, [])
        keys = racing.evaluate(
            """() => Promise.all([1, 2, 3].map(() => window.holder.getOrCreateHolderKey()))
                .then((all) => all.map((k) => k.publicJwk))"""
        )
        assert keys[0] == keys[1] == keys[2] == holder_jwk(racing)
        assert keys[0] != holder_jwk(page)
    finally:
        fresh.close()


# --------------------------------------------------------------------------- presentations


@pytest.mark.parametrize("disclosure", ["minimal", "full"])
def test_browser_presentation_verifies_in_python(page, issuer, disclosure):
    jwk = holder_jwk(page)
    credential = issue(issuer, jwk)
    fields = example_fields(ID_CARD.code)
    if disclosure == "minimal":
        keys = list(ID_CARD.minimal_keys)
        show: str | list[int] = [ID_CARD.field(k).label for k in reversed(keys)]
    else:
        keys, show = list(ID_CARD.keys), "full"
    nonce = secrets.token_bytes(16)

    text = build_qr(page, credential, show, nonce=nonce, aud="counter-42")
    assert re.fullmatch(r"GT1:[0-9A-Z $%*+\-./:]+", text)
    result = verify(text, issuer, expected_nonce=nonce, expected_aud="counter-42")
    assert dict(result.fields) == {k: fields[k] for k in keys}
    assert result.nonce == nonce and result.aud == "counter-42"
    assert result.kb_issued_at == datetime.fromtimestamp(NOW, UTC)
    assert result.holder_key == public_key_from_jwk(jwk)
    assert "sd_hash" in result.checks and "kb_signature" in result.checks

    # The exact layout of docs/licenses.md §5: deterministic CBOR throughout, the
    # credential with an empty unprotected header, disclosures in schema order.
    body = decode_qr_text(text)
    assert encode_deterministic(cbor2.loads(body)) == body
    cred, shown, kb = cbor2.loads(body)
    issued = decode_sign1(credential)
    assert cred == encode_deterministic(
        cbor2.CBORTag(18, [issued.protected_bytes, {}, issued.payload, issued.signature])
    )
    in_schema_order = [
        d
        for d in issued.unprotected[H_DISCLOSURES]
        if cbor2.loads(d)[1] in {ID_CARD.field(k).label for k in keys}
    ]
    assert shown == in_schema_order
    token = decode_sign1(kb)
    assert dict(token.protected) == {1: -7, 16: "gt-kb"} and dict(token.unprotected) == {}
    assert len(token.signature) == 64
    claims = cbor2.loads(token.payload)
    assert set(claims) == {6, -65540, 39, 3}
    assert claims[-65540] == hashlib.sha256(encode_deterministic([cred, shown])).digest()[:16]


def test_changing_a_credential_byte_breaks_verification(page, issuer):
    credential = issue(issuer, holder_jwk(page))
    assert verify(build(page, credential, "full"), issuer).fields

    signature_flipped = credential[:-1] + bytes([credential[-1] ^ 0x01])
    rejected("license_signature_invalid", build(page, signature_flipped, "full"), issuer)

    # A disclosure changed in the wallet's copy: its digest is no longer signed.
    msg = decode_sign1(credential)
    disclosures = list(msg.unprotected[H_DISCLOSURES])
    salt, label, value = cbor2.loads(disclosures[0])
    disclosures[0] = encode_deterministic([salt, label, value + "甲"])
    forged = encode_deterministic(
        cbor2.CBORTag(
            18,
            [msg.protected_bytes, {H_DISCLOSURES: disclosures}, msg.payload, msg.signature],
        )
    )
    rejected("disclosure_unknown", build(page, forged, "full"), issuer)

    # The last byte of a presentation is the last byte of the key-binding signature.
    body = build(page, credential, [1])
    rejected("kb_invalid", body[:-1] + bytes([body[-1] ^ 0x01]), issuer)


def test_the_nonce_and_audience_are_carried_and_checked(page, issuer):
    credential = issue(issuer, holder_jwk(page))
    nonce = secrets.token_bytes(8)
    body = build(page, credential, [1, 2], nonce=nonce, aud="counter-42")
    assert verify(body, issuer, expected_nonce=nonce).nonce == nonce
    rejected("kb_nonce_mismatch", body, issuer, expected_nonce=secrets.token_bytes(8))
    rejected("kb_aud_mismatch", body, issuer, expected_aud="counter-43")
    without = build(page, credential, [1, 2])
    rejected("kb_nonce_mismatch", without, issuer, expected_nonce=nonce)
    rejected("kb_stale", body, issuer, now=NOW + 301)


@pytest.mark.parametrize(
    ("show", "nonce", "aud", "error"),
    [
        ([4], None, None, "field_missing"),  # the ID card has no label 4
        ("minimal", None, None, "show is"),
        ([1], b"", None, "nonce must be"),
        ([1], b"\x00" * 65, None, "nonce must be"),
        ([1], None, "", "aud must be"),
    ],
)
def test_the_browser_refuses_bad_requests(page, issuer, show, nonce, aud, error):
    from playwright.sync_api import Error

    credential = issue(issuer, holder_jwk(page))
    with pytest.raises(Error, match=error):
        build(page, credential, show, nonce=nonce, aud=aud)


def test_a_credential_bound_to_another_key_is_refused_in_the_browser(page, issuer):
    from playwright.sync_api import Error

    other = generate_private_key("p256").signer("ES256").public_key
    with pytest.raises(Error, match="holder_key_mismatch"):
        build(page, issue(issuer, other), "full")


def test_refreshing_signs_a_new_token_with_the_clock(page, issuer):
    started = int(time.time())
    credential = issue(
        issuer,
        holder_jwk(page),
        valid_from=started - 3600,
        issued_at=started - 3600,
        valid_until=started + 3600,
    )
    texts = page.evaluate(
        """([cred]) => new Promise((resolve, reject) => {
        const texts = [];
        const stop = window.holder.startRefreshing(new Uint8Array(cred), [1], {},
            (text) => { texts.push(text); if (texts.length === 2) { stop(); resolve(texts); } },
            reject, 50);
    })""",
        [list(credential)],
    )
    assert len(texts) == 2 and texts[0] != texts[1]
    for text in texts:
        result = verify(text, issuer, now=time.time())
        assert abs(result.kb_issued_at.timestamp() - started) <= 5
        assert dict(result.fields) == {"holder_name": example_fields(ID_CARD.code)["holder_name"]}


# --------------------------------------------------------------------------- encoders


def test_cbor_encoding_matches_python_deterministic_encoding(page):
    ints = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1]
    ints += [-1, -24, -25, -256, -257, -65537, -65540, -(2**32) - 1, -(2**53) + 1]
    encoded = page.evaluate(
        """(ints) => {
        const h = window.holder;
        const value = [
            ints,
            new Map([[24, 1], [-1, 2], [1, 3], ["a", 4], [-65540, 5], [65535, 6], ["", 7]]),
            new Uint8Array([0, 1, 255]), new Uint8Array(300), "电子证照 gt-kb", "",
            [true, false, []], new h.Tag(18, [new Map(), new Uint8Array(0)]),
        ];
        return Array.from(h.cborEncode(value));
    }""",
        ints,
    )
    expected = [
        ints,
        {24: 1, -1: 2, 1: 3, "a": 4, -65540: 5, 65535: 6, "": 7},
        b"\x00\x01\xff",
        bytes(300),
        "电子证照 gt-kb",
        "",
        [True, False, []],
        cbor2.CBORTag(18, [{}, b""]),
    ]
    assert bytes(encoded) == encode_deterministic(expected)


def test_cbor_decoder_reads_python_output(page):
    data = encode_deterministic({1: [b"\x01\x02", "文本", -65537, True], "k": {2: 2**40}})
    decoded = page.evaluate(
        """([data]) => {
        const v = window.holder.cborDecode(new Uint8Array(data));
        const inner = v.get(1);
        return [Array.from(inner[0]), inner[1], inner[2], inner[3], v.get("k").get(2), v.size];
    }""",
        [list(data)],
    )
    assert decoded == [[1, 2], "文本", -65537, True, 2**40, 2]


@pytest.mark.parametrize(
    ("hex_input", "message"),
    [
        ("0000", "trailing"),
        ("9f00ff", "indefinite"),
        ("5f4100ff", "indefinite"),
        ("81" * 12 + "00", "deeply"),
        ("5b00000000ffffffff", "truncated"),
        ("9affffffff", "truncated"),
        ("f93c00", "float"),
        ("f6", "simple"),
        ("d81800", "tag 24"),
        ("a201000100", "duplicate"),
        ("a1f400", "map key"),
        ("61ff", "decode"),  # not UTF-8
        ("1b0020000000000000", "too large"),
        ("", "truncated"),
    ],
)
def test_cbor_decoder_is_bounded(page, hex_input, message):
    outcome = page.evaluate(
        """([data]) => {
        try { window.holder.cborDecode(new Uint8Array(data), {maxDepth: 8}); return "accepted"; }
        catch (e) { return e.name + ": " + e.message; }
    }""",
        [list(bytes.fromhex(hex_input))],
    )
    assert outcome != "accepted"
    assert message.lower() in outcome.lower(), outcome


def test_base45_and_zlib_match_python(page):
    samples = [b"", b"\x00", b"AB", b"ietf!", b"\xff\xff", b"\xff", secrets.token_bytes(1001)]
    samples.append(encode_deterministic(["GovTrust"] * 200))
    results = page.evaluate(
        """async (samples) => {
        const h = window.holder;
        const out = [];
        for (const s of samples) {
            const bytes = new Uint8Array(s);
            out.push([h.base45Encode(bytes), Array.from(await h.zlibCompress(bytes))]);
        }
        return out;
    }""",
        [list(s) for s in samples],
    )
    assert results[3][0] == "QED8WEX0"  # RFC 9285 §4.3 example: "ietf!"
    for sample, (text, compressed) in zip(samples, results, strict=True):
        assert text == b45encode(sample)
        assert compressed[0] == 0x78  # an RFC 1950 header, not raw deflate or gzip
        assert zlib.decompress(bytes(compressed)) == sample
        assert inflate(bytes(compressed)) == sample
    assert len(results[-1][1]) < 100  # it really compresses


def test_module_has_no_eval_and_page_runs_under_the_strict_csp(page):
    source = (STATIC / "holder.js").read_text()
    assert not re.search(r"\beval\s*\(|new\s+Function\s*\(|setTimeout\(\s*['\"]", source)
    assert "script-src 'self'" in CSP and "unsafe" not in CSP
    assert page.evaluate("() => window.isSecureContext") is True
    support = page.evaluate("() => window.holder.holderSupport()")
    assert support == {"webCrypto": True, "indexedDB": True}
