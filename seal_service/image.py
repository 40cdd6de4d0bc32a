"""Seal images: generated round official seals, square name seals, uploads.

Conventions followed (国发〔1999〕25号《国务院关于国家行政机关和企业事业单位社会团体印章管理的规定》
and common practice of the public-security-approved seal makers):

* 公章 (official seal) is round. The 1999 rules fix the diameter by rank (6 cm
  for the State Council, 5 or 4.5 cm for ministries and provinces, 4.2 cm for
  many lower bodies); enterprise seals are at most 4.2 cm, and 40–42 mm is the
  usual size; the border is about 1 mm wide and the impression is red.
* The organisation name runs clockwise, left to right, along the upper arc
  (自左而右环行, about 240°), each character upright relative to the centre;
  a five-pointed star sits in the centre; characters are simplified 宋体.
* Special-purpose seals (专用章: 合同专用章, 财务专用章 …) must differ from the
  official seal in name and style (art. 22); their purpose is commonly written
  horizontally below the star.
* Many regions add the seal's registration code (the 13-digit 印章编码, or the
  unified social credit code) in small digits along the lower arc.
* 法定代表人名章 (legal representative's name seal) is square, about 20–22 mm,
  carrying the person's name; a three-character name is completed with 印 to
  fill a 2×2 grid, read in the traditional order (right column top to bottom,
  then the left column).

Seals whose centre carries the national emblem (国徽) are not generated: upload
their image instead (:func:`load_uploaded_image`).

Pure Python plus Pillow (for PNG); no Flask or database import. Geometry is
computed once in millimetres and rendered by both back ends, so the SVG and
the PNG of a seal agree.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

from trust.errors import TrustError

__all__ = [
    "KINDS",
    "SEAL_RED",
    "SealFontUnavailable",
    "SealImageError",
    "UploadedSealImage",
    "find_cjk_font",
    "load_uploaded_image",
    "seal_png",
    "seal_svg",
]

SEAL_RED = "#d00"
_SEAL_RGB = (0xDD, 0x00, 0x00)

Kind = Literal["official", "contract", "finance", "legal_rep"]
KINDS: dict[str, str] = {
    "official": "",  # 公章: nothing below the star
    "contract": "合同专用章",
    "finance": "财务专用章",
    "legal_rep": "",  # 法定代表人名章: square, the person's name
}

ROUND_DIAMETER_MM = (38.0, 45.0)
ROUND_DEFAULT_MM = 42.0
SQUARE_SIDE_MM = (18.0, 25.0)
SQUARE_DEFAULT_MM = 22.0
MAX_ORGANISATION_CHARS = 40
MAX_SEAL_NAME_CHARS = 12
DPI_RANGE = (72, 1200)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_PIXELS_SIDE = 2000
MIN_UPLOAD_PIXELS_SIDE = 16

# Vertical centre of a CJK glyph in its em box: the ideographic em box spans
# -0.12 em to +0.88 em around the baseline, so the baseline sits 0.38 em below
# the glyph's centre. Digits (cap height ≈ 0.75 em) centre at the same place.
_BASELINE_BELOW_CENTRE_EM = 0.38

_SVG_FONT_FAMILY = (
    "'Noto Serif CJK SC', 'Source Han Serif SC', 'Songti SC', SimSun, 'STSong', serif"
)

# Debian fonts-noto-cjk, in order of preference (宋体-like serif first).
_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

_CODE_RE = re.compile(r"[0-9A-Z]{1,24}")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


class SealImageError(TrustError):
    """The seal image request or the uploaded seal image is not acceptable."""

    code = "invalid_seal_image"


class SealFontUnavailable(TrustError):
    """No CJK font is installed to render seal text (install Debian fonts-noto-cjk)."""

    code = "seal_font_unavailable"


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Circle:
    cx: float
    cy: float
    r: float  # radius of the stroke's centre line
    width: float


@dataclass(frozen=True)
class _Square:
    x: float  # outer edge
    y: float
    side: float
    width: float  # drawn inwards from the outer edge


@dataclass(frozen=True)
class _Polygon:
    points: tuple[tuple[float, float], ...]
    role: str


@dataclass(frozen=True)
class _Glyph:
    char: str
    cx: float  # centre of the glyph's em box
    cy: float
    size: float  # font size (em) in mm
    rotate: float  # degrees, clockwise
    role: str  # "org", "name", "code", "person"
    sx: float = 1.0
    sy: float = 1.0


@dataclass(frozen=True)
class _Layout:
    width: float
    height: float
    title: str
    shapes: tuple[_Circle | _Square | _Polygon, ...]
    glyphs: tuple[_Glyph, ...] = field(default=())


def _clean_text(value: object, what: str, *, max_chars: int, required: bool) -> str:
    if not isinstance(value, str):
        raise SealImageError(f"{what} must be text")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        if required:
            raise SealImageError(f"{what} is empty")
        return ""
    if len(text) > max_chars:
        raise SealImageError(f"{what} is longer than {max_chars} characters")
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] == "C" or category in ("Zl", "Zp"):
            raise SealImageError(f"{what} contains a control or unassigned character {ch!r}")
    return text


def _check_diameter(diameter_mm: float | None, kind: str) -> float:
    low, high = SQUARE_SIDE_MM if kind == "legal_rep" else ROUND_DIAMETER_MM
    if diameter_mm is None:
        return SQUARE_DEFAULT_MM if kind == "legal_rep" else ROUND_DEFAULT_MM
    if isinstance(diameter_mm, bool) or not isinstance(diameter_mm, int | float):
        raise SealImageError("diameter_mm must be a number")
    value = float(diameter_mm)
    if not math.isfinite(value) or not low <= value <= high:
        shape = "square seal side" if kind == "legal_rep" else "round seal diameter"
        raise SealImageError(f"{shape} must be {low:g}–{high:g} mm, got {value:g}")
    return value


def _layout(
    *,
    organisation: str,
    seal_name: str,
    kind: str,
    diameter_mm: float | None,
    code: str | None,
) -> _Layout:
    if kind not in KINDS:
        raise SealImageError(f"unknown seal kind {kind!r}; expected one of {', '.join(KINDS)}")
    org = _clean_text(organisation, "organisation", max_chars=MAX_ORGANISATION_CHARS, required=True)
    name = _clean_text(seal_name, "seal name", max_chars=MAX_SEAL_NAME_CHARS, required=False)
    size = _check_diameter(diameter_mm, kind)
    if code is not None:
        if not isinstance(code, str) or not _CODE_RE.fullmatch(code.strip()):
            raise SealImageError("code must be 1–24 digits or capital letters (印章编码 or USCC)")
        code = code.strip()
    if kind == "legal_rep":
        if code is not None:
            raise SealImageError("a code is only drawn on round seals")
        return _square_layout(org, name, size)
    return _round_layout(org, name or KINDS[kind], size, code)


def _star(cx: float, cy: float, outer: float) -> _Polygon:
    """A regular five-pointed star, one point straight up: 10 vertices alternating
    between the outer radius and the inner radius (outer · sin 18° / sin 126°)."""
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(i * 36)  # clockwise from 12 o'clock
        points.append((cx + radius * math.sin(angle), cy - radius * math.cos(angle)))
    return _Polygon(tuple(points), "star")


def _on_circle(cx: float, cy: float, r: float, degrees: float) -> tuple[float, float]:
    """The point at ``degrees`` clockwise from 12 o'clock (SVG y grows downwards)."""
    a = math.radians(degrees)
    return cx + r * math.sin(a), cy - r * math.cos(a)


