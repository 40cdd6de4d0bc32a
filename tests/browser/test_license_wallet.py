"""The e-license wallet in headless Chromium: 张三 signs in through the hub, binds this
browser's non-extractable WebCrypto holder key (which re-issues the demo licenses to it),
opens the identity card, shows a custom-disclosure QR, and the QR read back from a
screenshot (zxing-cpp) verifies with the Python verifier; the countdown resets and the
text changes at each refresh; PNG/SVG downloads decode too; the English page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hub_helpers import poll
from PIL import Image

from govtrust.demo import DEMO_CITIZEN, DEMO_CITIZEN_PASSWORD
from license_wallet.credential import verify_presentation
from license_wallet.types import license_type

pytestmark = pytest.mark.chromium

ID_CARD = license_type("resident_id_card")
PERIOD = 4  # seconds; the page takes ?period= (2..25) for tests


def follow(page: Any, target: Any) -> None:
    with page.expect_navigation():
        target.click()


def path_of(page: Any, live_server: Any) -> str:
    assert page.url.startswith(live_server.url + "/"), page.url
    return page.url[len(live_server.url) :]


def sign_in(page: Any, live_server: Any) -> None:
    response = page.goto(live_server("/wallet/"))
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.title() == "电子证照夹"
    assert page.locator("#wallet-status").get_attribute("data-signed-in") == "no"
    follow(page, page.get_by_role("link", name="登录", exact=True))
    assert path_of(page, live_server).startswith("/idp/login?")
    page.get_by_label("用户名").fill(DEMO_CITIZEN)
    page.get_by_label("密码").fill(DEMO_CITIZEN_PASSWORD)
    follow(page, page.get_by_role("button", name="登录"))
    if page.url.split("?")[0].endswith("/idp/consent"):
        follow(page, page.get_by_role("button", name="同意"))
    assert path_of(page, live_server) == "/wallet/"
    assert page.locator("#wallet-status").get_attribute("data-signed-in") == "yes"


def key_state(page: Any) -> str:
    return page.locator("#wallet-key").get_attribute("data-state") or ""


def bind_this_browser(page: Any) -> None:
    state = poll(page, lambda: key_state(page) != "checking" and key_state(page), "the key check")
    if state == "unbound":
        assert page.locator("#wallet-key-text").inner_text().startswith("您的证照绑定在其他设备")
        with page.expect_navigation():
            page.get_by_role("button", name="绑定本设备").click()
        poll(page, lambda: key_state(page) != "checking", "the key check after binding")
    assert key_state(page) == "bound", page.locator("#wallet-key").inner_text()
    assert (
        page.locator("#wallet-key-text").inner_text()
        == "本设备的持有者密钥已绑定，可以出示二维码。"
    )


def read_qr(png: bytes) -> str:
    import zxingcpp

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1, found
    return str(found[0].text)


def verify(live_server: Any, text: str) -> Any:
    hub = live_server.hub
    return verify_presentation(
        text,
        issuer_keys=hub.licenses.issuer_keys(),
        now=hub.clock(),
        status_lookup=hub.licenses.status_of,
    )


def test_citizen_shows_a_dynamic_qr_that_verifies(
    page, live_server, requests_seen, screenshot, tmp_path
):
    sign_in(page, live_server)
    assert page.locator("#wallet-user").inner_text() == "您好，张三"
    bind_this_browser(page)
    hub = live_server.hub
    holder = hub.idp.accounts.by_username(DEMO_CITIZEN)
    valid = [v for v in hub.licenses.list_for_holder(holder.id) if v.status.value == "valid"]
    card = next(v for v in valid if v.type_code == ID_CARD.code)
    row = page.locator(f"tr[data-license-id='{card.id}']")
    assert "居民身份证" in row.inner_text() and "有效" in row.inner_text()
    assert row.get_attribute("data-device") == "this"
    assert "本设备" in row.inner_text()
    screenshot(page, "wallet-list")

    # The license page (a short refresh period for the test).
    page.goto(live_server(f"/wallet/licenses/{card.id}?period={PERIOD}"))
    assert page.get_by_role("heading", level=1).inner_text() == "居民身份证"
    assert card.identifier in page.locator("#wallet-license-identifier").inner_text()
    page.get_by_label("自定义").check()
    custom = page.locator("#wallet-custom")
    assert custom.is_visible()
    for box in custom.locator("input[name=field]").all():
        box.uncheck()
    custom.locator("input[data-key='holder_name']").check()
    custom.locator("input[data-key='address']").check()
    page.get_by_role("button", name="生成二维码").click()

    figure = page.locator("#wallet-qr-figure")
    poll(page, lambda: figure.get_attribute("data-refreshes") not in (None, "0"), "the first QR")
    image = page.get_by_role("img", name="电子证照二维码")
    poll(
        page, lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image"
    )
    box = image.bounding_box()
    assert box["width"] >= 300, box  # large enough to scan from a phone screen
    screenshot(page, "wallet-qr")

    shown = figure.get_attribute("data-qr-text")
    first = read_qr(image.screenshot())
    assert first == shown and first.startswith("GT1:")
    verified = verify(live_server, first)
    assert verified.identifier == card.identifier
    assert verified.fields == {
        "holder_name": card.fields["holder_name"],
        "address": card.fields["address"],
    }
    assert verified.status is not None and verified.status.name == "VALID"
    refreshes = int(figure.get_attribute("data-refreshes"))

    # The countdown runs down, then a refresh re-signs: new text, countdown reset.
    countdown = page.locator("#wallet-countdown")
    assert countdown.inner_text().endswith("秒后刷新")
    poll(page, lambda: int(countdown.get_attribute("data-seconds") or PERIOD) < PERIOD, "countdown")
    poll(
        page,
        lambda: int(figure.get_attribute("data-refreshes")) > refreshes,
        "a refresh",
        timeout=PERIOD + 10,
    )
    assert int(countdown.get_attribute("data-seconds")) >= PERIOD - 1
    poll(page, lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"), "new image")
    page.wait_for_timeout(200)
    second = read_qr(image.screenshot())
    assert second != first and second == figure.get_attribute("data-qr-text")
    again = verify(live_server, second)
    assert again.fields == verified.fields and again.kb_issued_at >= verified.kb_issued_at

    # Downloads: the PNG and the SVG of the current QR.
    with page.expect_download() as info:
        page.get_by_role("button", name="下载 PNG").click()
    assert info.value.suggested_filename == "license-qr.png"
    target = tmp_path / "qr.png"
    info.value.save_as(target)
    assert verify(live_server, read_qr(target.read_bytes())).identifier == card.identifier
    with page.expect_download() as info:
        page.get_by_role("button", name="下载 SVG").click()
    assert info.value.suggested_filename == "license-qr.svg"
    target = tmp_path / "qr.svg"
    info.value.save_as(target)
    assert target.read_text().lstrip().startswith("<svg")

    # Print view: the controls disappear, the QR stays.
    page.emulate_media(media="print")
    assert page.locator("#wallet-show-form").is_hidden()
    assert image.is_visible()
    page.emulate_media(media="screen")

    # Minimal disclosure: the type's minimal fields only.
    page.get_by_label("最少").check()
    page.get_by_role("button", name="生成二维码").click()
    poll(page, lambda: figure.get_attribute("data-disclose") == "1 2", "minimal disclosure")
    poll(page, lambda: figure.get_attribute("data-refreshes") not in (None, "0"), "minimal QR")
    text = figure.get_attribute("data-qr-text")
    assert set(verify(live_server, text).fields) == set(ID_CARD.minimal_keys)

    # English.
    follow(page, page.get_by_role("link", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Resident identity card" or (
        page.get_by_role("heading", level=1).inner_text() == ID_CARD.name_en
    )
    assert page.get_by_role("button", name="Show QR code").is_visible()
    assert all(url.startswith(requests_seen.origin) for url in requests_seen.seen)
