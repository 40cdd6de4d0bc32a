"""The seal console in headless Chromium: the demo agency's operator signs in through the
hub, uploads a PDF, clicks on the rendered page to place the contract seal, seals,
downloads the sealed PDF and reads the verification report; then the OFD path (SM2
seals only, page box preview) and the English page."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pdf_samples import blank_pdf
from PIL import Image

from govtrust.demo import DEMO_SEAL_OPERATOR, DEMO_SEAL_OPERATOR_PASSWORD
from seal_service.pades import verify_pdf

pytestmark = pytest.mark.chromium

OFD = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw" / "helloworld.ofd"


def follow(page: Any, target: Any) -> None:
    with page.expect_navigation():
        target.click()


def path_of(page: Any, live_server: Any) -> str:
    assert page.url.startswith(live_server.url + "/"), page.url
    return page.url[len(live_server.url) :]


def signed_in(page: Any) -> bool:
    return page.locator("#seal-status").get_attribute("data-signed-in") == "yes"


def sign_in_through_the_hub(page: Any, live_server: Any) -> None:
    response = page.goto(live_server("/seal/"))
    assert response.status == 200
    assert page.title() == "电子印章控制台"
    assert not signed_in(page)
    follow(page, page.get_by_role("link", name="登录", exact=True))
    assert path_of(page, live_server).startswith("/idp/login?")
    assert "您正在登录「电子印章控制台」" in page.locator("main").inner_text()
    page.get_by_label("用户名").fill(DEMO_SEAL_OPERATOR)
    page.get_by_label("密码").fill(DEMO_SEAL_OPERATOR_PASSWORD)
    follow(page, page.get_by_role("button", name="登录"))
    if page.url.split("?")[0].endswith("/idp/consent"):
        follow(page, page.get_by_role("button", name="同意"))
    assert path_of(page, live_server) == "/seal/"
    assert signed_in(page), page.locator("main").inner_text()


def test_operator_seals_a_pdf_and_reads_the_report(
    page, live_server, requests_seen, screenshot, tmp_path
):
    sign_in_through_the_hub(page, live_server)
    hub = live_server.hub
    seals = {s.algorithm: s for s in hub.seals.list(holder_id="zj")}
    assert page.locator("#seal-user").inner_text() == "您好，王五"
    assert page.locator("#seal-agency").inner_text() == "浙江政务服务网"

    # The agency's seals, with their images (loaded from our origin, decoded by the browser).
    for seal in seals.values():
        row = page.locator(f"tr[data-seal-id='{seal.id}']")
        assert seal.name in row.inner_text() and "启用" in row.inner_text()
        image = row.get_by_role("img", name=f"{seal.name}的印模")
        image.wait_for()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")

    # 1. upload a PDF and preview page 1 (rendered server-side by PDFium).
    page.get_by_label("文件（PDF 或 OFD，不超过 10 MB）").set_input_files(
        {"name": "合同.pdf", "mimeType": "application/pdf", "buffer": blank_pdf(1)}
    )
    page.get_by_role("button", name="预览").click()
    preview = page.get_by_role("img", name="第 1 页预览，点击选择盖章位置")
    preview.wait_for()
    assert preview.evaluate("img => img.src.startsWith('data:image/png')")
    assert page.locator("#seal-pages").inner_text() == "共 1 页"
    assert page.locator("#seal-ofd-note").is_hidden()

    # 3. the picker offers the RSA contract seal only (PDF), not the SM2 official seal.
    picker = page.get_by_label("印章", exact=True)
    assert picker.input_value() == seals["RS256"].id
    assert page.locator(f"#seal-picker option[value='{seals['SM2'].id}']").is_disabled()
    apply = page.get_by_role("button", name="盖章", exact=True)
    assert apply.is_disabled()  # no position yet
    level = page.get_by_label("PDF 签章级别")
    assert level.is_visible() and level.input_value() == "B-T"
    level.select_option("B-LT")  # long-term validation data in the document

    # 2. click in the middle of the page: the position is shown in millimetres.
    box = preview.bounding_box()
    preview.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    position = page.locator("#seal-position").inner_text()
    assert position.startswith("x = 10") and "y = 148" in position, position
    assert page.locator("#seal-marker").is_visible()
    screenshot(page, "seal-console-placed")

    # Seal, and read the verification report on the page.
    apply.click()
    result = page.get_by_role("region", name="4. 结果")
    result.wait_for(timeout=30_000)
    assert page.locator("#seal-verdict").inner_text() == "VALID"
    assert page.locator("#seal-verdict-text").inner_text() == "(有效)"
    assert "PASSED" in page.locator(".seal-indication").first.inner_text()
    assert seals["RS256"].name in page.locator("#seal-signatures").inner_text()
    assert "PAdES B-LT" in page.locator("#seal-signatures").inner_text()
    assert page.locator("#seal-error").is_hidden()
    sealed_page = page.get_by_role("img", name="盖章后的页面")
    sealed_page.wait_for()
    # Polled from here: wait_for_function evaluates a string in the page, which the
    # console's CSP (no 'unsafe-eval') rightly refuses.
    image = page.locator("#seal-sealed-image")
    for _ in range(200):
        if image.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(50)
    else:
        pytest.fail("the sealed page image never loaded")
    screenshot(page, "seal-console-sealed")

    # Download the sealed file: a PAdES seal that verifies against the hub's roots.
    with page.expect_download() as info:
        page.get_by_role("link", name="下载已盖章文件").click()
    download = info.value
    assert download.suggested_filename == "sealed.pdf"
    target = tmp_path / "sealed.pdf"
    download.save_as(target)
    sealed = target.read_bytes()
    assert sealed.startswith(blank_pdf(1))
    # verify_pdf runs its own event loop; Playwright's sync API holds this thread's
    with ThreadPoolExecutor(max_workers=1) as pool:
        (report,) = pool.submit(verify_pdf, sealed, trust_roots=hub.pki.roots()).result()
    assert report.indication.value == "PASSED"
    op_id = page.locator("#seal-operation").inner_text()
    assert any(op.id == op_id for op in hub.sealing.operations(seal_id=seals["RS256"].id))

    # English.
    follow(page, page.get_by_role("link", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Seal console"
    assert "Official seal" in page.locator(".seal-list").inner_text()
    assert page.get_by_label("Document (PDF or OFD, at most 10 MB)").is_visible()
    assert signed_in(page)
    assert all(url.startswith(requests_seen.origin) for url in requests_seen.seen)


def test_ofd_preview_offers_only_sm2_seals_and_errors_are_chinese(page, live_server):
    sign_in_through_the_hub(page, live_server)
    seals = {s.algorithm: s for s in live_server.hub.seals.list(holder_id="zj")}
    file_input = page.get_by_label("文件（PDF 或 OFD，不超过 10 MB）")

    # Not a document: a clear Chinese error, no preview.
    file_input.set_input_files({"name": "a.txt", "mimeType": "text/plain", "buffer": b"hello"})
    page.get_by_role("button", name="预览").click()
    error = page.get_by_role("alert")
    error.wait_for()
    assert error.inner_text() == "仅支持 PDF 或 OFD 文件。"
    assert page.locator("#seal-place").is_hidden()

    # An OFD: the page drawn (its text and lines); SM2 seals only.
    file_input.set_input_files(str(OFD))
    page.get_by_role("button", name="预览").click()
    preview = page.get_by_role("img", name="第 1 页预览，点击选择盖章位置")
    preview.wait_for()
    assert preview.evaluate("img => img.src.startsWith('data:image/svg+xml')")
    assert page.locator("#seal-ofd-note").is_hidden()  # shown only when content is not drawn
    shot = Image.open(io.BytesIO(preview.screenshot())).convert("L")
    dark = sum(shot.histogram()[:128])
    assert dark > 50  # the text is drawn, not a blank box
    assert page.get_by_label("印章", exact=True).input_value() == seals["SM2"].id
    assert page.locator(f"#seal-picker option[value='{seals['RS256'].id}']").is_disabled()
    assert page.locator("#seal-cross-page-row").is_visible()
    assert page.locator("#seal-level-row").is_hidden()  # PAdES levels are for PDF
    preview.click(position={"x": 60, "y": 80})
    page.get_by_role("button", name="盖章", exact=True).click()
    page.get_by_role("region", name="4. 结果").wait_for(timeout=30_000)
    assert page.locator("#seal-verdict").inner_text() == "VALID"
    assert page.get_by_role("link", name="下载已盖章文件").get_attribute("download") == "sealed.ofd"
