"""The seal console (/seal/) through Flask's test client: pages, the operator's agency,
preview, sealing with the agency's own seals only, the verification report, downloads,
CSRF, limits and typed errors. The hub sign-in is replaced by a signed console cookie
here; tests/browser/test_seal_console.py signs in through the hub for real."""

from __future__ import annotations

import base64
import io
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pdf_samples import A4_PT, blank_pdf
from PIL import Image

from govtrust.app import create_app
from govtrust.config import Config
from govtrust.demo import (
    DEMO_ENTERPRISE_USCC,
    DEMO_SEAL_OPERATOR,
    DEMO_SEAL_OPERATOR_PASSWORD,
    seed_demo,
)
from govtrust.hub import Hub
from govtrust.portals import PortalLogout
from govtrust.registry import Role
from seal_service import console
from seal_service.models import SealOperation
from seal_service.ofd import verify_ofd
from seal_service.pades import verify_pdf
from trust.identifiers import seed_participants

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
OFD = VECTORS / "helloworld.ofd"


@dataclass
class World:
    hub: Hub
    app: Any
    seals: dict[str, Any]  # the zj agency's seals by algorithm
    other_seal: Any  # a seal of another agency (gd)
    uscc: str  # the zj agency's USCC


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("seal-console") / "instance"
    config = Config(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'govtrust.db'}",
        master_key=secrets.token_hex(32),
        base_url="http://localhost",
        testing=True,
    )
    hub = Hub(config)
    hub.migrate()
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    hub.pki.ensure()
    seed_demo(hub)
    hub.registry.grant_role("gd", Role.SEAL_HOLDER, actor="test")
    other = hub.seals.apply(
        holder_id="gd",
        kind="contract",
        name="广东合同专用章",
        algorithm="ES256",
        maker_id=None,
        actor="test",
    )
    hub.seals.approve(other.id, actor="test")
    hub.seals.activate(other.id, actor="test")
    app = create_app(config, hub=hub)
    zj = hub.registry.find("zj")
    assert zj is not None and zj.uscc
    seals = {s.algorithm: s for s in hub.seals.list(holder_id="zj")}
    try:
        yield World(hub, app, seals, hub.seals.get(other.id), zj.uscc)
    finally:
        hub.close()


@dataclass
class Operator:
    client: Any
    csrf: str
    sub: str


def sign_in(world: World, *, uscc: str | None = None, sid: str | None = None) -> Operator:
    """A test client holding the console cookie the hub sign-in would have produced."""
    client = world.app.test_client()
    csrf = secrets.token_urlsafe(16)
    sub = "sub-" + secrets.token_hex(4)
    state = {
        "u": {
            "sub": sub,
            "sid": sid or secrets.token_hex(8),
            "name": "王五",
            "enterprise_name": "浙江政务服务网",
            "uscc": uscc or world.uscc,
            "id_token": "x.y.z",
        },
        "csrf": csrf,
    }
    with world.app.test_request_context("/seal/"):
        cookie = console.RP.serializer().dumps(state)
    client.set_cookie(console.COOKIE, cookie, path=console.COOKIE_PATH)
    return Operator(client, csrf, sub)


def get(client: Any, path: str, **kwargs: Any) -> tuple[int, Any, bytes]:
    with client.get(path, **kwargs) as r:
        return r.status_code, r.headers, r.get_data()


def post(op: Operator, path: str, data: dict[str, Any], *, csrf: bool = True) -> tuple[int, Any]:
    form = dict(data)
    if csrf:
        form.setdefault("csrf_token", op.csrf)
    for key, value in list(form.items()):
        if isinstance(value, bytes):
            form[key] = (io.BytesIO(value), "upload.bin")
    with op.client.post(
        path, data=form, content_type="multipart/form-data", headers={"Accept": "application/json"}
    ) as r:
        return r.status_code, r.get_json()


