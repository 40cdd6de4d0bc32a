"""The transparency log over HTTP (/log/…) and the public log browser page."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import update

from govtrust.app import create_app
from govtrust.tlog_models import LogLeaf
from govtrust.tlog_store import encode_leaf
from trust import load_public_key
from trust.tlog import (
    LogClient,
    key_id,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

N = 37


def unlogged_keys(hub):
    """A key store on the same database that does not log, so tests start from an empty log."""
    from keys import KeyStore, SoftwareCustody

    return KeyStore(hub.db, software=SoftwareCustody(hub.master_key), clock=hub.clock)


@pytest.fixture
def app(hub, config):
    unlogged_keys(hub).generate("log", "EdDSA")
    with hub.db.write() as s:
        events = [
            ("participant.approved", {"participant": f"p{i}", "名称": "浙江省"}) for i in range(N)
        ]
        hub.log.append_many(s, events)
    return create_app(config, hub=hub)


@pytest.fixture
def client(app):
    return app.test_client()


def b64list(proof: list[str]) -> list[bytes]:
    return [base64.b64decode(p, validate=True) for p in proof]


def latest(client) -> tuple[LogClient, object]:
    key = client.get("/log/key").get_json()
    pub = load_public_key(key["public_key_pem"].encode())
    lc = LogClient(origin=key["origin"], verifiers={key["key_name"]: pub})
    return lc, lc.verify_checkpoint(client.get("/log/checkpoint").get_data())


def test_checkpoint_is_a_signed_note(client) -> None:
    r = client.get("/log/checkpoint")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"
    _, cp = latest(client)
    assert cp.size == N and cp.origin == "127.0.0.1:8000/govtrust/log"


def test_key_describes_the_note_key(client, hub) -> None:
    body = client.get("/log/key").get_json()
    pub = load_public_key(body["public_key_pem"].encode())
    assert pub == hub.keys.signer("log").public_key
    assert body["key_name"] == body["origin"] == hub.log.origin
    assert body["key_id"] == key_id(body["key_name"], pub).hex()
    assert body["algorithm"] == "EdDSA" and body["state"] == "active"
    name, kid, vkey = body["vkey"].split("+", 2)
    assert (name, kid) == (body["key_name"], body["key_id"])
    assert base64.b64decode(vkey)[0] == 0x01 and len(base64.b64decode(vkey)) == 33
    assert [k["kid"] for k in body["keys"]] == [body["kid"]]
    assert "private" not in str(body).lower()


def test_entries(client) -> None:
    body = client.get("/log/entries?start=30&end=100").get_json()
    assert (body["start"], body["end"]) == (30, N)
    got = body["entries"]
    assert [e["index"] for e in got] == list(range(30, N))
    for e in got:
        leaf = base64.b64decode(e["leaf"])
        assert leaf == encode_leaf(e["kind"], e["data"])
        assert bytes.fromhex(e["leaf_hash"]) == leaf_hash(leaf)
    assert got[0]["data"] == {"participant": "p30", "名称": "浙江省"}
    default = client.get("/log/entries?start=0").get_json()
    assert default["end"] == N and len(default["entries"]) == N
    all_hashes = [bytes.fromhex(e["leaf_hash"]) for e in default["entries"]]
    _, cp = latest(client)
    assert root_from_leaves(all_hashes) == cp.root_hash


def test_inclusion_by_index_and_by_hash(client) -> None:
    lc, cp = latest(client)
    entries = client.get("/log/entries?start=0&end=100").get_json()["entries"]
    for index in (0, 5, N - 1):
        body = client.get(f"/log/proof/inclusion?index={index}&size={cp.size}").get_json()
        assert (body["index"], body["size"]) == (index, cp.size)
        leaf = bytes.fromhex(entries[index]["leaf_hash"])
        lc.check_inclusion(cp, leaf, index, b64list(body["proof"]))
        by_hash = client.get(
            f"/log/proof/inclusion?leaf_hash={leaf.hex().upper()}&size={cp.size}"
        ).get_json()
        assert by_hash["index"] == index and by_hash["proof"] == body["proof"]
    # A proof for an older size verifies against that size's root.
    old = client.get("/log/proof/inclusion?index=2&size=3").get_json()
    three = root_from_leaves(bytes.fromhex(e["leaf_hash"]) for e in entries[:3])
    assert verify_inclusion(
        bytes.fromhex(entries[2]["leaf_hash"]), 2, 3, b64list(old["proof"]), three
    )


def test_consistency(client, hub) -> None:
    lc, first = latest(client)
    with hub.db.write() as s:
        hub.log.append_many(s, [("k", {"i": i}) for i in range(10)])
    note = client.get("/log/checkpoint").get_data()
    body = client.get(f"/log/proof/consistency?old={first.size}&new={N + 10}").get_json()
    assert (body["old"], body["new"]) == (first.size, N + 10)
    newer = lc.update(first, note, b64list(body["proof"]))
    assert newer.size == N + 10
    assert verify_consistency(
        first.size, newer.size, first.root_hash, newer.root_hash, b64list(body["proof"])
    )
    assert client.get(f"/log/proof/consistency?old={N}&new={N}").get_json()["proof"] == []


BAD = [
    "/log/entries",
    "/log/entries?start=-1",
    "/log/entries?start=abc",
    "/log/entries?start=1.5",
    "/log/entries?start=%2B1",
    "/log/entries?start=%201",
    "/log/entries?start=0x10",
    f"/log/entries?start={N}",
    "/log/entries?start=5&end=5",
    "/log/entries?start=5&end=4",
    "/log/entries?start=0&end=-3",
    "/log/entries?start=99999999999999999999999999",
    "/log/entries?start=" + "9" * 5000,
    "/log/proof/inclusion",
    "/log/proof/inclusion?index=1",
    "/log/proof/inclusion?size=5",
    "/log/proof/inclusion?index=-1&size=5",
    "/log/proof/inclusion?index=x&size=5",
    "/log/proof/inclusion?index=5&size=5",
    "/log/proof/inclusion?index=6&size=5",
    f"/log/proof/inclusion?index=0&size={N + 1}",
    "/log/proof/inclusion?index=0&size=0",
    "/log/proof/inclusion?index=0&size=9223372036854775807",
    "/log/proof/inclusion?index=0&size=9223372036854775808",
    "/log/proof/inclusion?index=18446744073709551616&size=5",
    "/log/proof/inclusion?index=1&leaf_hash=" + "00" * 32 + "&size=5",
    "/log/proof/inclusion?leaf_hash=abc&size=5",
    "/log/proof/inclusion?leaf_hash=" + "zz" * 32 + "&size=5",
    "/log/proof/inclusion?leaf_hash=" + "00" * 33 + "&size=5",
    "/log/proof/consistency",
    "/log/proof/consistency?old=1",
    "/log/proof/consistency?old=5&new=4",
    "/log/proof/consistency?old=-1&new=4",
    "/log/proof/consistency?old=1&new=1e3",
    f"/log/proof/consistency?old=1&new={N + 1}",
    "/log/proof/consistency?old=1&new=" + "9" * 30,
]


@pytest.mark.parametrize("url", BAD)
def test_bad_parameters_are_400_json(client, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 400, r.get_data(as_text=True)
    body = r.get_json()
    assert body["error"] == "invalid_request" and body["error_description"]


def test_unknown_leaf_hash_is_404_json(client) -> None:
    r = client.get("/log/proof/inclusion?leaf_hash=" + "00" * 32 + "&size=5")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


def test_leaf_found_but_beyond_the_requested_size(client) -> None:
    entries = client.get(f"/log/entries?start={N - 1}").get_json()["entries"]
    r = client.get(f"/log/proof/inclusion?leaf_hash={entries[0]['leaf_hash']}&size=3")
    assert r.status_code == 400


def test_unknown_log_path_is_json_404(client) -> None:
    r = client.get("/log/nothing")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


# --------------------------------------------------------------------------- browser


def test_browser_in_chinese(client) -> None:
    r = client.get("/log/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for needle in (
        "透明日志",
        "最新检查点",
        "最近事件",
        "核验一条记录",
        "✓ 有效",
        "127.0.0.1:8000/govtrust/log",
        "浙江省",
    ):
        assert needle in html
    _, cp = latest(client)
    assert cp.root_hash.hex() in html and f'<td id="cp-size">{N}</td>' in html
    assert html.count('<tr>\n<td><a href="/log/?q=') == N  # fewer than 50 events: all shown


def test_browser_in_english_shows_the_recent_50(client, hub) -> None:
    with hub.db.write() as s:
        hub.log.append_many(s, [("k", {"i": i}) for i in range(30)])
    html = client.get("/log/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    for needle in ("Transparency log", "Latest checkpoint", "Recent events", "Check an entry"):
        assert needle in html
    assert html.count('<tr>\n<td><a href="/log/?q=') == 50
    assert f'href="/log/?q={N + 29}"' in html and 'href="/log/?q=16"' not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lookup_by_index_and_hash_verifies(client, lang: str) -> None:
    entries = client.get("/log/entries?start=0").get_json()["entries"]
    ok = {"zh": "✓ 已验证", "en": "✓ Verified"}[lang]
    for q in ("7", entries[7]["leaf_hash"]):
        html = client.get(f"/log/?q={q}&lang={lang}").get_data(as_text=True)
        assert ok in html
        assert entries[7]["leaf_hash"] in html
        assert html.count("<li><code>") == 6  # log2(37) rounded up


@pytest.mark.parametrize("q", ["-1", "abc", "9" * 40, "00" * 32, str(N), "12" * 33])
def test_lookup_of_nothing(client, q: str) -> None:
    r = client.get(f"/log/?q={q}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'class="flash error"' in html and "✓ 已验证" not in html


def test_lookup_shows_a_tampered_entry_as_not_verified(client, hub) -> None:
    with hub.db.write() as s:
        s.execute(
            update(LogLeaf)
            .where(LogLeaf.idx == 3)
            .values(data=encode_leaf("participant.approved", {"participant": "forged"}))
        )
    html = client.get("/log/?q=3&lang=en").get_data(as_text=True)
    assert "✗ Not verified" in html and "forged" in html


def test_landing_page_links_the_log_browser(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'href="/log/"' in html and "透明日志" in html
    assert 'href="/algorithms"' in html