def _round_layout(org: str, name: str, d: float, code: str | None) -> _Layout:
    c = r_out = d / 2
    ring_w = 0.027 * d  # ≈ 1.1 mm at 42 mm
    shapes: list[_Circle | _Square | _Polygon] = [_Circle(c, c, r_out - ring_w / 2, ring_w)]
    shapes.append(_star(c, c, 0.17 * d))  # star ≈ 14 mm across at 42 mm
    glyphs: list[_Glyph] = []

    # Organisation name: clockwise along the upper arc, each glyph upright
    # relative to the centre (its foot towards the centre).
    n = len(org)
    span = min(240.0, 32.0 * n)  # short names do not stretch across 240°
    step = span / n
    text_outer = r_out - ring_w - 0.022 * d  # ≈ 0.9 mm clear of the ring
    height = 0.155 * d  # ≈ 6.5 mm at 42 mm
    for _ in range(3):  # shrink very long names so glyphs keep ≥ 0.45 of their width
        r_mid = text_outer - height / 2
        box = 0.93 * math.radians(step) * r_mid
        if box >= 0.45 * height:
            break
        height = box / 0.45
    r_mid = text_outer - height / 2
    box = 0.93 * math.radians(step) * r_mid
    sx = min(1.0, box / height)
    for i, ch in enumerate(org):
        angle = -span / 2 + step * (i + 0.5)
        x, y = _on_circle(c, c, r_mid, angle)
        if not ch.isspace():
            glyphs.append(_Glyph(ch, x, y, height, angle, "org", sx=sx))

    # Seal name (purpose): horizontal, below the star.
    if name:
        h_name = 0.105 * d  # ≈ 4.4 mm
        max_width = 0.47 * d
        advance = h_name * 1.02
        sx_name = min(1.0, max_width / (advance * len(name)))
        advance *= sx_name
        y = c + 0.245 * d
        x0 = c - advance * (len(name) - 1) / 2
        for i, ch in enumerate(name):
            if not ch.isspace():
                glyphs.append(_Glyph(ch, x0 + i * advance, y, h_name, 0.0, "name", sx=sx_name))

    # Code: small digits along the lower arc, read left to right, tops towards
    # the centre (a "smile"); positions run counter-clockwise from the left.
    if code:
        h_code = 0.042 * d  # ≈ 1.8 mm
        r_code = r_out - ring_w - 0.012 * d - h_code / 2
        step_code = math.degrees(0.62 * h_code / r_code)
        total = step_code * len(code)
        for i, ch in enumerate(code):
            angle = 180.0 + total / 2 - step_code * (i + 0.5)
            x, y = _on_circle(c, c, r_code, angle)
            # Capital letters of a USCC are wider than digits: narrow them to
            # the digits' advance so that neighbours never touch.
            sx_code = 0.68 if ch.isalpha() else 1.0
            glyphs.append(_Glyph(ch, x, y, h_code, angle - 180.0, "code", sx=sx_code))

    title = org + (f" {name}" if name else "")
    return _Layout(d, d, title, tuple(shapes), tuple(glyphs))