def html(body: bytes) -> str:
    return body.decode("utf-8")


# ----------------------------------------------------------------------------- pages


def test_signed_out_page_is_chinese_first_and_strict(world: World) -> None:
    status, headers, body = get(world.app.test_client(), "/seal/")
    page = html(body)
    assert status == 200
    assert '<html lang="zh-CN">' in page
    assert "<h1>电子印章控制台</h1>" in page
    assert 'id="seal-status" data-signed-in="no"' in page
    assert 'href="/seal/login"' in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert "<script>" not in page and "style=" not in page  # nothing inline (CSP)
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")

    _, _, body = get(world.app.test_client(), "/seal/?lang=en")
    assert '<html lang="en">' in html(body) and "<h1>Seal console</h1>" in html(body)


def test_static_files_are_served_by_the_blueprint(world: World) -> None:
    client = world.app.test_client()
    status, headers, body = get(client, "/seal/static/seal/console.js")
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert b"textContent" in body and b"innerHTML" not in body  # no HTML injection
    status, headers, _ = get(client, "/seal/static/seal/console.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")


def test_operator_sees_the_agency_and_its_seals(world: World) -> None:
    op = sign_in(world)
    status, _, body = get(op.client, "/seal/")
    page = html(body)
    assert status == 200
    assert 'data-signed-in="yes"' in page
    assert "您好，王五" in page and "浙江政务服务网" in page and world.uscc in page
    for seal in world.seals.values():
        assert f'data-seal-id="{seal.id}"' in page
        assert seal.name in page
        assert f'<option value="{seal.id}" data-algorithm="{seal.algorithm}"' in page
    assert "公章" in page and "合同专用章" in page and "启用" in page
    assert world.other_seal.id not in page  # another agency's seal is not listed
    assert f'name="csrf_token" value="{op.csrf}"' in page
    assert '<script src="/seal/static/seal/console.js" defer></script>' in page

    _, _, body = get(op.client, "/seal/?lang=en")
    page = html(body)
    assert "Hello, 王五" in page and "Official seal" in page and "active" in page
    assert "Zhejiang Government Service Network" in page


def test_seal_images_only_for_the_agency(world: World) -> None:
    op = sign_in(world)
    seal = world.seals["SM2"]
    status, headers, body = get(op.client, f"/seal/seals/{seal.id}.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body == seal.image_png and body.startswith(b"\x89PNG")
    assert get(op.client, f"/seal/seals/{world.other_seal.id}.png")[0] == 404
    assert get(world.app.test_client(), f"/seal/seals/{seal.id}.png")[0] == 404


def test_an_account_of_no_seal_holder_is_not_an_operator(world: World) -> None:
    op = sign_in(world, uscc=DEMO_ENTERPRISE_USCC)  # 杭州示例科技有限公司 holds no seals
    _, _, body = get(op.client, "/seal/")
    assert 'data-signed-in="no"' in html(body)
    status, reply = post(op, "/seal/preview", {"document": blank_pdf(2)})
    assert status == 403 and reply["error"] == "not_operator"
    assert "不是已登记用章单位的法人账户" in reply["message"]


def test_session_ended_at_the_hub_ends_the_console_session(world: World) -> None:
    sid = secrets.token_hex(8)
    op = sign_in(world, sid=sid)
    assert 'data-signed-in="yes"' in html(get(op.client, "/seal/")[2])
    with world.hub.db.write() as s:
        s.add(PortalLogout(portal=console.CONSOLE.key, sid=sid, ended_at=world.hub.clock()))
    page = html(get(op.client, "/seal/")[2])
    assert 'data-signed-in="no"' in page and "本控制台的登录已同时结束" in page


def test_backchannel_logout_refuses_junk(world: World) -> None:
    client = world.app.test_client()
    with client.post("/seal/backchannel-logout", data={"logout_token": "a.b.c"}) as r:
        assert r.status_code == 400 and r.get_json()["error"] == "invalid_request"


def test_logout_needs_the_csrf_token(world: World) -> None:
    op = sign_in(world)
    with op.client.post("/seal/logout", data={"csrf_token": "wrong"}) as r:
        assert r.status_code == 400
    assert 'data-signed-in="yes"' in html(get(op.client, "/seal/")[2])


# ----------------------------------------------------------------------------- preview


def test_pdf_preview_is_a_rendered_png(world: World) -> None:
    op = sign_in(world)
    status, reply = post(op, "/seal/preview", {"document": blank_pdf(2), "page": "2"})
    assert status == 200, reply
    assert reply["format"] == "pdf" and reply["page"] == 2 and reply["pages"] == 2
    assert reply["width_mm"] == pytest.approx(209.9, abs=0.1)
    assert reply["height_mm"] == pytest.approx(297.0, abs=0.1)
    assert set(reply["algorithms"]) == {"RS256", "ES256"} and reply["content_rendered"] is True
    prefix = "data:image/png;base64,"
    assert reply["image"].startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(reply["image"][len(prefix) :])))
    assert image.format == "PNG" and max(image.size) == console.MAX_PREVIEW_PX
    assert image.size[0] < image.size[1]  # portrait, like the page


