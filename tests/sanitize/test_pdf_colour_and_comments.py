"""PDF colour profiles, output intents and content-stream comments lose their words.

A print-ready PDF names its printing condition and embeds colour profiles whose
descriptions, copyright lines and device fields can name a scanner, a monitor
or the person who calibrated it; page drawing instructions can hold `%`
comments a producer or a hand edit left. The cleaner keeps every colour and
every drawing instruction (the pages render to the same pixels) and drops the
words; the independent verifier refuses each of them planted back.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, Stream, String
from PIL import Image, ImageCms

from portal.sanitize import clean_bytes
from portal.sanitize.errors import VerificationFailed
from portal.sanitize.formats.pdf.icc import neutral_profile
from portal.sanitize.messages import REMOVED
from portal.sanitize.verify import verify

from .scan import find_tokens

T = {
    "desc": "TOKEN-iccdesc-1a2b", "copyright": "TOKEN-icccopy-2b3c",
    "maker": "TOKEN-iccmaker-3c4d", "model": "TOKEN-iccmodel-4d5e",
    "intent_info": "TOKEN-intentinfo-5e6f", "intent_condition": "TOKEN-intentcond-6f7a",
    "intent_id": "TOKEN-intentid-7a8b", "registry": "TOKEN-registry-8b9c",
    "comment": "TOKEN-contentcomment-9c0d", "form_comment": "TOKEN-formcomment-0d1e",
    "trailing": "TOKEN-trailingcomment-1e2f", "glyph_comment": "TOKEN-glyphcomment-2f3a",
}
BODY = "Night school 50% (full)"


def _mluc(text: str) -> bytes:
    encoded = text.encode("utf-16-be")
    return b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(
        ">II", len(encoded), 28) + encoded


def _desc_v2(text: str) -> bytes:
    ascii_text = text.encode() + b"\x00"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(78)


def profile_with_words(version: int = 4) -> bytes:
    """LittleCMS's sRGB colour tags, with a description, a copyright, device names and
    header fields that identify where the profile came from."""
    base = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    count = int.from_bytes(base[128:132], "big")
    tags = []
    for index in range(count):
        sig, offset, size = struct.unpack_from(">4sII", base, 132 + 12 * index)
        if sig not in (b"desc", b"cprt"):
            tags.append((sig, base[offset : offset + size]))
    text = _mluc if version >= 4 else (lambda t: b"text" + bytes(4) + t.encode() + b"\x00")
    tags += [(b"desc", _mluc(T["desc"]) if version >= 4 else _desc_v2(T["desc"])),
             (b"cprt", text(T["copyright"])), (b"dmnd", _mluc(T["maker"])),
             (b"dmdd", _mluc(T["model"]))]
    header = bytearray(base[:128])
    header[8] = version
    header[24:36] = struct.pack(">6H", 2025, 2, 14, 18, 22, 5)
    header[48:56] = b"TKMFTKMD"
    header[80:84] = b"TKCR"
    table = 132 + 12 * len(tags)
    entries, body = [], b""
    for sig, data in tags:
        body += bytes(-(table + len(body)) % 4)
        entries.append(struct.pack(">4sII", sig, table + len(body), len(data)))
        body += data
    size = table + len(body)
    return struct.pack(">I", size) + bytes(header[4:]) + struct.pack(">I", len(tags)) + b"".join(
        entries) + body


def colour_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(120, 120))
    page = pdf.pages[0].obj
    icc = pdf.make_stream(profile_with_words(), N=3, Alternate=Name.DeviceRGB)
    pixels = bytes([200, 30, 30, 30, 200, 30, 30, 30, 200, 240, 240, 20])
    image = Stream(pdf, zlib.compress(pixels), Type=Name.XObject, Subtype=Name.Image, Width=2,
                   Height=2, BitsPerComponent=8, ColorSpace=Array([Name.ICCBased, icc]),
                   Filter=Name.FlateDecode)
    form = Stream(pdf, f"q % {T['form_comment']}\n0 0 1 RG 0 0 m 40 40 l S Q".encode(),
                  Type=Name.XObject, Subtype=Name.Form, BBox=Array([0, 0, 40, 40]))
    glyph = Stream(pdf, f"500 0 0 0 500 500 d1 %{T['glyph_comment']}\n0 0 500 500 re f".encode())
    type3 = Dictionary(Type=Name.Font, Subtype=Name.Type3, FontBBox=Array([0, 0, 500, 500]),
                       FontMatrix=Array([0.001, 0, 0, 0.001, 0, 0]), FirstChar=65, LastChar=65,
                       Widths=Array([500]), Encoding=Dictionary(Differences=Array([65, Name.g])),
                       CharProcs=Dictionary(g=glyph), Resources=Dictionary())
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page.Resources = Dictionary(
        Font=Dictionary(F1=font, F3=type3), XObject=Dictionary(Im1=image, Fm1=form),
        ColorSpace=Dictionary(CS0=Array([Name.ICCBased, icc])))
    page.Contents = pdf.make_stream((
        f"q % {T['comment']} (not a string\n/CS0 cs 0.9 0.5 0.1 sc 10 10 50 20 re f Q\n"
        f"BT /F1 9 Tf 10 100 Td ({BODY}) Tj ET BT /F3 12 Tf 80 40 Td (A) Tj ET\n"
        "q 30 0 0 30 60 60 cm /Im1 Do Q /Fm1 Do\n"
        "q 8 0 0 8 10 40 cm BI /W 2 /H 1 /BPC 8 /CS /G ID \x25\x28 EI Q\n"
        f"%{T['trailing']}").encode("latin-1"))
    intent_profile = pdf.make_stream(profile_with_words(), N=3)
    pdf.Root.OutputIntents = Array([Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFA1, DestOutputProfile=intent_profile,
        OutputConditionIdentifier=String(T["intent_id"]), RegistryName=String(T["registry"]),
        OutputCondition=String(T["intent_condition"]), Info=String(T["intent_info"]))])
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def render(data: bytes) -> bytes:
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        return subprocess.run(["pdftoppm", "-r", "72", "-singlefile", str(source)],
                              capture_output=True, check=True, timeout=60).stdout


@pytest.fixture(scope="module")
def cleaned() -> tuple[bytes, bytes, object]:
    dirty = colour_pdf()
    out, report = clean_bytes(dirty, name_hint="print-ready.pdf")
    return dirty, out, report


def test_every_token_is_planted(cleaned: tuple[bytes, bytes, object]) -> None:
    dirty, _, _ = cleaned
    assert len(find_tokens(dirty, list(T.values()), exiftool=False)) == len(T)


def test_profiles_intents_and_comments_lose_their_words(cleaned: tuple[bytes, bytes, object]
                                                        ) -> None:
    _, out, report = cleaned
    assert find_tokens(out, list(T.values())) == []
    with pikepdf.open(io.BytesIO(out)) as pdf:
        intent = pdf.Root.OutputIntents[0]
        assert set(intent.keys()) == {"/Type", "/S", "/DestOutputProfile",
                                      "/OutputConditionIdentifier"}
        assert str(intent.OutputConditionIdentifier) == "Custom"
        profile = bytes(intent.DestOutputProfile.read_bytes())
        assert profile[48:56] == bytes(8) and profile[80:100] == bytes(20)
        assert profile[24:36] == bytes(12)
        contents = bytes(pdf.pages[0].Contents.read_bytes())
        assert f"({BODY})".encode() in contents and b"\x25\x28 EI" in contents
    found = {f.code: f for f in report.removed}  # type: ignore[attr-defined]
    assert found["pdf-content-comments"].count == 4
    assert found["icc-profile-text"].detail == T["desc"]
    assert found["output-intent"].detail == T["intent_info"]
    for code in ("pdf-content-comments", "icc-profile-text", "output-intent"):
        assert "{detail}" not in REMOVED[code].editors


def test_the_page_looks_exactly_the_same(cleaned: tuple[bytes, bytes, object]) -> None:
    dirty, out, _ = cleaned
    assert render(out) == render(dirty)


@pytest.mark.parametrize("version", [2, 4])
def test_a_neutral_profile_maps_colours_exactly_as_the_original(version: int) -> None:
    original = profile_with_words(version)
    neutral, found = neutral_profile(original)
    assert found.identifying and found.description == T["desc"]
    assert not find_tokens(neutral, list(T.values()), exiftool=False)
    picture = Image.new("RGB", (16, 1))
    picture.putdata([(i * 16, 255 - i * 16, (i * 37) % 256) for i in range(16)])
    srgb = ImageCms.createProfile("LAB")

    def to_lab(profile: bytes) -> bytes:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(picture, source, srgb, outputMode="LAB").tobytes()

    assert to_lab(neutral) == to_lab(original)


def _page_pdf(contents: bytes) -> bytes:
    """A one-page PDF with these drawing instructions, as the cleaner writes it."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    pdf.pages[0].obj.Contents = pdf.make_stream(contents)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return clean_bytes(buffer.getvalue(), name_hint="x.pdf")[0]


