"""OFD pages drawn as SVG for the seal console (seal_service/ofd_render.py): the
real tax e-invoices and ofdrw documents draw their text, lines, images and
seals; hostile content (markup in text, odd numbers, paths leaving the
package, endless objects, mutated XML) gives an escaped drawing or a typed
OfdError, never anything else."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from seal_service.ofd import OfdError
from seal_service.ofd_render import MAX_OBJECTS, render_ofd_page

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw"
HELLO = VECTORS / "helloworld.ofd"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def svg_of(path: Path, page: int = 1) -> str:
    rendered = render_ofd_page(path.read_bytes(), page)
    text = rendered.svg.decode()
    ElementTree.fromstring(text)  # well-formed
    return text


def with_files(base: Path, files: dict[str, bytes]) -> bytes:
    """``base`` with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename not in files:
                dst.writestr(item, src.read(item))
        for name, data in files.items():
            dst.writestr(name, data)
    return out.getvalue()


def page(content: str) -> bytes:
    return f'<ofd:Page {NS}><ofd:Content><ofd:Layer ID="2">{content}</ofd:Layer></ofd:Content></ofd:Page>'.encode()


def test_a_tax_invoice_is_drawn() -> None:
    svg = svg_of(VECTORS / "999.ofd")
    assert 'viewBox="0 0 210 140"' in svg
    assert "财天下科技有限公司" in svg and "重庆增值税电子普通发票" in svg  # page and template text
    assert 'stroke="rgb(156,82,35)"' in svg  # the template's brown table lines
    assert "data:image/png;base64," in svg  # the QR code image resource
    assert "stroke-dasharray" in svg  # the invoice's seal (its picture is not an image): outlined
    assert svg.index("重庆增值税") < svg.index("财天下")  # background template first


def test_every_vector_page_draws() -> None:
    for path in sorted(VECTORS.glob("*.ofd")):
        svg_of(path)
    seal = svg_of(VECTORS / "SESV4SignDoc.ofd")
    assert seal.count("<image") == 1 and "data:image/png;base64," in seal  # the seal picture


def test_page_out_of_range() -> None:
    with pytest.raises(OfdError) as exc:
        render_ofd_page(HELLO.read_bytes(), 2)
    assert exc.value.code == "page_out_of_range"


def test_text_is_escaped_and_font_names_sanitised() -> None:
    data = with_files(
        HELLO,
        {
            PAGE: page(
                '<ofd:TextObject ID="4" Boundary="10 10 50 5" Font="3" Size="4">'
                '<ofd:TextCode X="0" Y="3">&lt;script&gt;alert(1)&lt;/script&gt;"&amp;</ofd:TextCode>'
                "</ofd:TextObject>"
            ),
            "Doc_0/PublicRes.xml": (
                f'<ofd:Res {NS} BaseLoc="Res"><ofd:Fonts>'
                '<ofd:Font ID="3" FontName="x&quot; onload=&quot;alert(1)" /></ofd:Fonts></ofd:Res>'
            ).encode(),
        },
    )
    svg = render_ofd_page(data, 1).svg.decode()
    ElementTree.fromstring(svg)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "onload" not in svg.replace("x onloadalert1", "")  # only as inert font-name text
    assert '"x onload' not in svg


def test_odd_numbers_and_paths_are_skipped() -> None:
    data = with_files(
        HELLO,
        {
            PAGE: page(
                '<ofd:PathObject ID="5" Boundary="NaN 1e999 5 5" CTM="1 0 0 x 0 0">'
                "<ofd:AbbreviatedData>M 0 0 L 1e999 2 Z 9</ofd:AbbreviatedData></ofd:PathObject>"
                '<ofd:PathObject ID="6" Boundary="1 1 5 5" Fill="true" Stroke="false">'
                '<ofd:FillColor Value="0 0 255"/>'
                "<ofd:AbbreviatedData>M 0 0 L 4 0 L 4 4 C</ofd:AbbreviatedData></ofd:PathObject>"
                '<ofd:TextObject ID="7" Boundary="1 1 5 5" Size="-3">'
                '<ofd:TextCode X="0" Y="0">不画</ofd:TextCode></ofd:TextObject>'
            )
        },
    )
    svg = render_ofd_page(data, 1).svg.decode()
    ElementTree.fromstring(svg)
    assert svg.count("<path") == 1 and 'd="M0 0 L4 0 L4 4 Z"' in svg
    assert 'fill="rgb(0,0,255)"' in svg and "不画" not in svg


def test_a_media_path_leaving_the_package_is_refused() -> None:
    data = with_files(
        HELLO,
        {
            "Doc_0/PublicRes.xml": (
                f'<ofd:Res {NS} BaseLoc="Res"><ofd:MultiMedias><ofd:MultiMedia ID="9" Type="Image">'
                "<ofd:MediaFile>../../../../etc/passwd</ofd:MediaFile></ofd:MultiMedia>"
                "</ofd:MultiMedias></ofd:Res>"
            ).encode()
        },
    )
    with pytest.raises(OfdError) as exc:
        render_ofd_page(data, 1)
    assert exc.value.code == "ofd_path_traversal"


def test_objects_are_bounded() -> None:
    one = '<ofd:PathObject ID="5" Boundary="1 1 2 2"><ofd:AbbreviatedData>M 0 0 L 1 1</ofd:AbbreviatedData></ofd:PathObject>'
    data = with_files(HELLO, {PAGE: page(one * (MAX_OBJECTS + 500))})
    svg = render_ofd_page(data, 1).svg.decode()
    assert svg.count("<path") == MAX_OBJECTS


def test_mutated_pages_give_a_drawing_or_a_typed_error() -> None:
    original = zipfile.ZipFile(VECTORS / "999.ofd").read("Doc_0/Pages/Page_0/Content.xml")
    rng = random.Random(33190)
    drawn = refused = 0
    for _ in range(150):
        b = bytearray(original)
        for _ in range(rng.randrange(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(32, 127)
        data = with_files(VECTORS / "999.ofd", {"Doc_0/Pages/Page_0/Content.xml": bytes(b)})
        try:
            ElementTree.fromstring(render_ofd_page(data, 1).svg)
            drawn += 1
        except OfdError:
            refused += 1
    assert drawn > 0 and refused > 0