def _square_layout(org: str, person: str, side: float) -> _Layout:
    chars = [ch for ch in person if not ch.isspace()]
    if not 2 <= len(chars) <= 4:
        raise SealImageError(
            "a legal representative's name seal needs the person's name (2–4 characters) "
            "as seal_name"
        )
    if len(chars) == 3:
        chars.append("印")
    border = 0.045 * side  # ≈ 1 mm at 22 mm
    inset = border + 0.03 * side
    inner = side - 2 * inset
    shapes: tuple[_Circle | _Square | _Polygon, ...] = (_Square(0.0, 0.0, side, border),)
    glyphs: list[_Glyph] = []
    # CJK glyphs leave about 5 % of the em box empty on each side, which keeps
    # a thin gutter between cells, as on a carved seal.
    fill = 1.0
    if len(chars) == 2:  # 1×2: two tall characters, right column first
        cell_w, cell_h = inner / 2, inner
        em = cell_w * fill
        for col, ch in enumerate(chars):
            x = inset + inner - cell_w * (col + 0.5)
            glyphs.append(_Glyph(ch, x, inset + cell_h / 2, em, 0.0, "person", sy=cell_h / cell_w))
    else:  # 2×2: right column top to bottom, then the left column
        cell = inner / 2
        em = cell * fill
        for i, ch in enumerate(chars):
            col, row = divmod(i, 2)
            x = inset + inner - cell * (col + 0.5)
            y = inset + cell * (row + 0.5)
            glyphs.append(_Glyph(ch, x, y, em, 0.0, "person"))
    return _Layout(side, side, f"{org} {''.join(chars)}", shapes, tuple(glyphs))


