"""An OFD page drawn as SVG, for the seal console's preview (where the operator
clicks to place a seal) — GB/T 33190-2016 page content, the parts documents
carry in practice:

* the page's ``Area/PhysicalBox`` (else the document's ``PageArea``, else A4);
* template pages (``Template`` with ``ZOrder`` Background, the default, or
  Foreground), then the page's ``Content/Layer`` elements in order, and
  ``PageBlock`` containers inside them;
* ``PathObject`` (§9: ``AbbreviatedData`` S/M/L/Q/B/A/C, ``Stroke``, ``Fill``,
  ``Rule``, ``LineWidth``, ``StrokeColor``/``FillColor``), ``TextObject``
  (§11: every ``TextCode`` with ``X``/``Y`` and ``DeltaX``/``DeltaY`` including
  the ``g`` repeat form, ``Font``, ``Size``, ``Weight``, ``Italic``,
  ``FillColor``) and ``ImageObject`` (§10: the resource's PNG, JPEG, GIF or —
  converted with Pillow — BMP/TIFF image in the unit square under the ``CTM``);
  each at its ``Boundary`` origin under its ``CTM``; ``DrawParam`` (§8.2) on
  layers and objects, followed through ``Relative``;
* resources from the document's ``PublicRes``/``DocumentRes`` and the page's
  ``PageRes`` (fonts, colour spaces RGB/Gray/CMYK, draw parameters, images);
* seals already on the page: each signature's ``StampAnnot`` with the seal's
  own picture (PNG, JPEG, GIF in the SESeal), else outlined in red, so the
  operator sees where earlier seals are.

Not drawn: shading and patterns (a fill falls back to its colour, else none),
clipping areas, composite objects, embedded font programs (the browser's CJK
fonts stand in: 宋体/楷体 → serif, 黑体 → sans-serif, Courier → monospace),
annotations other than seals. Every number is parsed and re-formatted and every
text escaped: nothing from the package reaches the SVG as markup, and the SVG is
shown through ``<img>``, where it can run no script and load nothing.
Bounded: at most :data:`MAX_OBJECTS` objects and :data:`MAX_IMAGE_BYTES` of
images per page (the package itself is bounded by :class:`~seal_service.ofd.OfdPackage`).
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from .ofd import OfdError, OfdPackage, _child, _children, _dirname, _local, _resolve, _text

__all__ = ["MAX_IMAGE_BYTES", "MAX_OBJECTS", "RenderedPage", "render_ofd_page"]

MAX_OBJECTS: Final = 20_000
MAX_IMAGE_BYTES: Final = 8 * 1024 * 1024
MAX_GLYPHS: Final = 100_000
_A4: Final = (0.0, 0.0, 210.0, 297.0)
_DEFAULT_LINE_WIDTH: Final = 0.353  # GB/T 33190 §8.2: 0.353 mm
_IMAGE_TYPES: Final = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_SERIF: Final = "'Noto Serif CJK SC','Noto Sans CJK SC',serif"
_SANS: Final = "'Noto Sans CJK SC',sans-serif"
_FONT_NAME: Final = re.compile(r"[^\w \-]")  # what may stand in a CSS font-family name


@dataclass(frozen=True)
class RenderedPage:
    """One page: its size in millimetres and the SVG (user units = millimetres)."""

    width_mm: float
    height_mm: float
    svg: bytes


@dataclass
class _Resources:
    fonts: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (name, generic)
    color_spaces: dict[str, str] = field(default_factory=dict)  # id → RGB | GRAY | CMYK
    draw_params: dict[str, Element] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)  # id → package path


def _num(text: str | None, default: float = 0.0) -> float:
    try:
        value = float(text) if text is not None else default
    except ValueError:
        return default
    return value if math.isfinite(value) else default


def _nums(text: str | None) -> list[float]:
    out = []
    for token in (text or "").split():
        try:
            value = float(token)
        except ValueError:
            return []
        if not math.isfinite(value):
            return []
        out.append(value)
    return out


def _f(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def _box(text: str | None) -> tuple[float, float, float, float] | None:
    values = _nums(text)
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0 or max(values[2:]) > 5000:
        return None
    return values[0], values[1], values[2], values[3]


def _generic(name: str) -> str:
    lowered = name.lower()
    if "黑" in name or "hei" in lowered or "sans" in lowered or "arial" in lowered:
        return _SANS
    if "courier" in lowered or "mono" in lowered:
        return "monospace"
    return _SERIF


def _load_resources(pkg: OfdPackage, path: str, res: _Resources) -> None:
    root = pkg.xml(path)
    base = _dirname(path)
    loc = root.get("BaseLoc")
    media_dir = _resolve(base, loc) if loc else base
    for font in _children(_child(root, "Fonts"), "Font"):
        fid, name = font.get("ID"), font.get("FontName") or font.get("FamilyName") or ""
        if fid:
            res.fonts[fid] = (name[:64], _generic(name))
    for cs in _children(_child(root, "ColorSpaces"), "ColorSpace"):
        if cs.get("ID"):
            res.color_spaces[cs.get("ID", "")] = (cs.get("Type") or "RGB").upper()
    for dp in _children(_child(root, "DrawParams"), "DrawParam"):
        if dp.get("ID"):
            res.draw_params[dp.get("ID", "")] = dp
    for mm in _children(_child(root, "MultiMedias"), "MultiMedia"):
        file = _text(_child(mm, "MediaFile"))
        if mm.get("ID") and file:
            res.media[mm.get("ID", "")] = _resolve(media_dir, file)


def _color(element: Element | None, res: _Resources) -> str | None:
    """An OFD colour (§8.3) as ``rgb(…)``; None when absent, shaded or unreadable."""
    if element is None:
        return None
    values = _nums(element.get("Value"))
    space = res.color_spaces.get(element.get("ColorSpace") or "", "")
    if not values:
        return None
    if space == "GRAY" or len(values) == 1:
        g = values[0]
        rgb = [g, g, g]
    elif space == "CMYK" or len(values) == 4:
        c, m, y, k = (v / 255 for v in values[:4])
        rgb = [255 * (1 - c) * (1 - k), 255 * (1 - m) * (1 - k), 255 * (1 - y) * (1 - k)]
    elif len(values) >= 3:
        rgb = values[:3]
    else:
        return None
    r, g, b = (max(0, min(255, round(v))) for v in rgb)
    alpha = _num(element.get("Alpha"), 255.0)
    if alpha < 255:
        return f"rgba({r},{g},{b},{max(0.0, alpha) / 255:.3f})"
    return f"rgb({r},{g},{b})"


def _draw_param(res: _Resources, dp_id: str | None, name: str) -> Element | str | None:
    """Attribute or child ``name`` of draw parameter ``dp_id``, following ``Relative``."""
    seen: set[str] = set()
    while dp_id and dp_id not in seen and dp_id in res.draw_params:
        seen.add(dp_id)
        dp = res.draw_params[dp_id]
        if dp.get(name) is not None:
            return dp.get(name)
        child = _child(dp, name)
        if child is not None:
            return child
        dp_id = dp.get("Relative")
    return None


def _path_data(text: str | None) -> str:
    """AbbreviatedData (§9.1, table 41) as SVG path data; "" when unreadable."""
    tokens = (text or "").split()
    arity = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
    svg = {"S": "M", "M": "M", "L": "L", "Q": "Q", "B": "C", "A": "A", "C": "Z"}
    out: list[str] = []
    i = 0
    while i < len(tokens):
        op = tokens[i]
        if op not in arity:
            return ""
        args = tokens[i + 1 : i + 1 + arity[op]]
        if len(args) != arity[op]:
            return ""
        values = _nums(" ".join(args))
        if len(values) != arity[op]:
            return ""
        if op == "A":  # rx ry rotation large-arc sweep x y; the flags are 0 or 1
            values[3], values[4] = float(values[3] != 0), float(values[4] != 0)
        out.append(svg[op] + " ".join(_f(v) for v in values))
        i += 1 + arity[op]
    return " ".join(out)


def _deltas(text: str | None, count: int) -> list[float]:
    """DeltaX/DeltaY (§11.3) with the ``g n value`` repeat form, ``count`` long at most."""
    tokens = (text or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens) and len(out) < count:
        if tokens[i] == "g" and i + 2 < len(tokens):
            n, value = _num(tokens[i + 1], 0.0), _num(tokens[i + 2], 0.0)
            out.extend([value] * max(0, min(int(n), count - len(out))))
            i += 3
        else:
            out.append(_num(tokens[i], 0.0))
            i += 1
    return out + [0.0] * (count - len(out)) if out else []


class _Page:
    def __init__(self, pkg: OfdPackage, res: _Resources) -> None:
        self.pkg, self.res = pkg, res
        self.parts: list[str] = []
        self.objects = 0
        self.glyphs = 0
        self.image_bytes = 0
        self.images: dict[str, str | None] = {}

    def _transform(self, obj: Element) -> str:
        box = _box(obj.get("Boundary")) or (0.0, 0.0, 0.0, 0.0)
        t = f"translate({_f(box[0])} {_f(box[1])})"
        ctm = _nums(obj.get("CTM"))
        if len(ctm) == 6:
            t += " matrix(" + " ".join(_f(v) for v in ctm) + ")"
        return t

    def layer(self, layer: Element, dp: str | None) -> None:
        dp = layer.get("DrawParam") or dp
        for obj in layer:
            if self.objects >= MAX_OBJECTS:
                return
            kind = _local(obj.tag)
            if kind == "PageBlock":
                box = _box(obj.get("Boundary"))
                if box is not None:  # a block's objects are relative to its boundary
                    self.parts.append(f'<g transform="translate({_f(box[0])} {_f(box[1])})">')
                    self.layer(obj, dp)
                    self.parts.append("</g>")
                else:
                    self.layer(obj, dp)
                continue
            self.objects += 1
            if obj.get("Visible", "true") == "false":
                continue
            if kind == "PathObject":
                self.path(obj, obj.get("DrawParam") or dp)
            elif kind == "TextObject":
                self.text(obj, obj.get("DrawParam") or dp)
            elif kind == "ImageObject":
                self.image(obj)

    def _paint(self, obj: Element, dp: str | None, name: str) -> str | None:
        color = _color(_child(obj, name), self.res)
        if color is None:
            param = _draw_param(self.res, dp, name)
            color = _color(param, self.res) if isinstance(param, Element) else None
        return color

    def path(self, obj: Element, dp: str | None) -> None:
        d = _path_data(_text(_child(obj, "AbbreviatedData")))
        if not d:
            return
        stroke = obj.get("Stroke", "true") != "false"
        fill = obj.get("Fill", "false") == "true"
        width_attr = obj.get("LineWidth") or _draw_param(self.res, dp, "LineWidth")
        width = _num(width_attr if isinstance(width_attr, str) else None, _DEFAULT_LINE_WIDTH)
        stroke_color = (self._paint(obj, dp, "StrokeColor") or "rgb(0,0,0)") if stroke else "none"
        fill_color = (self._paint(obj, dp, "FillColor") or "none") if fill else "none"
        rule = "evenodd" if obj.get("Rule") == "Even-Odd" else "nonzero"
        self.parts.append(
            f'<path transform="{self._transform(obj)}" d="{d}" fill="{fill_color}" '
            f'fill-rule="{rule}" stroke="{stroke_color}" stroke-width="{_f(max(width, 0.0))}"/>'
        )

    def text(self, obj: Element, dp: str | None) -> None:
        font_name, generic = self.res.fonts.get(obj.get("Font") or "", ("", _SERIF))
        size = _num(obj.get("Size"), 3.5)
        if size <= 0 or self.glyphs >= MAX_GLYPHS:
            return
        fill = self._paint(obj, dp, "FillColor") if obj.get("Fill", "true") != "false" else "none"
        safe = _FONT_NAME.sub("", font_name).strip()
        family = (f"'{safe}'," if safe else "") + generic
        style = f'font-size="{_f(size)}" font-family="{family}" fill="{fill or "rgb(0,0,0)"}"'
        if _num(obj.get("Weight"), 400) >= 600:
            style += ' font-weight="bold"'
        if obj.get("Italic") == "true":
            style += ' font-style="italic"'
        spans = []
        x = y = 0.0
        for code in _children(obj, "TextCode"):
            text = (code.text or "")[: MAX_GLYPHS - self.glyphs]
            if not text:
                continue
            self.glyphs += len(text)
            x = _num(code.get("X"), x)
            y = _num(code.get("Y"), y)
            dx = _deltas(code.get("DeltaX"), len(text) - 1)
            dy = _deltas(code.get("DeltaY"), len(text) - 1)
            xs, ys = [x], [y]
            for i in range(len(text) - 1):
                xs.append(xs[-1] + (dx[i] if dx else size))
                ys.append(ys[-1] + (dy[i] if dy else 0.0))
            spans.append(
                f'<text x="{" ".join(_f(v) for v in xs)}" y="{" ".join(_f(v) for v in ys)}">'
                f"{escape(text)}</text>"
            )
        if spans:
            self.parts.append(f'<g transform="{self._transform(obj)}" {style}>{"".join(spans)}</g>')

    def _image_uri(self, resource_id: str) -> str | None:
        if resource_id in self.images:
            return self.images[resource_id]
        uri = None
        path = self.res.media.get(resource_id)
        if path and self.pkg.exists(path):
            data = self.pkg.read(path)
            media = next((t for m, t in _IMAGE_TYPES.items() if data.startswith(m)), None)
            if media is None:
                data, media = _to_png(data), "image/png"
            if data and self.image_bytes + len(data) <= MAX_IMAGE_BYTES:
                self.image_bytes += len(data)
                uri = f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"
        self.images[resource_id] = uri
        return uri

    def image(self, obj: Element) -> None:
        uri = self._image_uri(obj.get("ResourceID") or "")
        if uri is None:
            return
        self.parts.append(
            f'<image transform="{self._transform(obj)}" x="0" y="0" width="1" height="1" '
            f'preserveAspectRatio="none" href="{uri}"/>'
        )


def _to_png(data: bytes) -> bytes:
    """BMP, TIFF … as PNG (Pillow, bounded); b"" when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 25_000_000:
                return b""
            out = io.BytesIO()
            image.convert("RGBA").save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return b""