def test_ofd_preview_draws_the_page(world: World) -> None:
    op = sign_in(world)
    status, reply = post(op, "/seal/preview", {"document": OFD.read_bytes()})
    assert status == 200, reply
    assert reply["format"] == "ofd" and reply["pages"] >= 1
    assert reply["algorithms"] == ["SM2"] and reply["content_rendered"] is True
    boxes = console.ofd_page_boxes(OFD.read_bytes())
    assert reply["width_mm"] == pytest.approx(boxes[0].width_mm, abs=0.001)
    prefix = "data:image/svg+xml;base64,"
    svg = base64.b64decode(reply["image"][len(prefix) :]).decode()
    assert svg.startswith("<svg") and 'viewBox="0 0 210 297"' in svg
    assert "你好呀，OFD Reader&amp;Writer！" in svg  # the page's text, escaped


def test_ofd_preview_falls_back_to_the_page_box(world: World) -> None:
    """Content the drawing cannot read (here a broken Signatures.xml): the page box,
    and the reply says the content is not drawn."""
    op = sign_in(world)
    out = io.BytesIO()
    with zipfile.ZipFile(OFD) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "OFD.xml":
                data = data.replace(
                    b"</ofd:DocBody>",
                    b"<ofd:Signatures>Doc_0/Signs/S.xml</ofd:Signatures></ofd:DocBody>",
                )
            dst.writestr(item, data)
        dst.writestr("Doc_0/Signs/S.xml", b"<ofd:Signatures")
    status, reply = post(op, "/seal/preview", {"document": out.getvalue()})
    assert status == 200, reply
    assert reply["content_rendered"] is False
    svg = base64.b64decode(reply["image"].split(",", 1)[1]).decode()
    assert "OFD · 1" in svg and "你好呀" not in svg


@pytest.mark.parametrize(
    ("document", "status", "code", "message"),
    [
        (b"hello, not a document", 400, "unsupported_format", "仅支持 PDF 或 OFD"),
        (b"%PDF-1.7\nbroken", 400, "pdf_malformed", "PDF 文件已损坏"),
        (b"PK\x03\x04not a zip at all", 400, "malformed", "OFD 文件已损坏"),
        (b"", 400, "document_required", "请先选择文件"),
    ],
)
def test_bad_documents_get_a_typed_chinese_error(
    world: World, document: bytes, status: int, code: str, message: str
) -> None:
    op = sign_in(world)
    for path in ("/seal/preview", "/seal/sign"):
        got, reply = post(op, path, {"document": document, "seal_id": world.seals["RS256"].id})
        assert (got, reply["error"]) == (status, code), (path, reply)
        assert message in reply["message"]