# --------------------------------------------------------------------------- SVG


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def seal_svg(
    *,
    organisation: str,
    seal_name: str = "",
    kind: Kind | str = "official",
    diameter_mm: float | None = None,
    code: str | None = None,
) -> str:
    """The seal as a standalone SVG document, sized in millimetres.

    ``diameter_mm`` defaults to 42 mm for round seals and to a 22 mm side for the
    square ``legal_rep`` seal, whose ``seal_name`` is the person's name. For
    ``contract`` and ``finance`` an empty ``seal_name`` becomes 合同专用章 / 财务专用章.
    Each character is its own ``<text>`` element (class ``seal-org``, ``seal-name``,
    ``seal-code`` or ``seal-person``), placed and rotated here rather than by
    ``textPath``, so every renderer shows the same arc. Raises
    :class:`SealImageError` on invalid input.
    """
    layout = _layout(
        organisation=organisation,
        seal_name=seal_name,
        kind=kind,
        diameter_mm=diameter_mm,
        code=code,
    )
    w, h = _num(layout.width), _num(layout.height)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label={quoteattr(layout.title)}>',
        f"<title>{escape(layout.title)}</title>",
        f'<g fill="{SEAL_RED}" stroke="none">',
    ]
    for shape in layout.shapes:
        if isinstance(shape, _Circle):
            out.append(
                f'<circle class="seal-ring" cx="{_num(shape.cx)}" cy="{_num(shape.cy)}" '
                f'r="{_num(shape.r)}" fill="none" stroke="{SEAL_RED}" '
                f'stroke-width="{_num(shape.width)}"/>'
            )
        elif isinstance(shape, _Square):
            half = shape.width / 2
            out.append(
                f'<rect class="seal-border" x="{_num(shape.x + half)}" y="{_num(shape.y + half)}" '
                f'width="{_num(shape.side - shape.width)}" height="{_num(shape.side - shape.width)}" '
                f'fill="none" stroke="{SEAL_RED}" stroke-width="{_num(shape.width)}"/>'
            )
        else:
            d = "M" + " L".join(f"{_num(x)},{_num(y)}" for x, y in shape.points) + " Z"
            out.append(f'<path class="seal-{shape.role}" d="{d}"/>')
    out.append(f'<g font-family="{_SVG_FONT_FAMILY}" font-weight="bold" text-anchor="middle">')
    for g in layout.glyphs:
        transform = f"translate({_num(g.cx)} {_num(g.cy)})"
        if g.rotate:
            transform += f" rotate({_num(g.rotate)})"
        if g.sx != 1.0 or g.sy != 1.0:
            transform += f" scale({_num(g.sx)} {_num(g.sy)})"
        out.append(
            f'<text class="seal-glyph seal-{g.role}" transform="{transform}" x="0" '
            f'y="{_num(g.size * _BASELINE_BELOW_CENTRE_EM)}" '
            f'font-size="{_num(g.size)}">{escape(g.char)}</text>'
        )
    out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- fonts


def _sc_face_index(path: str) -> int | None:
    """The index of the Simplified Chinese face in a font collection (0 for a
    single font); None if Pillow cannot read the file."""
    from PIL import ImageFont

    first: int | None = None
    for index in range(16):
        try:
            font = ImageFont.truetype(path, 12, index=index)
        except OSError:
            break
        if first is None:
            first = index
        family = (font.getname()[0] or "").strip()
        if family.endswith(" SC") or family.endswith("SC"):
            return index
    return first