def _document(pkg: OfdPackage) -> tuple[str, Element, str | None]:
    """(path, root) of the first document and where its Signatures.xml is (§18.1:
    ``DocBody/Signatures`` in OFD.xml, resolved from the package root)."""
    root = pkg.xml("OFD.xml") if pkg.exists("OFD.xml") else None
    body = _child(root, "DocBody")
    loc = _text(_child(body, "DocRoot"))
    if loc is None:
        raise OfdError("OFD.xml has no DocBody with a DocRoot", code="malformed")
    path = _resolve("", loc)
    sigs = _text(_child(body, "Signatures"))
    return path, pkg.xml(path), _resolve("", sigs) if sigs else None


def _seal_picture(pkg: OfdPackage, sig_dir: str, signature: Element) -> str | None:
    """The seal's own picture (SESeal ``picture``) as a data URI, when it is an image
    a browser shows (PNG, JPEG, GIF); None otherwise."""
    from trust.errors import TrustError

    from .ses import parse_signature

    loc = _text(_child(signature, "SignedValue"))
    if not loc:
        return None
    path = _resolve(sig_dir, loc)
    if not pkg.exists(path):
        return None
    try:
        picture = parse_signature(pkg.read(path)).seal.picture.data
    except TrustError:
        return None  # a bare signature (Type="Sign") or an unreadable one: outline only
    media = next((t for m, t in _IMAGE_TYPES.items() if picture.startswith(m)), None)
    if media is None:
        return None
    return f"data:{media};base64,{base64.b64encode(picture).decode('ascii')}"