def _with_profile(pdf: pikepdf.Pdf, profile: bytes) -> None:
    icc = pdf.make_stream(profile, N=3)
    pdf.pages[0].obj.Resources = Dictionary(ColorSpace=Dictionary(CS0=Array([Name.ICCBased,
                                                                               icc])))


def test_percent_signs_in_strings_and_image_data_are_not_comments() -> None:
    contents = (b"BT /F1 9 Tf (100% \\) % still text) Tj <2541> Tj ET "
                b"q BI /W 1 /H 1 /BPC 8 /CS /G ID % EI Q")
    verify("pdf", _page_pdf(contents))


def _with_glyph_comment(pdf: pikepdf.Pdf) -> None:
    glyph = pdf.make_stream(b"500 0 0 0 500 500 d1 % drawn by Chen\n0 0 500 500 re f")
    pdf.pages[0].obj.Resources = Dictionary(Font=Dictionary(F3=Dictionary(
        Type=Name.Font, Subtype=Name.Type3, FontBBox=Array([0, 0, 500, 500]),
        FontMatrix=Array([0.001, 0, 0, 0.001, 0, 0]), FirstChar=65, LastChar=65,
        Widths=Array([500]), CharProcs=Dictionary(g=glyph))))


@pytest.mark.parametrize("case,expected", [
    ("comment", "comment in the drawing instructions"),
    ("glyph comment", "comment in the drawing instructions"),
    ("profile words", "colour profile"),
    ("intent text", "printing conditions"),
])
def test_verifier_refuses_each_planted_back(case: str, expected: str) -> None:
    clean = _page_pdf(b"0 0 10 10 re f")
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        if case == "comment":
            pdf.pages[0].obj.Contents = pdf.make_stream(b"0 0 10 10 re f % Chen's edit")
        elif case == "glyph comment":
            _with_glyph_comment(pdf)
        elif case == "profile words":
            _with_profile(pdf, profile_with_words())
        else:
            pdf.Root.OutputIntents = Array([Dictionary(
                Type=Name.OutputIntent, S=Name.GTS_PDFA1, OutputConditionIdentifier=String(
                    "Custom"), Info=String("Chen Xiaomei's printer"))])
        ids = pdf.trailer.ID
        buffer = io.BytesIO()
        pdf.save(buffer, static_id=True)
    data = buffer.getvalue()
    first = b"<" + bytes(ids[0]).hex().encode() + b">"
    data = data.replace(first + b"<31415926535897932384626433832795>", first + first)
    with pytest.raises(VerificationFailed, match=expected):
        verify("pdf", data)