def _fc_list_candidates() -> list[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listing = subprocess.run(
            [fc_list, ":", "file", "family"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found: list[str] = []
    for wanted in ("Noto Serif CJK", "Source Han Serif", "Noto Sans CJK", "Source Han Sans"):
        for line in listing.splitlines():
            path, _, family = line.partition(":")
            if wanted in family and path.endswith((".ttc", ".otf", ".ttf")) and path not in found:
                found.append(path)
    return found


@lru_cache(maxsize=1)
def find_cjk_font() -> tuple[str, int]:
    """``(path, face index)`` of the CJK font used for PNG seals: Noto Serif CJK SC
    (宋体-like) from Debian fonts-noto-cjk, else any Noto/Source Han CJK face that
    fontconfig knows. Raises :class:`SealFontUnavailable` if there is none."""
    for path in (*_FONT_CANDIDATES, *_fc_list_candidates()):
        if Path(path).is_file():
            index = _sc_face_index(path)
            if index is not None:
                return path, index
    raise SealFontUnavailable(
        "no CJK font found to draw seal text: install the Debian package fonts-noto-cjk"
    )


@lru_cache(maxsize=64)
def _font(size_px: int) -> Any:
    from PIL import ImageFont

    path, index = find_cjk_font()
    return ImageFont.truetype(path, max(1, size_px), index=index)


# --------------------------------------------------------------------------- PNG


def _glyph_mask(g: _Glyph, scale: float) -> Any:
    """An L-mode image of one glyph, scaled and rotated, centred on its centre."""
    from PIL import Image, ImageDraw

    em = max(1, round(g.size * scale))
    font = _font(em)
    canvas = 2 * em
    mask = Image.new("L", (canvas, canvas), 0)
    ImageDraw.Draw(mask).text(
        (em, em + _BASELINE_BELOW_CENTRE_EM * em), g.char, fill=255, font=font, anchor="ms"
    )
    if g.sx != 1.0 or g.sy != 1.0:
        mask = mask.resize(
            (max(1, round(canvas * g.sx)), max(1, round(canvas * g.sy))),
            Image.Resampling.LANCZOS,
        )
    if g.rotate:
        # Pillow rotates counter-clockwise; seal angles are clockwise.
        mask = mask.rotate(-g.rotate, resample=Image.Resampling.BICUBIC, expand=True)
    return mask


def seal_png(
    *,
    organisation: str,
    seal_name: str = "",
    kind: Kind | str = "official",
    diameter_mm: float | None = None,
    code: str | None = None,
    dpi: int = 300,
) -> bytes:
    """The seal as a transparent RGBA PNG (the same geometry as :func:`seal_svg`),
    ``round(size_mm / 25.4 × dpi)`` pixels square, with the DPI recorded in its
    pHYs chunk so that it prints at its true size. Needs Pillow and a CJK font
    (:class:`SealFontUnavailable` otherwise)."""
    from PIL import Image, ImageDraw

    layout = _layout(
        organisation=organisation,
        seal_name=seal_name,
        kind=kind,
        diameter_mm=diameter_mm,
        code=code,
    )
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise SealImageError(f"dpi must be an integer in {DPI_RANGE[0]}–{DPI_RANGE[1]}")
    find_cjk_font()  # fail early and clearly if no font
    size_px = max(1, round(layout.width / 25.4 * dpi))
    ss = max(1, min(4, 4000 // size_px))  # supersampling for smooth edges
    scale = size_px * ss / layout.width  # pixels per mm on the big canvas
    big = size_px * ss
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    for shape in layout.shapes:
        if isinstance(shape, _Circle):
            outer = (shape.r + shape.width / 2) * scale
            cx, cy = shape.cx * scale, shape.cy * scale
            draw.ellipse(
                (cx - outer, cy - outer, cx + outer, cy + outer),
                outline=255,
                width=max(1, round(shape.width * scale)),
            )
        elif isinstance(shape, _Square):
            x0, y0 = shape.x * scale, shape.y * scale
            x1, y1 = (shape.x + shape.side) * scale - 1, (shape.y + shape.side) * scale - 1
            draw.rectangle((x0, y0, x1, y1), outline=255, width=max(1, round(shape.width * scale)))
        else:
            draw.polygon([(x * scale, y * scale) for x, y in shape.points], fill=255)
    for g in layout.glyphs:
        glyph = _glyph_mask(g, scale)
        left = round(g.cx * scale - glyph.width / 2)
        top = round(g.cy * scale - glyph.height / 2)
        mask.paste(255, (left, top), glyph)
    if ss > 1:
        mask = mask.reduce(ss)
    image = Image.new("RGBA", mask.size, (*_SEAL_RGB, 0))
    image.putalpha(mask)
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class UploadedSealImage:
    """An uploaded seal image, normalised: transparent PNG cropped to the ink."""

    png: bytes
    width_px: int
    height_px: int
    source_format: str  # "PNG" or "JPEG"
    dpi: tuple[float, float] | None = None  # only when the upload declared it
    width_mm: float | None = None
    height_mm: float | None = None


def _plausible_dpi(info: Mapping[Any, Any]) -> tuple[float, float] | None:
    raw = info.get("dpi")
    if not isinstance(raw, Sequence) or len(raw) != 2:
        return None
    try:
        x, y = float(raw[0]), float(raw[1])
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) and 50 <= v <= 4800 for v in (x, y)):
        return None  # missing, zero or absurd: the physical size is unknown
    return round(x, 1), round(y, 1)  # PNG stores pixels per metre: ±0.013 dpi


def _to_rgba(image: Any) -> Any:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    return image.convert("RGBA")


def _white_to_alpha(image: Any) -> Any:
    """Make near-white transparent and un-mix anti-aliased edges from white, so the
    seal sits on any background.

    The ink strength of a pixel is its distance from white, ``255 − min(r, g, b)``:
    up to 24 (paper, JPEG noise) it becomes fully transparent, from 160 (solid
    ink) fully opaque, linear in between; the colour of partly transparent pixels
    is solved from ``shown = 255 − alpha · (255 − colour)`` so that the result,
    laid on white, looks like the upload.
    """
    from PIL import Image, ImageChops, ImageMath

    r, g, b, a = image.split()
    ink = ImageChops.invert(ImageChops.darker(ImageChops.darker(r, g), b))
    paper, solid = 24, 160
    ramp = [
        0 if v <= paper else 255 if v >= solid else round((v - paper) * 255 / (solid - paper))
        for v in range(256)
    ]
    coverage = ink.point(ramp)

    def unmix(channel: Any) -> Any:
        return ImageMath.lambda_eval(
            lambda m: m["convert"](
                255 - m["min"]((255 - m["c"]) * 255 / m["max"](m["k"], 1), 255), "L"
            ),
            c=channel,
            k=coverage,
        )

    alpha = ImageChops.multiply(a, coverage)
    return Image.merge("RGBA", (unmix(r), unmix(g), unmix(b), alpha))


def load_uploaded_image(data: bytes) -> UploadedSealImage:
    """Check and normalise an uploaded seal image (PNG or JPEG, ≤ 2 MB, ≤ 2000 px a
    side). Near-white background becomes transparent, the image is cropped to its
    ink and returned as PNG; its physical size is given when the upload declares
    a DPI. Raises :class:`SealImageError` for anything else."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(data, bytes | bytearray | memoryview):
        raise SealImageError("the seal image must be bytes")
    data = bytes(data)
    if not data:
        raise SealImageError("the seal image is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SealImageError(
            f"the seal image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
        )
    if data.startswith(_PNG_MAGIC):
        fmt = "PNG"
    elif data.startswith(_JPEG_MAGIC):
        fmt = "JPEG"
    else:
        raise SealImageError("the seal image must be a PNG or JPEG file")

    limit = MAX_UPLOAD_PIXELS_SIDE
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=(fmt,))
            width, height = image.size  # from the header, before any pixel is decoded
            if width > limit or height > limit:
                raise SealImageError(
                    f"the seal image is {width}×{height} px; at most {limit}×{limit} px allowed"
                )
            if width < MIN_UPLOAD_PIXELS_SIDE or height < MIN_UPLOAD_PIXELS_SIDE:
                raise SealImageError("the seal image is too small")
            image.load()
            dpi = _plausible_dpi(image.info)
            upright = ImageOps.exif_transpose(image) if fmt == "JPEG" else image
            rgba = _to_rgba(upright)
        except SealImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise SealImageError("the seal image declares too many pixels") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise SealImageError(f"the seal image could not be decoded: {exc}") from exc

    cleaned = _white_to_alpha(rgba)
    bbox = cleaned.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()
    if bbox is None:
        raise SealImageError("the seal image has no visible ink on its background")
    cleaned = cleaned.crop(bbox)

    buf = io.BytesIO()
    save_args: dict[str, Any] = {"format": "PNG", "optimize": True}
    if dpi is not None:
        save_args["dpi"] = dpi
    cleaned.save(buf, **save_args)
    w, h = cleaned.size
    return UploadedSealImage(
        png=buf.getvalue(),
        width_px=w,
        height_px=h,
        source_format=fmt,
        dpi=dpi,
        width_mm=round(w / dpi[0] * 25.4, 2) if dpi else None,
        height_mm=round(h / dpi[1] * 25.4, 2) if dpi else None,
    )