def _stamps(pkg: OfdPackage, path: str | None, page_id: str | None) -> Iterator[str]:
    """The seals already on page ``page_id``: every signature's StampAnnot, with the
    seal's picture where it is one (cross-page slices and others: a red outline)."""
    if path is None or page_id is None or not pkg.exists(path):
        return
    sigs_dir = _dirname(path)
    for entry in _children(pkg.xml(path), "Signature"):
        base = entry.get("BaseLoc")
        if not base:
            continue
        sig_path = _resolve(sigs_dir, base)
        if not pkg.exists(sig_path):
            continue
        signature = pkg.xml(sig_path)
        annots = [
            (a, _box(a.get("Boundary")))
            for a in _children(_child(signature, "SignedInfo"), "StampAnnot")
            if a.get("PageRef") == page_id
        ]
        picture = None
        if any(_child(a, "Clip") is None for a, _ in annots):
            picture = _seal_picture(pkg, _dirname(sig_path), signature)
        for annot, box in annots:
            if box is None:
                continue
            x, y, w, h = box
            if picture is not None and _child(annot, "Clip") is None:
                yield (
                    f'<image x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" '
                    f'preserveAspectRatio="none" href="{picture}"/>'
                )
                continue
            yield (
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" '
                'fill="rgba(200,0,0,0.08)" stroke="rgb(200,0,0)" stroke-width="0.4" '
                'stroke-dasharray="1.5 1"/>'
            )


