"""The counter page in headless Chromium: a keyboard-wedge scanner types a wallet
QR and Enter (green VALID with the disclosed data), a replay and a revoked license
(red), junk (amber), a photo upload, clearing, the English page; and a fake camera
fed a video of the wallet QR (Chromium's --use-file-for-fake-video-capture) that
ends in the right verdict through the vendored jsQR decoder."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hub_helpers import poll
from PIL import Image, ImageFilter

from benchmarks.verifier.photos import photo
from license_wallet.credential import present_qr_text
from license_wallet.qr import render_qr
from license_wallet.types import example_fields, license_type
from trust.crypto import generate_private_key

pytestmark = pytest.mark.chromium

ID_CARD = license_type("resident_id_card").code
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


class Holder:
    """A citizen's device with one license, making fresh presentations."""

    def __init__(self, live_server: Any) -> None:
        self.key = generate_private_key("p256")
        self.hub = live_server.hub
        self.license = self.hub.licenses.issue(
            "mps",
            ID_CARD,
            "acct-counter",
            self.key.public_key().jwk(),
            example_fields(ID_CARD),
            actor="test",
        )

    def qr(self, show: str = "full") -> str:
        return present_qr_text(
            self.license.credential, show, self.key.signer("ES256"), now=datetime.now(UTC)
        )


def verdict_of(page: Any) -> str | None:
    value = page.locator("#counter-result").get_attribute("data-verdict")
    return value if value not in ("", "working", None) else None


def scan(page: Any, text: str) -> str:
    """What a keyboard-wedge scanner does: type the text into the focused field, then Enter."""
    page.locator("#counter-text").focus()
    page.keyboard.insert_text(text)
    page.keyboard.press("Enter")
    return str(poll(page, lambda: verdict_of(page), "a verdict"))


def test_scanner_text_verdicts_in_chinese(page: Any, live_server: Any, screenshot: Any) -> None:
    holder = Holder(live_server)
    response = page.goto(live_server("/verifier/"))
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'self'
    assert page.title() == "窗口核验"
    assert page.locator("#counter-trust").get_attribute("data-source") == "hub"

    assert scan(page, holder.qr()) == "VALID"
    assert page.locator("#counter-verdict").inner_text() == "有效"
    assert page.locator('#counter-license dd[data-field="holder_name"]').inner_text()
    assert "公安部" in page.locator("#counter-license").inner_text()
    assert page.locator("#counter-text").input_value() == ""  # ready for the next scan
    screenshot(page, "counter-valid")

    page.locator("#counter-clear").click()
    assert page.locator("#counter-result").is_hidden()
    assert page.locator("#counter-license").inner_text() == ""  # nothing personal left

    shown = holder.qr("minimal")
    assert scan(page, shown) == "VALID"
    assert scan(page, shown) == "INVALID"
    assert "二维码已被使用过" in page.locator("#counter-reasons").inner_text()

    assert scan(page, "GT1:NOT-A-LICENSE") == "INDETERMINATE"
    assert "输入无法解析" in page.locator("#counter-reasons").inner_text()

    live_server.hub.licenses.revoke(holder.license.id, actor="test")
    assert scan(page, holder.qr()) == "INVALID"
    assert "证照已吊销" in page.locator("#counter-reasons").inner_text()
    screenshot(page, "counter-revoked")


def test_photo_upload_and_english(page: Any, live_server: Any, tmp_path: Path) -> None:
    holder = Holder(live_server)
    page.goto(live_server("/verifier/?lang=en"))
    assert page.title() == "Counter verification"
    shot = tmp_path / "photo.jpg"
    shot.write_bytes(photo(holder.qr(), angle=-12, tilt=0.1, blur=0.8))
    page.locator("#counter-file").set_input_files(str(shot))
    page.locator("#counter-file-submit").click()
    assert poll(page, lambda: verdict_of(page), "a verdict") == "VALID"
    assert page.locator("#counter-verdict").inner_text() == "VALID"
    assert "Ministry of Public Security" in page.locator("#counter-license").inner_text()


def _y4m(frame: Image.Image, path: Path, frames: int = 20) -> None:
    """A YUV4MPEG2 (4:2:0) video of one still frame, what Chromium's fake camera reads."""
    rgb = frame.convert("RGB")
    w, h = rgb.size
    y, cb, cr = rgb.convert("YCbCr").split()
    half = (w // 2, h // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + planes)


@pytest.mark.parametrize("decoder", ["browser", "server"])
def test_fake_camera_reads_the_wallet_qr(
    browser: Any, live_server: Any, tmp_path: Path, decoder: str
) -> None:
    """The browser's own decoder (BarcodeDetector or jsQR), and the counter's server
    reading frames the browser sends (?decoder=server forces that path)."""
    holder = Holder(live_server)
    text = holder.qr("minimal")
    symbol = Image.open(io.BytesIO(render_qr(text, scale=5).png)).convert("L")
    side = 460
    canvas = Image.new("L", (640, 480), 200)  # the wallet's white card on a grey desk
    canvas.paste(symbol.resize((side, side), Image.Resampling.BILINEAR), ((640 - side) // 2, 10))
    canvas = canvas.filter(ImageFilter.GaussianBlur(0.6))  # a webcam's soft focus
    video = tmp_path / "wallet-qr.y4m"
    _y4m(canvas, video)
    query = "?decoder=server" if decoder == "server" else ""

    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    errors: list[str] = []
    try:
        context = camera.new_context(locale="zh-CN")
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live_server("/verifier/" + query))
        page.locator("#counter-camera").click()
        poll(page, lambda: page.locator("#counter-camera-status").get_attribute("data-decoder"),
             "the camera to start")  # fmt: skip
        assert poll(page, lambda: verdict_of(page), "a verdict from the camera", 30) == "VALID"
        used = page.locator("#counter-camera-status").get_attribute("data-decoder")
        assert used in (
            ("jsQR", "BarcodeDetector", "server") if decoder == "browser" else ("server",)
        )
        assert "公安部" in page.locator("#counter-license").inner_text()
        assert page.locator("#counter-video").is_hidden()  # the camera is released
        context.close()
    finally:
        camera.close()
    assert errors == []
