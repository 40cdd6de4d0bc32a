"""What a person does in a real browser: landing page and language switch, the algorithm table,
the registry console (login, onboarding, lifecycle, grants, key registration, sign-out), the
trust list and the transparency-log browser. Headless Debian Chromium through Playwright."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from govtrust.demo import DEMO_ADMIN, DEMO_ADMIN_PASSWORD
from trust import generate_private_key
from trust.identifiers import seed_participants

pytestmark = pytest.mark.chromium

TITLE_ZH = "国家政务服务平台 · 信任服务"
TITLE_EN = "National Government Service Platform · Trust Services"
PARTS_ZH = ["统一身份认证（单点登录）", "电子印章服务", "电子证照夹", "窗口核验", "信任框架"]
PARTS_EN = [
    "National single sign-on",
    "Electronic seal service",
    "E-license wallet",
    "Counter verifier",
    "Trust framework",
]
LOGIN_FAILED_ZH = "用户名或密码错误，或尝试过于频繁，请稍后再试。"


def login(page: Any, live_server: Any, password: str = DEMO_ADMIN_PASSWORD) -> None:
    page.goto(live_server("/admin/login"))
    page.get_by_label("用户名").fill(DEMO_ADMIN)
    page.get_by_label("密码").fill(password)
    follow(page, page.get_by_role("button", name="登录"))


def follow(page: Any, target: Any) -> None:
    """Click a link or submit button and wait until the next page has loaded."""
    with page.expect_navigation():
        target.click()


def path_of(page: Any, live_server: Any) -> str:
    assert page.url.startswith(live_server.url + "/"), page.url
    return page.url[len(live_server.url) :]


# --------------------------------------------------------------------------- public pages


def test_landing_in_chinese_then_english_and_the_choice_sticks(page, live_server, screenshot):
    response = page.goto(live_server("/"))
    assert response.status == 200
    assert page.title() == TITLE_ZH
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == TITLE_ZH
    assert page.locator("li.part h3").all_inner_texts() == PARTS_ZH
    assert page.get_by_role("link", name="透明日志").is_visible()
    assert page.get_by_role("link", name="参与方管理").is_visible()
    switch = page.get_by_role("link", name="English")
    assert switch.get_attribute("hreflang") == "en"
    assert switch.get_attribute("lang") == "en"  # read out as English by screen readers
    screenshot(page, "landing-zh")

    follow(page, switch)
    assert "lang=en" in page.url
    assert page.title() == TITLE_EN
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("li.part h3").all_inner_texts() == PARTS_EN
    assert page.get_by_role("link", name="中文").is_visible()

    # The choice is remembered (cookie): a plain URL, and another page, stay in English.
    page.goto(live_server("/"))
    assert page.title() == TITLE_EN
    follow(page, page.get_by_role("link", name="Trust framework"))
    assert path_of(page, live_server) == "/algorithms"
    assert page.get_by_role("heading", level=1).inner_text() == "Algorithm identifiers"

    # And switching back works the same way.
    follow(page, page.get_by_role("link", name="中文"))
    page.goto(live_server("/"))
    assert page.title() == TITLE_ZH


def test_algorithm_table_shows_sm2_with_its_private_use_cose_value(page, live_server):
    page.goto(live_server("/algorithms"))
    assert page.get_by_role("heading", level=1).inner_text() == "算法标识一览"
    rows = page.locator("table.grid tbody tr")
    sm2 = rows.filter(has=page.locator("td:first-child", has_text=re.compile(r"^SM2$")))
    assert sm2.count() == 1
    cells = sm2.locator("td").all_inner_texts()
    assert cells[:4] == ["SM2", "SM2", "-65601", "1.2.156.10197.1.501"]
    names = rows.locator("td:first-child").all_inner_texts()
    assert {"SM2", "ES256", "RS256", "PS256", "EdDSA"} <= set(names)


def test_security_headers_reach_the_browser(page, live_server):
    for path in ("/", "/algorithms", "/admin/login", "/log/", "/.well-known/trust-list"):
        response = page.goto(live_server(path))
        assert response.ok, path
        headers = response.headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path


def test_pages_load_nothing_from_third_parties(page, live_server, requests_seen):
    for path in ("/", "/algorithms", "/admin/login", "/log/", "/log/?q=0&lang=en"):
        page.goto(live_server(path))
        page.wait_for_load_state("networkidle")
    assert live_server("/static/govtrust.css") in requests_seen.seen  # the stylesheet loaded
    outside = [u for u in requests_seen.seen if not u.startswith(requests_seen.origin)]
    assert outside == []
    # The stylesheet really applied (same-origin CSS is allowed by the CSP).
    header_bg = page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(200, 16, 46)"


def test_trust_list_is_json_in_the_browser(page, live_server):
    response = page.goto(live_server("/.well-known/trust-list"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["x-trust-list-sequence"]) >= 1
    document = json.loads(response.text())
    assert isinstance(document, dict) and document
    # What the person sees is the same JSON (Chromium shows it as text).
    shown = page.locator("body pre").first.inner_text()
    assert json.loads(shown) == document


# --------------------------------------------------------------------------- registry console


def test_console_requires_login(page, live_server):
    page.goto(live_server("/admin/"))
    assert path_of(page, live_server).startswith("/admin/login?next=/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "管理员登录"
    page.goto(live_server("/admin/participants/zj"))
    assert path_of(page, live_server).startswith("/admin/login")


def test_failed_logins_look_the_same_whether_or_not_the_user_exists(page, live_server):
    page.goto(live_server("/admin/login"))
    shown = {}
    for username in (DEMO_ADMIN, "nobody-here"):
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("not-the-password-2026")
        with page.expect_navigation() as answer:
            page.get_by_role("button", name="登录").click()
        assert answer.value.status == 401
        alert = page.get_by_role("alert")
        assert alert.inner_text() == LOGIN_FAILED_ZH
        assert username not in page.locator("main").inner_text()
        shown[username] = page.locator("main").inner_html()
    assert shown[DEMO_ADMIN] == shown["nobody-here"]
    # The right password still works after one failure (no lock-out for the real admin).
    login(page, live_server)
    assert path_of(page, live_server) == "/admin/"


def test_participant_list_shows_the_seeded_platforms(page, live_server):
    login(page, live_server)
    assert path_of(page, live_server) == "/admin/"
    rows = page.locator("table.grid tbody tr")
    assert rows.filter(has_text="浙江政务服务网").count() == 1
    assert rows.filter(has_text="国家政务服务平台").count() == 1
    provincial = [t for t in rows.locator("td:nth-child(3)").all_inner_texts() if t == "省级"]
    expected = sum(1 for p in seed_participants() if p.level == "provincial")
    assert len(provincial) == expected and 31 <= expected <= 34
    # Filtering by status keeps working in the browser.
    page.get_by_label("状态").select_option("applied")
    follow(page, page.get_by_role("button", name="筛选"))
    assert "status=applied" in page.url


def test_onboard_a_county_participant_through_the_forms(page, live_server, screenshot):
    login(page, live_server)
    follow(page, page.get_by_role("link", name="zj", exact=True))
    assert path_of(page, live_server) == "/admin/participants/zj"
    assert "浙江政务服务网" in page.get_by_role("heading", level=1).inner_text()

    follow(page, page.get_by_role("link", name="新参与方入驻申请"))
    page.get_by_label("标识").fill("zj-xihu")
    page.get_by_label("中文名称").fill("西湖区行政审批局")
    page.get_by_label("英文名称").fill("Xihu District Approval Bureau")
    page.get_by_label("层级").select_option("county")
    page.get_by_label("行政区划代码（GB/T 2260）").fill("330106")
    page.get_by_label("上级单位").select_option("zj")
    follow(page, page.get_by_role("button", name="提交申请"))
    assert path_of(page, live_server) == "/admin/participants/zj-xihu"
    assert page.get_by_role("status").first.inner_text() == "申请已提交，等待审核。"
    status = page.locator("#status")
    assert status.inner_text() == "已申请"

    for action, shown in (("批准", "已批准"), ("启用", "有效")):
        page.get_by_label("原因").fill("材料齐全")
        follow(page, page.get_by_role("button", name=action, exact=True))
        assert status.inner_text() == shown

    role_select = page.get_by_label("角色")
    role_select.select_option("license_issuer")
    follow(page, page.locator("form").filter(has=role_select).get_by_role("button", name="授予"))

    license_type = page.get_by_label("授权证照类型")
    license_type.fill("111")
    follow(page, page.locator("form").filter(has=license_type).get_by_role("button", name="授予"))

    pem = generate_private_key("sm2").public_key().pem().decode()
    page.get_by_label("用途").select_option("license")
    page.get_by_label("算法").select_option("SM2")
    page.get_by_label("PEM 公钥、JWK 或证书链").fill(pem)
    follow(page, page.get_by_role("button", name="登记公钥/证书"))
    assert page.get_by_role("status").first.inner_text() == "密钥已登记。"

    # The detail page now tells the whole story.
    assert status.inner_text() == "有效"
    main = page.locator("main")
    assert "证照签发方" in main.inner_text()
    assert page.locator("ul code", has_text=re.compile(r"^111$")).count() == 1
    # Each revoke button says what it revokes; the lifecycle "撤销" stays the only bare one.
    assert page.get_by_role("button", name="撤销 证照签发方").count() == 1
    assert page.get_by_role("button", name="撤销 111").count() == 1
    assert page.get_by_role("button", name="撤销", exact=True).count() == 1
    keys = page.locator("table.grid").nth(0).locator("tbody tr")
    assert keys.count() == 1
    key_cells = keys.first.locator("td").all_inner_texts()
    assert key_cells[1] == "license" and key_cells[2] == "SM2"
    history = page.locator("table.grid").last.locator("tbody tr")
    actions = history.locator("td:nth-child(2)").all_inner_texts()
    actors = set(history.locator("td:nth-child(3)").all_inner_texts())
    assert actors == {"admin:admin"}
    assert actions == [  # newest first
        "participant.key_registered",
        "participant.license_type_granted",
        "participant.role_granted",
        "participant.active",
        "participant.approved",
        "participant.applied",
    ]
    assert page.get_by_role("link", name="zj", exact=True).is_visible()  # parent link
    screenshot(page, "admin-participant-detail")

    # The hub records it too (not only the page).
    p = live_server.hub.registry.get("zj-xihu")
    assert p.status.value == "active" and p.parent_id == "zj" and p.division == "330106"


def test_bad_uscc_is_a_clear_422_page_not_a_500(page, live_server):
    login(page, live_server)
    page.goto(live_server("/admin/participants/new"))
    page.get_by_label("标识").fill("bad-uscc-agency")
    page.get_by_label("中文名称").fill("某机构")
    page.get_by_label("英文名称").fill("Some agency")
    page.get_by_label("层级").select_option("agency")
    page.get_by_label("统一社会信用代码").fill("911000001000000000")
    with page.expect_navigation() as answer:
        page.get_by_role("button", name="提交申请").click()
    assert answer.value.status == 422
    alert = page.get_by_role("alert")
    assert "invalid_uscc" in alert.inner_text()
    assert "统一社会信用代码" in page.content() or "credit code" in alert.inner_text()
    # The person's typing is kept so they can correct the one bad field.
    assert page.get_by_label("标识").input_value() == "bad-uscc-agency"
    assert page.get_by_label("统一社会信用代码").input_value() == "911000001000000000"
    assert live_server.hub.registry.find("bad-uscc-agency") is None


def test_a_rejected_form_keeps_the_chosen_level_and_parent(page, live_server):
    login(page, live_server)
    page.goto(live_server("/admin/participants/new"))
    page.get_by_label("标识").fill("bad-uscc-county")
    page.get_by_label("中文名称").fill("某县")
    page.get_by_label("英文名称").fill("Some county")
    page.get_by_label("层级").select_option("county")
    page.get_by_label("统一社会信用代码").fill("911000001000000000")
    page.get_by_label("上级单位").select_option("zj")
    with page.expect_navigation() as answer:
        page.get_by_role("button", name="提交申请").click()
    assert answer.value.status == 422
    # Otherwise a quick resubmit silently onboards a *national* participant with no parent.
    assert page.get_by_label("层级").input_value() == "county"
    assert page.get_by_label("上级单位").input_value() == "zj"


def test_sign_out_ends_the_session(page, live_server):
    login(page, live_server)
    assert path_of(page, live_server) == "/admin/"
    follow(page, page.get_by_role("button", name=re.compile(r"^退出")))
    assert path_of(page, live_server) == "/"
    page.goto(live_server("/admin/"))
    assert path_of(page, live_server).startswith("/admin/login")


# --------------------------------------------------------------------------- transparency log


@pytest.mark.parametrize(
    ("lang", "title", "valid", "submit", "verified"),
    [
        ("zh", "透明日志", "✓ 有效", "核验", "✓ 已验证"),
        ("en", "Transparency log", "✓ valid", "Verify", "✓ Verified"),
    ],
)
def test_log_browser_verifies_entry_zero(
    page, live_server, screenshot, lang, title, valid, submit, verified
):
    response = page.goto(live_server(f"/log/?lang={lang}"))
    assert response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.title().startswith(title)
    size = int(page.locator("#cp-size").inner_text())
    assert size >= 1
    assert valid in page.locator("main").inner_text()
    note = page.locator("#cp-note").inner_text()
    origin = live_server.url.removeprefix("http://")
    assert note.startswith(origin), note  # the log origin matches the served address
    assert page.locator("#recent tbody tr").count() >= 1

    page.get_by_role("textbox").fill("0")
    follow(page, page.get_by_role("button", name=submit))
    assert "q=0" in page.url
    result = page.locator("#lookup-result")
    assert result.get_by_role("status").inner_text().startswith(verified)
    assert str(size) in result.inner_text()
    cells = result.locator("table td").all_inner_texts()
    assert cells[0] == "0"
    assert cells[2] == cells[3]  # stored leaf hash == hash computed from the data
    if lang == "zh":
        screenshot(page, "log-browser-zh")


def test_log_browser_explains_a_bad_lookup(page, live_server):
    page.goto(live_server("/log/"))
    page.get_by_role("textbox").fill("not-a-hash")
    follow(page, page.get_by_role("button", name="核验"))
    assert page.locator("#lookup-result").get_by_text("请输入非负整数序号").is_visible()


# --------------------------------------------------------------------------- layout


def fits_the_window(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_pages_fit_the_window_without_sideways_scrolling(page, live_server):
    for path in ("/", "/algorithms", "/admin/login"):
        page.goto(live_server(path))
        assert fits_the_window(page), path
    login(page, live_server)
    for path in ("/admin/", "/admin/participants/zj", "/admin/participants/new"):
        page.goto(live_server(path))
        assert fits_the_window(page), path
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(live_server("/"))
    assert fits_the_window(page)


def test_log_browser_fits_the_window(page, live_server):
    page.goto(live_server("/log/?q=0"))
    assert fits_the_window(page)
