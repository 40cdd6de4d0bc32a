"""What a newcomer sees of single sign-on, in headless Chromium: sign in at the 浙江 portal
through the hub's Chinese login page, be recognised at the 广东 portal without a password,
sign out at 广东 and find 浙江 signed out too (back-channel logout)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from govtrust.demo import DEMO_CITIZEN, DEMO_CITIZEN_NAME, DEMO_CITIZEN_PASSWORD

pytestmark = pytest.mark.chromium


def follow(page: Any, target: Any) -> None:
    """Click a link or submit button and wait until the next page has loaded."""
    with page.expect_navigation():
        target.click()


def path_of(page: Any, live_server: Any) -> str:
    assert page.url.startswith(live_server.url + "/"), page.url
    return page.url[len(live_server.url) :]


def fits_the_window(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def signed_in(page: Any) -> bool:
    return page.locator("#portal-status").get_attribute("data-signed-in") == "yes"


def hub_login(page: Any) -> None:
    """On the hub's login page: the demo citizen's credentials, then consent if asked."""
    page.get_by_label("用户名").fill(DEMO_CITIZEN)
    page.get_by_label("密码").fill(DEMO_CITIZEN_PASSWORD)
    follow(page, page.get_by_role("button", name="登录"))
    if page.url.split("?")[0].endswith("/idp/consent"):
        follow(page, page.get_by_role("button", name="同意"))


def test_log_in_once_recognised_everywhere_log_out_once(
    page, live_server, requests_seen, screenshot
):
    # 浙江政务服务网, signed out.
    response = page.goto(live_server("/portal/zj/"))
    assert response.status == 200
    assert page.title() == "浙江政务服务网"
    assert page.get_by_role("heading", level=1).inner_text() == "浙江政务服务网"
    assert not signed_in(page)
    assert page.get_by_role("heading", name="您尚未登录本平台。").is_visible()

    # 登录 → the hub's login page, in Chinese, naming the platform.
    follow(page, page.get_by_role("link", name="登录", exact=True))
    assert path_of(page, live_server).startswith("/idp/login?")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "统一身份认证登录"
    assert "您正在登录「浙江政务服务网」" in page.locator("main").inner_text()
    screenshot(page, "sso-hub-login-zh")
    hub_login(page)

    # Back at 浙江, signed in as 张三.
    assert path_of(page, live_server) == "/portal/zj/"
    assert signed_in(page)
    assert page.locator("#portal-user").inner_text() == f"您好，{DEMO_CITIZEN_NAME}"
    zj_sub = page.locator("#portal-sub").inner_text()
    screenshot(page, "sso-portal-zj-signed-in")

    # 广东: a different platform, not signed in yet …
    follow(page, page.get_by_role("link", name="前往广东政务服务网"))
    assert path_of(page, live_server) == "/portal/gd/"
    assert page.get_by_role("heading", level=1).inner_text() == "广东政务服务网"
    assert not signed_in(page)
    # … 登录 lands signed in with no password prompt: the hub already knows the citizen.
    seen_before = len(requests_seen.seen)
    follow(page, page.get_by_role("link", name="登录", exact=True))
    assert path_of(page, live_server) == "/portal/gd/"
    assert signed_in(page)
    assert page.locator("#portal-user").inner_text() == f"您好，{DEMO_CITIZEN_NAME}"
    hops = [re.sub(r"\?.*", "", u) for u in requests_seen.seen[seen_before:]]
    assert live_server("/idp/authorize") in hops and live_server("/portal/gd/callback") in hops
    assert live_server("/idp/login") not in hops  # no password prompt
    assert page.locator("#portal-sub").inner_text() != zj_sub  # pairwise: provinces can't link
    screenshot(page, "sso-portal-gd-signed-in")

    # 退出 at 广东 → the hub asks to confirm, for every platform at once.
    follow(page, page.get_by_role("button", name="退出"))
    assert path_of(page, live_server).startswith("/idp/logout?")
    assert "您将同时退出所有地区政务服务平台" in page.locator("main").inner_text()
    screenshot(page, "sso-hub-logout-zh")
    follow(page, page.get_by_role("button", name="确认退出"))
    assert path_of(page, live_server).startswith("/portal/gd/?state=")
    assert not signed_in(page)
    assert page.get_by_role("status").inner_text() == "您已退出。"

    # 浙江 was told by the hub (back-channel logout, sent off the request): signed out too.
    assert live_server.hub.idp.logout_sender.drain(10)
    page.goto(live_server("/portal/zj/"))
    assert not signed_in(page)
    assert page.get_by_role("status").inner_text() == "您已在其他平台退出，本平台的登录已同时结束。"
    screenshot(page, "sso-portal-zj-signed-out")

    # And the hub session is gone: signing in again asks for the password.
    follow(page, page.get_by_role("link", name="登录", exact=True))
    assert path_of(page, live_server).startswith("/idp/login?")


def test_silent_check_uses_prompt_none(page, live_server):
    page.goto(live_server("/portal/gd/"))
    follow(page, page.get_by_role("link", name=re.compile("^检查是否已在统一身份认证平台登录")))
    assert path_of(page, live_server) == "/portal/gd/"
    assert not signed_in(page)
    assert "没有您的登录会话" in page.get_by_role("status").inner_text()

    # Signed in at 浙江, the silent check at 广东 signs in without any page of the hub's.
    page.goto(live_server("/portal/zj/"))
    follow(page, page.get_by_role("link", name="登录", exact=True))
    hub_login(page)
    assert signed_in(page)
    page.goto(live_server("/portal/gd/"))
    follow(page, page.get_by_role("link", name=re.compile("^检查是否已在统一身份认证平台登录")))
    assert path_of(page, live_server) == "/portal/gd/"
    assert signed_in(page)


def test_portal_in_english_and_on_a_phone(page, live_server):
    page.goto(live_server("/portal/zj/"))
    follow(page, page.get_by_role("link", name="English"))
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Zhejiang Government Service Network"
    )
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()
    follow(page, page.get_by_role("link", name="Sign in", exact=True))
    assert page.get_by_role("heading", level=1).inner_text() == "National single sign-on"
    page.goto(live_server("/portal/gd/?lang=zh"))
    assert page.get_by_role("link", name="登录", exact=True).is_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        for path in ("/portal/zj/", "/portal/gd/"):
            page.goto(live_server(path))
            assert fits_the_window(page), (path, width)


def test_landing_page_links_the_portals_and_the_account_page(page, live_server):
    page.goto(live_server("/"))
    sso = page.locator("li.part").first
    assert sso.locator("h3").inner_text() == "统一身份认证（单点登录）"
    assert sso.get_by_role("link", name="浙江政务服务网").get_attribute("href") == "/portal/zj/"
    assert sso.get_by_role("link", name="广东政务服务网").get_attribute("href") == "/portal/gd/"
    follow(page, sso.get_by_role("link", name="我的账户"))
    assert path_of(page, live_server).startswith("/idp/login?")  # the account page needs a login
    hub_login(page)
    assert path_of(page, live_server) == "/idp/account"
    assert page.get_by_role("heading", level=1).inner_text() == "我的账户"


def test_language_switch_on_the_hub_login_page_keeps_the_sign_in(page, live_server):
    page.goto(live_server("/portal/zj/"))
    follow(page, page.get_by_role("link", name="登录", exact=True))
    assert page.get_by_role("heading", level=1).inner_text() == "统一身份认证登录"
    follow(page, page.get_by_role("link", name="English"))
    assert path_of(page, live_server).startswith("/idp/login?req=")  # the request survives
    assert page.get_by_role("heading", level=1).inner_text() == "National single sign-on"
    assert "You are signing in to “浙江政务服务网”" in page.locator("main").inner_text()
    page.get_by_label("Username").fill(DEMO_CITIZEN)
    page.get_by_label("Password").fill(DEMO_CITIZEN_PASSWORD)
    follow(page, page.get_by_role("button", name="Sign in"))
    assert path_of(page, live_server) == "/portal/zj/"
    assert page.locator("#portal-user").inner_text() == f"Hello, {DEMO_CITIZEN_NAME}"
