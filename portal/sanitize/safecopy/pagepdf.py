"""Build a PDF made only of page images and an invisible text layer.

Promise: the PDF written here holds, on each page, one picture (the page's
pixels, encoded afresh as JPEG by Pillow from raw RGB) and, optionally, text
drawn in render mode 3 (invisible) with one embedded font that has no visible
glyphs, so the text can be searched and copied but never seen or executed.
Nothing else: no scripts, actions, annotations, forms, links, outlines,
embedded files or metadata. The inputs are numbers, RGB bytes and strings; no
byte of the author's document is copied into it.

Text is written as UTF-16 code units, each one character of the glyph-less
font (the method of Tesseract's PDF output); characters outside the Basic
Multilingual Plane and control characters are left out of the text layer.
"""

from __future__ import annotations

import io
import unicodedata
import zlib
from collections.abc import Sequence
from functools import cache
from typing import Any, BinaryIO

import pikepdf

FONT_NAME = "GlyphLessFont"
JPEG_QUALITY = 80
# Characters in the text layer of one page: a dense page holds about 3,000.
MAX_PAGE_CHARACTERS = 50_000


@cache
def glyphless_font() -> bytes:
    """A TrueType font whose every glyph is empty and half an em wide."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "blank"])
    builder.setupCharacterMap({})
    empty = TTGlyphPen(None).glyph()
    builder.setupGlyf({".notdef": empty, "blank": empty})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "blank": (500, 0)})
    builder.setupHorizontalHeader(ascent=1000, descent=0)
    builder.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=1000, sTypoDescender=0, usWinAscent=1000, usWinDescent=0)
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def _to_unicode_cmap() -> bytes:
    """Each two-byte code is the UTF-16 code unit it shows."""
    ranges = [f"<{high:02X}00> <{high:02X}FF> <{high:02X}00>"
              for high in range(256) if not 0xD8 <= high <= 0xDF]
    body = "\n".join(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange"
                     for chunk in (ranges[i:i + 100] for i in range(0, len(ranges), 100)))
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
            ).encode("ascii")


def _font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    font_file = pikepdf.Stream(pdf, glyphless_font())
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name(f"/{FONT_NAME}"), Flags=5,
        FontBBox=[0, 0, 500, 1000], ItalicAngle=0, Ascent=1000, Descent=0, CapHeight=1000,
        StemV=80, FontFile2=font_file)
    # Every code maps to glyph 1, the empty one.
    gid_map = pikepdf.Stream(pdf, zlib.compress(b"\x00\x01" * 65536))
    gid_map[pikepdf.Name.Filter] = pikepdf.Name.FlateDecode
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=pikepdf.Name(f"/{FONT_NAME}"),
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"),
                                         Ordering=pikepdf.String("Identity"), Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor), DW=500, CIDToGIDMap=gid_map)
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name(f"/{FONT_NAME}"),
        Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[pdf.make_indirect(cid_font)],
        ToUnicode=pikepdf.Stream(pdf, _to_unicode_cmap())))


def _shown(text: str) -> str:
    """The characters of `text` the text layer can carry (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ord(ch) <= 0xFFFF and not 0xD800 <= ord(ch) <= 0xDFFF
                   and unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cn"))


def _text_layer(words: Sequence[Sequence[Any]], page_height: float) -> bytes:
    """Invisible text: each word over its box, stretched (Tz) to the box's width."""
    parts = ["BT 3 Tr"]
    budget = MAX_PAGE_CHARACTERS
    for x0, y0, x1, y1, text in words:
        shown = _shown(str(text))[:budget]
        if not shown or x1 <= x0 or y1 <= y0:
            continue
        budget -= len(shown)
        size = y1 - y0
        stretch = 100 * (x1 - x0) / (len(shown) * 0.5 * size)
        baseline = page_height - y1 + 0.15 * size
        code = shown.encode("utf-16-be").hex().upper()
        parts.append(f"/F0 {size:.2f} Tf {stretch:.2f} Tz 1 0 0 1 {x0:.2f} {baseline:.2f} Tm "
                     f"<{code}> Tj")
        if budget <= 0:
            break
    parts.append("ET")
    return "\n".join(parts).encode("ascii")


class PageImagePdf:
    """A PDF of page images, built one page at a time, then saved."""

    def __init__(self) -> None:
        self.pdf = pikepdf.new()
        self.font: pikepdf.Object | None = None

    def add_page(self, width: int, height: int, rgb: bytes, page_width: float,
                 page_height: float, words: Sequence[Sequence[Any]] = ()) -> None:
        from PIL import Image

        picture = Image.frombytes("RGB", (width, height), rgb)
        # A page without colour (most text) is stored as grey: a third of the bytes.
        extrema: Any = picture.convert("YCbCr").getextrema()
        grey = max(abs(v - 128) for v in (*extrema[1], *extrema[2])) <= 2
        if grey:
            picture = picture.convert("L")
        encoded = io.BytesIO()
        picture.save(encoded, "JPEG", quality=JPEG_QUALITY)
        image = pikepdf.Stream(self.pdf, encoded.getvalue())
        image.stream_dict.update(pikepdf.Dictionary(
            Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width, Height=height,
            ColorSpace=pikepdf.Name.DeviceGray if grey else pikepdf.Name.DeviceRGB,
            BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode))
        content = f"q {page_width:.2f} 0 0 {page_height:.2f} 0 0 cm /Im0 Do Q\n".encode("ascii")
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        if words:
            if self.font is None:
                self.font = _font(self.pdf)
            content += _text_layer(words, page_height)
            resources[pikepdf.Name.Font] = pikepdf.Dictionary(F0=self.font)
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, round(page_width, 2), round(page_height, 2)],
            Resources=resources, Contents=pikepdf.Stream(self.pdf, zlib.compress(content)))
        page.Contents[pikepdf.Name.Filter] = pikepdf.Name.FlateDecode
        self.pdf.pages.append(pikepdf.Page(page))

    def save(self, sink: BinaryIO) -> None:
        # No document information and no XMP: the copy says nothing about itself.
        self.pdf.save(sink, deterministic_id=True, compress_streams=True)
