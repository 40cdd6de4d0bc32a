"""Seal images: generated SVG/PNG seals and uploaded seal images (seal_service.image)."""

from __future__ import annotations

import io
import math
import os
import re
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from PIL import Image, ImageDraw

from seal_service import image as seal_image
from seal_service.image import (
    SealFontUnavailable,
    SealImageError,
    load_uploaded_image,
    seal_png,
    seal_svg,
)
from trust.errors import TrustError

SVG = "{http://www.w3.org/2000/svg}"
ORG = "浙江省市场监督管理局"
IN_CI = os.environ.get("CI") == "true"


def _font_available() -> bool:
    try:
        seal_image.find_cjk_font()
    except SealFontUnavailable:
        return False
    return True


@pytest.fixture
def cjk_font() -> None:
    """PNG rendering needs a CJK font: skip without one, but fail in CI, which
    installs Debian fonts-noto-cjk."""
    if _font_available():
        return
    reason = "no CJK font (Debian package fonts-noto-cjk)"
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def glyphs(root: ET.Element, role: str) -> list[ET.Element]:
    return [t for t in root.iter(f"{SVG}text") if f"seal-{role}" in t.get("class", "").split()]


def transform_of(element: ET.Element) -> tuple[float, float, float]:
    """(x, y, rotation) from 'translate(x y) rotate(a) …'."""
    transform = element.get("transform", "")
    x, y = map(float, re.search(r"translate\(([-\d.]+) ([-\d.]+)\)", transform).groups())
    rotation = re.search(r"rotate\(([-\d.]+)\)", transform)
    return x, y, float(rotation.group(1)) if rotation else 0.0


def star_points(root: ET.Element) -> list[tuple[float, float]]:
    (star,) = [p for p in root.iter(f"{SVG}path") if p.get("class") == "seal-star"]
    pairs = re.findall(r"(-?[\d.]+),(-?[\d.]+)", star.get("d"))
    return [(float(x), float(y)) for x, y in pairs]


# --------------------------------------------------------------------------- SVG


def test_svg_is_well_formed_and_sized_in_mm():
    root = parse(seal_svg(organisation=ORG, seal_name="合同专用章"))
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "42mm" and root.get("height") == "42mm"
    assert root.get("viewBox") == "0 0 42 42"
    (ring,) = root.iter(f"{SVG}circle")
    assert ring.get("stroke") == "#d00"
    assert float(ring.get("r")) + float(ring.get("stroke-width")) / 2 == pytest.approx(21, abs=1e-3)
    assert root.find(f"{SVG}title").text == f"{ORG} 合同专用章"


def test_svg_has_one_glyph_per_character():
    root = parse(seal_svg(organisation=ORG, seal_name="合同专用章", code="3301060012345"))
    assert "".join(t.text for t in glyphs(root, "org")) == ORG
    assert "".join(t.text for t in glyphs(root, "name")) == "合同专用章"
    assert "".join(t.text for t in glyphs(root, "code")) == "3301060012345"


def test_svg_organisation_runs_clockwise_across_the_upper_arc_upright_to_the_centre():
    root = parse(seal_svg(organisation=ORG))
    placed = [transform_of(t) for t in glyphs(root, "org")]
    angles = [a for _, _, a in placed]
    steps = [b - a for a, b in zip(angles, angles[1:], strict=False)]
    assert all(s > 0 for s in steps)  # clockwise, read left to right
    assert max(steps) - min(steps) == pytest.approx(0, abs=1e-2)  # evenly spaced
    assert angles[0] == pytest.approx(-angles[-1], abs=1e-2)  # symmetric about 12 o'clock
    assert angles[-1] - angles[0] + steps[0] == pytest.approx(240, abs=0.1)
    radii = set()
    for x, y, rotation in placed:
        # each glyph's "up" points away from the centre: rotation == polar angle
        polar = math.degrees(math.atan2(x - 21, 21 - y))
        assert rotation == pytest.approx(polar, abs=0.05)
        radii.add(round(math.hypot(x - 21, y - 21), 2))
    assert len(radii) == 1
    assert next(iter(radii)) < 21