def render_ofd_page(data: bytes, page_no: int) -> RenderedPage:
    """Page ``page_no`` (1-based) of the package's first document as SVG.

    Raises :class:`~seal_service.ofd.OfdError` for an unusable package, or with
    code ``page_out_of_range``."""
    pkg = OfdPackage(data)
    doc_path, doc, signatures = _document(pkg)
    doc_dir = _dirname(doc_path)
    common = _child(doc, "CommonData")
    res = _Resources()
    for name in ("PublicRes", "DocumentRes"):
        for loc_el in _children(common, name):
            loc = _text(loc_el)
            if loc and pkg.exists(_resolve(doc_dir, loc)):
                _load_resources(pkg, _resolve(doc_dir, loc), res)
    pages = _children(_child(doc, "Pages"), "Page")
    if not 1 <= page_no <= len(pages):
        raise OfdError(f"no page {page_no}", code="page_out_of_range")
    page = pages[page_no - 1]
    box = _box(_text(_child(_child(common, "PageArea"), "PhysicalBox"))) or _A4
    content: Element | None = None
    page_dir = doc_dir
    if page.get("BaseLoc"):
        page_path = _resolve(doc_dir, page.get("BaseLoc", ""))
        if pkg.exists(page_path):
            content = pkg.xml(page_path)
            page_dir = _dirname(page_path)
            box = _box(_text(_child(_child(content, "Area"), "PhysicalBox"))) or box
    if content is not None:
        for loc_el in _children(content, "PageRes"):
            loc = _text(loc_el)
            if loc and pkg.exists(_resolve(page_dir, loc)):
                _load_resources(pkg, _resolve(page_dir, loc), res)
    templates = {
        t.get("ID"): t.get("BaseLoc") for t in _children(common, "TemplatePage") if t.get("ID")
    }
    drawn = _Page(pkg, res)

    def template(order: str) -> None:
        for tpl in _children(content, "Template"):
            if (tpl.get("ZOrder") or "Background") != order:
                continue
            loc = templates.get(tpl.get("TemplateID"))
            if not loc or not pkg.exists(_resolve(doc_dir, loc)):
                continue
            for layer in _children(_child(pkg.xml(_resolve(doc_dir, loc)), "Content"), "Layer"):
                drawn.layer(layer, None)

    template("Background")
    for layer in _children(_child(content, "Content"), "Layer"):
        drawn.layer(layer, None)
    template("Foreground")
    drawn.parts.extend(_stamps(pkg, signatures, page.get("ID")))
    x0, y0, w, h = box
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_f(x0)} {_f(y0)} {_f(w)} {_f(h)}" '
        f'width="{_f(w)}mm" height="{_f(h)}mm">'
        f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(h)}" fill="#fff"/>'
        + "".join(drawn.parts)
        + "</svg>"
    )
    return RenderedPage(w, h, svg.encode("utf-8"))
