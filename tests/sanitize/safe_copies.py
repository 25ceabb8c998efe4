"""Shared by the tests of safe copies: real documents in three scripts, and what a
safe copy must be (checked with pikepdf and poppler, never with our own builder).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

SIMPLIFIED = ("劳动者的声音。我们在工厂里每天工作十二个小时，工资却一直没有涨。"
              "女工们组织起来，要求平等的报酬和安全的工作环境。")
TRADITIONAL = "這是繁體中文的句子，關於勞工權益與女性的聲音。我們要求同工同酬，拒絕性騷擾。"
ENGLISH = "Workers organised for equal pay and for safe workplaces in the factory."
BODY = [SIMPLIFIED, TRADITIONAL, ENGLISH]

needs_renderer = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("soffice", "pdftoppm", "pdftotext", "tesseract", "bwrap")),
    reason="safe copies need LibreOffice, poppler-utils, Tesseract and bubblewrap: apt-get "
           "install libreoffice-core-nogui libreoffice-writer-nogui libreoffice-calc-nogui "
           "fonts-noto-cjk poppler-utils tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra "
           "bubblewrap (.ci/run does)")

# What a page of a safe copy may say: draw one picture, and write invisible text.
ALLOWED_OPERATORS = {"q", "Q", "cm", "Do", "BT", "ET", "Tr", "Tf", "Tz", "Tm", "Tj"}
FORBIDDEN_NAMES = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/URI",
                   "/AcroForm", "/OpenAction", "/AA", "/Annots", "/Names", "/RichMedia",
                   "/XFA", "/GoToR", "/SubmitForm", "/ImportData", "/Outlines", "/Metadata"}


def images_only(data: bytes) -> list[str]:
    """Every way `data` is more than page images with an invisible text layer."""
    problems: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        extra = set(pdf.Root.keys()) - {"/Type", "/Pages"}
        if extra:
            problems.append(f"catalog has {sorted(extra)}")
        if "/Info" in pdf.trailer:
            problems.append("document information")
        for obj in _every_dictionary(pdf):
            keys = set(obj.keys()) | {str(obj.get("/S", "")), str(obj.get("/Type", ""))}
            if keys & FORBIDDEN_NAMES:
                problems.append(f"object with {sorted(keys & FORBIDDEN_NAMES)}")
        for number, page in enumerate(pdf.pages, start=1):
            extra = set(page.obj.keys()) - {"/Type", "/MediaBox", "/Resources", "/Contents",
                                            "/Parent"}
            if extra:
                problems.append(f"page {number} has {sorted(extra)}")
            resources = page.obj.Resources
            if set(resources.keys()) - {"/XObject", "/Font"}:
                problems.append(f"page {number} resources {sorted(resources.keys())}")
            xobjects = list(resources.XObject.values())
            if len(xobjects) != 1 or xobjects[0].Subtype != "/Image":
                problems.append(f"page {number} draws more than one picture")
            for font in resources.get("/Font", pikepdf.Dictionary()).values():
                if font.Subtype != "/Type0" or "/FontFile2" not in \
                        font.DescendantFonts[0].FontDescriptor:
                    problems.append(f"page {number} has a font that is not the invisible one")
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) not in ALLOWED_OPERATORS:
                    problems.append(f"page {number} operator {operator}")
                if str(operator) == "Tr" and int(operands[0]) != 3:
                    problems.append(f"page {number} shows text")
    return problems


def _every_dictionary(pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
    """Every dictionary and stream of the file, indirect or nested inside another."""
    found: list[pikepdf.Object] = []
    todo: list[pikepdf.Object] = [obj for obj in pdf.objects
                                  if isinstance(obj, (pikepdf.Dictionary, pikepdf.Array,
                                                      pikepdf.Stream))]
    todo.append(pdf.trailer)
    while todo:
        obj = todo.pop()
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            found.append(obj)
            values = list(obj.values())
        elif isinstance(obj, pikepdf.Array):
            values = list(obj)
        else:
            continue
        todo += [v for v in values
                 if isinstance(v, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream))
                 and not v.is_indirect]
    return found


def pdftotext(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(["pdftotext", "-enc", "UTF-8", handle.name, "-"],
                              capture_output=True, check=True).stdout.decode("utf-8")


def renders(data: bytes, folder: Path) -> int:
    """Pages poppler's pdftoppm rasterises without an error."""
    source = folder / "copy.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(source), str(folder / "page")],
                   check=True, capture_output=True)
    return len(list(folder.glob("page-*.png")))


def share(expected: str, found: str) -> float:
    """The share of `expected`'s characters (not spaces) found in `found`."""
    want = Counter(ch for ch in expected if not ch.isspace())
    have = Counter(ch for ch in found if not ch.isspace())
    return sum(min(count, have[ch]) for ch, count in want.items()) / sum(want.values())


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    for path in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                 "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    pytest.skip("no CJK font: apt-get install fonts-noto-cjk")


def picture_of_text(lines: list[str], width: int = 1400) -> bytes:
    """A photographed page, as it were: the lines drawn in black on white."""
    font = cjk_font(34)
    image = Image.new("RGB", (width, 90 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((40, 40 + 70 * number), line, font=font, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