def test_svg_star_has_ten_vertices_and_is_centred():
    points = star_points(parse(seal_svg(organisation=ORG)))
    assert len(points) == 10
    cx = sum(x for x, _ in points) / 10
    assert cx == pytest.approx(21, abs=1e-3)
    radii = [math.hypot(x - 21, y - 21) for x, y in points]
    outer, inner = radii[0::2], radii[1::2]
    assert max(outer) - min(outer) == pytest.approx(0, abs=2e-3)
    assert max(inner) - min(inner) == pytest.approx(0, abs=2e-3)
    assert inner[0] / outer[0] == pytest.approx(0.382, abs=2e-3)
    assert points[0] == pytest.approx((21, 21 - outer[0]), abs=1e-3)  # a point straight up


def test_svg_seal_name_is_horizontal_below_the_star_and_code_on_the_lower_arc():
    root = parse(seal_svg(organisation=ORG, kind="contract", code="91330106MA2B3C4D5E"))
    star_bottom = max(y for _, y in star_points(root))
    names = [transform_of(t) for t in glyphs(root, "name")]
    assert "".join(t.text for t in glyphs(root, "name")) == "合同专用章"  # kind default
    assert all(rot == 0 and y > star_bottom for _, y, rot in names)
    xs = [x for x, _, _ in names]
    assert xs == sorted(xs) and (xs[0] + xs[-1]) / 2 == pytest.approx(21, abs=1e-3)
    codes = [transform_of(t) for t in glyphs(root, "code")]
    assert len(codes) == 18
    assert all(y > names[0][1] for _, y, _ in codes)
    code_xs = [x for x, _, _ in codes]
    assert code_xs == sorted(code_xs)  # left to right


def test_svg_finance_and_custom_seal_names():
    finance = parse(seal_svg(organisation=ORG, kind="finance"))
    assert "".join(t.text for t in glyphs(finance, "name")) == "财务专用章"
    official = parse(seal_svg(organisation=ORG))
    assert glyphs(official, "name") == []
    custom = parse(seal_svg(organisation=ORG, seal_name="发票专用章", diameter_mm=40))
    assert custom.get("width") == "40mm"
    assert "".join(t.text for t in glyphs(custom, "name")) == "发票专用章"


def test_svg_escapes_markup_in_text():
    hostile = '</text><script>x("1")</script>&amp;\'<'
    svg = seal_svg(organisation=hostile, seal_name="<b>&")
    root = parse(svg)
    assert "<script>" not in svg
    assert list(root.iter(f"{SVG}script")) == []
    assert root.find(f"{SVG}title").text == f"{hostile} <b>&"
    assert root.get("aria-label") == f"{hostile} <b>&"
    assert "".join(t.text for t in glyphs(root, "org")) == hostile


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三丰", ["张", "三", "丰", "印"]),
        ("欧阳明华", ["欧", "阳", "明", "华"]),
        ("李四", ["李", "四"]),
    ],
)
def test_svg_legal_representative_seal_is_square_with_the_name(name, expected):
    root = parse(seal_svg(organisation=ORG, seal_name=name, kind="legal_rep"))
    assert root.get("width") == "22mm" and root.get("viewBox") == "0 0 22 22"
    assert list(root.iter(f"{SVG}circle")) == [] and len(list(root.iter(f"{SVG}rect"))) == 1
    person = glyphs(root, "person")
    assert [t.text for t in person] == expected
    placed = [transform_of(t) for t in person]
    # traditional order: right column first, top to bottom
    assert placed[0][0] > 11 and placed[-1][0] < 11
    if len(expected) == 4:
        assert placed[0][1] < placed[1][1] and placed[2][1] < placed[3][1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"organisation": ""},
        {"organisation": "   "},
        {"organisation": "国" * 41},
        {"organisation": ORG, "diameter_mm": 37.9},
        {"organisation": ORG, "diameter_mm": 45.1},
        {"organisation": ORG, "diameter_mm": float("nan")},
        {"organisation": ORG, "diameter_mm": "42"},
        {"organisation": ORG, "kind": "oval"},
        {"organisation": ORG, "seal_name": "专" * 13},
        {"organisation": "浙江\x00省"},
        {"organisation": ORG, "code": "33010-600"},
        {"organisation": ORG, "code": ""},
        {"organisation": ORG, "kind": "legal_rep"},
        {"organisation": ORG, "kind": "legal_rep", "seal_name": "张"},
        {"organisation": ORG, "kind": "legal_rep", "seal_name": "张三丰丰丰"},
        {"organisation": ORG, "kind": "legal_rep", "seal_name": "张三", "diameter_mm": 42},
        {"organisation": ORG, "kind": "legal_rep", "seal_name": "张三", "code": "1"},
    ],
)
def test_invalid_requests_are_refused(kwargs):
    with pytest.raises(SealImageError) as excinfo:
        seal_svg(**kwargs)
    assert excinfo.value.code == "invalid_seal_image"
    assert isinstance(excinfo.value, TrustError)