def test_page_out_of_range(world: World) -> None:
    op = sign_in(world)
    status, reply = post(op, "/seal/preview", {"document": blank_pdf(1), "page": "3"})
    assert status == 400 and reply["error"] == "page_out_of_range"
    assert reply["message"] == "页码超出文档范围。"


def test_oversized_upload_is_refused_before_parsing(world: World) -> None:
    op = sign_in(world)
    boundary = "----seal-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{op.csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name="document"; '
            f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n'
        ).encode()
        + b"0" * (console.MAX_UPLOAD + 100 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with op.client.post(
        "/seal/preview",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Accept": "application/json"},
    ) as r:
        assert r.status_code == 413
        reply = r.get_json()
    assert reply["error"] == "too_large" and "10 MB" in reply["message"]


def test_every_post_needs_the_session_and_the_csrf_token(world: World) -> None:
    anonymous = Operator(world.app.test_client(), "none", "")
    status, reply = post(anonymous, "/seal/preview", {"document": blank_pdf(2)})
    assert status == 401 and reply["error"] == "login_required"
    op = sign_in(world)
    for path in ("/seal/preview", "/seal/sign"):
        status, reply = post(op, path, {"document": blank_pdf(2)}, csrf=False)
        assert status == 400 and reply["error"] == "csrf", path
        status, reply = post(op, path, {"document": blank_pdf(2), "csrf_token": "forged"})
        assert status == 400 and reply["error"] == "csrf", path
        status, reply = post(op, path, {"document": blank_pdf(2), "csrf_token": "伪造的令牌"})
        assert status == 400 and reply["error"] == "csrf", path  # not a 500 (non-ASCII)


# ----------------------------------------------------------------------------- sealing


def test_seal_a_pdf_verify_and_download(world: World) -> None:
    op = sign_in(world)
    seal = world.seals["RS256"]
    document = blank_pdf(2)
    form = {"document": document, "seal_id": seal.id, "page": "2", "x_mm": "105", "y_mm": "148.5"}
    status, reply = post(op, "/seal/sign", form)
    assert status == 200, reply
    assert reply["verdict"] == "VALID" and reply["verdict_text"] == "有效"
    (signature,) = reply["report"]["signatures"]
    assert signature["indication"] == "PASSED"
    assert reply["format"] == "pdf" and reply["filename"] == "sealed.pdf"
    # the click is the seal's centre, from the top-left; PDF wants the lower-left corner
    size, height_mm = seal.width_mm, A4_PT[1] * 25.4 / 72
    assert reply["position_mm"] == {
        "x": pytest.approx(105 - size / 2),
        "y": pytest.approx(height_mm - 148.5 - size / 2, abs=0.01),
        "page": 2,
    }
    # the sealed page, rendered from the stored result: the red seal around the click point
    status, headers, png = get(op.client, reply["sealed_preview_url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    red = [
        (x, y)
        for x in range(0, width, 2)
        for y in range(0, height, 2)
        if (lambda p: p[0] > 150 and p[1] < 110 and p[2] < 110)(image.getpixel((x, y)))
    ]
    assert len(red) > 50
    mean_x = sum(x for x, _ in red) / len(red) / width
    mean_y = sum(y for _, y in red) / len(red) / height
    assert mean_x == pytest.approx(0.5, abs=0.05) and mean_y == pytest.approx(0.5, abs=0.05)
    status, headers, body = get(op.client, reply["download_url"])
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert 'attachment; filename="sealed.pdf"' == headers["Content-Disposition"]
    assert body.startswith(document)  # an incremental update of the uploaded file
    (report,) = verify_pdf(body, trust_roots=world.hub.pki.roots())
    assert report.indication.value == "PASSED"
    with world.hub.db.session() as s:
        row = s.get(SealOperation, reply["operation_id"])
        assert row is not None and row.seal_id == seal.id
        assert row.client_id == f"seal-console:{op.sub}"  # who sealed, for the audit trail
    # another operator session of another agency cannot download it; nor can anyone else
    assert get(world.app.test_client(), reply["download_url"])[0] == 404
    stranger = sign_in(world, uscc=DEMO_ENTERPRISE_USCC)
    assert get(stranger.client, reply["download_url"])[0] == 404
    assert get(op.client, "/seal/operations/no-such-op/download")[0] == 404
    assert get(stranger.client, reply["sealed_preview_url"])[0] == 404


def test_pdf_level_b_lt_from_the_console(world: World) -> None:
    op = sign_in(world)
    form = {
        "document": blank_pdf(1),
        "seal_id": world.seals["RS256"].id,
        "page": "1",
        "x_mm": "100",
        "y_mm": "100",
        "level": "B-LT",
    }
    status, reply = post(op, "/seal/sign", form)
    assert status == 200, reply
    assert reply["verdict"] == "VALID"
    (signature,) = reply["report"]["signatures"]
    assert signature["pades_level"] == "B-LT"
    status, reply = post(op, "/seal/sign", {**form, "level": "B-LTA"})
    assert status == 400 and reply["error"] == "invalid_level"
    assert reply["message"] == "不支持的签章级别。"


def test_seal_an_ofd_with_the_sm2_seal(world: World) -> None:
    op = sign_in(world)
    seal = world.seals["SM2"]
    box = console.ofd_page_boxes(OFD.read_bytes())[0]
    form = {"document": OFD.read_bytes(), "seal_id": seal.id, "x_mm": "60", "y_mm": "80"}
    status, reply = post(op, "/seal/sign", form)
    assert status == 200, reply
    assert reply["verdict"] == "VALID" and reply["filename"] == "sealed.ofd"
    status, headers, svg = get(op.client, reply["sealed_preview_url"])
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert headers["Cache-Control"] == "private, no-store"
    x_mm, y_mm = reply["position_mm"]["x"], reply["position_mm"]["y"]
    assert f'<image x="{x_mm:g}" y="{y_mm:g}"'.encode() in svg  # the new seal, drawn
    assert reply["position_mm"]["x"] == pytest.approx(min(60 - seal.width_mm / 2, box.width_mm))
    assert reply["position_mm"]["y"] == pytest.approx(80 - seal.height_mm / 2)
    status, headers, body = get(op.client, reply["download_url"])
    assert status == 200 and headers["Content-Type"] == "application/ofd"
    checked = verify_ofd(body, roots=world.hub.pki.roots(), intermediates=world.hub.pki.cas())
    assert checked.passed
    (stamp,) = [a for r in checked.signatures for a in r.stamp_annots]
    assert stamp.boundary is not None
    x, y, _w, _h = (float(v) for v in stamp.boundary.split())
    assert (x, y) == pytest.approx((reply["position_mm"]["x"], reply["position_mm"]["y"]))


def test_the_seal_must_fit_the_format(world: World) -> None:
    op = sign_in(world)
    form = {"document": OFD.read_bytes(), "seal_id": world.seals["RS256"].id}
    status, reply = post(op, "/seal/sign", {**form, "x_mm": "50", "y_mm": "50"})
    assert status == 409 and reply["error"] == "wrong_seal_algorithm"
    assert "OFD 须用 SM2 印章" in reply["message"]
    form = {"document": blank_pdf(2), "seal_id": world.seals["SM2"].id, "x_mm": "50", "y_mm": "50"}
    status, reply = post(op, "/seal/sign", form)
    assert status == 409 and reply["error"] == "wrong_seal_algorithm"


def test_another_agencys_seal_is_forbidden_and_audited(world: World) -> None:
    op = sign_in(world)
    before = len(world.hub.sealing.operations(seal_id=world.other_seal.id))
    log_size = world.hub.log.size() if hasattr(world.hub.log, "size") else None
    form = {"document": blank_pdf(2), "seal_id": world.other_seal.id, "x_mm": "50", "y_mm": "50"}
    status, reply = post(op, "/seal/sign", form)
    assert status == 403 and reply["error"] == "seal_forbidden"
    assert reply["message"] == "该印章不属于您的单位，不能使用。"
    assert len(world.hub.sealing.operations(seal_id=world.other_seal.id)) == before
    if log_size is not None:
        assert world.hub.log.size() == log_size + 1  # the service's seal.denied audit leaf
    status, reply = post(op, "/seal/sign", {**form, "seal_id": "no-such-seal"})
    assert (
        status == 404 and reply["error"] == "seal_unknown" and reply["message"] == "找不到该印章。"
    )


def test_a_suspended_seal_is_refused_with_a_chinese_reason(world: World) -> None:
    hub = world.hub
    seal = hub.seals.apply(
        holder_id="zj",
        kind="finance",
        name="财务专用章",
        algorithm="ES256",
        maker_id=None,
        actor="test",
    )
    hub.seals.approve(seal.id, actor="test")
    hub.seals.activate(seal.id, actor="test")
    hub.seals.suspend(seal.id, actor="test")
    op = sign_in(world)
    page = html(get(op.client, "/seal/")[2])
    assert f'data-seal-id="{seal.id}"' in page and "暂停" in page
    assert f'<option value="{seal.id}"' not in page  # only active seals can be picked
    form = {"document": blank_pdf(2), "seal_id": seal.id, "x_mm": "50", "y_mm": "50"}
    status, reply = post(op, "/seal/sign", form)
    assert status == 409 and reply["error"] == "seal_suspended"
    assert reply["message"] == "该印章已暂停使用。"
    hub.seals.revoke(seal.id, actor="test")


@pytest.mark.parametrize(("x", "y"), [("-1", "50"), ("50", "1e9"), ("nan", "10"), ("", "10")])
def test_positions_outside_the_page_are_refused(world: World, x: str, y: str) -> None:
    op = sign_in(world)
    form = {"document": blank_pdf(2), "seal_id": world.seals["RS256"].id, "x_mm": x, "y_mm": y}
    status, reply = post(op, "/seal/sign", form)
    assert status == 400 and reply["error"] == "bad_position"


def test_english_error_messages(world: World) -> None:
    op = sign_in(world)
    form = {"document": blank_pdf(2), "seal_id": world.other_seal.id, "x_mm": "50", "y_mm": "50"}
    form["csrf_token"] = op.csrf
    multipart = {
        k: (io.BytesIO(v), "a.pdf") if isinstance(v, bytes) else v for k, v in form.items()
    }
    with op.client.post(
        "/seal/sign?lang=en", data=multipart, headers={"Accept": "application/json"}
    ) as r:
        assert r.status_code == 403
        assert r.get_json()["message"] == "This seal does not belong to your agency."


def test_demo_operator_is_an_enterprise_account_of_the_agency(world: World) -> None:
    account = world.hub.idp.accounts.by_username(DEMO_SEAL_OPERATOR)
    assert account is not None and account.kind == "enterprise"
    assert account.uscc == world.uscc
    zj = world.hub.registry.find("zj")
    assert zj is not None and account.enterprise_name == zj.name_zh
    client = world.hub.idp.clients.get(console.CONSOLE.client_id)
    assert client is not None
    assert set(client.scopes) == {"openid", "profile", "enterprise"}
    assert client.redirect_uris == ("http://localhost/seal/callback",)
    assert client.check_client_secret(console.console_secret(world.hub.master_key))
    assert DEMO_SEAL_OPERATOR.casefold() not in DEMO_SEAL_OPERATOR_PASSWORD.casefold()
    assert seed_demo(world.hub)["seal_console"]["client"] == {"seal-console": "unchanged"}