def test_forty_character_names_still_fit():
    root = parse(seal_svg(organisation="国" * 40, kind="contract"))
    assert len(glyphs(root, "org")) == 40


# --------------------------------------------------------------------------- PNG


def _png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("dpi", [300, 150])
def test_png_is_transparent_rgba_with_a_red_ring(cjk_font, dpi):
    image = _png(seal_png(organisation=ORG, seal_name="合同专用章", code="3301060012345", dpi=dpi))
    size = round(42 / 25.4 * dpi)
    assert image.mode == "RGBA" and image.size == (size, size)
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.05)  # stored per metre
    for corner in [(0, 0), (size - 1, 0), (0, size - 1), (size - 1, size - 1)]:
        assert image.getpixel(corner)[3] == 0
    ring = round(size * 0.027 / 2)  # middle of the ring's width
    for x, y in [
        (size // 2, ring),
        (ring, size // 2),
        (size - 1 - ring, size // 2),
        (size // 2, size - 1 - ring),
    ]:
        r, g, b, a = image.getpixel((x, y))
        assert (r, g, b) == (0xDD, 0, 0) and a > 240
    assert image.getpixel((size // 2, size // 2))[3] > 240  # the star's centre
    between_star_and_name = (size // 2, size // 2 + round(size * 0.07))
    assert image.getpixel(between_star_and_name)[3] == 0


def test_png_draws_the_organisation_text_on_the_upper_arc(cjk_font):
    image = _png(seal_png(organisation=ORG))
    size = image.width
    alpha = image.getchannel("A")
    # the band between the ring and the star, above the centre, holds the text
    text_band = alpha.crop(
        (round(size * 0.3), round(size * 0.06), round(size * 0.7), round(size * 0.2))
    )
    assert text_band.getbbox() is not None
    histogram = text_band.histogram()
    assert sum(histogram[129:]) > 0.1 * text_band.width * text_band.height
    # nothing below the star for a plain official seal (no name, no code)
    below = alpha.crop(
        (round(size * 0.35), round(size * 0.72), round(size * 0.65), round(size * 0.9))
    )
    assert below.getbbox() is None


def test_png_legal_representative_seal_is_square(cjk_font):
    image = _png(seal_png(organisation=ORG, seal_name="张三丰", kind="legal_rep", dpi=300))
    assert image.size == (round(22 / 25.4 * 300),) * 2
    assert image.getpixel((1, 1))[3] > 240  # the square border reaches the corners


def test_png_validates_like_svg():
    with pytest.raises(SealImageError):
        seal_png(organisation="", dpi=300)
    for dpi in (0, 71, 1201, 300.0, True):
        with pytest.raises(SealImageError):
            seal_png(organisation=ORG, dpi=dpi)


def test_missing_font_is_a_typed_error(monkeypatch):
    monkeypatch.setattr(seal_image, "_FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    monkeypatch.setattr(seal_image, "_fc_list_candidates", lambda: [])
    seal_image.find_cjk_font.cache_clear()
    seal_image._font.cache_clear()
    try:
        with pytest.raises(SealFontUnavailable) as excinfo:
            seal_png(organisation=ORG)
        assert excinfo.value.code == "seal_font_unavailable"
        assert "fonts-noto-cjk" in str(excinfo.value)
    finally:
        seal_image.find_cjk_font.cache_clear()
        seal_image._font.cache_clear()


# --------------------------------------------------------------------------- uploads


def _scan(fmt: str = "PNG", size: tuple[int, int] = (240, 240), dpi: float | None = 300.0) -> bytes:
    """A 'scanned' seal: red ring and dot on white paper, anti-aliased by downscaling."""
    w, h = size
    big = Image.new("RGB", (w * 4, h * 4), (255, 255, 255))
    draw = ImageDraw.Draw(big)
    draw.ellipse((40, 40, w * 4 - 41, h * 4 - 41), outline=(200, 16, 24), width=40)
    draw.ellipse((w * 2 - 60, h * 2 - 60, w * 2 + 60, h * 2 + 60), fill=(200, 16, 24))
    image = big.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    args = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buf, format=fmt, **args)
    return buf.getvalue()


def test_upload_png_white_background_becomes_transparent():
    result = load_uploaded_image(_scan())
    image = _png(result.png)
    assert image.mode == "RGBA" and result.source_format == "PNG"
    assert (result.width_px, result.height_px) == image.size
    assert image.size[0] <= 240 - 2 * 9  # cropped to the ink
    assert image.getpixel((0, 0))[3] == 0  # corner outside the ring: paper
    assert image.getpixel((image.width // 2, image.height // 2)) == (200, 16, 24, 255)
    assert image.getpixel((image.width // 2, 4))[3] == 255  # the ring
    assert image.getpixel((image.width // 2, image.height // 4))[3] == 0  # inside: paper
    assert result.dpi == pytest.approx((300, 300), abs=0.01)
    assert result.width_mm == pytest.approx(image.width / 300 * 25.4, abs=0.01)


def test_upload_unmixes_anti_aliased_edges_from_white():
    image = Image.new("RGB", (40, 40), (255, 255, 255))
    image.paste((240, 150, 150), (10, 10, 30, 30))  # pink: light red on white
    image.paste((221, 0, 0), (18, 18, 22, 22))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    out = _png(load_uploaded_image(buf.getvalue()).png)
    assert out.size == (20, 20)  # cropped to the ink
    pink = out.getpixel((1, 1))
    assert 100 < pink[3] < 200  # partly transparent …
    on_white = Image.new("RGBA", (1, 1), "white")
    on_white.alpha_composite(Image.new("RGBA", (1, 1), pink))
    assert on_white.getpixel((0, 0))[:3] == pytest.approx((240, 150, 150), abs=2)  # … same look
    assert out.getpixel((10, 10)) == (221, 0, 0, 255)  # solid ink unchanged


def test_upload_jpeg_without_dpi():
    result = load_uploaded_image(_scan("JPEG", dpi=None))
    image = _png(result.png)
    assert result.source_format == "JPEG" and image.mode == "RGBA"
    assert result.dpi is None and result.width_mm is None and result.height_mm is None
    assert image.getpixel((0, 0))[3] == 0
    assert image.getpixel((image.width // 2, image.height // 2))[3] == 255


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels of RGBA."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"GIF89a" + b"\0" * 64, id="gif"),
        pytest.param(b"not an image at all", id="garbage"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-magic-garbage"),
        pytest.param(_scan()[:200], id="truncated-png"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 100, id="jpeg-magic-garbage"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), id="over-2MB"),
        pytest.param(_png_claiming(100_000, 100_000), id="bomb-100000x100000"),
        pytest.param(_png_claiming(12_000, 12_000), id="bomb-12000x12000"),
        pytest.param(_png_claiming(2001, 20), id="too-wide"),
        pytest.param(_png_claiming(8, 8), id="too-small"),
    ],
)
def test_upload_refuses_bad_images(data):
    with pytest.raises(SealImageError) as excinfo:
        load_uploaded_image(data)
    assert excinfo.value.code == "invalid_seal_image"


def test_upload_refuses_a_blank_page():
    buf = io.BytesIO()
    Image.new("RGB", (100, 100), (252, 252, 250)).save(buf, format="PNG")
    with pytest.raises(SealImageError, match="no visible ink"):
        load_uploaded_image(buf.getvalue())


def test_upload_round_trips_a_generated_seal(cjk_font):
    result = load_uploaded_image(seal_png(organisation=ORG, seal_name="合同专用章", dpi=300))
    assert result.dpi == pytest.approx((300, 300), abs=0.01)
    assert result.width_mm == pytest.approx(42, abs=0.3)
    assert result.height_mm == pytest.approx(42, abs=0.3)
